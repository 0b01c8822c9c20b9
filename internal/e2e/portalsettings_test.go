package e2e

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/rs/zerolog"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"github.com/telehealth-bridge/telehealth-bridge/internal/dbtest"
	"github.com/telehealth-bridge/telehealth-bridge/web"
)

// TestPortalSettingsInTheBrowser: Alice changes her reminders and her language in the portal's
// Settings and downloads her data (her session, not Bruno's), in English then French.
func TestPortalSettingsInTheBrowser(t *testing.T) {
	if _, err := os.Stat("/usr/bin/chromium"); err != nil {
		t.Fatal("Chromium is missing: `make test` installs it (apt-get install chromium)")
	}
	ctx := context.Background()
	db := dbtest.Open(t, "sqlite")
	clock := clockwork.NewFakeClockAt(start)
	store := db.Store()
	svc := bridge.New(bridge.Options{Store: store, Clock: clock, Audit: db.Audit, Bot: "@bot:hs", Clients: store})
	alice := &bridge.Client{DisplayName: "Alice Martin", Emails: []string{"alice@example.org"}, Phones: []string{"+33612345678"},
		Locale: "en", TimeZone: "Europe/Paris", Professionals: []string{"@dr:hs"}, Reminders: bridge.RemindEmail, PortalEnabled: true, CreatedAt: start, UpdatedAt: start}
	bruno := &bridge.Client{DisplayName: "Bruno Petit", Emails: []string{"bruno@example.org"}, Locale: "fr", TimeZone: "Europe/Paris",
		Professionals: []string{"@other:hs"}, Reminders: bridge.RemindEmail, PortalEnabled: true, CreatedAt: start, UpdatedAt: start}
	for i, c := range []*bridge.Client{alice, bruno} {
		if err := store.InsertClient(ctx, c); err != nil {
			t.Fatal(err)
		}
		at := start.Add(time.Duration(48+i) * time.Hour)
		s := &bridge.Session{ID: "set" + strconv.Itoa(i) + "ab", Clinician: c.Professionals[0], Start: at, End: at.Add(50 * time.Minute),
			TimeZone: "Europe/Paris", Kind: bridge.KindVideo, Status: bridge.StatusScheduled, Policy: bridge.PolicyManual, CreatedAt: start, UpdatedAt: start}
		p := &bridge.Participant{Number: 1, Name: c.DisplayName, Email: c.Email(), Locale: c.Locale, TimeZone: c.TimeZone,
			Invite: bridge.InviteEmail, State: bridge.StateBooked, UpdatedAt: start, ClientID: c.ID}
		if err := store.InsertSession(ctx, s, []*bridge.Participant{p}); err != nil {
			t.Fatal(err)
		}
	}

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	publicURL := "http://localhost:" + strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	pages := web.New(web.Config{PublicURL: publicURL, SigningKey: []byte("0123456789abcdef0123456789abcdef"), ClinicName: "Clinique"},
		db, svc, clock, zerolog.Nop())
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
	// GET /alice: Alice's stored record.
	mux.HandleFunc("GET /alice", func(w http.ResponseWriter, r *http.Request) {
		c, err := db.Client.Get(r.Context(), alice.ID)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]string{"reminders": string(c.Reminders), "locale": c.Locale, "preferred_name": c.PreferredName, "email": c.Email()})
	})
	runNode(t, "portal-settings.mjs", publicURL, serveControl(t, mux), "portal-settings")

	// The trail has the changes (field names only) and the export, by Alice.
	var got []string
	rows, err := db.Query(ctx, "SELECT actor, action, detail FROM telehealth_audit WHERE action IN ('client_settings_changed', 'client_data_exported') ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var actor, action, detail string
		_ = rows.Scan(&actor, &action, &detail)
		var d map[string]string
		_ = json.Unmarshal([]byte(detail), &d)
		got = append(got, actor+" "+action+" "+d["fields"])
	}
	want := []string{
		bridge.ClientActor(alice.ID) + " client_settings_changed reminders",
		bridge.ClientActor(alice.ID) + " client_settings_changed email",
		bridge.ClientActor(alice.ID) + " client_data_exported ",
		bridge.ClientActor(alice.ID) + " client_settings_changed preferred_name,locale",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("the trail:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
