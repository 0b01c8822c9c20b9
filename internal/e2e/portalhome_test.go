package e2e

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/rs/zerolog"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"github.com/telehealth-bridge/telehealth-bridge/internal/dbtest"
	"github.com/telehealth-bridge/telehealth-bridge/web"
)

type professionalNames map[string]string

func (n professionalNames) ClinicianName(_ context.Context, id string) (string, error) {
	return n[id], nil
}

// TestPortalHomeInTheBrowser: Alice signs in to the portal with a code and sees My sessions
// (the next one on top with its Join button, a telephone session saying who will call, a past
// one) and My professionals, in English and French, on a computer and a phone. Her brother
// Bob's session, booked with their parent's address, is not there.
func TestPortalHomeInTheBrowser(t *testing.T) {
	if _, err := os.Stat("/usr/bin/chromium"); err != nil {
		t.Fatal("Chromium is missing: `make test` installs it (apt-get install chromium)")
	}
	ctx := context.Background()
	db := dbtest.Open(t, "sqlite")
	clock := clockwork.NewFakeClockAt(start)
	svc := bridge.New(bridge.Options{Store: db.Store(), Clock: clock, Audit: db.Audit, Bot: "@bot:hs", Clients: db.Store()})
	const dr = "@dr.roy:hs"
	for _, c := range []*bridge.Client{
		{DisplayName: "Alice Martin", Emails: []string{"alice@example.org"}, Locale: "en", TimeZone: "Europe/Paris", Professionals: []string{dr}},
		{DisplayName: "Bob Martin", Emails: []string{"bob@example.org", "parent@example.org"}, Locale: "en", TimeZone: "Europe/Paris", Professionals: []string{dr}},
	} {
		c.Reminders, c.CreatedAt, c.UpdatedAt = bridge.RemindEmail, start, start
		if err := db.Client.Insert(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	book := func(id string, client int64, at time.Time, kind bridge.Kind, status bridge.Status) {
		s := &bridge.Session{ID: id, Clinician: dr, Start: at, End: at.Add(50 * time.Minute), TimeZone: "Europe/Paris",
			Kind: kind, Status: status, Policy: bridge.PolicyManual, CreatedAt: start, UpdatedAt: start}
		if err := db.Session.Insert(ctx, s); err != nil {
			t.Fatal(err)
		}
		name := map[int64]string{1: "Alice Martin", 2: "Bob Martin"}[client]
		p := &bridge.Participant{SessionID: id, Number: 1, Name: name, Email: "parent@example.org", Locale: "en", TimeZone: "Europe/Paris",
			Invite: bridge.InviteEmail, State: bridge.StateBooked, UpdatedAt: start, ClientID: client}
		if err := db.Participant.Insert(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	book("soon", 1, start.Add(20*time.Minute), bridge.KindVideo, bridge.StatusScheduled)
	book("phone", 1, start.Add(7*24*time.Hour), bridge.KindPhone, bridge.StatusScheduled)
	book("held", 1, start.Add(-7*24*time.Hour), bridge.KindVideo, bridge.StatusEnded)
	book("bobs", 2, start.Add(2*time.Hour), bridge.KindVideo, bridge.StatusScheduled)

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	publicURL := "http://localhost:" + strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	pages := web.New(web.Config{PublicURL: publicURL, SigningKey: []byte("0123456789abcdef0123456789abcdef"),
		ClinicName: "Clinique du Parc", ClinicPhone: "+33 1 23 45 67 89"}, db, svc, clock, zerolog.Nop())
	codes := &inbox{codes: map[string]string{}}
	pages.UsePortal(db.Client, codes)
	pages.UseNames(professionalNames{dr: "Dr Roy"})
	site := &http.Server{Handler: pages.Handler()}
	go func() { _ = site.Serve(l) }()
	t.Cleanup(func() { _ = site.Close() })

	mux := http.NewServeMux()
	// GET /code?contact=: the last code sent there ("" if none).
	mux.HandleFunc("GET /code", func(w http.ResponseWriter, r *http.Request) {
		codes.mu.Lock()
		defer codes.mu.Unlock()
		_ = json.NewEncoder(w).Encode(map[string]string{"code": codes.codes[r.URL.Query().Get("contact")]})
	})
	runNode(t, "portal-home.mjs", publicURL, serveControl(t, mux), "portal-home")
}
