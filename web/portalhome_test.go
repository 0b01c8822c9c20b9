package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"github.com/telehealth-bridge/telehealth-bridge/internal/dbtest"
	"github.com/telehealth-bridge/telehealth-bridge/web"
)

// homeClinician is the professional of the home tests' sessions.
const homeClinician = "@dr.roy:hs"

type fixedNames map[string]string

func (n fixedNames) ClinicianName(_ context.Context, id string) (string, error) { return n[id], nil }

// homeRecords stores Alice (1) and Bob (2), siblings who share their parent's email address,
// both with Dr Roy; the portal site signs in 1 and 2 by their own addresses. Client 3 (Carol)
// signs in but has no record.
func homeRecords(t *testing.T, s *portalSite) {
	t.Helper()
	ctx := context.Background()
	for _, c := range []*bridge.Client{
		{DisplayName: "Alice Martin", Emails: []string{aliceEmail, "parent@example.org"}, Locale: "fr", TimeZone: "Europe/Paris", Professionals: []string{homeClinician}},
		{DisplayName: "Bob Martin", Emails: []string{bobEmail, "parent@example.org"}, Locale: "en", TimeZone: "America/Toronto", Professionals: []string{homeClinician}},
	} {
		c.Reminders, c.CreatedAt, c.UpdatedAt = bridge.RemindEmail, s.clock.Now(), s.clock.Now()
		if err := s.db.Client.Insert(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	s.web.UseNames(fixedNames{homeClinician: "Dr Roy"})
}

// book stores a session of Dr Roy's with one participant of the client, booked with the
// parent's address (as the siblings' sessions are).
func (s *portalSite) book(id string, clientID int64, start time.Time, kind bridge.Kind, status bridge.Status) {
	s.t.Helper()
	ctx := context.Background()
	sess := &bridge.Session{ID: id, Clinician: homeClinician, Start: start, End: start.Add(50 * time.Minute), TimeZone: "Europe/Paris",
		Kind: kind, Status: status, Policy: bridge.PolicyManual, CreatedAt: s.clock.Now(), UpdatedAt: s.clock.Now()}
	if err := s.db.Session.Insert(ctx, sess); err != nil {
		s.t.Fatal(err)
	}
	names := map[int64]string{1: "Alice Martin", 2: "Bob Martin"}
	p := &bridge.Participant{SessionID: id, Number: 1, Name: names[clientID], Email: "parent@example.org", Phone: "+33612345678",
		Locale: "en", TimeZone: "UTC", Invite: bridge.InviteEmail, State: bridge.StateBooked, UpdatedAt: s.clock.Now(), ClientID: clientID}
	if err := s.db.Participant.Insert(ctx, p); err != nil {
		s.t.Fatal(err)
	}
}

func (b *browser) home() (int, web.PortalHome) {
	b.s.t.Helper()
	var home web.PortalHome
	code, data, _ := b.do("GET", "/api/portal/home", nil, nil)
	if code == 200 {
		if err := json.Unmarshal(data, &home); err != nil {
			b.s.t.Fatal(err)
		}
	}
	return code, home
}

func sessionIDs(items []web.PortalSession) string {
	var ids []string
	for _, it := range items {
		ids = append(ids, it.Session.ID)
	}
	return strings.Join(ids, " ")
}

// The portal home shows each client their own sessions (by their record, never by a contact
// they share with someone else), in their zone and language, the next one marked, the join
// link their own, and no one's to anyone else.
func TestPortalHome(t *testing.T) {
	for _, kind := range dbtest.Kinds {
		t.Run(kind, func(t *testing.T) { testPortalHome(t, kind) })
	}
}

func testPortalHome(t *testing.T, kind string) {
	s := newPortalSite(t, kind) // 09:00 UTC on 3 December 2026
	homeRecords(t, s)
	now := s.clock.Now()
	s.book("past1", 1, now.Add(-48*time.Hour), bridge.KindVideo, bridge.StatusEnded)
	s.book("soon", 1, now.Add(20*time.Minute), bridge.KindVideo, bridge.StatusScheduled) // its waiting room is open
	s.book("phone", 1, now.Add(7*24*time.Hour), bridge.KindPhone, bridge.StatusScheduled)
	s.book("later", 1, now.Add(14*24*time.Hour), bridge.KindVideo, bridge.StatusScheduled)
	s.book("gone", 1, now.Add(3*24*time.Hour), bridge.KindVideo, bridge.StatusCancelled)
	s.book("bobs", 2, now.Add(24*time.Hour), bridge.KindVideo, bridge.StatusScheduled)

	alice := s.browser()
	alice.signInWithCode(aliceEmail)
	code, home := alice.home()
	if code != 200 {
		t.Fatalf("Alice's home: %d", code)
	}
	if home.Name != "Alice Martin" || home.Locale != "fr" || home.TimeZone != "Europe/Paris" || home.Clinic.Name != "Clinique" {
		t.Errorf("Alice's home: %+v", home)
	}
	if got := sessionIDs(home.Upcoming); got != "soon gone phone later" {
		t.Errorf("upcoming: %s", got)
	}
	if got := sessionIDs(home.Past); got != "past1" {
		t.Errorf("past: %s", got)
	}
	if len(home.Professionals) != 1 || home.Professionals[0].Name != "Dr Roy" {
		t.Errorf("professionals: %+v", home.Professionals)
	}
	soon, gone, phone, later := home.Upcoming[0], home.Upcoming[1], home.Upcoming[2], home.Upcoming[3]
	if !soon.Next || !soon.CanJoin || !strings.Contains(soon.Link, "/g/") || soon.Session.ClinicianName != "Dr Roy" || soon.Session.Kind != "video" {
		t.Errorf("the next session: %+v", soon)
	}
	// In Alice's zone and language: 09:20 UTC is 10 h 20 in Paris.
	if soon.Session.Local.Start != "10 h 20" && soon.Session.Local.Start != "10:20" {
		t.Errorf("the next session's time in Alice's zone: %+v", soon.Session.Local)
	}
	// The page's language, when the client chose one, writes the times.
	var en web.PortalHome
	if code, data, _ := alice.do("GET", "/api/portal/home?lang=en", nil, nil); code != 200 || json.Unmarshal(data, &en) != nil ||
		en.Locale != "en" || en.Upcoming[0].Session.Local.Start != "10:20 AM" {
		t.Errorf("Alice's home in English: %d %+v", code, en.Upcoming[0].Session.Local)
	}
	if gone.Next || gone.Link != "" || gone.CanJoin || gone.Session.Status != "cancelled" {
		t.Errorf("a cancelled session: %+v", gone)
	}
	if phone.Next || phone.Link != "" || phone.CallsYou != "Dr Roy" || phone.Session.Kind != "phone" {
		t.Errorf("a telephone session: %+v", phone)
	}
	if later.CanJoin || later.Link == "" || later.Next {
		t.Errorf("a later session: the link is there, joining is not open yet: %+v", later)
	}
	if home.Past[0].Link != "" || home.Past[0].CanJoin {
		t.Errorf("a past session offers no link: %+v", home.Past[0])
	}

	// Alice's link opens the session as Alice.
	var state web.CallState
	token := soon.Link[strings.LastIndex(soon.Link, "/")+1:]
	if code, data, _ := alice.do("GET", "/api/call/state", nil, map[string][]string{"Authorization": {"Bearer " + token}}); code != 200 {
		t.Fatalf("Alice's link: %d %s", code, data)
	} else if err := json.Unmarshal(data, &state); err != nil || state.Me.Name != "Alice Martin" || state.Session.ID != "soon" || !state.Me.InPortal {
		t.Errorf("Alice's link opens %+v (%v)", state.Me, err)
	}

	// Bob, who shares the parent's address, sees his one session, and none of Alice's.
	bob := s.browser()
	bob.signInWithCode(bobEmail)
	code, bobs := bob.home()
	if code != 200 || sessionIDs(bobs.Upcoming) != "bobs" || len(bobs.Past) != 0 || bobs.Name != "Bob Martin" || bobs.TimeZone != "America/Toronto" {
		t.Errorf("Bob's home: %d %+v", code, bobs)
	}
	for _, it := range bobs.Upcoming {
		if it.Link == soon.Link || it.Link == later.Link {
			t.Errorf("Bob holds Alice's link")
		}
	}
	// Alice's link in Bob's browser, or in a signed-out one, offers no portal: it is not theirs.
	for name, b := range map[string]*browser{"Bob's": bob, "a signed-out": s.browser()} {
		var st web.CallState
		if code, data, _ := b.do("GET", "/api/call/state", nil, map[string][]string{"Authorization": {"Bearer " + token}}); code != 200 || json.Unmarshal(data, &st) != nil || st.Me.InPortal {
			t.Errorf("Alice's link in %s browser: %d %s", name, code, data)
		}
	}
	// Alice's home did not change for Bob's asking, nor hold his.
	if _, again := alice.home(); strings.Contains(sessionIDs(again.Upcoming)+sessionIDs(again.Past), "bobs") {
		t.Errorf("Alice sees Bob's session")
	}
}

// Who may read a home: only a signed-in client, and only their own.
func TestPortalHomeSecurity(t *testing.T) {
	s := newPortalSite(t, "sqlite")
	homeRecords(t, s)
	s.book("alices", 1, s.clock.Now().Add(time.Hour), bridge.KindVideo, bridge.StatusScheduled)
	s.book("bobs", 2, s.clock.Now().Add(time.Hour), bridge.KindVideo, bridge.StatusScheduled)
	alice, bob, carol := s.browser(), s.browser(), s.browser()
	alice.signInWithCode(aliceEmail)
	bob.signInWithCode(bobEmail)
	signedOut := s.browser()

	for _, tc := range []struct {
		name    string
		b       *browser
		header  map[string][]string
		code    int
		mine    string
		notMine []string
	}{
		{"signed out", signedOut, nil, 401, "", nil},
		{"a forged cookie", signedOut, map[string][]string{"Cookie": {"telehealth_portal=forged"}}, 401, "", nil},
		{"Alice", alice, nil, 200, "alices", []string{"bobs"}},
		{"Bob, who shares Alice's parent's address", bob, nil, 200, "bobs", []string{"alices"}},
		// Alice's link to her session is a guest link, not a portal sign-in.
		{"a guest link's token as a bearer", signedOut, map[string][]string{"Authorization": {"Bearer " + aliceToken(t, alice)}}, 401, "", nil},
		// Asking for someone else in the request changes nothing: the home is the cookie's.
		{"Bob naming Alice", bob, map[string][]string{"X-Client-Id": {"1"}}, 200, "bobs", []string{"alices"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := "/api/portal/home"
			if tc.name == "Bob naming Alice" {
				path += "?client=1&client_id=1"
			}
			code, data, _ := tc.b.do("GET", path, nil, tc.header)
			if code != tc.code {
				t.Fatalf("%d %s", code, data)
			}
			body := string(data)
			if tc.mine != "" && !strings.Contains(body, `"id":"`+tc.mine+`"`) {
				t.Errorf("their own session is missing: %s", body)
			}
			for _, other := range tc.notMine {
				if strings.Contains(body, `"id":"`+other+`"`) {
					t.Errorf("another client's session %s is shown: %s", other, body)
				}
			}
			if code != 200 && strings.Contains(body, "/g/") {
				t.Errorf("a refusal holds a link: %s", body)
			}
		})
	}

	// Carol is signed in but has no record: an empty home, not an error.
	carol.signInWithCode(carolEmail)
	if code, home := carol.home(); code != 200 || home.Name != "Carol" || len(home.Upcoming)+len(home.Past)+len(home.Professionals) != 0 {
		t.Errorf("Carol without a record: %d %+v", code, home)
	}
}

// aliceToken is the token of Alice's first upcoming session's link, from her home.
func aliceToken(t *testing.T, alice *browser) string {
	t.Helper()
	_, home := alice.home()
	if len(home.Upcoming) == 0 || home.Upcoming[0].Link == "" {
		t.Fatalf("Alice has no link: %+v", home)
	}
	link := home.Upcoming[0].Link
	return link[strings.LastIndex(link, "/")+1:]
}

// page opens a page as the browser does, without following a redirect: its status and where
// it sends the browser.
func (b *browser) page(path string) (int, string) {
	b.s.t.Helper()
	c := &http.Client{Jar: b.http.Jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(b.s.url + path)
	if err != nil {
		b.s.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("Location")
}

// A session link lands in the portal, on that session, for the client signed in whose link it
// is; everyone else keeps the link's page: another client signed in, a signed-out browser, a
// client who never enrolled, a withdrawn link, a forged one. The portal's Join keeps the page.
func TestLinkLandsInPortal(t *testing.T) {
	s := newPortalSite(t, "sqlite")
	homeRecords(t, s)
	now := s.clock.Now()
	s.book("alices", 1, now.Add(2*time.Hour), bridge.KindVideo, bridge.StatusScheduled)
	s.book("bobs", 2, now.Add(2*time.Hour), bridge.KindVideo, bridge.StatusScheduled)
	s.book("walkin", 0, now.Add(3*time.Hour), bridge.KindVideo, bridge.StatusScheduled) // nobody's record
	alice, bob, signedOut := s.browser(), s.browser(), s.browser()
	alice.signInWithCode(aliceEmail)
	bob.signInWithCode(bobEmail)
	link := func(id string) string {
		t.Helper()
		sess, ps, err := s.svc.Lobby(context.Background(), "", id)
		if err != nil {
			t.Fatal(err)
		}
		l, err := s.web.ParticipantLink(context.Background(), sess, ps[0])
		if err != nil {
			t.Fatal(err)
		}
		return l[strings.Index(l, "/g/"):]
	}
	alices, bobs, walkin := link("alices"), link("bobs"), link("walkin")
	if code, to := alice.page(alices); code != 303 || to != "/portal?session=alices#sessions" {
		t.Errorf("Alice's own link: %d %q", code, to)
	}
	for _, tc := range []struct {
		name string
		b    *browser
		path string
	}{
		{"Alice's link from her portal's Join", alice, alices + "?from=portal"},
		{"Bob's link in Alice's browser", alice, bobs},
		{"Alice's link in Bob's browser", bob, alices},
		{"Alice's link in a signed-out browser", signedOut, alices},
		{"a link of no one's record, signed in", alice, walkin},
		{"a link of no one's record, signed out", signedOut, walkin},
		{"a forged link, signed in", alice, "/g/alices.AAAA.BBBB"},
	} {
		if code, to := tc.b.page(tc.path); code != 200 || to != "" {
			t.Errorf("%s: %d %q", tc.name, code, to)
		}
	}
	// A withdrawn link lands nowhere: its page says it was withdrawn.
	_, ps, _ := s.svc.Lobby(context.Background(), "", "alices")
	if err := s.web.RevokeParticipantLink(context.Background(), ps[0]); err != nil {
		t.Fatal(err)
	}
	if code, to := alice.page(alices); code != 200 || to != "" {
		t.Errorf("a withdrawn link: %d %q", code, to)
	}
	// Signed out, Alice's own link keeps its page.
	s.book("alices2", 1, now.Add(26*time.Hour), bridge.KindVideo, bridge.StatusScheduled)
	second := link("alices2")
	if code, to := alice.page(second); code != 303 || to != "/portal?session=alices2#sessions" {
		t.Errorf("Alice's second link: %d %q", code, to)
	}
	if code, _ := alice.post("/api/portal/auth/logout", struct{}{}); code != 200 {
		t.Fatalf("sign-out: %d", code)
	}
	if code, to := alice.page(second); code != 200 || to != "" {
		t.Errorf("after the sign-out: %d %q", code, to)
	}
}
