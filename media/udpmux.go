package media

import (
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/stun/v4"
)

// connQueue is how many received datagrams may wait for one connection's ICE reader: half a
// second of a participant's camera, microphone and RTCP. Past it the SFU is behind and sheds
// (DropBufferFull) rather than queueing.
const connQueue = 128

// connStuck is how long a connection's queue may stay more than half full, shedding, before the
// connection is taken as stuck: its reader has stopped keeping up for good (a blocked ICE
// agent, a bug), and the participant's packets would otherwise be shed for as long as the call
// lasts. Such a connection is closed, and its page connects again.
const connStuck = 5 * time.Second

// udpMux shares the one ICE UDP port between every PeerConnection, like Pion's UDPMuxDefault,
// with a bounded queue per connection: Pion's grows without limit, 8 KB per datagram, when
// the SFU falls behind (the memory runaway of an overloaded SFU). A datagram is routed by its
// source address, or for a new address by the ICE username of its STUN request.
//
// Once a connection's ICE agent sends DTLS or media to an address (its selected pair), the
// connection gets a socket of its own on the port, connected to that address, where the port
// allows it (direct, see listenShared): the kernel then hands the participant's datagrams
// straight to the ICE agent's reader. Through the mux's reader each datagram cost a copy and
// a goroutine hand-off more. The shared socket still brings the rest: STUN from other
// addresses, and what arrived before.
type udpMux struct {
	conn   *net.UDPConn
	local  *net.UDPAddr
	stats  *counters
	closed chan struct{}
	once   sync.Once
	// direct: connections get sockets of their own (directCapable), opened by dial.
	direct bool
	dial   func(local *net.UDPAddr, remote netip.AddrPort) (*net.UDPConn, error)
	// stuck is how long a connection may shed before it is closed (connStuck), and onStuck
	// hears of it with the connection's ICE username fragment, once, after its closing.
	stuck   time.Duration
	onStuck func(ufrag string)
	now     func() time.Time // the clock of shedding (a test's own)
	// bufs holds spare datagram buffers; a queued datagram owns one until it is read.
	bufs sync.Pool

	mu      sync.RWMutex
	byUfrag map[string]*muxConn
	byAddr  map[netip.AddrPort]*muxConn
}

func newUDPMux(conn *net.UDPConn, stats *counters, onStuck func(ufrag string)) *udpMux {
	m := &udpMux{
		conn: conn, local: conn.LocalAddr().(*net.UDPAddr), stats: stats, closed: make(chan struct{}),
		direct: directCapable(conn), dial: dialDirect, stuck: connStuck, onStuck: onStuck, now: time.Now,
		byUfrag: map[string]*muxConn{}, byAddr: map[netip.AddrPort]*muxConn{},
	}
	m.bufs.New = func() any { b := make([]byte, packetSize); return &b }
	go m.readLoop()
	return m
}

// GetListenAddresses is where the port can be reached: its address, or if it listens on all
// addresses, every address of the machine's interfaces but loopback and link-local ones.
func (m *udpMux) GetListenAddresses() []net.Addr {
	if !m.local.IP.IsUnspecified() {
		return []net.Addr{m.local}
	}
	ifAddrs, err := net.InterfaceAddrs()
	if err != nil {
		return []net.Addr{m.local}
	}
	v4only := m.local.IP.To4() != nil
	var out []net.Addr
	for _, a := range ifAddrs {
		ipNet, ok := a.(*net.IPNet)
		if !ok {
			continue
		}
		ip := ipNet.IP
		if ip.IsLoopback() || ip.IsLinkLocalUnicast() || ip.IsMulticast() || (v4only && ip.To4() == nil) {
			continue
		}
		out = append(out, &net.UDPAddr{IP: ip, Port: m.local.Port})
	}
	return out
}

// GetConn returns the connection of an ICE username fragment, creating it.
func (m *udpMux) GetConn(ufrag string, _ net.Addr) (net.PacketConn, error) {
	select {
	case <-m.closed:
		return nil, io.ErrClosedPipe
	default:
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if c := m.byUfrag[ufrag]; c != nil {
		return c, nil
	}
	c := &muxConn{mux: m, ufrag: ufrag, queue: newPacketRing[netip.AddrPort](&m.bufs, connQueue), ready: make(chan struct{}, 1), closed: make(chan struct{})}
	m.byUfrag[ufrag] = c
	return c, nil
}

// RemoveConnByUfrag closes a connection (its ICE agent is closing).
func (m *udpMux) RemoveConnByUfrag(ufrag string) {
	m.mu.RLock()
	c := m.byUfrag[ufrag]
	m.mu.RUnlock()
	if c != nil {
		_ = c.Close()
	}
}

// Close stops the mux; the socket is its owner's.
func (m *udpMux) Close() error {
	m.once.Do(func() {
		close(m.closed)
		m.mu.Lock()
		conns := make([]*muxConn, 0, len(m.byUfrag))
		for _, c := range m.byUfrag {
			conns = append(conns, c)
		}
		m.mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
	})
	return nil
}

// readLoop routes every datagram of the socket to its connection's queue.
func (m *udpMux) readLoop() {
	buf := make([]byte, 2048) // larger than any datagram of a call: one cut short is unreadable
	for {
		n, from, err := m.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			_ = m.Close()
			return
		}
		from = netip.AddrPortFrom(from.Addr().Unmap(), from.Port())
		m.mu.RLock()
		c := m.byAddr[from]
		m.mu.RUnlock()
		if c == nil {
			if c = m.connOfSTUN(buf[:n]); c == nil {
				continue // not a call's: nobody asked for this address
			}
		}
		switch {
		case n > packetSize:
			m.stats.drop(dropMalformed)
		case !c.push(buf[:n], from):
			m.stats.drop(dropBufferFull)
		}
	}
}

// connOfSTUN finds the connection a STUN request from a new address is for, by the local
// username fragment in its USERNAME (local:remote). Its integrity is the ICE agent's to check.
func (m *udpMux) connOfSTUN(b []byte) *muxConn {
	if !stun.IsMessage(b) {
		return nil
	}
	msg := &stun.Message{Raw: append([]byte(nil), b...)}
	if msg.Decode() != nil {
		return nil
	}
	user, err := msg.Get(stun.AttrUsername)
	if err != nil {
		return nil
	}
	ufrag, _, _ := strings.Cut(string(user), ":")
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.byUfrag[ufrag]
}

// register routes an address's datagrams to c (the ICE agent sent to it).
func (m *udpMux) register(c *muxConn, addr netip.AddrPort) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if c.isClosed() {
		return
	}
	if old := m.byAddr[addr]; old != c {
		m.byAddr[addr] = c
		c.addrs = append(c.addrs, addr)
	}
}

// forget removes a closed connection.
func (m *udpMux) forget(c *muxConn) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.byUfrag[c.ufrag] == c {
		delete(m.byUfrag, c.ufrag)
	}
	for _, a := range c.addrs {
		if m.byAddr[a] == c {
			delete(m.byAddr, a)
		}
	}
}

// muxConn is one ICE agent's view of the shared port.
type muxConn struct {
	mux   *udpMux
	ufrag string
	// addrs are the remote addresses routed here (udpMux.mu).
	addrs []netip.AddrPort

	mu    sync.Mutex
	queue packetRing[netip.AddrPort] // each datagram with its sender
	// shedding is when the queue, full, started shedding, zero once the reader has brought
	// it under half full again.
	shedding time.Time
	// stuck: taken as stuck, being closed.
	stuck  bool
	ready  chan struct{}
	closed chan struct{}
	once   sync.Once

	// direct is the connection's own socket, connected to the address its ICE agent sends
	// media to; nil before that, or without direct sockets. Replaced (under mu) when the
	// agent moves to another address; the packet path reads it without a lock.
	direct atomic.Pointer[directSocket]
	// directFailed is the address an own socket could not be connected to (mu): not tried
	// again for each datagram sent there.
	directFailed netip.AddrPort
}

// directSocket is a connection's own socket and the address it is connected to.
type directSocket struct {
	conn *net.UDPConn
	to   netip.AddrPort
}

// push queues a copy of a datagram; false if the queue is full (the datagram is shed). A
// connection that goes on shedding for the mux's stuck time is closed (closeStuck).
func (c *muxConn) push(b []byte, from netip.AddrPort) bool {
	c.mu.Lock()
	if c.isClosed() {
		c.mu.Unlock()
		return true // a datagram of a connection closing, not one shed
	}
	if c.queue.full() {
		stuck := false
		if now := c.mux.now(); c.shedding.IsZero() {
			c.shedding = now
		} else if !c.stuck && now.Sub(c.shedding) >= c.mux.stuck {
			c.stuck, stuck = true, true
		}
		c.mu.Unlock()
		if stuck {
			go c.closeStuck()
		}
		return false
	}
	*c.queue.push(b) = from
	c.mu.Unlock()
	select {
	case c.ready <- struct{}{}:
	default:
	}
	if d := c.direct.Load(); d != nil {
		// The reader may be waiting on its own socket: a deadline in the past ends the wait.
		_ = d.conn.SetReadDeadline(aLongTimeAgo)
	}
	return true
}

// aLongTimeAgo is a deadline that has passed.
var aLongTimeAgo = time.Unix(1, 0)

// ReadFromAddrPort returns the next datagram for this connection: from its queue first, then
// from its own socket if it has one.
func (c *muxConn) ReadFromAddrPort(p []byte) (int, netip.AddrPort, error) {
	for {
		c.mu.Lock()
		if c.queue.n > 0 {
			buf, size, from := c.queue.pop()
			addr := *from
			if c.queue.n < connQueue/2 {
				c.shedding = time.Time{}
			}
			c.mu.Unlock()
			n := copy(p, (*buf)[:size])
			c.queue.release(buf)
			return n, addr, nil
		}
		c.mu.Unlock()
		d := c.direct.Load()
		if d == nil {
			select {
			case <-c.ready:
			case <-c.closed:
				return 0, netip.AddrPort{}, io.EOF
			}
			continue
		}
		n, from, err := d.conn.ReadFromUDPAddrPort(p)
		switch {
		case err == nil:
			return n, netip.AddrPortFrom(from.Addr().Unmap(), from.Port()), nil
		case c.isClosed():
			return 0, netip.AddrPort{}, io.EOF
		case errors.Is(err, os.ErrDeadlineExceeded):
			// A datagram was queued (push): clear the deadline, then look at the queue.
			_ = d.conn.SetReadDeadline(time.Time{})
		}
		// Otherwise the socket was replaced (closed), or it reported an ICMP error of an
		// earlier datagram (connection refused): read on.
	}
}

func (c *muxConn) ReadFrom(p []byte) (int, net.Addr, error) {
	n, from, err := c.ReadFromAddrPort(p)
	if err != nil {
		return 0, nil, err
	}
	return n, net.UDPAddrFromAddrPort(from), nil
}

// WriteToAddrPort sends a datagram and routes the address's replies here. DTLS or media sent
// to an address makes it the connection's own socket's (connect).
func (c *muxConn) WriteToAddrPort(p []byte, to netip.AddrPort) (int, error) {
	if c.isClosed() {
		return 0, io.ErrClosedPipe
	}
	to = netip.AddrPortFrom(to.Addr().Unmap(), to.Port())
	if d := c.direct.Load(); d != nil && d.to == to {
		return d.conn.Write(p)
	}
	c.mux.mu.RLock()
	known := c.mux.byAddr[to] == c
	c.mux.mu.RUnlock()
	if !known {
		c.mux.register(c, to)
	}
	if c.mux.direct && !stun.IsMessage(p) {
		if d := c.connect(to); d != nil {
			return d.conn.Write(p)
		}
	}
	return c.mux.conn.WriteToUDPAddrPort(p, to)
}

// connect gives the connection a socket of its own connected to to, in place of the one it
// had; nil if none can be opened (the shared socket serves on).
func (c *muxConn) connect(to netip.AddrPort) *directSocket {
	c.mu.Lock()
	defer c.mu.Unlock()
	old := c.direct.Load()
	if old != nil && old.to == to {
		return old // another writer connected it first
	}
	if c.isClosed() || c.directFailed == to {
		return nil
	}
	conn, err := c.mux.dial(c.mux.local, to)
	if err != nil {
		c.directFailed = to
		c.mux.stats.directFailed.Add(1)
		return nil
	}
	d := &directSocket{conn: conn, to: to}
	c.direct.Store(d)
	if old != nil {
		_ = old.conn.Close()
	} else {
		// The reader may be waiting for the queue alone: it reads the socket from now on.
		select {
		case c.ready <- struct{}{}:
		default:
		}
	}
	return d
}

func (c *muxConn) WriteTo(p []byte, to net.Addr) (int, error) {
	addr, ok := to.(*net.UDPAddr)
	if !ok {
		return 0, net.InvalidAddrError("not a UDP address")
	}
	return c.WriteToAddrPort(p, addr.AddrPort())
}

// closeStuck closes a connection whose reader stopped keeping up, and tells the mux's owner.
func (c *muxConn) closeStuck() {
	_ = c.Close()
	c.mux.stats.stuckConns.Add(1)
	if c.mux.onStuck != nil {
		c.mux.onStuck(c.ufrag)
	}
}

func (c *muxConn) isClosed() bool {
	select {
	case <-c.closed:
		return true
	default:
		return false
	}
}

// Close releases the connection and its queued datagrams.
func (c *muxConn) Close() error {
	c.once.Do(func() {
		c.mu.Lock()
		close(c.closed)
		c.queue.drain()
		if d := c.direct.Load(); d != nil {
			_ = d.conn.Close()
		}
		c.mu.Unlock()
		c.mux.forget(c)
	})
	return nil
}

func (c *muxConn) LocalAddr() net.Addr { return c.mux.local }

// Deadlines are not used by the ICE agent on a muxed connection; closing ends a read.
func (c *muxConn) SetDeadline(time.Time) error      { return nil }
func (c *muxConn) SetReadDeadline(time.Time) error  { return nil }
func (c *muxConn) SetWriteDeadline(time.Time) error { return nil }
