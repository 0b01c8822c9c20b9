package media

import (
	"fmt"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/pion/stun/v4"
)

// TestUDPMuxShedsWhenAConnectionFallsBehind: a connection whose reader is behind holds at most
// connQueue datagrams; the rest are dropped and counted, and what it holds arrives in order.
// A STUN request from a new address reaches the connection its username names, and no other.
func TestUDPMuxShedsWhenAConnectionFallsBehind(t *testing.T) {
	sock := loopbackUDP(t)
	mux, stats := muxOver(t, sock, nil)
	conn := getConn(t, mux, "alice")
	other := getConn(t, mux, "bob")
	peer := loopbackUDP(t)

	// A new address is routed by the username of its STUN request.
	req := stun.MustBuild(stun.TransactionID, stun.BindingRequest, stun.NewUsername("alice:remote"))
	if _, err := peer.WriteTo(req.Raw, sock.LocalAddr()); err != nil {
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
	left := mc.queue.n
	mc.mu.Unlock()
	if left != 0 {
		t.Errorf("%d datagrams beyond the queue were kept", left)
	}
	oc := other.(*muxConn)
	oc.mu.Lock()
	got := oc.queue.n
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

// TestUDPMuxClosesAStuckConnection: a connection whose reader stops keeping up, so that its
// queue stays full and shedding, is closed once it has shed for the mux's stuck time, and its
// owner hears of it once; a connection whose reader keeps up beside it stays open.
func TestUDPMuxClosesAStuckConnection(t *testing.T) {
	mux, stats, stuck := stuckMux(t)
	sock := mux.conn
	mux.stuck = time.Second // bob's reader would have to stall for over a second to be taken as stuck
	// connect gives a connection a remote address of its own, as an ICE agent's answer does.
	connect := func(ufrag string) (net.PacketConn, *net.UDPConn) {
		conn, err := mux.GetConn(ufrag, nil)
		if err != nil {
			t.Fatal(err)
		}
		remote := loopbackUDP(t)
		if _, err = conn.WriteTo([]byte("answer"), remote.LocalAddr()); err != nil {
			t.Fatal(err)
		}
		return conn, remote
	}
	alice, aliceRemote := connect("alice")
	bob, bobRemote := connect("bob")
	read := make(chan error, 1)
	go func() { // bob's reader keeps up
		buf := make([]byte, 2048)
		for {
			if _, _, err := bob.ReadFrom(buf); err != nil {
				read <- err
				return
			}
		}
	}()
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	deadline := time.After(10 * time.Second)
	var closed string
	for closed == "" {
		select {
		case closed = <-stuck:
		case <-deadline:
			t.Fatalf("no connection closed as stuck; dropped %d", stats.dropped[dropBufferFull].Load())
		case <-tick.C:
			for range 2 { // a camera's rate: alice's queue is full within 64 ticks
				_, _ = aliceRemote.WriteTo([]byte("media"), sock.LocalAddr())
				_, _ = bobRemote.WriteTo([]byte("media"), sock.LocalAddr())
			}
		}
	}
	if closed != "alice" || stats.stuckConns.Load() != 1 {
		t.Fatalf("closed %q as stuck (%d), want alice once", closed, stats.stuckConns.Load())
	}
	if _, _, err := alice.ReadFrom(make([]byte, 2048)); err == nil {
		t.Error("the stuck connection still reads")
	}
	select {
	case err := <-read:
		t.Errorf("bob's connection, read all along, ended: %v", err)
	default:
	}
	select {
	case again := <-stuck:
		t.Errorf("heard of a stuck connection again: %q", again)
	default:
	}
}

// TestSheddingCountsFromTheLatestFullQueue: a connection is taken as stuck only after shedding
// for the stuck time since its reader last brought its queue under half full: a reader that
// fell behind once and caught up starts afresh.
func TestSheddingCountsFromTheLatestFullQueue(t *testing.T) {
	mux, _, stuck := stuckMux(t)
	now := time.Now()
	mux.now = func() time.Time { return now }
	conn := getConn(t, mux, "carol")
	c := conn.(*muxConn)
	from := netip.MustParseAddrPort("127.0.0.1:9")
	fill := func() {
		for c.push([]byte("media"), from) {
		}
	}
	buf := make([]byte, 2048)
	fill() // full: shedding from now
	now = now.Add(2 * mux.stuck)
	for range connQueue - 10 { // caught up
		if _, _, err := c.ReadFromAddrPort(buf); err != nil {
			t.Fatal(err)
		}
	}
	fill() // behind again: a new streak
	c.mu.Lock()
	taken := c.stuck // set as the push that finds it stuck returns
	c.mu.Unlock()
	if taken {
		t.Fatal("a connection that had caught up was taken as stuck at its next full queue")
	}
	now = now.Add(mux.stuck)
	c.push([]byte("media"), from)
	select {
	case got := <-stuck:
		if got != "carol" {
			t.Errorf("stuck: %q", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a connection shedding for the stuck time was not closed")
	}
}

// stuckMux is a mux on a loopback socket whose stuck connections are told on the channel.
func stuckMux(t *testing.T) (*udpMux, *counters, chan string) {
	t.Helper()
	stuck := make(chan string, 4)
	mux, stats := muxOver(t, loopbackUDP(t), func(ufrag string) { stuck <- ufrag })
	return mux, stats, stuck
}

// TestUDPMuxFallsBackToTheSharedSocket: a connection whose own socket cannot be opened (out of
// file descriptors, say) sends and receives through the shared socket, counts the failure
// once, and does not try again for each datagram.
func TestUDPMuxFallsBackToTheSharedSocket(t *testing.T) {
	mux, stats, sock := sharedMux(t)
	mux.direct = true
	dials := 0
	mux.dial = func(*net.UDPAddr, netip.AddrPort) (*net.UDPConn, error) {
		dials++
		return nil, fmt.Errorf("too many open files")
	}
	conn := getConn(t, mux, "alice")
	peer := loopbackUDP(t)
	buf := make([]byte, 64)
	for i := range 5 {
		if _, err := conn.WriteTo([]byte{0x80, 96, byte(i)}, peer.LocalAddr()); err != nil {
			t.Fatalf("media %d: %v", i, err)
		}
		_ = peer.SetReadDeadline(time.Now().Add(5 * time.Second))
		if n, from, err := peer.ReadFrom(buf); err != nil || n != 3 || buf[2] != byte(i) || from.String() != sock.LocalAddr().String() {
			t.Fatalf("the peer got %d bytes from %v (%v), not media %d from the shared port", n, from, err, i)
		}
	}
	if _, err := peer.WriteTo([]byte("reply"), sock.LocalAddr()); err != nil {
		t.Fatal(err)
	}
	if n, _, err := conn.ReadFrom(buf); err != nil || string(buf[:n]) != "reply" {
		t.Fatalf("read %q (%v), not the reply", buf[:n], err)
	}
	if dials != 1 || stats.directFailed.Load() != 1 {
		t.Errorf("%d attempts to open the own socket, %d counted, want 1 and 1", dials, stats.directFailed.Load())
	}
}

// loopbackUDP is a UDP socket on loopback, closed when the test ends.
func loopbackUDP(t *testing.T) *net.UDPConn {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// getConn is the mux's connection of an ICE username fragment.
func getConn(t *testing.T, mux *udpMux, ufrag string) net.PacketConn {
	t.Helper()
	c, err := mux.GetConn(ufrag, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// sharedMux is a mux over a port opened as the SFU opens it (listenShared), closed when the
// test ends.
func sharedMux(t *testing.T) (*udpMux, *counters, *net.UDPConn) {
	t.Helper()
	sock, err := listenShared("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sock.Close() })
	mux, stats := muxOver(t, sock, nil)
	return mux, stats, sock
}

// muxOver is a mux over sock, closed when the test ends.
func muxOver(t *testing.T, sock *net.UDPConn, onStuck func(ufrag string)) (*udpMux, *counters) {
	t.Helper()
	stats := &counters{}
	mux := newUDPMux(sock, stats, onStuck)
	t.Cleanup(func() { mux.Close() })
	return mux, stats
}
