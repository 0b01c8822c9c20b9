package media

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"syscall"

	"golang.org/x/sys/unix"
)

// The shared ICE port is bound with SO_REUSEPORT so that each connection can have a socket of
// its own on the same port, connected to its participant's address (udpMux's direct
// sockets): Linux hands a datagram to the connected socket of its source address before the
// shared one (since Linux 5.2), so the kernel does the routing the mux's reader does for the
// rest. Every socket of the port must set the option, and only the same user can join them.

// listenShared opens the shared ICE port. It first binds the address without SO_REUSEPORT:
// if another process holds the port (a second bridge on the same port), that fails as it
// always did, instead of the two sharing its datagrams.
func listenShared(addr string) (*net.UDPConn, error) {
	probe, err := net.ListenPacket("udp", addr)
	if err != nil {
		return nil, err
	}
	bound := probe.LocalAddr().String()
	_ = probe.Close()
	lc := net.ListenConfig{Control: reusePort}
	pc, err := lc.ListenPacket(context.Background(), "udp", bound)
	if err != nil {
		return nil, err
	}
	return pc.(*net.UDPConn), nil
}

// directCapable says whether sockets of their own can join conn's port: it was bound with
// SO_REUSEPORT (listenShared), and the kernel prefers connected sockets (5.2 and later; an
// earlier one could hand a connected socket another address's datagrams).
func directCapable(conn *net.UDPConn) bool {
	if !kernelAtLeast(5, 2) {
		return false
	}
	raw, err := conn.SyscallConn()
	if err != nil {
		return false
	}
	on := 0
	cerr := raw.Control(func(fd uintptr) {
		on, err = unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT)
	})
	return cerr == nil && err == nil && on == 1
}

// dialDirect opens a socket on local's port connected to remote.
func dialDirect(local *net.UDPAddr, remote netip.AddrPort) (*net.UDPConn, error) {
	d := net.Dialer{LocalAddr: local, Control: reusePort}
	c, err := d.Dial("udp", remote.String())
	if err != nil {
		return nil, err
	}
	udp, ok := c.(*net.UDPConn)
	if !ok {
		_ = c.Close()
		return nil, errors.New("not a UDP socket")
	}
	return udp, nil
}

func reusePort(_, _ string, c syscall.RawConn) error {
	var err error
	if cerr := c.Control(func(fd uintptr) {
		err = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1)
	}); cerr != nil {
		return cerr
	}
	return err
}

// kernelAtLeast says whether the running kernel's release is major.minor or later.
func kernelAtLeast(major, minor int) bool {
	var u unix.Utsname
	if unix.Uname(&u) != nil {
		return false
	}
	var ma, mi int
	if _, err := fmt.Sscanf(unix.ByteSliceToString(u.Release[:]), "%d.%d", &ma, &mi); err != nil {
		return false
	}
	return ma > major || ma == major && mi >= minor
}
