package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/rs/zerolog"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"github.com/telehealth-bridge/telehealth-bridge/database"
	"github.com/telehealth-bridge/telehealth-bridge/internal/dbtest"
	"github.com/telehealth-bridge/telehealth-bridge/web"
)

// settingsSite is a portal on real client records: Alice and Bob, each with sessions, and one
// group session they share.
type settingsSite struct {
	*portalSite
	alice, bob *bridge.Client
	planned    *plannedSessions
	confirm    *confirmingCodes
}

// plannedSessions records the sessions the bridge re-plans (the outbox's planning).
type plannedSessions struct {
	mu  sync.Mutex
	ids []string
}

func (p *plannedSessions) Plan(_ context.Context, s *bridge.Session) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.ids = append(p.ids, s.ID)
	return nil
}

func (p *plannedSessions) take() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	ids := p.ids
	p.ids = nil
	return ids
}

func newSettingsSite(t *testing.T, kind string) *settingsSite {
	t.Helper()
	ctx := context.Background()
	db := dbtest.Open(t, kind)
	clock := clockwork.NewFakeClockAt(time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC))
	store := db.Store()
	svc := bridge.New(bridge.Options{Store: store, Clock: clock, Audit: db.Audit, Bot: "@bot:hs", Clients: store, Forms: store})
	planned := &plannedSessions{}
	svc.Use(nil, nil, planned, nil)
	svc.UseDocuments(store)
	now := clock.Now()
	alice := &bridge.Client{DisplayName: "Alice Martin", Emails: []string{aliceEmail}, Phones: []string{alicePhone}, Locale: "en",
		TimeZone: "Europe/Paris", Professionals: []string{"@dr:hs"}, Reminders: bridge.RemindEmail, PortalEnabled: true, CreatedAt: now, UpdatedAt: now}
	bob := &bridge.Client{DisplayName: "Bob Secret", Emails: []string{bobEmail}, Locale: "fr", TimeZone: "Europe/Paris",
		Professionals: []string{"@other:hs"}, Reminders: bridge.RemindEmail, PortalEnabled: true, CreatedAt: now, UpdatedAt: now}
	for _, c := range []*bridge.Client{alice, bob} {
		if err := store.InsertClient(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	book := func(id, clinician string, start time.Time, who ...*bridge.Client) {
		s := &bridge.Session{ID: id, Clinician: clinician, Start: start, End: start.Add(50 * time.Minute), TimeZone: "Europe/Paris",
			Kind: bridge.KindVideo, Status: bridge.StatusScheduled, Policy: bridge.PolicyManual, CreatedAt: now, UpdatedAt: now}
		var ps []*bridge.Participant
		for i, c := range who {
			ps = append(ps, &bridge.Participant{Number: i + 1, Name: c.DisplayName, Email: c.Email(), Locale: c.Locale, TimeZone: c.TimeZone,
				Invite: bridge.InviteEmail, State: bridge.StateBooked, UpdatedAt: now, ClientID: c.ID})
		}
		if err := store.InsertSession(ctx, s, ps); err != nil {
			t.Fatal(err)
		}
	}
	book("ali234", "@dr:hs", now.Add(48*time.Hour), alice)
	book("bob234", "@other:hs", now.Add(72*time.Hour), bob)
	book("grp234", "@dr:hs", now.Add(-48*time.Hour), alice, bob)

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://localhost:" + fmt.Sprint(l.Addr().(*net.TCPAddr).Port)
	// Alice's and Bob's professionals may use the panel (web/portalsecurity_test.go signs one in).
	isClinician := func(u string) bool { return u == "@dr:hs" || u == "@other:hs" }
	srv := web.New(web.Config{PublicURL: url, SigningKey: []byte("0123456789abcdef0123456789abcdef"), ClinicName: "Clinique", IsClinician: isClinician},
		db, svc, clock, zerolog.Nop())
	codes := &sentCodes{last: map[string]string{}, sent: make(chan struct{}, 1)}
	confirm := &confirmingCodes{sentCodes: codes}
	srv.UsePortal(&testClients{
		byContact: map[string]int64{aliceEmail: alice.ID, alicePhone: alice.ID, bobEmail: bob.ID},
		names:     map[int64]string{alice.ID: alice.Name(), bob.ID: bob.Name()},
	}, confirm)
	hs := &httptest.Server{Listener: l, Config: &http.Server{Handler: srv.Handler()}}
	hs.Start()
	t.Cleanup(hs.Close)
	return &settingsSite{portalSite: &portalSite{t: t, url: url, clock: clock, db: db, web: srv, svc: svc, codes: codes}, alice: alice, bob: bob, planned: planned, confirm: confirm}
}

// confirmingCodes sends Settings codes with their own words, counted apart.
type confirmingCodes struct {
	*sentCodes
	confirmations atomic.Int32
}

func (c *confirmingCodes) SendConfirmationCode(ctx context.Context, to bridge.PortalContact, code, lang string) error {
	c.confirmations.Add(1)
	return c.SendPortalCode(ctx, to, code, lang)
}

func (b *browser) settings() web.PortalSettings {
	b.s.t.Helper()
	code, data, _ := b.do("GET", "/api/portal/settings", nil, nil)
	var st web.PortalSettings
	if code != 200 || json.Unmarshal(data, &st) != nil {
		b.s.t.Fatalf("settings: %d %s", code, data)
	}
	return st
}

func (s *settingsSite) record(id int64) *bridge.Client {
	s.t.Helper()
	c, err := s.db.Store().GetClient(context.Background(), id)
	if err != nil {
		s.t.Fatal(err)
	}
	return c
}

// Every Settings door: signed out it answers 401; with Bob's cookie it acts on Bob only,
// whatever of Alice's the request names.
func TestPortalSettingsSecurity(t *testing.T) {
	s := newSettingsSite(t, "sqlite")
	ctx := context.Background()
	// Alice has a passkey and a password.
	if err := s.db.PortalCredential.Insert(ctx, &database.PortalCredential{CredentialID: "alice-key", ClientID: s.alice.ID,
		PublicKey: "pk", CreatedAt: s.clock.Now()}); err != nil {
		t.Fatal(err)
	}
	hash, _ := bridge.HashPassword("alice's own long password")
	if err := s.db.PortalPassword.Set(ctx, s.alice.ID, hash, s.clock.Now()); err != nil {
		t.Fatal(err)
	}

	doors := []struct{ method, path string }{
		{"GET", "/api/portal/settings"}, {"POST", "/api/portal/settings"},
		{"POST", "/api/portal/settings/contact/code"}, {"POST", "/api/portal/settings/contact/verify"},
		{"POST", "/api/portal/settings/passkeys/remove"}, {"POST", "/api/portal/settings/password/code"},
		{"POST", "/api/portal/settings/password"}, {"GET", "/api/portal/settings/export"},
	}
	out := s.browser()
	for _, d := range doors {
		if code, body, _ := out.do(d.method, d.path, map[string]string{}, nil); code != 401 {
			t.Errorf("signed out %s %s: %d %s", d.method, d.path, code, body)
		}
	}

	alice, bob := s.browser(), s.browser()
	alice.signInWithCode(aliceEmail)
	bob.signInWithCode(bobEmail)

	// A client_id (or any unknown field) in a body is refused, not obeyed.
	for _, d := range doors {
		if d.method != "POST" {
			continue
		}
		if code, body, _ := bob.do("POST", d.path, map[string]any{"client_id": s.alice.ID}, nil); code != 400 {
			t.Errorf("bob %s with alice's client_id: %d %s", d.path, code, body)
		}
	}
	// Reading and changing: Bob sees and changes Bob.
	if st := bob.settings(); st.DisplayName != "Bob Secret" || st.Email != bobEmail || len(st.Passkeys) != 0 || st.HasPassword {
		t.Errorf("bob's settings: %+v", st)
	}
	if code, _, _ := bob.do("GET", fmt.Sprintf("/api/portal/settings?client_id=%d", s.alice.ID), nil, nil); code != 200 || bob.settings().DisplayName != "Bob Secret" {
		t.Error("a query chose the client")
	}
	if code, body := bob.post("/api/portal/settings", map[string]string{"preferred_name": "Bobby"}); code != 200 {
		t.Fatalf("bob's change: %d %s", code, body)
	}
	if s.record(s.alice.ID).PreferredName != "" || s.record(s.bob.ID).PreferredName != "Bobby" {
		t.Error("bob's change reached the wrong record")
	}
	// Bob cannot remove Alice's passkey (it is no passkey of his), nor change her password.
	if code, body := bob.post("/api/portal/settings/passkeys/remove", map[string]string{"id": "alice-key"}); code != 404 {
		t.Errorf("bob removing alice's passkey: %d %s", code, body)
	}
	if st := alice.settings(); len(st.Passkeys) != 1 || st.Passkeys[0].ID != "alice-key" {
		t.Errorf("alice's passkeys after bob's try: %+v", st.Passkeys)
	}
	if code, body := bob.post("/api/portal/settings/password", map[string]string{"current": "alice's own long password", "password": "bob takes over now"}); code != 401 {
		t.Errorf("bob with alice's current password: %d %s", code, body)
	}
	if h, _ := s.db.PortalPassword.Get(ctx, s.alice.ID); h != hash {
		t.Error("alice's password changed")
	}

	// Alice asks to move to a new address; Bob, typing her code for it, gets nothing.
	const newEmail = "alice.new@example.org"
	if code, body := alice.post("/api/portal/settings/contact/code", map[string]string{"contact": newEmail}); code != 200 {
		t.Fatalf("contact code: %d %s", code, body)
	}
	code := s.codes.code(t, newEmail)
	if n := s.confirm.confirmations.Load(); n != 1 {
		t.Errorf("%d confirmation codes sent, want 1 (not a sign-in code's words)", n)
	}
	if c, body := bob.post("/api/portal/settings/contact/verify", map[string]string{"contact": newEmail, "code": code}); c != 401 || errCode(body) != "code_expired" {
		t.Errorf("bob with alice's contact code: %d %s", c, body)
	}
	if r := s.record(s.bob.ID); r.Email() != bobEmail {
		t.Errorf("bob's email became %s", r.Email())
	}
	// A wrong code for the new contact changes nothing; the right one does, once.
	if c, body := alice.post("/api/portal/settings/contact/verify", map[string]string{"contact": newEmail, "code": wrongCode(code)}); c != 401 || errCode(body) != "code_wrong" {
		t.Errorf("wrong contact code: %d %s", c, body)
	}
	if s.record(s.alice.ID).Email() != aliceEmail {
		t.Error("a wrong code changed the email")
	}
	// The code went to the new address only: used for another address, it is no code.
	if c, body := alice.post("/api/portal/settings/contact/verify", map[string]string{"contact": "mallory@example.org", "code": code}); c != 401 || errCode(body) != "code_expired" {
		t.Errorf("the code for another address: %d %s", c, body)
	}
	if c, body := alice.post("/api/portal/settings/contact/verify", map[string]string{"contact": newEmail, "code": code}); c != 200 {
		t.Fatalf("right contact code: %d %s", c, body)
	}
	if r := s.record(s.alice.ID); r.Email() != newEmail || len(r.Emails) != 1 || r.Phone() != alicePhone {
		t.Errorf("alice's contacts after the change: %v %v", r.Emails, r.Phones)
	}
	if c, _ := alice.post("/api/portal/settings/contact/verify", map[string]string{"contact": newEmail, "code": code}); c != 401 {
		t.Error("a contact code worked twice")
	}
	// Her upcoming session's booking now writes to the new address and was re-planned; the
	// past group session keeps what it was booked with, and Bob's row in it is untouched.
	for id, want := range map[string]string{"ali234": newEmail, "grp234": aliceEmail} {
		ps, _ := s.db.Store().Participants(ctx, id)
		for _, p := range ps {
			if p.ClientID == s.alice.ID && p.Email != want || p.ClientID == s.bob.ID && p.Email != bobEmail {
				t.Errorf("session %s participant %q: email %s", id, p.Name, p.Email)
			}
		}
	}
	if got := s.planned.take(); !slices.Equal(got, []string{"ali234"}) {
		t.Errorf("re-planned after the email changed: %q", got)
	}

	// Brute force: 5 wrong guesses spend a code; 10 wrong per contact in 15 minutes, then 429.
	const phone2 = "+33698765432"
	for round := 0; round < 2; round++ {
		if c, body := bob.post("/api/portal/settings/contact/code", map[string]string{"contact": phone2}); c != 200 {
			t.Fatalf("round %d code: %d %s", round, c, body)
		}
		right := s.codes.code(t, phone2)
		for i := 0; i < 5; i++ {
			c, body := bob.post("/api/portal/settings/contact/verify", map[string]string{"contact": phone2, "code": wrongCode(right)})
			want := "code_wrong"
			if i == 4 {
				want = "code_spent"
			}
			if c != 401 || errCode(body) != want {
				t.Fatalf("round %d guess %d: %d %s", round, i, c, body)
			}
		}
		if c, _ := bob.post("/api/portal/settings/contact/verify", map[string]string{"contact": phone2, "code": right}); c == 200 {
			t.Fatal("a spent code worked")
		}
	}
	bob.post("/api/portal/settings/contact/code", map[string]string{"contact": phone2})
	right := s.codes.code(t, phone2)
	if c, body := bob.post("/api/portal/settings/contact/verify", map[string]string{"contact": phone2, "code": right}); c != 429 {
		t.Errorf("after 10 wrong codes: %d %s", c, body)
	}
	if c, body := bob.post("/api/portal/settings/contact/code", map[string]string{"contact": phone2}); c != 429 {
		t.Errorf("a fourth code in 15 minutes: %d %s", c, body)
	}
	if len(s.record(s.bob.ID).Phones) != 0 {
		t.Error("brute force changed bob's phone")
	}

	// Bob's export holds Bob and his sessions only: not Alice, not her sessions, no tokens.
	c, data, resp := bob.do("GET", "/api/portal/settings/export", nil, nil)
	if c != 200 || !strings.Contains(resp.Header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("export: %d %s", c, data)
	}
	for _, leak := range []string{"Alice", "alice", "ali234", "grp234", "bob234", "\"pk\"", "alice-key"} { // @dr:hs is his too (the group session)
		if strings.Contains(string(data), leak) {
			t.Errorf("bob's export holds %q: %s", leak, data)
		}
	}
}

// wrongCode is a 6-digit code that is not right.
func wrongCode(right string) string {
	if right == "000000" {
		return "000001"
	}
	return "000000"
}

func TestPortalSettingsChangesAndExport(t *testing.T) {
	for _, kind := range dbtest.Kinds {
		t.Run(kind, func(t *testing.T) { testPortalSettingsChangesAndExport(t, kind) })
	}
}

func testPortalSettingsChangesAndExport(t *testing.T, kind string) {
	s := newSettingsSite(t, kind)
	alice := s.browser()
	alice.signInWithCode(aliceEmail)
	for _, bad := range []map[string]string{
		{"language": "de"}, {"time_zone": "Mars/Olympus"}, {"reminders": "pigeon"}, {"preferred_name": "A"},
		{"time_zone": ""},
	} {
		if code, body := alice.post("/api/portal/settings", bad); code != 400 || errCode(body) != "invalid" {
			t.Errorf("%v: %d %s", bad, code, body)
		}
	}
	if got := s.planned.take(); len(got) != 0 {
		t.Errorf("refused changes re-planned %q", got)
	}
	code, data, _ := alice.do("POST", "/api/portal/settings", map[string]string{"preferred_name": "Ali", "language": "fr",
		"time_zone": "America/Montreal", "reminders": "sms"}, nil)
	var st web.PortalSettings
	if code != 200 || json.Unmarshal(data, &st) != nil || st.PreferredName != "Ali" || st.Language != "fr" || st.TimeZone != "America/Montreal" || st.Reminders != "sms" {
		t.Fatalf("change: %d %s", code, data)
	}
	if r := s.record(s.alice.ID); r.Locale != "fr" || r.Reminders != bridge.RemindSMS || r.DisplayName != "Alice Martin" {
		t.Errorf("stored: %+v", r)
	}
	// The new preference reaches the outbox: Alice's sessions still to come are re-planned
	// (not the past one, not Bob's).
	if got := s.planned.take(); !slices.Equal(got, []string{"ali234"}) {
		t.Errorf("re-planned after the reminders changed: %q", got)
	}
	alice.post("/api/portal/settings", map[string]string{"preferred_name": "Alicia"})
	if got := s.planned.take(); len(got) != 0 {
		t.Errorf("a name change re-planned %q", got)
	}
	// Text reminders without a phone are refused: Bob has none.
	bob := s.browser()
	bob.signInWithCode(bobEmail)
	if code, body := bob.post("/api/portal/settings", map[string]string{"reminders": "sms"}); code != 400 {
		t.Errorf("sms reminders without a phone: %d %s", code, body)
	}

	code, data, _ = alice.do("GET", "/api/portal/settings/export", nil, nil)
	var export bridge.DataExport
	if code != 200 || json.Unmarshal(data, &export) != nil {
		t.Fatalf("export: %d %s", code, data)
	}
	if export.Record.DisplayName != "Alice Martin" || export.Record.PreferredName != "Alicia" || export.Record.Reminders != "sms" ||
		len(export.Sessions) != 2 || export.Sessions[0].Professional != "@dr:hs" {
		t.Errorf("export: %s", data)
	}
	for _, leak := range []string{"Bob", "bob", "@other:hs", "ali234", "grp234", "telehealth_portal"} {
		if strings.Contains(string(data), leak) {
			t.Errorf("alice's export holds %q: %s", leak, data)
		}
	}
	var actions []string
	for _, l := range s.audit() {
		if l.actor == bridge.ClientActor(s.alice.ID) && (l.action == "client_settings_changed" || l.action == "client_data_exported") {
			actions = append(actions, l.action+" "+l.detail)
		}
		if strings.Contains(l.detail, "Ali\"") || strings.Contains(l.detail, "America/Montreal") {
			t.Errorf("the audit trail holds a value: %+v", l)
		}
	}
	if len(actions) != 3 || !strings.Contains(actions[0], "preferred_name,locale,time_zone,reminders") {
		t.Errorf("audit: %q", actions)
	}
}

// Changing the password needs the current one, or a code just sent to the client's own
// address: a sign-in left open is not enough.
func TestPortalSettingsPasswordChange(t *testing.T) {
	for _, kind := range dbtest.Kinds {
		t.Run(kind, func(t *testing.T) { testPortalSettingsPasswordChange(t, kind) })
	}
}

func testPortalSettingsPasswordChange(t *testing.T, kind string) {
	s := newSettingsSite(t, kind)
	alice, aliceElsewhere, bob := s.browser(), s.browser(), s.browser()
	alice.signInWithCode(aliceEmail)
	aliceElsewhere.signInWithCode(alicePhone)
	bob.signInWithCode(bobEmail)
	// No password yet, no code: refused.
	if code, body := alice.post("/api/portal/settings/password", map[string]string{"password": "a brand new long password"}); code != 401 {
		t.Errorf("without proof: %d %s", code, body)
	}
	// With a code sent to her own address.
	if code, body := alice.post("/api/portal/settings/password/code", map[string]string{"lang": "fr"}); code != 200 {
		t.Fatalf("password code: %d %s", code, body)
	}
	c := s.codes.code(t, aliceEmail)
	if code, body := alice.post("/api/portal/settings/password", map[string]string{"code": wrongCode(c), "password": "a brand new long password"}); code != 401 || errCode(body) != "code_wrong" {
		t.Errorf("wrong code: %d %s", code, body)
	}
	if code, body := alice.post("/api/portal/settings/password", map[string]string{"code": c, "password": "password1234"}); code != 400 || errCode(body) != "weak_password" {
		t.Errorf("a common password: %d %s", code, body)
	}
	if code, body := alice.post("/api/portal/settings/password", map[string]string{"code": c, "password": "a brand new long password"}); code != 200 {
		t.Fatalf("with the code: %d %s", code, body)
	}
	if !alice.settings().HasPassword {
		t.Error("no password after the change")
	}
	// Her other device is signed out; this one and Bob's are not.
	if code, _ := aliceElsewhere.me(); code != 401 {
		t.Errorf("alice's other sign-in after the password change: %d", code)
	}
	if code, _ := bob.me(); code != 200 {
		t.Errorf("bob's sign-in after alice's password change: %d", code)
	}
	// With the current one; a wrong current one is refused.
	if code, body := alice.post("/api/portal/settings/password", map[string]string{"current": "not the password at all", "password": "another long password here"}); code != 401 || errCode(body) != "password_wrong" {
		t.Errorf("wrong current password: %d %s", code, body)
	}
	if code, body := alice.post("/api/portal/settings/password", map[string]string{"current": "a brand new long password", "password": "another long password here"}); code != 200 {
		t.Fatalf("with the current password: %d %s", code, body)
	}
	hash, _ := s.db.PortalPassword.Get(context.Background(), s.alice.ID)
	if !bridge.VerifyPassword("another long password here", hash) {
		t.Error("the new password was not stored")
	}
}
