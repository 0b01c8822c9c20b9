package homeserver

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"text/template"
	"time"

	"github.com/telehealth-bridge/telehealth-bridge/internal/proc"
)

// Options describe a homeserver to start.
type Options struct {
	// Dir holds the homeserver's databases, keys, config and log. It must exist.
	Dir string
	// ServerName is the homeserver's domain; "localhost" if empty.
	ServerName string
	// Registrations are appservice registration files the homeserver loads.
	Registrations []string
	// Port to listen on, on 127.0.0.1; a free one if zero.
	Port int
	// Progress receives build output the first time Dendrite is built.
	Progress io.Writer
	// Postgres, if set, is a PostgreSQL connection string (an empty database of the caller's):
	// Dendrite keeps every component's tables there instead of in SQLite files in Dir, as a
	// production homeserver would, so that a load test measures that setup.
	Postgres string
}

// Server is a running Dendrite.
type Server struct {
	// URL is the client-server API address, http://127.0.0.1:port.
	URL        string
	ServerName string
	Dir        string

	bin      string
	port     int
	secret   string
	postgres string

	mu   sync.Mutex
	proc *proc.Process
}

const configTemplate = `version: 2
global:
  server_name: {{.ServerName}}
  private_key: {{.Dir}}/matrix_key.pem
  disable_federation: false
  trusted_third_party_id_servers: []
  jetstream: {in_memory: true, storage_path: {{.Dir}}}
  server_notices: {enabled: false}
  report_stats: {enabled: false}
  presence: {enable_inbound: false, enable_outbound: false}
{{- if .Postgres}}
  database: {connection_string: "{{.Postgres}}", max_open_conns: 50, max_idle_conns: 10, conn_max_lifetime: -1}
{{- end}}
app_service_api:
  config_files: [{{range $i, $f := .Registrations}}{{if $i}}, {{end}}"{{$f}}"{{end}}]
client_api:
  registration_disabled: true
  registration_shared_secret: "{{.Secret}}"
  rate_limiting: {enabled: false}
{{- if .Postgres}}
federation_api: {key_perspectives: []}
media_api: {base_path: {{.Dir}}/media}
sync_api: {search: {enabled: false}}
user_api: {bcrypt_cost: 4}
{{- else}}
federation_api: {database: {connection_string: "file:{{.Dir}}/federationapi.db"}, key_perspectives: []}
key_server: {database: {connection_string: "file:{{.Dir}}/keyserver.db"}}
media_api: {database: {connection_string: "file:{{.Dir}}/mediaapi.db"}, base_path: {{.Dir}}/media}
room_server: {database: {connection_string: "file:{{.Dir}}/roomserver.db"}}
sync_api: {database: {connection_string: "file:{{.Dir}}/syncapi.db"}, search: {enabled: false}}
user_api: {bcrypt_cost: 4, account_database: {connection_string: "file:{{.Dir}}/userapi.db"}}
relay_api: {database: {connection_string: "file:{{.Dir}}/relayapi.db"}}
mscs: {database: {connection_string: "file:{{.Dir}}/mscs.db"}}
{{- end}}
logging: [{type: std, level: warn}]
`

// Start builds Dendrite if needed, writes its config into opts.Dir, starts it on 127.0.0.1 and
// waits until it answers.
func Start(ctx context.Context, opts Options) (*Server, error) {
	if opts.ServerName == "" {
		opts.ServerName = "localhost"
	}
	if opts.Progress == nil {
		opts.Progress = io.Discard
	}
	binDir, err := EnsureDendrite(ctx, opts.Progress)
	if err != nil {
		return nil, err
	}
	s := &Server{ServerName: opts.ServerName, Dir: opts.Dir, bin: binDir, port: opts.Port, postgres: opts.Postgres}
	if s.port == 0 {
		if s.port, err = FreePort(); err != nil {
			return nil, err
		}
	}
	s.URL = fmt.Sprintf("http://127.0.0.1:%d", s.port)
	s.secret = randomHex(16)
	if _, err = os.Stat(filepath.Join(s.Dir, "matrix_key.pem")); err != nil {
		keygen := exec.CommandContext(ctx, filepath.Join(binDir, "generate-keys"), "--private-key", filepath.Join(s.Dir, "matrix_key.pem"))
		if out, err := keygen.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("generating Dendrite keys: %w: %s", err, out)
		}
	}
	if err = s.writeConfig(opts.Registrations); err != nil {
		return nil, err
	}
	if err = s.start(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// SetRegistrations rewrites the config with other appservice registrations; they take effect
// at the next Restart.
func (s *Server) SetRegistrations(registrations []string) error {
	return s.writeConfig(registrations)
}

func (s *Server) writeConfig(registrations []string) error {
	var buf bytes.Buffer
	tmpl := template.Must(template.New("dendrite").Parse(configTemplate))
	err := tmpl.Execute(&buf, map[string]any{
		"ServerName":    s.ServerName,
		"Dir":           s.Dir,
		"Registrations": registrations,
		"Secret":        s.secret,
		"Postgres":      s.postgres,
	})
	if err != nil {
		return err
	}
	return os.WriteFile(s.configPath(), buf.Bytes(), 0o600)
}

func (s *Server) configPath() string { return filepath.Join(s.Dir, "dendrite.yaml") }

// LogPath is Dendrite's log file.
func (s *Server) LogPath() string { return filepath.Join(s.Dir, "dendrite.log") }

func (s *Server) start(ctx context.Context) error {
	cmd := exec.Command(filepath.Join(s.bin, "dendrite"),
		"-config", s.configPath(), "-http-bind-address", fmt.Sprintf("127.0.0.1:%d", s.port))
	cmd.Dir = s.Dir
	p, err := proc.Start(ctx, "Dendrite", cmd, s.LogPath(), s.URL+"/_matrix/client/versions")
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.proc = p
	s.mu.Unlock()
	return nil
}

// Stop ends Dendrite and waits for it to exit.
func (s *Server) Stop() error {
	s.mu.Lock()
	p := s.proc
	s.proc = nil
	s.mu.Unlock()
	if p != nil {
		p.Stop(syscall.SIGTERM, 10*time.Second)
	}
	return nil
}

// Restart stops Dendrite and starts it again on the same port with the same data.
func (s *Server) Restart(ctx context.Context) error {
	if err := s.Stop(); err != nil {
		return err
	}
	return s.start(ctx)
}

// Registered is a user created on the homeserver.
type Registered struct {
	UserID      string `json:"user_id"`
	AccessToken string `json:"access_token"`
	DeviceID    string `json:"device_id"`
}

// RegisterUser creates an account with the shared registration secret (Synapse's admin API,
// which Dendrite serves too) and returns its first access token.
func (s *Server) RegisterUser(ctx context.Context, localpart, password string, admin bool) (*Registered, error) {
	var nonce struct {
		Nonce string `json:"nonce"`
	}
	if err := s.adminCall(ctx, http.MethodGet, nil, &nonce); err != nil {
		return nil, fmt.Errorf("getting registration nonce: %w", err)
	}
	kind := "notadmin"
	if admin {
		kind = "admin"
	}
	mac := hmac.New(sha1.New, []byte(s.secret))
	mac.Write([]byte(strings.Join([]string{nonce.Nonce, localpart, password, kind}, "\x00")))
	body := map[string]any{
		"nonce": nonce.Nonce, "username": localpart, "password": password,
		"admin": admin, "mac": hex.EncodeToString(mac.Sum(nil)),
	}
	var reg Registered
	if err := s.adminCall(ctx, http.MethodPost, body, &reg); err != nil {
		return nil, fmt.Errorf("registering %s: %w", localpart, err)
	}
	return &reg, nil
}

func (s *Server) adminCall(ctx context.Context, method string, body, out any) error {
	var reader io.Reader
	if body != nil {
		data, _ := json.Marshal(body)
		reader = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, s.URL+"/_synapse/admin/v1/register", reader)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("HTTP %d: %s", resp.StatusCode, data)
	}
	return json.Unmarshal(data, out)
}

// FreePort returns a TCP port on 127.0.0.1 that nothing listens on right now. It is chosen
// below the kernel's ephemeral range (32768 and up on Linux), so that an outgoing connection
// cannot take it between this call and the listener's bind, nor across a restart.
func FreePort() (int, error) {
	for range 100 {
		b := make([]byte, 2)
		_, _ = rand.Read(b)
		port := 10000 + (int(b[0])<<8|int(b[1]))%22000
		if PortFree(port) {
			return port, nil
		}
	}
	return 0, errors.New("no free port found between 10000 and 32000")
}

// PortFree reports whether nothing listens on the port on 127.0.0.1.
func PortFree(port int) bool {
	l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return false
	}
	_ = l.Close()
	return true
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
