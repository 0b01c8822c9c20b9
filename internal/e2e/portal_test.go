package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/jonboulle/clockwork"
	"github.com/rs/zerolog"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"github.com/telehealth-bridge/telehealth-bridge/internal/dbtest"
	"github.com/telehealth-bridge/telehealth-bridge/web"
)

// portalClients is a map-backed client directory for the portal's pages; the records journey
// owns the real one.
type portalClients map[int64]struct{ name, email string }

func (c portalClients) ClientByContact(_ context.Context, contact string) (int64, bool, error) {
	for id, r := range c {
		if r.email == contact {
			return id, true, nil
		}
	}
	return 0, false, nil
}

func (c portalClients) ClientName(_ context.Context, id int64) (string, error) {
	if r, ok := c[id]; ok {
		return r.name, nil
	}
	return "", fmt.Errorf("no client %d", id)
}

// inbox keeps the last code sent to each contact.
type inbox struct {
	mu    sync.Mutex
	codes map[string]string
}

func (b *inbox) SendPortalCode(_ context.Context, to bridge.PortalContact, code, _ string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.codes[to.String()] = code
	return nil
}

// TestPortalSignInInTheBrowser: "Create your access" from an enrolment link with a passkey
// (Chromium's virtual authenticator), signing out and in again with it; a code by email with a
// wrong code first; a password; in English and French. The portal's sign-in needs no Matrix:
// the pages run on the web server alone, over localhost (a secure context, and a host name a
// passkey can belong to).
func TestPortalSignInInTheBrowser(t *testing.T) {
	if _, err := os.Stat("/usr/bin/chromium"); err != nil {
		t.Fatal("Chromium is missing: `make test` installs it (apt-get install chromium)")
	}
	db := dbtest.Open(t, "sqlite")
	clock := clockwork.NewFakeClockAt(start)
	svc := bridge.New(bridge.Options{Store: db.Store(), Clock: clock, Audit: db.Audit, Bot: "@bot:hs"})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	publicURL := "http://localhost:" + strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	pages := web.New(web.Config{PublicURL: publicURL, SigningKey: []byte("0123456789abcdef0123456789abcdef"), ClinicName: "Clinique"},
		db, svc, clock, zerolog.Nop())
	codes := &inbox{codes: map[string]string{}}
	pages.UsePortal(portalClients{1: {"Alice Martin", "alice@example.org"}, 2: {"Bruno Petit", "bruno@example.org"}}, codes)
	site := &http.Server{Handler: pages.Handler()}
	go func() { _ = site.Serve(l) }()
	t.Cleanup(func() { _ = site.Close() })

	mux := http.NewServeMux()
	reply := func(w http.ResponseWriter, v any, err error) {
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		_ = json.NewEncoder(w).Encode(v)
	}
	// GET /enrol-link?client=: the link the clinic's enrolment email holds.
	mux.HandleFunc("GET /enrol-link", func(w http.ResponseWriter, r *http.Request) {
		id, _ := strconv.ParseInt(r.URL.Query().Get("client"), 10, 64)
		link, err := pages.PortalEnrolLink(r.Context(), id)
		reply(w, map[string]string{"url": link}, err)
	})
	// GET /code?contact=: the last code sent there ("" if none).
	mux.HandleFunc("GET /code", func(w http.ResponseWriter, r *http.Request) {
		codes.mu.Lock()
		defer codes.mu.Unlock()
		reply(w, map[string]string{"code": codes.codes[r.URL.Query().Get("contact")]}, nil)
	})
	runNode(t, "portal-auth.mjs", publicURL, serveControl(t, mux), "portal-auth")

	// What the browser did is in the trail: sign-ins by enrolment, passkey, code and password.
	var by []string
	rows, err := db.Query(context.Background(), "SELECT action, detail FROM telehealth_audit ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var action, detail string
		_ = rows.Scan(&action, &detail)
		var d map[string]string
		_ = json.Unmarshal([]byte(detail), &d)
		if action == string(bridge.AuditSignIn) {
			by = append(by, d["by"])
		}
	}
	if got := strings.Join(by, " "); got != "enrolment passkey code enrolment password" {
		t.Errorf("sign-ins in the trail: %s", got)
	}
}
