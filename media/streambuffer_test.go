package media

import (
	"errors"
	"fmt"
	"io"
	"net"
	"testing"
	"time"

	"github.com/pion/transport/v5/packetio"
)

// TestStreamBuffer: a stream's receive buffer gives its packets back in order with their
// attributes, holds at most its limit and counts what it sheds, cuts a packet too long for the
// reader's buffer, reads what is queued after Close and then io.EOF, refuses writes once
// closed, and ends a read at its deadline.
func TestStreamBuffer(t *testing.T) {
	srv := &Server{}
	srv.packets.New = func() any { b := make([]byte, packetSize); return &b }
	b := srv.newStreamBuffer(packetio.RTPBufferPacket, 1).(*streamBuffer)
	attr := packetio.Attributes{{Key: "ecn", Value: 1}}
	for i := range rtpQueue + 5 {
		_, err := b.WriteWithAttributes(fmt.Appendf(nil, "packet %d", i), attr)
		if full := i >= rtpQueue; full != errors.Is(err, packetio.ErrFull) {
			t.Fatalf("write %d of a %d-packet buffer: %v", i, rtpQueue, err)
		}
	}
	if got := srv.stats.dropped[dropBufferFull].Load(); got != 5 {
		t.Errorf("shed %d packets, want 5", got)
	}
	buf := make([]byte, 64)
	for i := range rtpQueue {
		n, a, err := b.ReadWithAttributes(buf, nil)
		if err != nil || string(buf[:n]) != fmt.Sprintf("packet %d", i) || len(a) != 1 || a[0].Value != 1 {
			t.Fatalf("read %d: %q %v %v", i, buf[:n], a, err)
		}
	}
	if _, err := b.Write([]byte("a long packet")); err != nil {
		t.Fatal(err)
	}
	if n, err := b.Read(buf[:6]); !errors.Is(err, io.ErrShortBuffer) || string(buf[:n]) != "a long" {
		t.Errorf("a packet longer than the reader's buffer: %q %v", buf[:n], err)
	}
	if _, err := b.Write(make([]byte, packetSize+1)); err == nil {
		t.Error("a packet larger than any the SFU reads was queued")
	}

	if err := b.SetReadDeadline(time.Now().Add(20 * time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	var ne net.Error
	if _, err := b.Read(buf); !errors.As(err, &ne) || !ne.Timeout() {
		t.Errorf("a read past the deadline: %v", err)
	}
	if err := b.SetReadDeadline(time.Time{}); err != nil {
		t.Fatal(err)
	}

	if _, err := b.Write([]byte("last")); err != nil {
		t.Fatal(err)
	}
	read := make(chan error, 1)
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	go func() {
		n, err := b.Read(buf)
		if err != nil || string(buf[:n]) != "last" {
			read <- fmt.Errorf("the packet queued before Close: %q %v", buf[:n], err)
			return
		}
		_, err = b.Read(buf)
		read <- err
	}()
	select {
	case err := <-read:
		if !errors.Is(err, io.EOF) {
			t.Errorf("after the queued packet: %v, want io.EOF", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a read of a closed buffer blocked")
	}
	if _, err := b.Write([]byte("late")); !errors.Is(err, io.ErrClosedPipe) {
		t.Errorf("a write after Close: %v", err)
	}
}

// TestStreamBufferWakesAWaitingReader: a reader waiting on an empty buffer gets the next
// packet, and a reader waiting when the buffer closes gets io.EOF.
func TestStreamBufferWakesAWaitingReader(t *testing.T) {
	srv := &Server{}
	srv.packets.New = func() any { b := make([]byte, packetSize); return &b }
	b := srv.newStreamBuffer(packetio.RTCPBufferPacket, 1)
	got := make(chan string, 2)
	go func() {
		buf := make([]byte, 64)
		for {
			n, err := b.Read(buf)
			if err != nil {
				got <- err.Error()
				return
			}
			got <- string(buf[:n])
		}
	}()
	if _, err := b.Write([]byte("rtcp")); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"rtcp", io.EOF.Error()} {
		select {
		case g := <-got:
			if g != want {
				t.Fatalf("read %q, want %q", g, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("the waiting reader never got %q", want)
		}
		if want == "rtcp" {
			_ = b.Close()
		}
	}
}
