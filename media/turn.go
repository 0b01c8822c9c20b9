package media

import (
	"fmt"
	"net"
	"strconv"
	"time"

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
	// TTL is how long a browser's TURN credential lasts.
	TTL time.Duration `yaml:"ttl"`
}

type turnServer struct {
	cfg    TURNConfig
	server *turn.Server
	udp    net.PacketConn
	tcp    net.Listener
}

// quietPion keeps Pion's own loggers silent: the bridge logs what matters with zerolog.
var quietPion = &logging.DefaultLoggerFactory{DefaultLogLevel: logging.LogLevelDisabled}

func startTURN(cfg TURNConfig, log zerolog.Logger) (*turnServer, error) {
	if cfg.ListenIP == "" {
		cfg.ListenIP = "0.0.0.0"
	}
	if cfg.Realm == "" {
		cfg.Realm = "telehealth"
	}
	if cfg.TTL == 0 {
		cfg.TTL = 12 * time.Hour
	}
	relayIP := net.ParseIP(cfg.PublicIP)
	if relayIP == nil {
		relayIP = net.ParseIP(cfg.ListenIP)
	}
	if relayIP == nil || relayIP.IsUnspecified() {
		return nil, fmt.Errorf("media.turn.public_ip must be set when TURN listens on all addresses")
	}
	t := &turnServer{cfg: cfg}
	var err error
	if t.udp, err = net.ListenPacket("udp4", net.JoinHostPort(cfg.ListenIP, strconv.Itoa(cfg.UDPPort))); err != nil {
		return nil, fmt.Errorf("opening the TURN UDP port (media.turn.udp_port): %w", err)
	}
	if t.tcp, err = net.Listen("tcp4", net.JoinHostPort(cfg.ListenIP, strconv.Itoa(cfg.TCPPort))); err != nil {
		_ = t.udp.Close()
		return nil, fmt.Errorf("opening the TURN TCP port (media.turn.tcp_port): %w", err)
	}
	relay := &turn.RelayAddressGeneratorStatic{RelayAddress: relayIP, Address: cfg.ListenIP}
	t.server, err = turn.NewServer(turn.ServerConfig{
		Realm:             cfg.Realm,
		AuthHandler:       turn.LongTermTURNRESTAuthHandler(cfg.Secret, quietPion.NewLogger("turn")),
		LoggerFactory:     quietPion,
		PacketConnConfigs: []turn.PacketConnConfig{{PacketConn: t.udp, RelayAddressGenerator: relay}},
		ListenerConfigs:   []turn.ListenerConfig{{Listener: t.tcp, RelayAddressGenerator: relay}},
	})
	if err != nil {
		_ = t.udp.Close()
		_ = t.tcp.Close()
		return nil, fmt.Errorf("starting the TURN server: %w", err)
	}
	log.Info().Stringer("udp", t.udp.LocalAddr()).Stringer("tcp", t.tcp.Addr()).Msg("TURN server started")
	return t, nil
}

// credentials are a browser's short-lived TURN credentials, valid on UDP and TCP.
func (t *turnServer) credentials(userID string, now time.Time) ICEServer {
	user, password, _ := turn.GenerateLongTermTURNRESTCredentials(t.cfg.Secret, userID, t.cfg.TTL)
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
		Username: user, Credential: password,
	}
}

func (t *turnServer) close() {
	_ = t.server.Close()
}
