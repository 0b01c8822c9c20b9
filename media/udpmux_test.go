package media

import (
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/pion/stun/v4"
)

// TestUDPMuxShedsWhenAConnectionFallsBehind: a connection whose reader is behind holds at most
// connQueue datagrams; the rest are dropped and counted, and what it holds arrives in order.
// A STUN request from a new address reaches the connection its username names, and no other.
func TestUDPMuxShedsWhenAConnectionFallsBehind(t *testing.T) {
	sock, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer sock.Close()
	var stats counters
	mux := newUDPMux(sock, &stats)
	defer mux.Close()
	conn, err := mux.GetConn("alice", nil)
	if err != nil {
		t.Fatal(err)
	}
	other, err := mux.GetConn("bob", nil)
	if err != nil {
		t.Fatal(err)
	}
	peer, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()

	// A new address is routed by the username of its STUN request.
	req := stun.MustBuild(stun.TransactionID, stun.BindingRequest, stun.NewUsername("alice:remote"))
	if _, err = peer.WriteTo(req.Raw, sock.LocalAddr()); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 2048)
	n, from, err := conn.ReadFrom(buf)
	if err != nil || !stun.IsMessage(buf[:n]) || from.String() != peer.LocalAddr().String() {
		t.Fatalf("alice's connection read %d bytes from %v (%v), not the STUN request", n, from, err)
	}
	// Answering registers the address: its datagrams now come here.
	if _, err = conn.WriteTo([]byte("answer"), peer.LocalAddr()); err != nil {
		t.Fatal(err)
	}
	total := connQueue + 20
	for i := range total {
		if _, err = peer.WriteTo(fmt.Appendf(nil, "packet %d", i), sock.LocalAddr()); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.After(5 * time.Second)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for stats.dropped[dropBufferFull].Load() < 20 {
		select {
		case <-deadline:
			t.Fatalf("dropped %d datagrams, want 20", stats.dropped[dropBufferFull].Load())
		case <-tick.C:
		}
	}
	for i := range connQueue {
		n, _, err := conn.ReadFrom(buf)
		if err != nil || string(buf[:n]) != fmt.Sprintf("packet %d", i) {
			t.Fatalf("datagram %d: %q %v", i, buf[:n], err)
		}
	}
	mc := conn.(*muxConn)
	mc.mu.Lock()
	left := mc.n
	mc.mu.Unlock()
	if left != 0 {
		t.Errorf("%d datagrams beyond the queue were kept", left)
	}
	oc := other.(*muxConn)
	oc.mu.Lock()
	got := oc.n
	oc.mu.Unlock()
	if got != 0 {
		t.Errorf("bob's connection got %d of alice's datagrams", got)
	}
	// A closed connection is forgotten: its address's datagrams go nowhere.
	_ = conn.Close()
	mux.mu.RLock()
	_, routed := mux.byAddr[mc.addrs[0]]
	mux.mu.RUnlock()
	if routed {
		t.Error("a closed connection's address is still routed")
	}
}
