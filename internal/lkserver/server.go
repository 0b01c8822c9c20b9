package lkserver

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"text/template"

	"github.com/telehealth-bridge/telehealth-bridge/internal/homeserver"
	"github.com/telehealth-bridge/telehealth-bridge/internal/proc"
)

// Options describe a LiveKit server to start.
type Options struct {
	// Dir holds the config and the log. It must exist.
	Dir string
	// Redis is host:port of a Redis server, for several nodes sharing rooms; none if empty
	// (one node, rooms in memory). Nodes given the same Redis and RedisDB are one cluster:
	// each has its own API/signalling port and its own media ports, and a room lives on one
	// node, whichever node a participant's signalling reaches.
	Redis string
	// RedisDB is the Redis database number (tests take one each with TakeRedisDB, so that
	// clusters of parallel tests do not meet).
	RedisDB int
	// Webhooks are URLs the server posts its events to, signed with the API key.
	Webhooks []string
	// Progress receives build output the first time the server is built.
	Progress io.Writer
}

// Server is a running LiveKit server.
type Server struct {
	// URL is the server's address for clients and the API, http://127.0.0.1:port (a client
	// dials ws:// on the same port).
	URL string
	// Key and Secret are the API key pair the server accepts, generated for this run.
	Key, Secret string
	// UDPPort is the one UDP port media flows through, on 127.0.0.1; TCPPort is the ICE/TCP
	// fallback port. Every node of a cluster has its own.
	UDPPort, TCPPort int
	Dir              string

	bin  string
	mu   sync.Mutex
	proc *proc.Process
}

// The media port is one UDP port (muxed) on loopback, and only loopback candidates are
// offered, so nothing outside the machine is reached or advertised. The STUN server LiveKit
// hands clients in every join is the node's own port on loopback: by default it hands out
// Google's and Twilio's, which a browser would resolve and query. It logs at info: why it
// closes a participant or asks a page to reconnect in full (a negotiation timed out, ...) is
// said at that level only (Events picks those lines out).
const configTemplate = `port: {{.Port}}
bind_addresses: ["127.0.0.1"]
rtc:
  udp_port: {{.UDPPort}}
  tcp_port: {{.TCPPort}}
  use_external_ip: false
  node_ip: 127.0.0.1
  enable_loopback_candidate: true
  interfaces: {includes: [lo]}
  stun_servers: ["127.0.0.1:{{.UDPPort}}"]
keys:
  {{.Key}}: {{.Secret}}
logging: {level: info, json: false}
{{- if .Redis}}
redis: {address: "{{.Redis}}", db: {{.RedisDB}}}
{{- end}}
{{- if .Webhooks}}
webhook:
  api_key: {{.Key}}
  urls: [{{range $i, $u := .Webhooks}}{{if $i}}, {{end}}"{{$u}}"{{end}}]
{{- end}}
`

// Start builds the server if needed, writes its config into opts.Dir, starts it on 127.0.0.1
// and waits until it answers.
func Start(ctx context.Context, opts Options) (*Server, error) {
	return start(ctx, opts, "API"+randomHex(6), randomHex(32))
}

func start(ctx context.Context, opts Options, key, secret string) (*Server, error) {
	if opts.Progress == nil {
		opts.Progress = io.Discard
	}
	bin, err := Ensure(ctx, opts.Progress)
	if err != nil {
		return nil, err
	}
	port, err := homeserver.FreePort()
	if err != nil {
		return nil, err
	}
	tcpPort, err := homeserver.FreePort()
	if err != nil {
		return nil, err
	}
	udpPort, err := freeUDPPort()
	if err != nil {
		return nil, err
	}
	s := &Server{
		URL: fmt.Sprintf("http://127.0.0.1:%d", port), UDPPort: udpPort, TCPPort: tcpPort, Dir: opts.Dir, bin: bin,
		Key: key, Secret: secret,
	}
	var buf bytes.Buffer
	err = template.Must(template.New("livekit").Parse(configTemplate)).Execute(&buf, map[string]any{
		"Port": port, "UDPPort": udpPort, "TCPPort": tcpPort, "Key": s.Key, "Secret": s.Secret,
		"Redis": opts.Redis, "RedisDB": opts.RedisDB, "Webhooks": opts.Webhooks,
	})
	if err != nil {
		return nil, err
	}
	if err = os.WriteFile(s.configPath(), buf.Bytes(), 0o600); err != nil {
		return nil, err
	}
	if err = s.start(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// StartWithKeys is Start for another node of a cluster: it accepts the same API key pair as
// first (clients and the bridge cannot tell the nodes apart).
func StartWithKeys(ctx context.Context, opts Options, key, secret string) (*Server, error) {
	return start(ctx, opts, key, secret)
}

func (s *Server) configPath() string { return filepath.Join(s.Dir, "livekit.yaml") }

// LogPath is the server's log file.
func (s *Server) LogPath() string { return filepath.Join(s.Dir, "livekit.log") }

func (s *Server) start(ctx context.Context) error {
	cmd := exec.Command(s.bin, "--config", s.configPath())
	cmd.Dir = s.Dir
	p, err := proc.Start(ctx, "the LiveKit server", cmd, s.LogPath(), s.URL+"/")
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.proc = p
	s.mu.Unlock()
	return nil
}

// PID is the server process's id (0 once stopped), for reading its CPU time and memory.
func (s *Server) PID() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc == nil {
		return 0
	}
	return s.proc.PID()
}

// LogTail is the end of the server's log.
func (s *Server) LogTail() string { return proc.Tail(s.LogPath()) }

// connectionEvents are the log lines that say what happened to the participants' connections.
var connectionEvents = []string{
	"\tWARN\t", "\tERROR\t", "starting RTC session", "resuming RTC session", "cannot restart",
	"participant closing", "negotiation failed", "full reconnect", "ice restart", "ICE restart",
}

// Events is what the server's log says about the participants' connections: its warnings and
// errors, and each session started, resumed, failing to negotiate, reconnected in full or
// closed (with the reason), the last 80, each cut to 400 characters. A failed test prints
// them: at the info level the log's tail is mostly webhooks.
func (s *Server) Events() string {
	data, _ := os.ReadFile(s.LogPath())
	var lines []string
	for line := range strings.SplitSeq(string(data), "\n") {
		for _, e := range connectionEvents {
			if strings.Contains(line, e) {
				if len(line) > 400 {
					line = line[:400] + "…"
				}
				lines = append(lines, line)
				break
			}
		}
	}
	if len(lines) > 80 {
		lines = lines[len(lines)-80:]
	}
	return strings.Join(lines, "\n")
}

// Stop kills the server and waits for it to exit: it keeps nothing worth a graceful stop, and
// on SIGTERM it drains rooms without end.
func (s *Server) Stop() error {
	s.mu.Lock()
	p := s.proc
	s.proc = nil
	s.mu.Unlock()
	if p != nil {
		p.Stop(syscall.SIGKILL, 0)
	}
	return nil
}

// freeUDPPort is a UDP port on 127.0.0.1 nothing is bound to now, below the ephemeral range.
func freeUDPPort() (int, error) {
	for range 100 {
		port, err := homeserver.FreePort()
		if err != nil {
			return 0, err
		}
		if c, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", port)); err == nil {
			_ = c.Close()
			return port, nil
		}
	}
	return 0, fmt.Errorf("no free UDP port found")
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
