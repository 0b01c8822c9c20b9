package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/rs/zerolog"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"github.com/telehealth-bridge/telehealth-bridge/database"
	"github.com/telehealth-bridge/telehealth-bridge/internal/dbtest"
	"github.com/telehealth-bridge/telehealth-bridge/web"
)

// testClients is a map-backed client directory: the records journey owns the real one.
type testClients struct {
	byContact map[string]int64
	names     map[int64]string
}

func (c *testClients) ClientByContact(_ context.Context, contact string) (int64, bool, error) {
	id, ok := c.byContact[contact]
	return id, ok, nil
}

func (c *testClients) ClientName(_ context.Context, id int64) (string, error) {
	if n, ok := c.names[id]; ok {
		return n, nil
	}
	return "", fmt.Errorf("no client %d", id)
}

// sentCodes records the codes the portal sends, by contact.
type sentCodes struct {
	mu   sync.Mutex
	last map[string]string
	n    int
	sent chan struct{} // a signal for each code sent
}

func (s *sentCodes) SendPortalCode(_ context.Context, to bridge.PortalContact, code, _ string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.last[to.String()] = code
	s.n++
	select {
	case s.sent <- struct{}{}:
	default: // a signal is already waiting
	}
	return nil
}

// code waits for the code sent to the contact (sending happens after the answer).
func (s *sentCodes) code(t *testing.T, contact string) string {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		s.mu.Lock()
		c, ok := s.last[contact]
		delete(s.last, contact)
		s.mu.Unlock()
		if ok {
			return c
		}
		select {
		case <-s.sent:
		case <-deadline:
			t.Fatalf("no code was sent to %s", contact)
			return ""
		}
	}
}

// portalSite is a web server with the portal's sign-in, on a real database, without Matrix.
type portalSite struct {
	t     *testing.T
	url   string
	clock *clockwork.FakeClock
	db    *database.Database
	web   *web.Server
	svc   *bridge.Service
	codes *sentCodes
}

const (
	aliceEmail = "alice@example.org"
	alicePhone = "+33612345678"
	bobEmail   = "bob@example.org"
	// carolEmail signs in client 3, whom no test gives a record.
	carolEmail = "carol@example.org"
)

func newPortalSite(t *testing.T, kind string) *portalSite {
	t.Helper()
	db := dbtest.Open(t, kind)
	clock := clockwork.NewFakeClockAt(time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC))
	svc := bridge.New(bridge.Options{Store: db.Store(), Clock: clock, Audit: db.Audit, Bot: "@bot:hs", Clients: db.Store()})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://localhost:" + fmt.Sprint(l.Addr().(*net.TCPAddr).Port)
	// The test's own loopback is a trusted proxy: a request without X-Forwarded-For comes from
	// 127.0.0.1, one with it from the address it names (web/portalbruteforce_test.go).
	srv := web.New(web.Config{PublicURL: url, SigningKey: []byte("0123456789abcdef0123456789abcdef"), ClinicName: "Clinique",
		IsClinician: func(u string) bool { return u == homeClinician }, TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}},
		db, svc, clock, zerolog.Nop())
	codes := &sentCodes{last: map[string]string{}, sent: make(chan struct{}, 1)}
	srv.UsePortal(&testClients{
		byContact: map[string]int64{aliceEmail: 1, alicePhone: 1, bobEmail: 2, carolEmail: 3},
		names:     map[int64]string{1: "Alice", 2: "Bob", 3: "Carol"},
	}, codes)
	hs := &httptest.Server{Listener: l, Config: &http.Server{Handler: srv.Handler()}}
	hs.Start()
	t.Cleanup(hs.Close)
	return &portalSite{t: t, url: url, clock: clock, db: db, web: srv, svc: svc, codes: codes}
}

// browser is one person's browser: its own cookies.
type browser struct {
	s    *portalSite
	http *http.Client
}

func (s *portalSite) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{s: s, http: &http.Client{Jar: jar, Timeout: 30 * time.Second}}
}

// post sends an API request as the page does; it returns the status and the raw answer.
func (b *browser) do(method, path string, body any, header http.Header) (int, []byte, *http.Response) {
	b.s.t.Helper()
	var r io.Reader
	if body != nil {
		data, _ := json.Marshal(body)
		r = bytes.NewReader(data)
	}
	req, _ := http.NewRequest(method, b.s.url+path, r)
	req.Header.Set("X-Requested-With", "telehealth")
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := b.http.Do(req)
	if err != nil {
		b.s.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, data, resp
}

func (b *browser) post(path string, body any) (int, string) {
	b.s.t.Helper()
	code, data, _ := b.do("POST", path, body, nil)
	return code, string(data)
}

func (b *browser) me() (int, web.PortalMe) {
	b.s.t.Helper()
	var me web.PortalMe
	code, data, _ := b.do("GET", "/api/portal/auth/me", nil, nil)
	if code == 200 {
		_ = json.Unmarshal(data, &me)
	}
	return code, me
}

func errCode(body string) string {
	var e struct {
		Code string `json:"code"`
	}
	_ = json.Unmarshal([]byte(body), &e)
	return e.Code
}

// signInWithCode asks for a code for the contact and signs in with it.
func (b *browser) signInWithCode(contact string) {
	b.s.t.Helper()
	if code, body := b.post("/api/portal/auth/code", map[string]string{"contact": contact}); code != 200 {
		b.s.t.Fatalf("code request: %d %s", code, body)
	}
	c := b.s.codes.code(b.s.t, contact)
	if code, body := b.post("/api/portal/auth/code/verify", map[string]string{"contact": contact, "code": c}); code != 200 {
		b.s.t.Fatalf("code sign-in: %d %s", code, body)
	}
}

type auditLine struct{ actor, action, subject, detail string }

func (s *portalSite) audit() []auditLine {
	s.t.Helper()
	rows, err := s.db.Query(context.Background(), "SELECT actor, action, subject, detail FROM telehealth_audit ORDER BY id")
	if err != nil {
		s.t.Fatal(err)
	}
	defer rows.Close()
	var out []auditLine
	for rows.Next() {
		var l auditLine
		if err = rows.Scan(&l.actor, &l.action, &l.subject, &l.detail); err != nil {
			s.t.Fatal(err)
		}
		out = append(out, l)
	}
	return out
}

func TestPortalCodeSignIn(t *testing.T) {
	for _, kind := range dbtest.Kinds {
		t.Run(kind, func(t *testing.T) { testPortalCodeSignIn(t, kind) })
	}
}

func testPortalCodeSignIn(t *testing.T, kind string) {
	{
		s := newPortalSite(t, kind)
		b := s.browser()
		if code, _ := b.me(); code != 401 {
			t.Fatalf("signed out: %d", code)
		}
		// Typed with capitals and spaces, the address is the record's.
		if code, body := b.post("/api/portal/auth/code", map[string]string{"contact": "  Alice@Example.org "}); code != 200 || !strings.Contains(body, `"sent":true`) {
			t.Fatalf("code request: %d %s", code, body)
		}
		c := s.codes.code(t, aliceEmail)
		if len(c) != 6 || strings.Trim(c, "0123456789") != "" {
			t.Fatalf("code %q", c)
		}
		wrong := fmt.Sprintf("%06d", (atoi(c)+1)%1000000)
		if code, body := b.post("/api/portal/auth/code/verify", map[string]string{"contact": aliceEmail, "code": wrong}); code != 401 || errCode(body) != "code_wrong" {
			t.Errorf("wrong code: %d %s", code, body)
		}
		code, data, resp := b.do("POST", "/api/portal/auth/code/verify", map[string]string{"contact": aliceEmail, "code": c[:3] + " " + c[3:]}, nil)
		if code != 200 {
			t.Fatalf("right code: %d %s", code, data)
		}
		var cookie *http.Cookie
		for _, ck := range resp.Cookies() {
			if ck.Name == "telehealth_portal" {
				cookie = ck
			}
		}
		if cookie == nil || !cookie.HttpOnly || cookie.SameSite != http.SameSiteStrictMode || cookie.Secure || cookie.MaxAge != int((12*time.Hour).Seconds()) {
			t.Errorf("cookie %+v", cookie)
		}
		if code, me := b.me(); code != 200 || me.ClientID != 1 || me.Name != "Alice" || me.Passkeys != 0 || me.HasPassword {
			t.Errorf("me: %d %+v", code, me)
		}
		// A code works once.
		other := s.browser()
		if code, body := other.post("/api/portal/auth/code/verify", map[string]string{"contact": aliceEmail, "code": c}); code != 401 || errCode(body) != "code_expired" {
			t.Errorf("code used twice: %d %s", code, body)
		}
		// A code expires after 10 minutes.
		other.post("/api/portal/auth/code", map[string]string{"contact": alicePhone})
		c = s.codes.code(t, alicePhone)
		s.clock.Advance(10 * time.Minute)
		if code, body := other.post("/api/portal/auth/code/verify", map[string]string{"contact": alicePhone, "code": c}); code != 401 || errCode(body) != "code_expired" {
			t.Errorf("expired code: %d %s", code, body)
		}
		// The trail: a refusal and a sign-in of client 1, through the portal.
		var got []string
		for _, l := range s.audit() {
			got = append(got, l.action+" "+l.actor+" "+l.subject)
			if !strings.Contains(l.detail, `"via":"portal"`) {
				t.Errorf("audit without via portal: %+v", l)
			}
			if strings.Contains(l.detail, "alice") || strings.Contains(l.detail, c) {
				t.Errorf("audit holds a contact or a code: %+v", l)
			}
		}
		want := []string{"sign_in_refused anonymous client:1", "sign_in client:1 client:1"}
		if !slices.Equal(got, want) {
			t.Errorf("audit %q, want %q", got, want)
		}
	}
}

func TestPortalCodeBruteForceIsLimited(t *testing.T) {
	s := newPortalSite(t, "sqlite")
	b := s.browser()
	b.post("/api/portal/auth/code", map[string]string{"contact": aliceEmail})
	c := s.codes.code(t, aliceEmail)
	for i := 1; i <= 5; i++ {
		wrong := fmt.Sprintf("%06d", (atoi(c)+i)%1000000)
		code, body := b.post("/api/portal/auth/code/verify", map[string]string{"contact": aliceEmail, "code": wrong})
		want := "code_wrong"
		if i == 5 {
			want = "code_spent"
		}
		if code != 401 || errCode(body) != want {
			t.Fatalf("guess %d: %d %s, want %s", i, code, body, want)
		}
	}
	// After 5 wrong guesses, the right code is dead too: a new code is needed.
	if code, body := b.post("/api/portal/auth/code/verify", map[string]string{"contact": aliceEmail, "code": c}); code != 401 || errCode(body) != "code_expired" {
		t.Errorf("the right code after 5 wrong: %d %s", code, body)
	}
	b.post("/api/portal/auth/code", map[string]string{"contact": aliceEmail})
	c = s.codes.code(t, aliceEmail)
	if code, body := b.post("/api/portal/auth/code/verify", map[string]string{"contact": aliceEmail, "code": c}); code != 200 {
		t.Errorf("a new code: %d %s", code, body)
	}
	// At most 3 codes per contact in 15 minutes (2 used above).
	b.post("/api/portal/auth/code", map[string]string{"contact": aliceEmail})
	if code, body := b.post("/api/portal/auth/code", map[string]string{"contact": aliceEmail}); code != 429 {
		t.Errorf("4th code in 15 minutes: %d %s", code, body)
	}
	// One address guessing across many contacts is stopped too: 20 wrong guesses in 15 minutes.
	s.clock.Advance(16 * time.Minute)
	limited := false
	for i := range 30 {
		code, _ := b.post("/api/portal/auth/code/verify", map[string]string{"contact": fmt.Sprintf("x%d@example.org", i), "code": "000000"})
		if code == 429 {
			limited = i >= 20
			break
		}
	}
	if !limited {
		t.Error("guesses from one address were not limited after 20")
	}
	// Parallel guesses do not slip past the 5 per code.
	s.clock.Advance(16 * time.Minute)
	b2 := s.browser()
	b2.post("/api/portal/auth/code", map[string]string{"contact": bobEmail})
	c = s.codes.code(t, bobEmail)
	var wg sync.WaitGroup
	for i := 1; i <= 10; i++ {
		wg.Go(func() {
			b2.post("/api/portal/auth/code/verify", map[string]string{"contact": bobEmail, "code": fmt.Sprintf("%06d", (atoi(c)+i)%1000000)})
		})
	}
	wg.Wait()
	if code, _ := b2.post("/api/portal/auth/code/verify", map[string]string{"contact": bobEmail, "code": c}); code == 200 {
		t.Error("the right code worked after 10 parallel wrong guesses")
	}
}

func TestPortalCodeOfOneClientNeverSignsInAnother(t *testing.T) {
	s := newPortalSite(t, "sqlite")
	b := s.browser()
	b.post("/api/portal/auth/code", map[string]string{"contact": aliceEmail})
	alice := s.codes.code(t, aliceEmail)
	b.post("/api/portal/auth/code", map[string]string{"contact": bobEmail})
	bob := s.codes.code(t, bobEmail)
	// Alice's code with Bob's address, and with Alice's phone (another contact of hers).
	for _, try := range []struct{ contact, code string }{{bobEmail, alice}, {alicePhone, alice}, {aliceEmail, bob}} {
		if code, body := b.post("/api/portal/auth/code/verify", map[string]string{"contact": try.contact, "code": try.code}); code == 200 {
			t.Errorf("a code for another contact signed in: %+v %s", try, body)
		}
	}
	if code, _ := b.me(); code != 401 {
		t.Error("signed in with someone else's code")
	}
	if code, body := b.post("/api/portal/auth/code/verify", map[string]string{"contact": bobEmail, "code": bob}); code != 200 {
		t.Fatalf("bob: %d %s", code, body)
	}
	if _, me := b.me(); me.ClientID != 2 {
		t.Errorf("signed in as %d, want bob (2)", me.ClientID)
	}
}

// TestPortalAnswersDoNotTellKnownContacts: asking for a code, guessing it and signing in with a
// password answer the same, in about the same time, for a contact no record holds.
func TestPortalAnswersDoNotTellKnownContacts(t *testing.T) {
	s := newPortalSite(t, "sqlite")
	hash, _ := bridge.HashPassword("alice's long password")
	if err := s.db.PortalPassword.Set(context.Background(), 1, hash, s.clock.Now()); err != nil {
		t.Fatal(err)
	}
	b := s.browser()
	type answer struct {
		status int
		body   string
	}
	ask := func(path string, body map[string]string) (answer, time.Duration) {
		start := time.Now()
		code, data := b.post(path, body)
		return answer{code, data}, time.Since(start)
	}
	const unknown = "nobody@example.org"
	known, _ := ask("/api/portal/auth/code", map[string]string{"contact": aliceEmail})
	stranger, _ := ask("/api/portal/auth/code", map[string]string{"contact": unknown})
	if known != stranger {
		t.Errorf("code request: known %+v, unknown %+v", known, stranger)
	}
	known, _ = ask("/api/portal/auth/code/verify", map[string]string{"contact": aliceEmail, "code": "000000"})
	stranger, _ = ask("/api/portal/auth/code/verify", map[string]string{"contact": unknown, "code": "000000"})
	if known != stranger {
		t.Errorf("code guess: known %+v, unknown %+v", known, stranger)
	}
	// Password: a known client with a wrong password, a known client without a password, an
	// unknown address: one answer, and each does one argon2id check.
	var times [3][]time.Duration
	var answers [3]answer
	for i := range 5 { // 15 wrong passwords and 2 wrong codes: under the 20 per address
		for j, contact := range []string{aliceEmail, bobEmail, unknown} {
			a, d := ask("/api/portal/auth/password", map[string]string{"contact": contact, "password": "wrong password " + fmt.Sprint(i)})
			answers[j] = a
			times[j] = append(times[j], d)
		}
	}
	if answers[0] != answers[1] || answers[1] != answers[2] || answers[0].status != 401 {
		t.Errorf("password answers differ: %+v", answers)
	}
	// The fastest of each is what the work costs: a busy machine only ever adds to a time, so
	// the minimum tells the paths apart where a median drifts with the load.
	fastest := func(ds []time.Duration) time.Duration { return slices.Min(ds) }
	m0, m1, m2 := fastest(times[0]), fastest(times[1]), fastest(times[2])
	for _, m := range []time.Duration{m1, m2} {
		if m < m0/3 || m > m0*3 {
			t.Errorf("password answer times differ: known %v, no password %v, unknown %v", m0, m1, m2)
		}
	}
	// A refusal is recorded for known clients only.
	for _, l := range s.audit() {
		if l.action == "sign_in_refused" && l.subject != "client:1" && l.subject != "client:2" {
			t.Errorf("refusal recorded for an unknown contact: %+v", l)
		}
	}
}

func TestPortalPassword(t *testing.T) {
	s := newPortalSite(t, "sqlite")
	b := s.browser()
	if code, body := b.post("/api/portal/auth/password/set", map[string]string{"password": "correct horse battery"}); code != 401 {
		t.Errorf("set while signed out: %d %s", code, body)
	}
	b.signInWithCode(aliceEmail)
	for _, weak := range []string{"short", "leavemealone", "password123456"} {
		if code, body := b.post("/api/portal/auth/password/set", map[string]string{"password": weak}); code != 400 || errCode(body) != "weak_password" {
			t.Errorf("weak password %q: %d %s", weak, code, body)
		}
	}
	if code, body := b.post("/api/portal/auth/password/set", map[string]string{"password": "correct horse battery"}); code != 200 {
		t.Fatalf("set: %d %s", code, body)
	}
	if _, me := b.me(); !me.HasPassword {
		t.Error("no password after setting it")
	}
	other := s.browser()
	if code, body := other.post("/api/portal/auth/password", map[string]string{"contact": alicePhone, "password": "correct horse batterY"}); code != 401 || errCode(body) != "password_wrong" {
		t.Errorf("wrong password: %d %s", code, body)
	}
	// Bob cannot sign in with Alice's password.
	if code, _ := other.post("/api/portal/auth/password", map[string]string{"contact": bobEmail, "password": "correct horse battery"}); code != 401 {
		t.Error("Alice's password signed Bob in")
	}
	if code, body := other.post("/api/portal/auth/password", map[string]string{"contact": alicePhone, "password": "correct horse battery"}); code != 200 {
		t.Fatalf("password sign-in: %d %s", code, body)
	}
	if _, me := other.me(); me.ClientID != 1 {
		t.Errorf("signed in as %d", me.ClientID)
	}
}

func TestPortalSessionTimeouts(t *testing.T) {
	s := newPortalSite(t, "sqlite")
	b := s.browser()
	b.signInWithCode(aliceEmail)
	// Activity keeps the sign-in; a long poll (?after=) is not activity.
	s.clock.Advance(29 * time.Minute)
	if code, _ := b.me(); code != 200 {
		t.Fatal("signed out before the idle timeout")
	}
	s.clock.Advance(29 * time.Minute)
	if code, _, _ := b.do("GET", "/api/portal/auth/me?after=1", nil, nil); code != 200 {
		t.Fatal("long poll refused")
	}
	s.clock.Advance(2 * time.Minute)
	if code, _ := b.me(); code != 401 {
		t.Error("still signed in after 30 minutes with only a long poll")
	}
	// However active, a sign-in ends after 12 hours.
	b.signInWithCode(aliceEmail)
	signedIn := s.clock.Now()
	for range 12*3 - 1 {
		s.clock.Advance(20 * time.Minute)
		if code, _ := b.me(); code != 200 {
			t.Fatalf("signed out while active, %v after signing in", s.clock.Since(signedIn))
		}
	}
	s.clock.Advance(20 * time.Minute)
	if code, _ := b.me(); code != 401 {
		t.Error("still signed in after 12 hours")
	}
}

func TestPortalSignOut(t *testing.T) {
	s := newPortalSite(t, "sqlite")
	phone, laptop, bob := s.browser(), s.browser(), s.browser()
	phone.signInWithCode(aliceEmail)
	s.clock.Advance(time.Minute) // the next code replaces the first
	laptop.signInWithCode(aliceEmail)
	bob.signInWithCode(bobEmail)
	if code, body := phone.post("/api/portal/auth/logout", nil); code != 200 {
		t.Fatalf("sign out: %d %s", code, body)
	}
	if code, _ := phone.me(); code != 401 {
		t.Error("still signed in after signing out")
	}
	if code, _ := laptop.me(); code != 200 {
		t.Error("signing out on one device signed out another")
	}
	phone.signInWithCode(alicePhone)
	if code, body := laptop.post("/api/portal/auth/logout-everywhere", nil); code != 200 {
		t.Fatalf("sign out everywhere: %d %s", code, body)
	}
	for name, b := range map[string]*browser{"phone": phone, "laptop": laptop} {
		if code, _ := b.me(); code != 401 {
			t.Errorf("%s still signed in after signing out everywhere", name)
		}
	}
	if code, me := bob.me(); code != 200 || me.ClientID != 2 {
		t.Error("signing out everywhere signed another client out")
	}
	var outs []string
	for _, l := range s.audit() {
		if l.action == "sign_out" {
			outs = append(outs, l.actor+" "+l.detail)
		}
	}
	if len(outs) != 2 || !strings.Contains(outs[1], `"scope":"everywhere"`) || !strings.HasPrefix(outs[0], "client:1 ") {
		t.Errorf("sign-outs in the trail: %q", outs)
	}
}

func TestPortalEnrolLink(t *testing.T) {
	s := newPortalSite(t, "sqlite")
	link, err := s.web.PortalEnrolLink(context.Background(), 2)
	if err != nil {
		t.Fatal(err)
	}
	prefix := s.url + "/portal/enrol#"
	if !strings.HasPrefix(link, prefix) {
		t.Fatalf("link %q", link)
	}
	token := strings.TrimPrefix(link, prefix)
	b := s.browser()
	if code, body := b.post("/api/portal/auth/enrol", map[string]string{"token": token + "x"}); code != 410 {
		t.Errorf("a changed token: %d %s", code, body)
	}
	if code, body := b.post("/api/portal/auth/enrol", map[string]string{"token": token}); code != 200 {
		t.Fatalf("enrol: %d %s", code, body)
	}
	if _, me := b.me(); me.ClientID != 2 {
		t.Errorf("enrolled as %d", me.ClientID)
	}
	if code, _ := s.browser().post("/api/portal/auth/enrol", map[string]string{"token": token}); code != 410 {
		t.Error("an enrolment link worked twice")
	}
	// A link works for a week, no longer.
	week, err := s.web.PortalEnrolLink(context.Background(), 2)
	if err != nil {
		t.Fatal(err)
	}
	stale, err := s.web.PortalEnrolLink(context.Background(), 2)
	if err != nil {
		t.Fatal(err)
	}
	s.clock.Advance(7*24*time.Hour - time.Minute)
	if code, body := s.browser().post("/api/portal/auth/enrol", map[string]string{"token": strings.TrimPrefix(week, prefix)}); code != 200 {
		t.Errorf("a link on its seventh day: %d %s", code, body)
	}
	s.clock.Advance(2 * time.Minute)
	if code, body := s.browser().post("/api/portal/auth/enrol", map[string]string{"token": strings.TrimPrefix(stale, prefix)}); code != 410 {
		t.Errorf("a link a week and a minute old: %d %s", code, body)
	}
	// The page of the link is the portal's.
	code, data, _ := s.browser().do("GET", "/portal/enrol", nil, nil)
	if code != 200 || !strings.Contains(string(data), "portal.js") {
		t.Errorf("enrol page: %d", code)
	}
}

// TestPortalEndpointsRefuseCrossSitePosts: every POST needs the X-Requested-With header a
// cross-site form cannot send.
func TestPortalEndpointsRefuseCrossSitePosts(t *testing.T) {
	s := newPortalSite(t, "sqlite")
	b := s.browser()
	b.signInWithCode(aliceEmail)
	for _, path := range []string{"code", "code/verify", "password", "enrol", "passkey/login/begin", "passkey/login/finish",
		"password/set", "passkey/register/begin", "passkey/register/finish", "logout", "logout-everywhere"} {
		req, _ := http.NewRequest("POST", s.url+"/api/portal/auth/"+path, strings.NewReader(`{}`))
		req.Header.Set("Content-Type", "text/plain")
		resp, err := b.http.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 403 || errCode(string(data)) != "csrf" {
			t.Errorf("%s without the header: %d %s", path, resp.StatusCode, data)
		}
	}
	if code, _ := b.me(); code != 200 {
		t.Error("a refused cross-site post signed the client out")
	}
}

// TestPortalOneClientNeverActsAsAnother: every endpoint for a signed-in client acts on the
// cookie's client only, whatever the request says.
func TestPortalOneClientNeverActsAsAnother(t *testing.T) {
	s := newPortalSite(t, "sqlite")
	alice, bob := s.browser(), s.browser()
	alice.signInWithCode(aliceEmail)
	bob.signInWithCode(bobEmail)
	// Unknown fields (a client_id) are refused, not obeyed.
	if code, body := bob.post("/api/portal/auth/password/set", map[string]any{"password": "correct horse battery", "client_id": 1}); code != 400 {
		t.Errorf("a client_id in the body: %d %s", code, body)
	}
	if code, me := bob.me(); code != 200 || me.ClientID != 2 || me.Name != "Bob" {
		t.Errorf("bob's me: %+v", me)
	}
	if code, _, _ := bob.do("GET", "/api/portal/auth/me?client_id=1", nil, nil); code != 200 {
		t.Error("me with a query")
	}
	if _, me := bob.me(); me.ClientID != 2 {
		t.Error("a query chose the client")
	}
	bob.post("/api/portal/auth/password/set", map[string]string{"password": "bob's own long password"})
	if _, me := alice.me(); me.HasPassword {
		t.Error("bob's password went to alice")
	}
	// A passkey ceremony begun by Alice cannot be finished by Bob.
	code, data, _ := alice.do("POST", "/api/portal/auth/passkey/register/begin", nil, nil)
	var start struct{ Ceremony string }
	if code != 200 || json.Unmarshal(data, &start) != nil || start.Ceremony == "" {
		t.Fatalf("register begin: %d %s", code, data)
	}
	if code, body := bob.post("/api/portal/auth/passkey/register/finish", map[string]any{"ceremony": start.Ceremony, "credential": map[string]string{}}); code != 400 || errCode(body) != "ceremony_expired" {
		t.Errorf("bob finishing alice's ceremony: %d %s", code, body)
	}
	// Bob signing out everywhere leaves Alice signed in.
	bob.post("/api/portal/auth/logout-everywhere", nil)
	if code, _ := alice.me(); code != 200 {
		t.Error("bob's sign-out ended alice's sign-in")
	}
	s.clock.Advance(16 * time.Minute) // past the code limits
	// Signing in as Bob in Alice's browser ends Alice's sign-in there: her old token is dead.
	var aliceToken string
	u0, _ := http.NewRequest("GET", s.url, nil)
	for _, ck := range alice.http.Jar.Cookies(u0.URL) {
		if ck.Name == "telehealth_portal" {
			aliceToken = ck.Value
		}
	}
	alice.signInWithCode(bobEmail)
	replay := s.browser()
	replay.http.Jar.SetCookies(u0.URL, []*http.Cookie{{Name: "telehealth_portal", Value: aliceToken}})
	if code, _ := replay.me(); code != 401 {
		t.Error("the previous sign-in of a browser survived a new one")
	}
	// A stolen-looking cookie (any other value) is no one.
	forged := s.browser()
	u, _ := http.NewRequest("GET", s.url, nil)
	forged.http.Jar.SetCookies(u.URL, []*http.Cookie{{Name: "telehealth_portal", Value: "1"}})
	if code, _ := forged.me(); code != 401 {
		t.Error("a forged cookie was accepted")
	}
}

func atoi(s string) int {
	n := 0
	for _, r := range s {
		n = n*10 + int(r-'0')
	}
	return n
}

// TestPortalCookieIsSecureOnHTTPS: on an https site the cookie is sent over https only.
func TestPortalCookieIsSecureOnHTTPS(t *testing.T) {
	db := dbtest.Open(t, "sqlite")
	clock := clockwork.NewFakeClockAt(time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC))
	svc := bridge.New(bridge.Options{Store: db.Store(), Clock: clock, Audit: db.Audit, Bot: "@bot:hs"})
	srv := web.New(web.Config{PublicURL: "https://portal.example.org", SigningKey: []byte("0123456789abcdef0123456789abcdef")}, db, svc, clock, zerolog.Nop())
	srv.UsePortal(&testClients{byContact: map[string]int64{aliceEmail: 1}, names: map[int64]string{1: "Alice"}}, nil)
	link, err := srv.PortalEnrolLink(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(map[string]string{"token": link[strings.IndexByte(link, '#')+1:]})
	req := httptest.NewRequest("POST", "https://portal.example.org/api/portal/auth/enrol", bytes.NewReader(body))
	req.Header.Set("X-Requested-With", "telehealth")
	rec := httptest.NewRecorder()
	srv.Handler().ServeHTTP(rec, req)
	if rec.Code != 200 {
		t.Fatalf("enrol: %d %s", rec.Code, rec.Body)
	}
	cookies := rec.Result().Cookies()
	if len(cookies) != 1 || !cookies[0].Secure || !cookies[0].HttpOnly || cookies[0].SameSite != http.SameSiteStrictMode {
		t.Errorf("cookies %+v", cookies)
	}
}

// TestPortalBadInputs: malformed requests get a 400 that says what is wrong, and sign no one in.
func TestPortalBadInputs(t *testing.T) {
	s := newPortalSite(t, "sqlite")
	b := s.browser()
	huge := `{"contact":"` + strings.Repeat("a", 70<<10) + `"}`
	for _, c := range []struct {
		name, path, body string
		status           int
		code             string
	}{
		{"oversized", "/api/portal/auth/code", huge, 413, "too_large"},
		{"not JSON", "/api/portal/auth/code", `{"contact":`, 400, "bad_request"},
		{"unknown field", "/api/portal/auth/code/verify", `{"contact":"a@b.org","code":"1","client_id":1}`, 400, "bad_request"},
		{"not a contact", "/api/portal/auth/code", `{"contact":"alice"}`, 400, "bad_contact"},
		{"a phone without its country code", "/api/portal/auth/password", `{"contact":"0612345678","password":"x"}`, 400, "bad_contact"},
		{"a passkey sign-in without a ceremony", "/api/portal/auth/passkey/login/finish", `{"ceremony":"nope","credential":{}}`, 400, "ceremony_expired"},
		{"an empty enrolment token", "/api/portal/auth/enrol", `{"token":""}`, 410, "link_used"},
	} {
		req, _ := http.NewRequest("POST", s.url+c.path, strings.NewReader(c.body))
		req.Header.Set("X-Requested-With", "telehealth")
		resp, err := b.http.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.status || errCode(string(data)) != c.code {
			t.Errorf("%s: %d %s", c.name, resp.StatusCode, data)
		}
	}
	if code, _ := b.me(); code != 401 {
		t.Error("signed in by a bad request")
	}
}

// TestPortalWithoutRecordsOrPasskeys: until the client records are connected the portal says
// it is off; on a public URL that is an IP address, passkeys are off and the rest works.
func TestPortalWithoutRecordsOrPasskeys(t *testing.T) {
	db := dbtest.Open(t, "sqlite")
	clock := clockwork.NewFakeClockAt(time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC))
	svc := bridge.New(bridge.Options{Store: db.Store(), Clock: clock, Audit: db.Audit, Bot: "@bot:hs"})
	srv := web.New(web.Config{PublicURL: "http://127.0.0.1:8080", SigningKey: []byte("0123456789abcdef0123456789abcdef")}, db, svc, clock, zerolog.Nop())
	post := func(path string) (int, string) {
		req := httptest.NewRequest("POST", "http://127.0.0.1:8080"+path, strings.NewReader(`{"contact":"alice@example.org"}`))
		req.Header.Set("X-Requested-With", "telehealth")
		rec := httptest.NewRecorder()
		srv.Handler().ServeHTTP(rec, req)
		return rec.Code, errCode(rec.Body.String())
	}
	if code, e := post("/api/portal/auth/code"); code != 503 || e != "portal_off" {
		t.Errorf("without records: %d %s", code, e)
	}
	srv.UsePortal(&testClients{byContact: map[string]int64{aliceEmail: 1}, names: map[int64]string{1: "Alice"}}, nil)
	if code, e := post("/api/portal/auth/passkey/login/begin"); code != 503 || e != "passkeys_off" {
		t.Errorf("passkeys on an IP address: %d %s", code, e)
	}
	if code, e := post("/api/portal/auth/code"); code != 200 {
		t.Errorf("codes on an IP address: %d %s", code, e)
	}
}
