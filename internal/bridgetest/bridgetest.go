// Package bridgetest runs the whole bridge against a real Dendrite for integration tests:
// a homeserver with the bridge's registration, a config written to disk and loaded the way
// the binary loads it, and helpers to wait for what a user would see.
package bridgetest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/rs/zerolog"
	"go.mau.fi/util/random"
	"gopkg.in/yaml.v3"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"github.com/telehealth-bridge/telehealth-bridge/config"
	"github.com/telehealth-bridge/telehealth-bridge/database"
	"github.com/telehealth-bridge/telehealth-bridge/internal/app"
	"github.com/telehealth-bridge/telehealth-bridge/internal/dbtest"
	"github.com/telehealth-bridge/telehealth-bridge/internal/homeserver"
	"github.com/telehealth-bridge/telehealth-bridge/internal/hstest"
)

// Env is a homeserver and a bridge configured for it.
type Env struct {
	HS     *homeserver.Server
	Config *config.Config
	App    *app.App
	Dir    string
	Clock  clockwork.Clock
}

// Options adjust the environment.
type Options struct {
	// DB is "sqlite" (default) or "pgx".
	DB string
	// HomeserverDB is where Dendrite keeps its tables: "sqlite" (default, files in memory)
	// or "pgx" (a fresh PostgreSQL database, as a production homeserver would).
	HomeserverDB string
	// Config edits the config text before it is loaded (YAML keys, as a user would).
	Config func(cfg map[string]any)
	// Clock is the bridge's clock; tests move a fake one instead of waiting.
	Clock clockwork.Clock
}

// New writes a config, starts Dendrite with the matching registration and returns the
// environment; the bridge is not started yet.
func New(t testing.TB, opts Options) *Env {
	t.Helper()
	dir := t.TempDir()
	asPort, err := homeserver.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	webPort, err := homeserver.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	kind := opts.DB
	if kind == "" {
		kind = "sqlite"
	}
	dbCfg := dbtest.Config(t, kind)
	values := map[string]any{
		"homeserver.address":      "http://127.0.0.1:1", // replaced once Dendrite's port is known
		"homeserver.domain":       hstest.ServerName,
		"appservice.address":      fmt.Sprintf("http://127.0.0.1:%d", asPort),
		"appservice.hostname":     "127.0.0.1",
		"appservice.id":           "telehealth",
		"appservice.bot.username": "telehealthbot",
		"appservice.port":         asPort,
		"appservice.as_token":     random.String(32),
		"appservice.hs_token":     random.String(32),
		"database.type":           dbCfg.Type,
		"database.uri":            dbCfg.URI,
		"web.public_url":          fmt.Sprintf("http://127.0.0.1:%d", webPort),
		"web.hostname":            "127.0.0.1",
		"web.port":                webPort,
		"media.listen_ip":         "127.0.0.1",
		"media.udp_port":          0,
	}
	env := &Env{Dir: dir, Clock: opts.Clock}
	env.Config = writeConfig(t, dir, values, opts.Config)
	var hsPostgres string
	if opts.HomeserverDB == "pgx" {
		hsPostgres = dbtest.Config(t, "pgx").URI
	}
	env.HS = hstest.StartOn(t, hsPostgres, env.Config.Registration())
	values["homeserver.address"] = env.HS.URL
	env.Config = writeConfig(t, dir, values, opts.Config)
	return env
}

// writeConfig writes a config file with the given keys (dotted paths) and loads it the way
// the binary does, so the tests go through the same checks and upgrade.
func writeConfig(t testing.TB, dir string, values map[string]any, edit func(map[string]any)) *config.Config {
	t.Helper()
	if edit != nil {
		edit(values)
	}
	tree := map[string]any{
		"permissions": map[string]any{hstest.ServerName: "clinician"},
		"logging": map[string]any{
			"min_level": "debug",
			"writers":   []any{map[string]any{"type": "stderr", "format": "pretty"}},
		},
	}
	for key, value := range values {
		node := tree
		parts := strings.Split(key, ".")
		for _, p := range parts[:len(parts)-1] {
			next, ok := node[p].(map[string]any)
			if !ok {
				next = map[string]any{}
				node[p] = next
			}
			node = next
		}
		node[parts[len(parts)-1]] = value
	}
	data, err := yaml.Marshal(tree)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "config.yaml")
	if err = os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatalf("loading test config: %v", err)
	}
	return cfg
}

// Start starts the bridge and stops it when the test ends.
func (e *Env) Start(t testing.TB) *app.App {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	a, err := e.TryStart(ctx, t)
	// The web port was free when New picked it, but another test binary running beside this
	// one may have taken it since: take another (the pages' port is nobody else's to know;
	// the appservice's is in Dendrite's registration, so it stays).
	for attempt := 0; err != nil && errors.Is(err, syscall.EADDRINUSE) && strings.Contains(err.Error(), "web.port") && attempt < 3; attempt++ {
		port, perr := homeserver.FreePort()
		if perr != nil {
			t.Fatal(perr)
		}
		e.Config.Web.Port = uint16(port)
		e.Config.Web.PublicURL = fmt.Sprintf("http://127.0.0.1:%d", port)
		a, err = e.TryStart(ctx, t)
	}
	if err != nil {
		t.Fatalf("starting the bridge: %v", err)
	}
	return a
}

// TryStart starts the bridge and returns the start-up error, if any.
func (e *Env) TryStart(ctx context.Context, t testing.TB) (*app.App, error) {
	t.Helper()
	log := zerolog.New(zerolog.NewTestWriter(t)).With().Timestamp().Logger().Level(zerolog.InfoLevel)
	a, err := app.New(ctx, e.Config, log, app.Options{Clock: e.Clock})
	if err != nil {
		return nil, err
	}
	a.Matrix.RegistrationChecked = true
	a.Matrix.StartupTimeout = 5 * time.Second
	if err = a.Start(ctx); err != nil {
		stopCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		a.Stop(stopCtx)
		cancel()
		return nil, err
	}
	e.App = a
	t.Cleanup(func() { e.Stop() })
	return a, nil
}

// Stop stops the bridge if it runs.
func (e *Env) Stop() {
	if e.App == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	e.App.Stop(ctx)
	e.App = nil
}

// User creates a user on the homeserver.
func (e *Env) User(t testing.TB, localpart string) *mautrix.Client {
	return hstest.User(t, e.HS, localpart)
}

// Eventually polls cond until it holds or the deadline passes.
func Eventually(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.NewTimer(within)
	defer deadline.Stop()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-deadline.C:
			t.Fatalf("timed out after %s waiting for %s", within, what)
		case <-tick.C:
		}
	}
}

// Messages returns the room's timeline events, oldest first, as the user sees them.
func Messages(t testing.TB, cli *mautrix.Client, roomID id.RoomID) []*event.Event {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := cli.Messages(ctx, roomID, "", "", mautrix.DirectionBackward, nil, 200)
	if err != nil {
		t.Fatalf("reading messages: %v", err)
	}
	out := make([]*event.Event, 0, len(resp.Chunk))
	for i := len(resp.Chunk) - 1; i >= 0; i-- {
		evt := resp.Chunk[i]
		_ = evt.Content.ParseRaw(evt.Type)
		out = append(out, evt)
	}
	return out
}

// WaitMessage waits for a message in the room that matches and returns it.
func WaitMessage(t testing.TB, cli *mautrix.Client, roomID id.RoomID, within time.Duration, what string, match func(*event.Event) bool) *event.Event {
	t.Helper()
	var found *event.Event
	Eventually(t, within, what, func() bool {
		for _, evt := range Messages(t, cli, roomID) {
			if match(evt) {
				found = evt
				return true
			}
		}
		return false
	})
	return found
}

// IsNoticeFrom matches a notice sent by sender whose text contains substr.
func IsNoticeFrom(sender id.UserID, substr string) func(*event.Event) bool {
	return func(evt *event.Event) bool {
		msg := evt.Content.AsMessage()
		return evt.Sender == sender && evt.Type == event.EventMessage && msg.MsgType == event.MsgNotice && strings.Contains(Shown(msg.Body), substr)
	}
}

// Shown is a notice's text as a reader sees it: without the invisible isolation marks (FSI,
// PDI) the bridge puts around names.
func Shown(body string) string {
	return strings.NewReplacer("\u2068", "", "\u2069", "").Replace(body)
}

// AuditTrail is the started bridge's audit trail, oldest first.
func (e *Env) AuditTrail(t testing.TB) []*database.AuditRow {
	t.Helper()
	var buf bytes.Buffer
	if _, err := e.App.DB.Audit.Export(context.Background(), time.Unix(0, 0), time.Now().AddDate(10, 0, 0), &buf); err != nil {
		t.Fatalf("reading the audit trail: %v", err)
	}
	var rows []*database.AuditRow
	for dec := json.NewDecoder(&buf); dec.More(); {
		var r database.AuditRow
		if err := dec.Decode(&r); err != nil {
			t.Fatalf("reading the audit trail: %v", err)
		}
		rows = append(rows, &r)
	}
	return rows
}

// Audited reports whether the audit trail holds an entry with this actor and action for the
// session whose detail has every key and value of want.
func (e *Env) Audited(t testing.TB, actor string, action bridge.AuditAction, sessionID string, want map[string]string) bool {
	t.Helper()
	for _, r := range e.AuditTrail(t) {
		if r.Actor != actor || r.Action != string(action) || r.SessionID != sessionID {
			continue
		}
		var detail map[string]string
		_ = json.Unmarshal(r.Detail, &detail)
		ok := true
		for k, v := range want {
			ok = ok && detail[k] == v
		}
		if ok {
			return true
		}
	}
	return false
}
