package media

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/pion/logging"
	"github.com/pion/turn/v4"
	"github.com/rs/zerolog"
)

// TURNConfig configures the embedded TURN server, for browsers on networks that block UDP to
// the SFU: it relays over UDP, or over TCP where only TCP gets through.
type TURNConfig struct {
	Enabled bool `yaml:"enabled"`
	// ListenIP is where the TURN ports listen; PublicIP the address browsers reach and relays
	// are announced on (the listen address if empty).
	ListenIP string `yaml:"listen_ip"`
	PublicIP string `yaml:"public_ip"`
	UDPPort  int    `yaml:"udp_port"`
	TCPPort  int    `yaml:"tcp_port"`
	Realm    string `yaml:"realm"`
	// Secret signs the short-lived TURN credentials (the TURN REST API's shared secret).
	Secret string `yaml:"secret"`
	// TTL is how long a browser's TURN credential lasts at most.
	TTL time.Duration `yaml:"ttl"`
	// SessionGrace is how long after the session's lobby closes a TURN credential still works.
	SessionGrace time.Duration `yaml:"session_grace"`
}

// maxAllocations is how many TURN allocations one user may hold at once: a browser makes one
// per network path it tries, a few at most, and a reload makes new ones before the old expire.
const maxAllocations = 10

type turnServer struct {
	cfg    TURNConfig
	clock  clockwork.Clock
	server *turn.Server
	udp    net.PacketConn
	tcp    net.Listener
	// sfu are the SFU's ICE addresses: the only destinations relays may reach.
	sfu []netip.AddrPort

	mu          sync.Mutex
	allocations map[string]int
}

// quietPion keeps Pion's own loggers silent: the bridge logs what matters with zerolog.
var quietPion = &logging.DefaultLoggerFactory{DefaultLogLevel: logging.LogLevelDisabled}

// startTURN starts the TURN server. Its relays reach only sfu, the SFU's own ICE addresses: a
// relay elsewhere (loopback services, the private network, a cloud's metadata address) would
// hand every guest the bridge's network position.
func startTURN(cfg TURNConfig, sfu []netip.AddrPort, clock clockwork.Clock, log zerolog.Logger) (*turnServer, error) {
	if cfg.ListenIP == "" {
		cfg.ListenIP = "0.0.0.0"
	}
	if cfg.Realm == "" {
		cfg.Realm = "telehealth"
	}
	if cfg.TTL == 0 {
		cfg.TTL = 12 * time.Hour
	}
	if cfg.SessionGrace == 0 {
		cfg.SessionGrace = 30 * time.Minute
	}
	relayIP := net.ParseIP(cfg.PublicIP)
	if relayIP == nil {
		relayIP = net.ParseIP(cfg.ListenIP)
	}
	if relayIP == nil || relayIP.IsUnspecified() {
		return nil, fmt.Errorf("media.turn.public_ip must be set when TURN listens on all addresses")
	}
	t := &turnServer{cfg: cfg, clock: clock, sfu: sfu, allocations: map[string]int{}}
	var err error
	if t.udp, err = net.ListenPacket("udp4", net.JoinHostPort(cfg.ListenIP, strconv.Itoa(cfg.UDPPort))); err != nil {
		return nil, fmt.Errorf("opening the TURN UDP port (media.turn.udp_port): %w", err)
	}
	if t.tcp, err = net.Listen("tcp4", net.JoinHostPort(cfg.ListenIP, strconv.Itoa(cfg.TCPPort))); err != nil {
		_ = t.udp.Close()
		return nil, fmt.Errorf("opening the TURN TCP port (media.turn.tcp_port): %w", err)
	}
	relay := sfuOnlyRelay{RelayAddressGeneratorStatic: &turn.RelayAddressGeneratorStatic{RelayAddress: relayIP, Address: cfg.ListenIP}, t: t}
	t.server, err = turn.NewServer(turn.ServerConfig{
		Realm:         cfg.Realm,
		AuthHandler:   t.auth,
		QuotaHandler:  t.quota,
		EventHandler:  turn.EventHandler{OnAllocationCreated: t.allocated, OnAllocationDeleted: t.deallocated},
		LoggerFactory: quietPion,
		PacketConnConfigs: []turn.PacketConnConfig{{
			PacketConn: t.udp, RelayAddressGenerator: relay, PermissionHandler: t.permitted,
		}},
		ListenerConfigs: []turn.ListenerConfig{{
			Listener: t.tcp, RelayAddressGenerator: relay, PermissionHandler: t.permitted,
		}},
	})
	if err != nil {
		_ = t.udp.Close()
		_ = t.tcp.Close()
		return nil, fmt.Errorf("starting the TURN server: %w", err)
	}
	log.Info().Stringer("udp", t.udp.LocalAddr()).Stringer("tcp", t.tcp.Addr()).Msg("TURN server started")
	return t, nil
}

// sfuAddresses are where browsers reach the SFU's ICE port: the public address, the listen
// address, or every interface's address when listening on all of them.
func sfuAddresses(cfg Config, port int) []netip.AddrPort {
	var ips []net.IP
	if ip := net.ParseIP(cfg.PublicIP); ip != nil {
		ips = append(ips, ip)
	}
	if ip := net.ParseIP(cfg.ListenIP); ip != nil && !ip.IsUnspecified() {
		ips = append(ips, ip)
	} else if addrs, err := net.InterfaceAddrs(); err == nil {
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok {
				ips = append(ips, n.IP)
			}
		}
	}
	var out []netip.AddrPort
	for _, ip := range ips {
		if a, ok := netip.AddrFromSlice(ip); ok {
			out = append(out, netip.AddrPortFrom(a.Unmap(), uint16(port)))
		}
	}
	return out
}

// toSFU reports whether a relay may exchange packets with addr.
func (t *turnServer) toSFU(addr net.Addr) bool {
	u, ok := addr.(*net.UDPAddr)
	if !ok {
		return false
	}
	ap := u.AddrPort()
	ap = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	for _, s := range t.sfu {
		if s == ap {
			return true
		}
	}
	return false
}

// permitted is the TURN permission check (by IP: TURN permissions carry no port; the relay
// socket checks the port).
func (t *turnServer) permitted(_ net.Addr, peer net.IP) bool {
	a, ok := netip.AddrFromSlice(peer)
	if !ok {
		return false
	}
	a = a.Unmap()
	for _, s := range t.sfu {
		if s.Addr() == a {
			return true
		}
	}
	return false
}

// auth checks a TURN REST credential ("expiry:user", HMAC-SHA1 password) against the server's
// clock.
func (t *turnServer) auth(username, realm string, _ net.Addr) ([]byte, bool) {
	expiry, _, ok := strings.Cut(username, ":")
	unix, err := strconv.ParseInt(expiry, 10, 64)
	if !ok || err != nil || !t.clock.Now().Before(time.Unix(unix, 0)) {
		return nil, false
	}
	return turn.GenerateAuthKey(username, realm, turnPassword(t.cfg.Secret, username)), true
}

func turnPassword(secret, username string) string {
	mac := hmac.New(sha1.New, []byte(secret))
	mac.Write([]byte(username))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// turnUser is the user a TURN username was issued to.
func turnUser(username string) string {
	_, user, _ := strings.Cut(username, ":")
	return user
}

// quota refuses a new allocation to a user who holds maxAllocations.
func (t *turnServer) quota(username, _ string, _ net.Addr) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.allocations[turnUser(username)] < maxAllocations
}

func (t *turnServer) allocated(_, _ net.Addr, _, username, _ string, _ net.Addr, _ int) {
	t.mu.Lock()
	t.allocations[turnUser(username)]++
	t.mu.Unlock()
}

func (t *turnServer) deallocated(_, _ net.Addr, _, username, _ string) {
	t.mu.Lock()
	user := turnUser(username)
	if t.allocations[user]--; t.allocations[user] <= 0 {
		delete(t.allocations, user)
	}
	t.mu.Unlock()
}

// credentials are a browser's TURN credentials, valid on UDP and TCP until the session's lobby
// closes plus the grace, and never longer than the TTL.
func (t *turnServer) credentials(userID string, now, sessionEnd time.Time) ICEServer {
	expires := now.Add(t.cfg.TTL)
	if end := sessionEnd.Add(t.cfg.SessionGrace); !sessionEnd.IsZero() && end.Before(expires) {
		expires = end
	}
	user := strconv.FormatInt(expires.Unix(), 10) + ":" + userID
	host := t.cfg.PublicIP
	if host == "" {
		host = t.cfg.ListenIP
	}
	udpPort := t.udp.LocalAddr().(*net.UDPAddr).Port
	tcpPort := t.tcp.Addr().(*net.TCPAddr).Port
	return ICEServer{
		URLs: []string{
			fmt.Sprintf("turn:%s?transport=udp", net.JoinHostPort(host, strconv.Itoa(udpPort))),
			fmt.Sprintf("turn:%s?transport=tcp", net.JoinHostPort(host, strconv.Itoa(tcpPort))),
		},
		Username: user, Credential: turnPassword(t.cfg.Secret, user),
	}
}

func (t *turnServer) close() {
	_ = t.server.Close()
}

// sfuOnlyRelay makes relay sockets that exchange packets with the SFU's ICE port only: the
// permission check sees addresses, not ports, and the SFU's address may be shared with other
// services (loopback in tests, the host's address in production).
type sfuOnlyRelay struct {
	*turn.RelayAddressGeneratorStatic
	t *turnServer
}

func (r sfuOnlyRelay) AllocatePacketConn(network string, requestedPort int) (net.PacketConn, net.Addr, error) {
	conn, addr, err := r.RelayAddressGeneratorStatic.AllocatePacketConn(network, requestedPort)
	if err != nil {
		return nil, nil, err
	}
	return sfuOnlyConn{PacketConn: conn, t: r.t}, addr, nil
}

type sfuOnlyConn struct {
	net.PacketConn
	t *turnServer
}

// WriteTo drops what is not for the SFU, as a network would.
func (c sfuOnlyConn) WriteTo(b []byte, addr net.Addr) (int, error) {
	if !c.t.toSFU(addr) {
		return len(b), nil
	}
	return c.PacketConn.WriteTo(b, addr)
}

// ReadFrom passes on only what comes from the SFU.
func (c sfuOnlyConn) ReadFrom(b []byte) (int, net.Addr, error) {
	for {
		n, addr, err := c.PacketConn.ReadFrom(b)
		if err != nil || c.t.toSFU(addr) {
			return n, addr, err
		}
	}
}
