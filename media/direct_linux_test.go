package media

import (
	"fmt"
	"io"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/pion/stun/v4"
)

// TestUDPMuxGivesAConnectionItsOwnSocket: once a connection sends DTLS or media to an address,
// that address's datagrams reach it through a socket of its own on the port, connected to the
// address (not through the mux's reader, which is told nothing of them here); STUN sent to
// another address does not move it. A datagram from another address still arrives through
// the shared socket, even while the reader waits on its own; sending media to a new address
// moves the socket there; closing the connection ends a read waiting on its socket.
func TestUDPMuxGivesAConnectionItsOwnSocket(t *testing.T) {
	if !kernelAtLeast(5, 2) {
		t.Skip("connected sockets are not preferred by this kernel: the mux uses none")
	}
	mux, stats, sock := sharedMux(t)
	if !mux.direct {
		t.Fatal("the shared port takes no sockets of the connections' own")
	}
	conn := getConn(t, mux, "alice")
	mc := conn.(*muxConn)
	remote := func() *net.UDPConn {
		r := loopbackUDP(t)
		return r
	}
	a, b, c := remote(), remote(), remote()
	addrOf := func(r *net.UDPConn) netip.AddrPort { return r.LocalAddr().(*net.UDPAddr).AddrPort() }
	reads := make(chan string, 16)
	go func() {
		buf := make([]byte, 2048)
		for {
			n, from, err := conn.ReadFrom(buf)
			if err != nil {
				reads <- "error: " + err.Error()
				return
			}
			reads <- from.String() + " " + string(buf[:n])
		}
	}()
	next := func(what string) string {
		t.Helper()
		select {
		case r := <-reads:
			return r
		case <-time.After(5 * time.Second):
			t.Fatalf("nothing read: %s", what)
			return ""
		}
	}

	binding := stun.MustBuild(stun.TransactionID, stun.BindingRequest)
	if _, err := conn.WriteTo(binding.Raw, b.LocalAddr()); err != nil {
		t.Fatal(err)
	}
	if mc.direct.Load() != nil {
		t.Fatal("a STUN check gave the connection a socket of its own")
	}
	// A DTLS record (content type 22) to a: a's socket now.
	if _, err := conn.WriteTo([]byte{22, 0xfe, 0xfd}, a.LocalAddr()); err != nil {
		t.Fatal(err)
	}
	d := mc.direct.Load()
	if d == nil || d.to != addrOf(a) {
		t.Fatalf("after sending DTLS to %v the connection's own socket is %+v", a.LocalAddr(), d)
	}
	// The mux forgets a's address: what comes from a can only arrive through the own socket.
	mux.mu.Lock()
	delete(mux.byAddr, addrOf(a))
	mux.mu.Unlock()
	buf := make([]byte, 64)
	if n, _, err := a.ReadFrom(buf); err != nil || n != 3 {
		t.Fatalf("a got %d bytes (%v), not the DTLS record", n, err)
	}
	for i := range 3 {
		if _, err := a.WriteTo(fmt.Appendf(nil, "media %d", i), sock.LocalAddr()); err != nil {
			t.Fatal(err)
		}
		if got, want := next("media from a"), fmt.Sprintf("%s media %d", a.LocalAddr(), i); got != want {
			t.Fatalf("read %q, want %q", got, want)
		}
	}
	// b's datagram comes through the shared socket, while the reader waits on its own.
	if _, err := b.WriteTo([]byte("from b"), sock.LocalAddr()); err != nil {
		t.Fatal(err)
	}
	if got, want := next("b's datagram"), b.LocalAddr().String()+" from b"; got != want {
		t.Fatalf("read %q, want %q", got, want)
	}
	// Media to c: the socket moves to c.
	if _, err := conn.WriteTo([]byte{0x80, 96}, c.LocalAddr()); err != nil {
		t.Fatal(err)
	}
	if d := mc.direct.Load(); d == nil || d.to != addrOf(c) {
		t.Fatalf("after sending media to %v the own socket is %+v", c.LocalAddr(), d)
	}
	if _, err := c.WriteTo([]byte("from c"), sock.LocalAddr()); err != nil {
		t.Fatal(err)
	}
	if got, want := next("c's datagram"), c.LocalAddr().String()+" from c"; got != want {
		t.Fatalf("read %q, want %q", got, want)
	}
	_ = conn.Close()
	if got := next("the end of the read"); got != "error: "+io.EOF.Error() {
		t.Fatalf("a read waiting on the closed connection's socket: %q", got)
	}
	if stats.directFailed.Load() != 0 {
		t.Errorf("%d own sockets failed to open", stats.directFailed.Load())
	}
}

// TestSecondSFUOnTheSamePortFails: the port is shared by a connection's own sockets, not with
// another process: a second bridge given the same port fails to start, as it always did.
func TestSecondSFUOnTheSamePortFails(t *testing.T) {
	first, err := listenShared("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	if second, err := listenShared(first.LocalAddr().String()); err == nil {
		second.Close()
		t.Fatalf("a second listener took %v too", first.LocalAddr())
	}
}
