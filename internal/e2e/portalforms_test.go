package e2e

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"strconv"
	"testing"

	"github.com/jonboulle/clockwork"
	"github.com/rs/zerolog"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"github.com/telehealth-bridge/telehealth-bridge/internal/dbtest"
	"github.com/telehealth-bridge/telehealth-bridge/web"
)

// TestPortalFormsInTheBrowser: the clinician assigns the PHQ-9 to Amélie (a French client)
// from the panel's Forms page; Amélie answers it in her portal's To-do tab on a phone, leaves
// one required question empty and is told so next to it, in French; she sends it and sees her
// answers read-only; the panel shows the score, its band and every answer. Forms need no
// Matrix: the pages run on the web server alone.
func TestPortalFormsInTheBrowser(t *testing.T) {
	if _, err := os.Stat("/usr/bin/chromium"); err != nil {
		t.Fatal("Chromium is missing: `make test` installs it (apt-get install chromium)")
	}
	ctx := context.Background()
	db := dbtest.Open(t, "sqlite")
	clock := clockwork.NewFakeClockAt(start)
	const dr = "@dr.roy:hs"
	svc := bridge.New(bridge.Options{Store: db.Store(), Clock: clock, Audit: db.Audit, Bot: "@bot:hs", Clients: db.Store(), Forms: db.Store()})
	amelie := &bridge.Client{DisplayName: "Amélie Durand", Emails: []string{"amelie@example.org"}, Locale: "fr", TimeZone: "Europe/Paris",
		Professionals: []string{dr}, Reminders: bridge.RemindEmail, PortalEnabled: true, CreatedAt: start, UpdatedAt: start}
	if err := db.Client.Insert(ctx, amelie); err != nil {
		t.Fatal(err)
	}

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	publicURL := "http://localhost:" + strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	pages := web.New(web.Config{PublicURL: publicURL, SigningKey: []byte("0123456789abcdef0123456789abcdef"), ClinicName: "Clinique du Parc",
		IsClinician: func(u string) bool { return u == dr }}, db, svc, clock, zerolog.Nop())
	codes := &inbox{codes: map[string]string{}}
	pages.UsePortal(db.Client, codes)
	site := &http.Server{Handler: pages.Handler()}
	go func() { _ = site.Serve(l) }()
	t.Cleanup(func() { _ = site.Close() })

	mux := http.NewServeMux()
	mux.HandleFunc("GET /code", func(w http.ResponseWriter, r *http.Request) {
		codes.mu.Lock()
		defer codes.mu.Unlock()
		_ = json.NewEncoder(w).Encode(map[string]string{"code": codes.codes[r.URL.Query().Get("contact")]})
	})
	// GET /login: a one-time link that signs Dr Roy in to the panel.
	mux.HandleFunc("GET /login", func(w http.ResponseWriter, r *http.Request) {
		link, err := pages.LoginLink(r.Context(), dr)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]string{"link": link})
	})
	runNode(t, "portal-forms.mjs", publicURL, serveControl(t, mux), "portal-forms")

	// What the browser did is what the bridge holds: one submitted PHQ-9, scored, its answers
	// read once per opening in the panel, each in the audit trail.
	list, err := svc.TodoForms(ctx, amelie.ID)
	if err != nil || len(list) != 1 || list[0].Assignment.Status != bridge.AssignmentDone || list[0].Score == nil || list[0].Score.Score != 11 {
		t.Fatalf("after the scenario: %+v %v", list, err)
	}
	var viewed int
	if err := db.QueryRow(ctx, "SELECT COUNT(*) FROM telehealth_audit WHERE action=$1 AND actor=$2", string(bridge.AuditFormResponseViewed), dr).Scan(&viewed); err != nil || viewed != 1 {
		t.Errorf("views of the answers audited: %d %v", viewed, err)
	}
}
