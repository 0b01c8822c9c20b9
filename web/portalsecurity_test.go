package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"github.com/telehealth-bridge/telehealth-bridge/database"
	"github.com/telehealth-bridge/telehealth-bridge/internal/dbtest"
)

// The security table of the client portal: every /api/portal/* route the web server
// registers, called by everyone who is not the client it is about. A route registered without
// a row here fails TestPortalSecurityTable, so each new portal endpoint is added with who may
// use it (docs/security.md, "Client portal").
//
// The callers:
//   - anonymous: no cookie;
//   - a clinician: signed in to the panel (Alice's own professional), with the panel's cookie,
//     and with its token passed as a portal cookie and as a bearer token;
//   - signed out: a portal cookie after signing out, after 30 minutes idle, after 12 hours;
//   - another client: Bob, signed in to the portal, whose every request names Alice's record,
//     session, passkey, professional, free slot and passkey ceremony where the route takes one
//     (and in the query where it does not).
//
// Routes for a signed-in client refuse all but Bob with 401. Bob gets answers about Bob: no
// answer holds anything of Alice's (her names, addresses, number, her own session, her passkey,
// her links), and after all his requests Alice's record, settings, home, password, passkeys and
// sign-in are as they were. The sign-in routes are public; whoever calls them with Alice's
// address and without her secret is signed in as no one, and learns nothing of her.

// portalDoor is one row of the table.
type portalDoor struct {
	route string // "METHOD /path", as registered
	// path is what is requested when the route has a wildcard: it names Alice's things.
	path string
	// public: a sign-in door anyone may knock on.
	public bool
	// query and body are what every caller sends (body nil: none); they name Alice's things.
	query string
	body  func() any
	// bob are the statuses Bob may get (a refused sign-in door may also be rate limited: 429).
	bob []int
	// private are strings of Alice's this route's answer must not hold, besides the table's.
	private []string
	// after checks what Bob's request did, given his status.
	after func(t *testing.T, status int)
}

// registeredPortalRoutes reads the portal routes from the web server's mux registrations: the
// quoted "METHOD /api/portal/…" patterns of the package's non-test files.
func registeredPortalRoutes(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	pattern := regexp.MustCompile(`"((?:GET|POST|PUT|PATCH|DELETE) /api/portal/[^"\s]*)"`)
	var routes []string
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range pattern.FindAllStringSubmatch(string(data), -1) {
			if !slices.Contains(routes, m[1]) {
				routes = append(routes, m[1])
			}
		}
	}
	if len(routes) < 20 {
		t.Fatalf("only %d portal routes found in the web server's registrations: %q", len(routes), routes)
	}
	slices.Sort(routes)
	return routes
}

// enrolled is a browser signed in to the portal as the client, by an enrolment link (no code
// sent, no limit spent).
func (s *portalSite) enrolled(clientID int64) *browser {
	s.t.Helper()
	link, err := s.web.PortalEnrolLink(context.Background(), clientID)
	if err != nil {
		s.t.Fatal(err)
	}
	b := s.browser()
	if code, body := b.post("/api/portal/auth/enrol", map[string]string{"token": link[strings.IndexByte(link, '#')+1:]}); code != 200 {
		s.t.Fatalf("enrolling client %d: %d %s", clientID, code, body)
	}
	return b
}

// cookie is the browser's cookie of that name, "" when it has none.
func (b *browser) cookie(name string) string {
	u, _ := url.Parse(b.s.url)
	for _, c := range b.http.Jar.Cookies(u) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

// withCookie is a new browser holding one cookie.
func (s *portalSite) withCookie(name, value string) *browser {
	b := s.browser()
	u, _ := url.Parse(s.url)
	b.http.Jar.SetCookies(u, []*http.Cookie{{Name: name, Value: value, Path: "/"}})
	return b
}

func TestPortalSecurityTable(t *testing.T) {
	for _, kind := range dbtest.Kinds {
		t.Run(kind, func(t *testing.T) { testPortalSecurityTable(t, kind) })
	}
}

func testPortalSecurityTable(t *testing.T, kind string) {
	s := newSettingsSite(t, kind)
	ctx := context.Background()
	alice, bob := s.alice, s.bob

	// Alice has a passkey and a password; Bob has his own passkey. Both professionals take
	// bookings online.
	const aliceKey, bobKey = "YWxpY2Uta2V5LWlk", "Ym9iLWtleS1pZA" // base64url, as browsers give them
	for id, client := range map[string]int64{aliceKey: alice.ID, bobKey: bob.ID} {
		if err := s.db.PortalCredential.Insert(ctx, &database.PortalCredential{CredentialID: id, ClientID: client, PublicKey: "pQECAyYgASFYIA", CreatedAt: s.clock.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	const alicePassword = "alice's own long password"
	hash, _ := bridge.HashPassword(alicePassword)
	if err := s.db.PortalPassword.Set(ctx, alice.ID, hash, s.clock.Now()); err != nil {
		t.Fatal(err)
	}
	pros := bridge.New(bridge.Options{Store: s.db.Store(), Clock: s.clock, Bot: "@bot:hs"})
	types := map[string]int64{}
	for _, pro := range []string{"@dr:hs", "@other:hs"} {
		av := &bridge.Availability{TimeZone: "Europe/Paris", SelfScheduling: true, MinNotice: 24 * time.Hour, Horizon: 30 * 24 * time.Hour,
			Types: []bridge.SessionType{{Name: "Consultation " + pro, Duration: time.Hour, Kind: bridge.KindVideo}}}
		for d := time.Monday; d <= time.Friday; d++ {
			av.Hours = append(av.Hours, bridge.WeeklyHours{Day: d, Start: 9 * 60, End: 17 * 60})
		}
		if err := pros.SetAvailability(ctx, pro, av); err != nil {
			t.Fatal(err)
		}
		types[pro] = av.Types[0].ID
	}

	// Alice has a form to complete from her professional.
	forms := bridge.New(bridge.Options{Store: s.db.Store(), Clock: s.clock, Bot: "@bot:hs", Clients: s.db.Store(), Forms: s.db.Store()})
	phq9, err := forms.FindForm(ctx, "@dr:hs", "PHQ-9")
	if err != nil {
		t.Fatal(err)
	}
	aliceForm, _, err := forms.AssignForm(ctx, "@dr:hs", alice.ID, phq9.ID)
	if err != nil {
		t.Fatal(err)
	}
	aliceFormPath := fmt.Sprintf("/api/portal/forms/%d", aliceForm.ID)

	aliceB := s.enrolled(alice.ID)
	// Alice's free slot with her professional, and her links, as her portal shows them.
	var slots struct {
		Slots []struct {
			Start int64 `json:"start"`
		} `json:"slots"`
	}
	if code, data, _ := aliceB.do("GET", fmt.Sprintf("/api/portal/slots?clinician=@dr:hs&type=%d", types["@dr:hs"]), nil, nil); code != 200 ||
		json.Unmarshal(data, &slots) != nil || len(slots.Slots) == 0 {
		t.Fatalf("Alice's slots: %d %s", code, data)
	}
	aliceSlot := slots.Slots[0].Start
	// Alice owes a payment for her session and gave her insurance details.
	s.svc.UsePayments(bridge.PaymentOptions{Store: s.db.Store()})
	aliceParts, _ := s.db.Store().Participants(ctx, "ali234")
	alicePay := &bridge.Payment{SessionID: "ali234", ParticipantID: aliceParts[0].ID, ClientID: alice.ID, ServiceName: "Hypnose Alice",
		Amount: 7300, Currency: "eur", Status: bridge.PaymentDue, CreatedAt: s.clock.Now(), UpdatedAt: s.clock.Now()}
	if err := s.db.Store().InsertPayment(ctx, alicePay); err != nil {
		t.Fatal(err)
	}
	if _, err := s.svc.SetClientInsurance(ctx, alice.ID, "Mutuelle Alice", "ALICE-MEMBER-1"); err != nil {
		t.Fatal(err)
	}
	alicePayments := func() string {
		_, pays, _ := aliceB.do("GET", "/api/portal/payments", nil, nil)
		return string(pays)
	}
	_, home := aliceB.home()
	private := []string{"Alice", aliceEmail, alicePhone, "ali234", aliceKey, "ALICE-MEMBER-1", "73.00"}
	for _, it := range home.Upcoming {
		if it.Link != "" {
			private = append(private, it.Link[strings.LastIndex(it.Link, "/")+1:])
		}
	}
	if len(private) == 7 {
		t.Fatalf("Alice has no link on her home: %+v", home)
	}
	// aliceCeremony is a passkey ceremony Alice just began (a fresh one for each use).
	aliceCeremony := func() string { return aliceB.begin("/api/portal/auth/passkey/register/begin").Ceremony }
	// The last codes sent to Alice's address, so that a guess is never one by chance.
	lastAliceCode, contactCode := "", ""
	wrongAliceCode := func() string {
		if lastAliceCode == "" {
			return "000000"
		}
		return fmt.Sprintf("%06d", (atoi(lastAliceCode)+1)%1_000_000)
	}
	aliceState := func() string {
		t.Helper()
		rec, _ := json.Marshal(s.record(alice.ID))
		_, settings, _ := aliceB.do("GET", "/api/portal/settings", nil, nil)
		_, home, _ := aliceB.do("GET", "/api/portal/home", nil, nil)
		_, me, _ := aliceB.do("GET", "/api/portal/auth/me", nil, nil)
		_, todo, _ := aliceB.do("GET", "/api/portal/forms", nil, nil)
		pw, _ := s.db.PortalPassword.Get(ctx, alice.ID)
		keys, _ := s.db.PortalCredential.ByClient(ctx, alice.ID)
		var ids []string
		for _, k := range keys {
			ids = append(ids, k.CredentialID)
		}
		var sessions int
		_ = s.db.QueryRow(ctx, "SELECT COUNT(*) FROM telehealth_session").Scan(&sessions)
		return fmt.Sprintf("record %s\nsettings %s\nhome %s\nme %s\nforms %s\npassword %s\npasskeys %q\nsessions %d", rec, settings, home, me, todo, pw, ids, sessions)
	}

	// A document shared with Alice: its name is hers, and its ID opens nothing for Bob.
	aliceDoc := &bridge.Document{EventID: "$alice-doc", RoomID: "!alice:hs", ClientID: alice.ID, SharedBy: "@dr:hs", FileName: "alice-diagnosis.pdf",
		MXC: "mxc://hs/alicedoc", Size: 100, ContentType: "application/pdf", SharedAt: s.clock.Now()}
	if _, err := s.db.Store().InsertDocument(ctx, aliceDoc); err != nil {
		t.Fatal(err)
	}

	named := fmt.Sprintf("client_id=%d&client=%d&session=ali234&id=%s", alice.ID, alice.ID, aliceKey)
	const refusedOrLimited = 429
	doors := []portalDoor{
		// The sign-in doors: public.
		{route: "POST /api/portal/auth/code", public: true, body: func() any { return map[string]string{"contact": aliceEmail} }, bob: []int{200, refusedOrLimited},
			after: func(t *testing.T, status int) {
				if status == 200 {
					lastAliceCode = s.codes.code(t, aliceEmail) // it went to Alice's own address
				}
			}},
		{route: "POST /api/portal/auth/code/verify", public: true, body: func() any { return map[string]string{"contact": aliceEmail, "code": wrongAliceCode()} }, bob: []int{401, refusedOrLimited}},
		{route: "POST /api/portal/auth/password", public: true, body: func() any { return map[string]string{"contact": aliceEmail, "password": "not alice's password at all"} }, bob: []int{401, refusedOrLimited}},
		{route: "POST /api/portal/auth/enrol", public: true, body: func() any { return map[string]string{"token": fmt.Sprint(alice.ID)} }, bob: []int{410, refusedOrLimited}},
		{route: "POST /api/portal/auth/passkey/login/begin", public: true, bob: []int{200, refusedOrLimited}},
		{route: "POST /api/portal/auth/passkey/login/finish", public: true, body: func() any {
			return map[string]any{"ceremony": aliceCeremony(), "credential": map[string]string{"id": aliceKey}}
		}, bob: []int{400, refusedOrLimited}},
		// The signed-in client's doors.
		{route: "GET /api/portal/auth/me", query: named, bob: []int{200}},
		{route: "GET /api/portal/home", query: named, bob: []int{200}},
		// Payment & Insurances: the sign-in's own payments; Alice's payment, by its ID, is as
		// unknown (404); insurance details are the sign-in's own.
		{route: "GET /api/portal/payments", query: named, bob: []int{200}},
		{route: "POST /api/portal/payments/{id}/pay", path: fmt.Sprintf("/api/portal/payments/%d/pay", alicePay.ID), query: named, body: func() any { return map[string]any{} }, bob: []int{404}},
		// Insurance card pictures: the sign-in's own record only (no client in the request). This
		// site has no Matrix side (503); TestInsuranceCards uploads real pictures to Dendrite.
		{route: "POST /api/portal/insurance/cards", query: named, body: func() any { return map[string]any{"client_id": alice.ID} }, bob: []int{503}},
		{route: "PUT /api/portal/insurance", query: named, body: func() any { return map[string]string{"insurer": "Bob's insurer", "member_id": "BOB-1"} }, bob: []int{200}},
		{route: "POST /api/portal/auth/password/set", query: named, body: func() any { return map[string]string{"password": "bob's brand new password"} }, bob: []int{200}},
		{route: "POST /api/portal/auth/passkey/register/begin", query: named, bob: []int{200}},
		{route: "POST /api/portal/auth/passkey/register/finish", query: named, body: func() any { return map[string]any{"ceremony": aliceCeremony(), "credential": map[string]string{}} }, bob: []int{400}},
		{route: "POST /api/portal/auth/logout", query: named, bob: []int{200}},
		{route: "POST /api/portal/auth/logout-everywhere", query: named, bob: []int{200}},
		{route: "GET /api/portal/slots", query: fmt.Sprintf("clinician=@dr:hs&type=%d&%s", types["@dr:hs"], named), bob: []int{404}, private: []string{"@dr:hs", fmt.Sprint(aliceSlot)}},
		{route: "POST /api/portal/book", query: named, body: func() any { return map[string]any{"clinician": "@dr:hs", "type": types["@dr:hs"], "start": aliceSlot} }, bob: []int{404}, private: []string{"@dr:hs"}},
		{route: "GET /api/portal/professionals", query: named, bob: []int{200}, private: []string{"@dr:hs"}},
		{route: "GET /api/portal/settings", query: named, bob: []int{200}},
		{route: "POST /api/portal/settings", query: named, body: func() any { return map[string]string{"preferred_name": "Bobby"} }, bob: []int{200}},
		// Bob may ask to take an address Alice uses (siblings share a parent's): the code goes
		// to that address, not to him.
		{route: "POST /api/portal/settings/contact/code", query: named, body: func() any { return map[string]string{"contact": aliceEmail} }, bob: []int{200, refusedOrLimited},
			after: func(t *testing.T, status int) {
				if status == 200 {
					contactCode = s.codes.code(t, aliceEmail)
				}
			}},
		{route: "POST /api/portal/settings/contact/verify", query: named, body: func() any {
			return map[string]string{"contact": aliceEmail, "code": fmt.Sprintf("%06d", (atoi(contactCode)+1)%1_000_000)}
		}, bob: []int{401}},
		{route: "POST /api/portal/settings/passkeys/remove", query: named, body: func() any { return map[string]string{"id": aliceKey} }, bob: []int{404}},
		{route: "POST /api/portal/settings/password/code", query: named, body: func() any { return map[string]string{} }, bob: []int{200},
			after: func(t *testing.T, status int) {
				if status == 200 {
					s.codes.code(t, bobEmail) // to Bob's own address
				}
			}},
		{route: "POST /api/portal/settings/password", query: named, body: func() any { return map[string]string{"current": alicePassword, "password": "bob takes over now"} }, bob: []int{401}},
		{route: "GET /api/portal/settings/export", query: named, bob: []int{200}},
		// Sign-up is closed on this site: the same answer for everyone.
		{route: "GET /api/portal/signup", public: true, bob: []int{404}},
		{route: "POST /api/portal/signup/code", public: true, body: func() any { return map[string]string{"name": "Alice", "contact": aliceEmail} }, bob: []int{404}},
		{route: "POST /api/portal/signup/verify", public: true, body: func() any { return map[string]string{"contact": aliceEmail, "code": wrongAliceCode()} }, bob: []int{404}},
		// Alice's session, by its ID: as if it did not exist.
		{route: "POST /api/portal/sessions/{id}/cancel", path: "/api/portal/sessions/ali234/cancel", query: named, body: func() any { return map[string]string{} }, bob: []int{404}},
		{route: "POST /api/portal/sessions/{id}/move", path: "/api/portal/sessions/ali234/move", query: named,
			body: func() any { return map[string]any{"times": []int64{aliceSlot}} }, bob: []int{404}},
		// Bob's first professional's picture is his own professional's; Alice's is not his to ask for.
		{route: "GET /api/portal/professionals/{n}/avatar", path: "/api/portal/professionals/0/avatar", query: named, bob: []int{404}, private: []string{"@dr:hs"}},
		// The Messages thread is the sign-in's own: a client or room in the request is ignored or
		// refused. This site has no Matrix side (503); TestMessagesThread runs the thread's own
		// table against Dendrite.
		// Forms: Alice's assignment, by its ID, is none of Bob's.
		{route: "GET /api/portal/forms", query: named, bob: []int{200}, private: []string{"PHQ-9"}},
		{route: "GET /api/portal/forms/{id}", path: aliceFormPath, query: named, bob: []int{404}, private: []string{"PHQ-9"}},
		{route: "PUT /api/portal/forms/{id}", path: aliceFormPath, query: named, body: func() any { return map[string]any{"answers": map[string]string{"q1": "3"}} }, bob: []int{404}},
		{route: "POST /api/portal/forms/{id}/submit", path: aliceFormPath + "/submit", query: named, body: func() any { return map[string]any{"answers": map[string]string{"q1": "3"}} }, bob: []int{404}},
		{route: "GET /api/portal/messages", query: named, bob: []int{503}},
		{route: "POST /api/portal/messages", query: named, body: func() any { return map[string]any{"text": "hello"} }, bob: []int{503}},
		// Documents: Bob lists his own (none); Alice's document by its ID is as if it did not
		// exist. TestDocumentsSecurity downloads real files from Dendrite.
		{route: "GET /api/portal/documents", query: named, bob: []int{200}, private: []string{"alice-diagnosis", "mxc://"}},
		{route: "GET /api/portal/documents/{id}/file", path: fmt.Sprintf("/api/portal/documents/%d/file", aliceDoc.ID), query: named, bob: []int{404},
			private: []string{"alice-diagnosis", "mxc://"}},
	}

	// Every registered portal route has its row, and every row is a registered route.
	var rows []string
	for _, d := range doors {
		rows = append(rows, d.route)
	}
	registered := registeredPortalRoutes(t)
	for _, r := range registered {
		if !slices.Contains(rows, r) {
			t.Errorf("portal route %s has no row in the security table: add who may use it here and in docs/security.md", r)
		}
	}
	for _, r := range rows {
		if !slices.Contains(registered, r) {
			t.Errorf("the security table's %s is not a registered route", r)
		}
	}

	call := func(b *browser, d portalDoor, header http.Header) (int, string) {
		t.Helper()
		method, path, _ := strings.Cut(d.route, " ")
		if d.path != "" {
			path = d.path
		}
		if d.query != "" {
			path += "?" + d.query
		}
		var body any
		if d.body != nil {
			body = d.body()
		}
		code, data, _ := b.do(method, path, body, header)
		if code == 404 && errCode(string(data)) == "no_endpoint" {
			t.Errorf("%s is not served", d.route)
		}
		return code, string(data)
	}
	leaks := func(body string, d portalDoor) []string {
		var found []string
		for _, p := range append(slices.Clone(private), d.private...) {
			if strings.Contains(body, p) {
				found = append(found, p)
			}
		}
		return found
	}
	// refusedAll: callers who are no client must get 401 on the signed-in client's doors, and
	// nothing of Alice's, and be no one after.
	refusedAll := func(t *testing.T, who string, b *browser, header http.Header) {
		for _, d := range doors {
			code, body := call(b, d, header)
			if l := leaks(body, d); len(l) > 0 {
				t.Errorf("%s: %s answers Alice's %q: %s", who, d.route, l, body)
			}
			if !d.public && (code != 401 || errCode(body) != "signed_out") {
				t.Errorf("%s: %s answered %d %s, want 401 signed_out", who, d.route, code, body)
			}
			if d.public && d.after != nil {
				d.after(t, code)
			}
			if d.public && strings.Contains(body, `"signed_in":true`) {
				t.Errorf("%s: %s signed someone in: %s", who, d.route, body)
			}
		}
		if code, me := b.me(); code != 401 {
			t.Errorf("%s is signed in to the portal as client %d after the table", who, me.ClientID)
		}
	}

	t.Run("anonymous", func(t *testing.T) { refusedAll(t, "anonymous", s.browser(), nil) })

	t.Run("a clinician's panel sign-in", func(t *testing.T) {
		link, err := s.web.LoginLink(ctx, "@dr:hs")
		if err != nil {
			t.Fatal(err)
		}
		panel := s.browser()
		if code, body := panel.post(strings.TrimPrefix(link, s.url), nil); code != 200 {
			t.Fatalf("panel sign-in: %d %s", code, body)
		}
		if code, data, _ := panel.do("GET", "/api/panel/me", nil, nil); code != 200 || !strings.Contains(string(data), "@dr:hs") {
			t.Fatalf("the panel cookie is not a panel sign-in: %d %s", code, data)
		}
		token := panel.cookie("telehealth_panel")
		refusedAll(t, "the panel's cookie", panel, nil)
		refusedAll(t, "the panel's token as a portal cookie", s.withCookie("telehealth_portal", token), nil)
		refusedAll(t, "the panel's token as a bearer", s.browser(), http.Header{"Authorization": {"Bearer " + token}})
	})

	t.Run("signed out", func(t *testing.T) {
		out := s.enrolled(alice.ID)
		token := out.cookie("telehealth_portal")
		if code, body := out.post("/api/portal/auth/logout", nil); code != 200 {
			t.Fatalf("sign out: %d %s", code, body)
		}
		refusedAll(t, "a cookie after signing out", s.withCookie("telehealth_portal", token), nil)
	})

	t.Run("another client", func(t *testing.T) {
		// Past the limits the callers above spent from this address (Alice's sign-in stays:
		// she was active).
		s.clock.Advance(16 * time.Minute)
		before := aliceState()
		payBefore := alicePayments()
		bobB := s.enrolled(bob.ID)
		for _, d := range doors {
			if code, _ := bobB.me(); code != 200 {
				bobB = s.enrolled(bob.ID) // after his sign-out
			}
			code, body := call(bobB, d, nil)
			if !slices.Contains(d.bob, code) {
				t.Errorf("Bob: %s answered %d %s, want one of %v", d.route, code, body, d.bob)
			}
			if l := leaks(body, d); len(l) > 0 {
				t.Errorf("Bob: %s answers Alice's %q: %s", d.route, l, body)
			}
			if d.after != nil {
				d.after(t, code)
			}
			if code, me := bobB.me(); code == 200 && me.ClientID != bob.ID {
				t.Errorf("Bob is client %d after %s", me.ClientID, d.route)
			}
			// A body naming Alice's record is refused, not obeyed.
			if d.body != nil && !d.public {
				method, path, _ := strings.Cut(d.route, " ")
				if d.path != "" {
					path = d.path
				}
				req := d.body()
				if m, ok := req.(map[string]string); ok {
					withID := map[string]any{"client_id": alice.ID}
					for k, v := range m {
						withID[k] = v
					}
					req = withID
				} else if m, ok := req.(map[string]any); ok {
					m["client_id"] = alice.ID
				}
				// 400, or the refusal Bob gets from this door anyway (Alice's session is
				// none of his: 404; no Matrix side on this site: 503).
				if c, data, _ := bobB.do(method, path, req, nil); c != 400 && !(c >= 400 && slices.Contains(d.bob, c)) {
					t.Errorf("Bob: %s with Alice's client_id in the body answered %d %s", d.route, c, data)
				}
			}
		}
		if after := aliceState(); after != before {
			t.Errorf("Alice's record, settings, home, password or passkeys changed while Bob tried every door:\nbefore %s\nafter  %s", before, after)
		}
		if after := alicePayments(); after != payBefore || !strings.Contains(after, "ALICE-MEMBER-1") {
			t.Errorf("Alice's payments or insurance changed while Bob tried every door:\nbefore %s\nafter  %s", payBefore, after)
		}
		if code, me := aliceB.me(); code != 200 || me.ClientID != alice.ID {
			t.Errorf("Alice was signed out by Bob's requests: %d", code)
		}
	})

	// A sign-in left idle for the portal's idle time, and one kept busy up to its absolute end,
	// open nothing. (Last: the clock moves for everyone.)
	t.Run("expired", func(t *testing.T) {
		idle := s.enrolled(alice.ID)
		s.clock.Advance(31 * time.Minute)
		aliceB = s.enrolled(alice.ID) // Alice, back, begins her passkey ceremonies again
		refusedAll(t, "a cookie idle for 31 minutes", idle, nil)
		lasting := s.enrolled(alice.ID)
		for range 12*3 - 1 {
			s.clock.Advance(20 * time.Minute)
			if code, _ := lasting.me(); code != 200 {
				t.Fatal("a busy sign-in ended before 12 hours")
			}
		}
		s.clock.Advance(20 * time.Minute)
		aliceB = s.enrolled(alice.ID)
		refusedAll(t, "a cookie 12 hours old, busy all along", lasting, nil)
	})
}
