//go:build !linux

package media

import (
	"errors"
	"net"
	"net/netip"
)

// Elsewhere than Linux every datagram goes through the mux's reader: SO_REUSEPORT does not
// prefer connected sockets everywhere.

func listenShared(addr string) (*net.UDPConn, error) {
	pc, err := net.ListenPacket("udp", addr)
	if err != nil {
		return nil, err
	}
	return pc.(*net.UDPConn), nil
}

func directCapable(*net.UDPConn) bool { return false }

func dialDirect(*net.UDPAddr, netip.AddrPort) (*net.UDPConn, error) {
	return nil, errors.New("no direct sockets on this system")
}
