package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/rs/zerolog"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"github.com/telehealth-bridge/telehealth-bridge/internal/dbtest"
	"github.com/telehealth-bridge/telehealth-bridge/web"
)

const (
	drOne   = "@dr-one:hs"
	drTwo   = "@dr-two:hs"
	notADr  = "@visitor:hs"
	newMail = "new.person@example.org"
)

// signUpSite is a portal on the real client records, with the public sign-up open or not and a
// panel for two clinicians.
type signUpSite struct {
	*portalSite
	svc   *bridge.Service
	anna  *bridge.Client // a client of drOne, with aliceEmail
	other *bridge.Client // a client of drTwo, with bobEmail
}

func newSignUpSite(t *testing.T, kind string, open bool) *signUpSite {
	t.Helper()
	db := dbtest.Open(t, kind)
	clock := clockwork.NewFakeClockAt(time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC))
	isClinician := func(u string) bool { return u == drOne || u == drTwo }
	svc := bridge.New(bridge.Options{Store: db.Store(), Clock: clock, Audit: db.Audit, Bot: "@bot:hs", Clients: db.Store()})
	svc.UseClinicians(isClinician)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://localhost:" + fmt.Sprint(l.Addr().(*net.TCPAddr).Port)
	srv := web.New(web.Config{PublicURL: url, SigningKey: []byte("0123456789abcdef0123456789abcdef"), ClinicName: "Clinique",
		IsClinician: isClinician, PortalSignUp: open}, db, svc, clock, zerolog.Nop())
	codes := &sentCodes{last: map[string]string{}, sent: make(chan struct{}, 1)}
	srv.UsePortal(db.Client, codes)
	hs := &httptest.Server{Listener: l, Config: &http.Server{Handler: srv.Handler()}}
	hs.Start()
	t.Cleanup(hs.Close)
	s := &signUpSite{portalSite: &portalSite{t: t, url: url, clock: clock, db: db, web: srv, codes: codes}, svc: svc}
	ctx := context.Background()
	if s.anna, err = svc.CreateClient(ctx, drOne, bridge.ClientRequest{DisplayName: "Anna Martin", Emails: []string{aliceEmail}}); err != nil {
		t.Fatal(err)
	}
	if s.other, err = svc.CreateClient(ctx, drTwo, bridge.ClientRequest{DisplayName: "Ben Ode", Emails: []string{bobEmail}}); err != nil {
		t.Fatal(err)
	}
	return s
}

// panel is a browser signed in to the panel as the user (who may not be a clinician).
func (s *signUpSite) panel(user string) *browser {
	s.t.Helper()
	link, err := s.web.LoginLink(context.Background(), user)
	if err != nil {
		s.t.Fatal(err)
	}
	b := s.browser()
	req, _ := http.NewRequest("POST", link, nil)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := b.http.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	resp.Body.Close()
	return b
}

func signUpForm(name, contact string) map[string]string {
	return map[string]string{"name": name, "contact": contact, "lang": "fr", "time_zone": "Europe/Paris"}
}

// signUp goes through both steps and returns the verify answer.
func (b *browser) signUp(name, contact string) (int, string) {
	b.s.t.Helper()
	if code, body := b.post("/api/portal/signup/code", signUpForm(name, contact)); code != 200 {
		b.s.t.Fatalf("sign-up code: %d %s", code, body)
	}
	form := signUpForm(name, contact)
	form["code"] = b.s.codes.code(b.s.t, contact)
	return b.post("/api/portal/signup/verify", form)
}

func (s *signUpSite) waiting(b *browser) []web.ProspectView {
	s.t.Helper()
	code, data, _ := b.do("GET", "/api/panel/prospects", nil, nil)
	if code != 200 {
		s.t.Fatalf("prospects: %d %s", code, data)
	}
	var out struct {
		Prospects []web.ProspectView `json:"prospects"`
	}
	_ = json.Unmarshal(data, &out)
	return out.Prospects
}

func TestPortalSignUp(t *testing.T) {
	for _, kind := range dbtest.Kinds {
		t.Run(kind, func(t *testing.T) { testPortalSignUp(t, kind) })
	}
}

// testPortalSignUp: someone new signs up, is a prospect who sees only "your clinic will
// confirm", a clinician links them, and their next visit is the record's home; a known
// client's address signs in to their record without a second one.
func testPortalSignUp(t *testing.T, kind string) {
	s := newSignUpSite(t, kind, true)
	if code, body := s.browser().post("/api/portal/signup/code", nil); code != 400 {
		t.Errorf("empty sign-up: %d %s", code, body)
	}
	if code, _, _ := s.browser().do("GET", "/api/portal/signup", nil, nil); code != 200 {
		t.Errorf("open sign-up: %d", code)
	}
	for _, bad := range []map[string]string{
		signUpForm("A", newMail), signUpForm("New Person", "not-an-address"),
		{"name": "New Person", "contact": newMail, "time_zone": "Mars/Olympus"},
	} {
		if code, body := s.browser().post("/api/portal/signup/code", bad); code != 400 {
			t.Errorf("bad sign-up %v: %d %s", bad, code, body)
		}
	}

	p := s.browser()
	// A wrong code does not sign up.
	if code, body := p.post("/api/portal/signup/code", signUpForm("New Person", newMail)); code != 200 {
		t.Fatalf("code: %d %s", code, body)
	}
	right := s.codes.code(t, newMail)
	form := signUpForm("New Person", newMail)
	form["code"] = wrongCode(right)
	if code, body := p.post("/api/portal/signup/verify", form); code != 401 || errCode(body) != "code_wrong" {
		t.Errorf("wrong code: %d %s", code, body)
	}
	form["code"] = right
	if code, body := p.post("/api/portal/signup/verify", form); code != 200 || !strings.Contains(body, `"prospect":true`) {
		t.Fatalf("verify: %d %s", code, body)
	}
	// The code works once.
	if code, _ := s.browser().post("/api/portal/signup/verify", form); code != 401 {
		t.Errorf("a code used twice: %d", code)
	}
	code, data, _ := p.do("GET", "/api/portal/auth/me", nil, nil)
	if code != 403 || errCode(string(data)) != "prospect_waiting" || !strings.Contains(string(data), "Your clinic will confirm your account") {
		t.Fatalf("a prospect's portal: %d %s", code, data)
	}
	// A prospect has no documents: the documents' doors refuse them as the portal does.
	for _, path := range []string{"/api/portal/documents", "/api/portal/documents/1/file"} {
		if code, data, _ := p.do("GET", path, nil, nil); code != 403 || errCode(string(data)) != "prospect_waiting" {
			t.Errorf("a prospect at %s: %d %s", path, code, data)
		}
	}

	dr := s.panel(drTwo)
	list := s.waiting(dr)
	if len(list) != 1 || list[0].Name != "New Person" || list[0].Email != newMail || list[0].Locale != "fr" || list[0].TimeZone != "Europe/Paris" {
		t.Fatalf("prospects: %+v", list)
	}
	// Signing up again (another device) is the same prospect.
	if code, body := s.browser().signUp("New Person", newMail); code != 200 {
		t.Fatalf("second sign-up: %d %s", code, body)
	}
	if list = s.waiting(dr); len(list) != 1 {
		t.Errorf("a second sign-up made a second prospect: %+v", list)
	}

	// drTwo may not link to drOne's client: 404, as for no client.
	path := fmt.Sprintf("/api/panel/prospects/%d/", list[0].ID)
	if code, body := dr.post(path+"link", map[string]int64{"client_id": s.anna.ID}); code != 404 {
		t.Errorf("linked to another clinician's client: %d %s", code, body)
	}
	if code, body := dr.post(path+"link", map[string]int64{"client_id": s.other.ID}); code != 200 {
		t.Fatalf("link: %d %s", code, body)
	}
	if code, body := dr.post(path+"dismiss", nil); code != 404 {
		t.Errorf("dismissed after the link: %d %s", code, body)
	}
	// The next visit is Ben's record's.
	var me web.PortalMe
	code, data, _ = p.do("GET", "/api/portal/auth/me", nil, nil)
	if _ = json.Unmarshal(data, &me); code != 200 || me.ClientID != s.other.ID || me.Name != "Ben Ode" {
		t.Fatalf("after the link: %d %s", code, data)
	}
	if code, _ := p.home(); code != 200 {
		t.Errorf("home after the link: %d", code)
	}
	// The verified address is on the record now: signing in with it reaches Ben.
	b := s.browser()
	b.signInWithCode(newMail)
	if code, me := b.me(); code != 200 || me.ClientID != s.other.ID {
		t.Errorf("sign-in with the verified address: %d %+v", code, me)
	}

	// A known client's address goes into their own sign-in: no prospect.
	a := s.browser()
	if code, body := a.signUp("Whoever", aliceEmail); code != 200 || !strings.Contains(body, `"prospect":false`) {
		t.Fatalf("a client signing up: %d %s", code, body)
	}
	if code, me := a.me(); code != 200 || me.ClientID != s.anna.ID {
		t.Errorf("a client signing up is signed in as: %d %+v", code, me)
	}
	if list = s.waiting(dr); len(list) != 0 {
		t.Errorf("a client's sign-up made a prospect: %+v", list)
	}

	// Create a record from a prospect; dismiss another, whose sign-in then ends.
	c := s.browser()
	c.signUp("Chloé Durand", "+33698765432")
	d := s.browser()
	d.signUp("Spam Bot", "spam@example.org")
	list = s.waiting(dr)
	if len(list) != 2 || list[0].Phone != "+33698765432" {
		t.Fatalf("prospects: %+v", list)
	}
	if code, body := dr.post(fmt.Sprintf("/api/panel/prospects/%d/client", list[0].ID), nil); code != 200 || !strings.Contains(body, `"display_name":"Chloé Durand"`) {
		t.Fatalf("create a record: %d %s", code, body)
	}
	if code, body := dr.post(fmt.Sprintf("/api/panel/prospects/%d/dismiss", list[1].ID), nil); code != 200 {
		t.Fatalf("dismiss: %d %s", code, body)
	}
	if code, me := c.me(); code != 200 || me.Name != "Chloé Durand" {
		t.Errorf("the new record's client: %d %+v", code, me)
	}
	if code, _ := d.me(); code != 401 {
		t.Errorf("a dismissed prospect is still signed in: %d", code)
	}
	if list = s.waiting(dr); len(list) != 0 {
		t.Errorf("left waiting: %+v", list)
	}

	actions := map[string]int{}
	for _, l := range s.audit() {
		actions[l.action]++
	}
	if actions["prospect_signed_up"] != 3 || actions["prospect_linked"] != 2 || actions["prospect_dismissed"] != 1 {
		t.Errorf("audit: %v", actions)
	}
}

// TestPortalSignUpEnumeration: the request for a code answers the same, status and body, for a
// client's address, a waiting prospect's and an unknown one.
func TestPortalSignUpEnumeration(t *testing.T) {
	s := newSignUpSite(t, "sqlite", true)
	s.browser().signUp("Waiting Person", "waiting@example.org")
	var first string
	for i, contact := range []string{aliceEmail, "waiting@example.org", "unknown@example.org"} {
		code, body := s.browser().post("/api/portal/signup/code", signUpForm("Some One", contact))
		if code != 200 {
			t.Fatalf("%s: %d %s", contact, code, body)
		}
		if i == 0 {
			first = body
		} else if body != first {
			t.Errorf("%s answered %s, a client's address %s", contact, body, first)
		}
		s.codes.code(t, contact) // each gets a code: the address is proved the same way
	}
}

// TestPortalSignUpClosed: off, the page's API answers 404 and no code is sent.
func TestPortalSignUpClosed(t *testing.T) {
	s := newSignUpSite(t, "sqlite", false)
	b := s.browser()
	if code, data, _ := b.do("GET", "/api/portal/signup", nil, nil); code != 404 || errCode(string(data)) != "signup_closed" {
		t.Errorf("closed: %d %s", code, data)
	}
	for _, path := range []string{"/api/portal/signup/code", "/api/portal/signup/verify"} {
		form := signUpForm("New Person", newMail)
		form["code"] = "123456"
		if code, body := b.post(path, form); code != 404 {
			t.Errorf("%s closed: %d %s", path, code, body)
		}
	}
	s.codes.mu.Lock()
	defer s.codes.mu.Unlock()
	if s.codes.n != 0 {
		t.Errorf("%d codes sent while sign-up is closed", s.codes.n)
	}
}

// TestPortalSignUpLimits: code requests for one contact share the sign-in's limit (3 in 15
// minutes), and guesses its limit per contact.
func TestPortalSignUpLimits(t *testing.T) {
	s := newSignUpSite(t, "sqlite", true)
	s.clock.Advance(16 * time.Minute) // past the 3 codes per contact in 15 minutes
	b := s.browser()
	if code, _ := b.post("/api/portal/auth/code", map[string]string{"contact": newMail}); code != 200 {
		t.Fatal(code)
	}
	for i := 0; i < 2; i++ {
		if code, body := b.post("/api/portal/signup/code", signUpForm("New Person", newMail)); code != 200 {
			t.Fatalf("request %d: %d %s", i+2, code, body)
		}
	}
	if code, body := b.post("/api/portal/signup/code", signUpForm("New Person", newMail)); code != 429 {
		t.Errorf("4th request for one contact: %d %s", code, body)
	}
	s.codes.code(t, newMail)
	// Guesses: after 5 wrong ones the code is spent; the right one then fails too.
	right := ""
	s.clock.Advance(16 * time.Minute)
	if code, _ := b.post("/api/portal/signup/code", signUpForm("New Person", newMail)); code != 200 {
		t.Fatal(code)
	}
	right = s.codes.code(t, newMail)
	form := signUpForm("New Person", newMail)
	for i := 0; i < 5; i++ {
		form["code"] = fmt.Sprintf("%06d", (atoi(right)+1+i)%1000000)
		b.post("/api/portal/signup/verify", form)
	}
	form["code"] = right
	if code, body := b.post("/api/portal/signup/verify", form); code != 401 {
		t.Errorf("the right code after 5 wrong ones: %d %s", code, body)
	}
}

// TestProspectSecurity: a prospect's cookie opens no portal door but sign-out; another
// client's cookie, a prospect's, an anonymous caller and a non-clinician are refused on the
// panel's Prospects.
func TestProspectSecurity(t *testing.T) {
	s := newSignUpSite(t, "sqlite", true)
	p := s.browser()
	if code, body := p.signUp("New Person", newMail); code != 200 {
		t.Fatal(code, body)
	}
	portal := []struct{ method, path string }{
		{"GET", "/api/portal/auth/me"}, {"GET", "/api/portal/home"},
		{"POST", "/api/portal/auth/password/set"}, {"POST", "/api/portal/auth/passkey/register/begin"},
		{"POST", "/api/portal/auth/passkey/register/finish"}, {"POST", "/api/portal/auth/logout-everywhere"},
		{"GET", "/api/portal/slots?professional=" + drOne}, {"POST", "/api/portal/book"}, {"GET", "/api/portal/professionals"},
		{"GET", "/api/portal/settings"}, {"POST", "/api/portal/settings"},
		{"POST", "/api/portal/settings/contact/code"}, {"POST", "/api/portal/settings/contact/verify"},
		{"POST", "/api/portal/settings/passkeys/remove"}, {"POST", "/api/portal/settings/password/code"},
		{"POST", "/api/portal/settings/password"}, {"GET", "/api/portal/settings/export"},
	}
	for _, e := range portal {
		body := map[string]any{"password": "a long enough passphrase", "professional": drOne, "contact": "x@example.org"}
		code, data, _ := p.do(e.method, e.path, body, nil)
		if code != 403 || errCode(string(data)) != "prospect_waiting" {
			t.Errorf("a prospect on %s %s: %d %s", e.method, e.path, code, data)
		}
	}
	// No session to knock on: the call doors want a session's token, which a prospect has none of.
	for _, path := range []string{"/api/call/knock", "/api/call/join", "/api/call/state"} {
		method := "POST"
		if path == "/api/call/state" {
			method = "GET"
		}
		if code, data, _ := p.do(method, path, map[string]string{"name": "New Person"}, nil); code != 401 {
			t.Errorf("a prospect on %s: %d %s", path, code, data)
		}
	}

	client := s.browser()
	client.signInWithCode(aliceEmail)
	anonymous := s.browser()
	stranger := s.panel(notADr)
	list := s.waiting(s.panel(drOne))
	if len(list) != 1 {
		t.Fatalf("prospects: %+v", list)
	}
	panel := []struct{ method, path string }{
		{"GET", "/api/panel/prospects"},
		{"POST", fmt.Sprintf("/api/panel/prospects/%d/link", list[0].ID)},
		{"POST", fmt.Sprintf("/api/panel/prospects/%d/client", list[0].ID)},
		{"POST", fmt.Sprintf("/api/panel/prospects/%d/dismiss", list[0].ID)},
	}
	for who, b := range map[string]*browser{"a client": client, "the prospect": p, "anonymous": anonymous, "a non-clinician": stranger} {
		for _, e := range panel {
			code, data, _ := b.do(e.method, e.path, map[string]int64{"client_id": s.anna.ID}, nil)
			if code != 401 && code != 403 {
				t.Errorf("%s on %s %s: %d %s", who, e.method, e.path, code, data)
			}
		}
	}
	if list = s.waiting(s.panel(drTwo)); len(list) != 1 {
		t.Errorf("the refused calls changed the prospect: %+v", list)
	}
	// The prospect may sign out.
	if code, body := p.post("/api/portal/auth/logout", nil); code != 200 {
		t.Errorf("a prospect's sign-out: %d %s", code, body)
	}
	if code, _ := p.me(); code != 401 {
		t.Errorf("after sign-out: %d", code)
	}
}

// TestProspectSignsInAgain: a waiting prospect signs in again from the sign-in page with a
// code (as a prospect: still nothing to see); the sign-in page answers a prospect's address as
// any other; once dismissed, the code signs nobody in.
func TestProspectSignsInAgain(t *testing.T) {
	s := newSignUpSite(t, "sqlite", true)
	if code, body := s.browser().signUp("New Person", newMail); code != 200 {
		t.Fatal(code, body)
	}
	var first string
	for i, contact := range []string{aliceEmail, newMail, "unknown@example.org"} {
		code, body := s.browser().post("/api/portal/auth/code", map[string]string{"contact": contact})
		if code != 200 {
			t.Fatalf("%s: %d %s", contact, code, body)
		}
		if i == 0 {
			first = body
		} else if body != first {
			t.Errorf("the sign-in page answered %s with %s, a client's address with %s", contact, body, first)
		}
	}
	// The code the loop asked for goes out after the answer: take it before asking for the next
	// one, or it could arrive late and pass for the new one (which replaced it).
	s.codes.code(t, newMail)
	again := s.browser()
	again.signInWithCode(newMail)
	if code, data, _ := again.do("GET", "/api/portal/auth/me", nil, nil); code != 403 || errCode(string(data)) != "prospect_waiting" {
		t.Errorf("a prospect signed in again: %d %s", code, data)
	}
	list := s.waiting(s.panel(drOne))
	if len(list) != 1 {
		t.Fatalf("prospects: %+v", list)
	}
	if code, body := s.panel(drOne).post(fmt.Sprintf("/api/panel/prospects/%d/dismiss", list[0].ID), nil); code != 200 {
		t.Fatal(code, body)
	}
	s.clock.Advance(16 * time.Minute) // past the 3 codes per contact in 15 minutes
	b := s.browser()
	if code, _ := b.post("/api/portal/auth/code", map[string]string{"contact": newMail}); code != 200 {
		t.Fatal(code)
	}
	if code, body := b.post("/api/portal/auth/code/verify", map[string]string{"contact": newMail, "code": "000000"}); code != 401 {
		t.Errorf("a dismissed prospect's sign-in: %d %s", code, body)
	}
	if code, _ := again.me(); code != 401 {
		t.Errorf("a dismissed prospect is still signed in: %d", code)
	}
}
