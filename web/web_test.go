package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"github.com/telehealth-bridge/telehealth-bridge/internal/bridgetest"
	"github.com/telehealth-bridge/telehealth-bridge/internal/callclient"
	"github.com/telehealth-bridge/telehealth-bridge/web"
)

const wait = 15 * time.Second

// site is a running bridge, its clinician and an HTTP client for its pages.
type site struct {
	t         *testing.T
	env       *bridgetest.Env
	clock     *clockwork.FakeClock
	clinician *mautrix.Client
	http      *http.Client
}

func newSite(t *testing.T) *site { return newSiteWith(t, nil) }

// newSiteWith starts a site whose config keys are edited first.
func newSiteWith(t *testing.T, edit func(cfg map[string]any)) *site {
	clock := clockwork.NewFakeClockAt(time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC))
	env := bridgetest.New(t, bridgetest.Options{Clock: clock, Config: edit})
	env.Start(t)
	jar, _ := cookiejar.New(nil)
	return &site{t: t, env: env, clock: clock, clinician: env.User(t, "dr.martin"), http: &http.Client{Jar: jar, Timeout: 40 * time.Second}}
}

// call makes an API request and decodes the answer into out; it returns the status.
func (s *site) call(method, path, bearer string, body, out any) int {
	s.t.Helper()
	return s.callWith(method, path, bearer, nil, body, out)
}

// callWith is call with extra request headers.
func (s *site) callWith(method, path, bearer string, header http.Header, body, out any) int {
	s.t.Helper()
	var reader io.Reader
	if body != nil {
		data, _ := json.Marshal(body)
		reader = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, s.env.Config.Web.PublicURL+path, reader)
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("X-Requested-With", "telehealth")
	for k, v := range header {
		req.Header[k] = v
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := s.http.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if out != nil {
		if err = json.Unmarshal(data, out); err != nil {
			s.t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, data)
		}
	}
	return resp.StatusCode
}

// guestSession books a session at 15:00 Paris for a web-link guest and returns it with the
// guest's link token.
func (s *site) guestSession(p bridge.ParticipantRequest) (*bridge.Session, string) {
	s.t.Helper()
	ctx := context.Background()
	sess, err := s.env.App.Sessions.Schedule(ctx, bridge.ScheduleRequest{
		Clinician: s.clinician.UserID.String(), Start: time.Date(2026, 11, 24, 14, 0, 0, 0, time.UTC),
		End: time.Date(2026, 11, 24, 14, 50, 0, 0, time.UTC), TimeZone: "Europe/Paris",
		Participants: []bridge.ParticipantRequest{p},
	})
	if err != nil {
		s.t.Fatal(err)
	}
	if _, err = s.clinician.JoinRoomByID(ctx, id.RoomID(sess.RoomID)); err != nil {
		s.t.Fatal(err)
	}
	_, ps, _ := s.env.App.Sessions.Lobby(ctx, "", sess.ID)
	link, err := s.env.App.Web.ParticipantLink(ctx, sess, ps[0])
	if err != nil {
		s.t.Fatal(err)
	}
	return sess, link[strings.LastIndex(link, "/")+1:]
}

func (s *site) openWindow(sess *bridge.Session) {
	s.clock.Advance(sess.Opens(bridge.DefaultWindow).Sub(s.clock.Now()))
	bridgetest.Eventually(s.t, wait, "the lobby to open", func() bool {
		got, _ := s.env.App.Sessions.Session(context.Background(), sess.ID)
		return got.Status == bridge.StatusOpen
	})
}

// openWithGuests has the clinician join the session's room, makes the web-link token of each
// participant who has no Matrix account ("" for the others) and opens the join window.
func (s *site) openWithGuests(ctx context.Context, sess *bridge.Session) ([]*bridge.Participant, []string) {
	s.t.Helper()
	if _, err := s.clinician.JoinRoomByID(ctx, id.RoomID(sess.RoomID)); err != nil {
		s.t.Fatal(err)
	}
	_, ps, err := s.env.App.Sessions.Lobby(ctx, "", sess.ID)
	if err != nil {
		s.t.Fatal(err)
	}
	tokens := make([]string, len(ps))
	for i, p := range ps {
		if p.MatrixID != "" && !s.env.App.Matrix.IsGhost(p.MatrixID) {
			continue
		}
		link, err := s.env.App.Web.ParticipantLink(ctx, sess, p)
		if err != nil {
			s.t.Fatal(err)
		}
		tokens[i] = link[strings.LastIndex(link, "/")+1:]
	}
	s.openWindow(sess)
	return ps, tokens
}

type apiErr struct {
	Error string `json:"error"`
	Code  string `json:"code"`
}

func TestGuestJourney(t *testing.T) {
	s := newSite(t)
	sess, token := s.guestSession(bridge.ParticipantRequest{Name: "J. Doe", Locale: "fr", TimeZone: "America/New_York", Email: "jd@example.org", Invite: bridge.InviteEmail})

	var st web.CallState
	if code := s.call("GET", "/api/call/state", token, nil, &st); code != 200 {
		t.Fatalf("state: %d", code)
	}
	// The time in the participant's zone and language: 09:00 in New York, French format.
	if st.Session.Local.Start != "09:00" || st.Session.Local.Zone != "America/New_York" || st.Session.Local.ZoneAbbr != "EST" ||
		!strings.HasPrefix(st.Session.Local.Date, "mardi 24 novembre") || st.Me.Locale != "fr" {
		t.Errorf("local time %+v", st.Session.Local)
	}
	if st.Me.CanKnock || st.Me.State != "booked" {
		t.Errorf("before the window: %+v", st.Me)
	}
	// The server refuses an early join whatever the page says.
	var e apiErr
	if code := s.call("POST", "/api/call/knock", token, map[string]string{"name": "Jane"}, &e); code != http.StatusConflict || e.Code != "too_early" || !strings.Contains(e.Error, "08:30") {
		t.Errorf("early knock: %d %+v", code, e)
	}

	s.openWindow(sess)
	s.call("GET", "/api/call/state", token, nil, &st)
	if !st.Me.CanKnock {
		t.Fatal("cannot knock in the window")
	}
	if code := s.call("POST", "/api/call/knock", token, map[string]string{"name": "J"}, &e); code != http.StatusBadRequest || !strings.Contains(e.Error, "at least 2 characters") {
		t.Errorf("a one-letter name: %d %+v", code, e)
	}
	if code := s.call("POST", "/api/call/knock", token, map[string]string{"name": "Jane"}, &st); code != 200 || st.Me.State != "waiting" {
		t.Fatalf("knock: %d %+v", code, st.Me)
	}
	// The clinician sees an ordinary knock from a Matrix user named Jane: the client record's
	// one ghost (the booking made the record), opaque.
	_, ps, _ := s.env.App.Sessions.Lobby(context.Background(), "", sess.ID)
	ghost := id.UserID(ps[0].MatrixID)
	if !strings.HasPrefix(ghost.String(), "@telehealth_client_") || strings.Contains(strings.ToLower(ghost.String()), "jane") || ps[0].ClientID == 0 {
		t.Fatalf("ghost %q (client %d)", ghost, ps[0].ClientID)
	}
	var member event.MemberEventContent
	bridgetest.Eventually(t, wait, "the ghost's knock", func() bool {
		err := s.clinician.StateEvent(context.Background(), id.RoomID(sess.RoomID), event.StateMember, ghost.String(), &member)
		return err == nil && member.Membership == event.MembershipKnock
	})
	if member.Displayname != "Jane" || member.Reason != "Jane" {
		t.Errorf("knock shows %q (reason %q)", member.Displayname, member.Reason)
	}

	// The waiting page's long poll returns when the clinician admits.
	done := make(chan web.CallState, 1)
	go func() {
		var next web.CallState
		for next.Me.State != "in_session" {
			s.call("GET", fmt.Sprintf("/api/call/state?after=%d", st.Version), token, nil, &next)
			st.Version = next.Version
		}
		done <- next
	}()
	if _, err := s.clinician.InviteUser(context.Background(), id.RoomID(sess.RoomID), &mautrix.ReqInviteUser{UserID: ghost}); err != nil {
		t.Fatal(err)
	}
	select {
	case st = <-done:
	case <-time.After(wait):
		t.Fatal("the waiting page was not told of the admission")
	}
	if !st.Me.CanJoinCall {
		t.Errorf("admitted but cannot join the call: %+v", st.Me)
	}
	bridgetest.Eventually(t, wait, "the ghost to join", func() bool {
		err := s.clinician.StateEvent(context.Background(), id.RoomID(sess.RoomID), event.StateMember, ghost.String(), &member)
		return err == nil && member.Membership == event.MembershipJoin
	})
	// A reload finds them in: no second knock.
	s.call("GET", "/api/call/state", token, nil, &st)
	if st.Me.State != "in_session" || st.Me.CanKnock {
		t.Errorf("after a reload: %+v", st.Me)
	}
	if code := s.call("POST", "/api/call/knock", token, map[string]string{"name": "Jane"}, &st); code != 200 || st.Me.State != "in_session" {
		t.Errorf("knocking again while in: %d %+v", code, st.Me)
	}
	// Leaving takes the ghost out of the room.
	s.call("POST", "/api/call/leave", token, struct{}{}, &st)
	bridgetest.Eventually(t, wait, "the ghost to leave", func() bool {
		err := s.clinician.StateEvent(context.Background(), id.RoomID(sess.RoomID), event.StateMember, ghost.String(), &member)
		return err == nil && member.Membership == event.MembershipLeave
	})
}

func TestGuestLinkChecks(t *testing.T) {
	s := newSite(t)
	sess, token := s.guestSession(bridge.ParticipantRequest{Name: "JD"})
	other, otherToken := s.guestSession(bridge.ParticipantRequest{Name: "KL"})
	_ = other
	var e apiErr
	parts := strings.Split(token, ".")
	forged := []string{
		parts[0] + "." + parts[1] + ".AAAAAAAAAAAAAAAAAAAAAA",               // bad signature
		strings.Split(otherToken, ".")[0] + "." + parts[1] + "." + parts[2], // another session's ID
		"nonsense",
	}
	for _, f := range forged {
		if code := s.call("GET", "/api/call/state", f, nil, &e); code != http.StatusForbidden && code != http.StatusUnauthorized {
			t.Errorf("forged token %q: %d %+v", f, code, e)
		}
	}
	// The page at the link itself is served; what it shows comes from the API.
	resp, err := s.http.Get(s.env.Config.Web.PublicURL + "/g/" + token)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("page: %v %v", resp, err)
	}
	resp.Body.Close()

	// Revoked: the page says so; a new link works and the old one does not.
	_, ps, _ := s.env.App.Sessions.Lobby(context.Background(), "", sess.ID)
	if err = s.env.App.Web.RevokeParticipantLink(context.Background(), ps[0]); err != nil {
		t.Fatal(err)
	}
	if code := s.call("GET", "/api/call/state", token, nil, &e); code != http.StatusGone || e.Code != "link_revoked" {
		t.Errorf("revoked link: %d %+v", code, e)
	}
	fresh, err := s.env.App.Web.NewParticipantLink(context.Background(), sess, ps[0])
	if err != nil {
		t.Fatal(err)
	}
	freshToken := fresh[strings.LastIndex(fresh, "/")+1:]
	if code := s.call("GET", "/api/call/state", freshToken, nil, &web.CallState{}); code != 200 || freshToken == token {
		t.Errorf("new link: %d", code)
	}
	if code := s.call("GET", "/api/call/state", token, nil, &e); code != http.StatusGone {
		t.Errorf("replaced link: %d %+v", code, e)
	}
	// Expired: past the session's end and the grace period.
	s.clock.Advance(sess.End.Add(2*time.Hour + time.Minute).Sub(s.clock.Now()))
	if code := s.call("GET", "/api/call/state", freshToken, nil, &e); code != http.StatusGone || e.Code != "link_expired" {
		t.Errorf("expired link: %d %+v", code, e)
	}
}

func TestNamesAreText(t *testing.T) {
	s := newSite(t)
	name := `<img src=x onerror=alert(1)>`
	sess, token := s.guestSession(bridge.ParticipantRequest{Name: "JD"})
	control := roomWithBot(t, s)
	s.openWindow(sess)
	var st web.CallState
	if code := s.call("POST", "/api/call/knock", token, map[string]string{"name": name}, &st); code != 200 {
		t.Fatalf("knock: %d", code)
	}
	if st.Me.Name != name {
		t.Errorf("name %q", st.Me.Name)
	}
	evt := bridgetest.WaitMessage(t, s.clinician, control, wait, "the waiting notice", bridgetest.IsNoticeFrom(s.env.App.Matrix.Bot(), "is waiting"))
	msg := evt.Content.AsMessage()
	if !strings.Contains(msg.Body, name) || strings.Contains(msg.FormattedBody, "<img") || !strings.Contains(msg.FormattedBody, "&lt;img src=x onerror=alert(1)&gt;") {
		t.Errorf("notice body %q, html %q", msg.Body, msg.FormattedBody)
	}
	// The lifecycle event (sent after the change, in order) carries the name as data.
	bridgetest.Eventually(t, wait, "the lifecycle event with the name as an escaped string", func() bool {
		for _, e := range bridgetest.Messages(t, s.clinician, id.RoomID(sess.RoomID)) {
			if e.Type.Type == "org.telehealthbridge.lifecycle" && strings.Contains(string(e.Content.VeryRaw), `\u003cimg src=x onerror=alert(1)\u003e`) {
				return true
			}
		}
		return false
	})
}

func roomWithBot(t *testing.T, s *site) id.RoomID {
	ctx := context.Background()
	bot := s.env.App.Matrix.Bot()
	resp, err := s.clinician.CreateRoom(ctx, &mautrix.ReqCreateRoom{Preset: "private_chat", Invite: []id.UserID{bot}, IsDirect: true})
	if err != nil {
		t.Fatal(err)
	}
	bridgetest.Eventually(t, wait, "the bot to join", func() bool {
		m, err := s.clinician.JoinedMembers(ctx, resp.RoomID)
		_, ok := m.Joined[bot]
		return err == nil && ok
	})
	return resp.RoomID
}

// login signs the clinician in to the panel with a one-time link from !login.
func (s *site) login(control id.RoomID) {
	s.t.Helper()
	if _, err := s.clinician.SendText(context.Background(), control, "!login"); err != nil {
		s.t.Fatal(err)
	}
	linkPattern := regexp.MustCompile(`(http://\S+/l/\S+)`)
	evt := bridgetest.WaitMessage(s.t, s.clinician, control, wait, "the login link", func(evt *event.Event) bool {
		return linkPattern.MatchString(evt.Content.AsMessage().Body)
	})
	link := linkPattern.FindString(evt.Content.AsMessage().Body)
	if page := s.open(link); !strings.Contains(page, `id="continue"`) {
		s.t.Fatalf("login link page without its button: %s", page)
	}
	resp := s.click(link, s.env.Config.Web.PublicURL)
	if resp.Request.URL.Path != "/panel" {
		s.t.Fatalf("login link landed on %s (%d)", resp.Request.URL, resp.StatusCode)
	}
	// The link works once.
	if again := s.click(link, s.env.Config.Web.PublicURL); again.StatusCode != http.StatusGone {
		s.t.Errorf("a used login link answered %d", again.StatusCode)
	}
}

// open GETs a page as a browser (or a link previewer) does and returns its text.
func (s *site) open(link string) string {
	s.t.Helper()
	resp, err := s.http.Get(link)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		s.t.Fatalf("GET %s: %d %s", link, resp.StatusCode, data)
	}
	return string(data)
}

// click submits a one-time link's button, as a browser on the page at origin does, and
// returns the answer after redirects.
func (s *site) click(link, origin string) *http.Response {
	s.t.Helper()
	req, err := http.NewRequest("POST", link, nil)
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("Origin", origin)
	if origin == s.env.Config.Web.PublicURL {
		req.Header.Set("Sec-Fetch-Site", "same-origin")
	} else {
		req.Header.Set("Sec-Fetch-Site", "cross-site")
	}
	resp, err := s.http.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

func TestPanel(t *testing.T) {
	s := newSite(t)
	var e apiErr
	if code := s.call("GET", "/api/panel/me", "", nil, &e); code != http.StatusUnauthorized {
		t.Errorf("panel without sign-in: %d", code)
	}
	control := roomWithBot(t, s)
	s.login(control)
	var me struct {
		UserID string `json:"user_id"`
	}
	if code := s.call("GET", "/api/panel/me", "", nil, &me); code != 200 || me.UserID != s.clinician.UserID.String() {
		t.Fatalf("me: %d %+v", code, me)
	}

	form := web.ScheduleForm{Date: "2026-11-24", Time: "3:00 PM", TimeZone: "Europe/Paris", Name: "Jane Doe",
		Invite: "email", Email: "not an email", Locale: "fr", ParticipantZone: "Europe/Paris"}
	if code := s.call("POST", "/api/panel/sessions", "", form, &e); code != http.StatusBadRequest || e.Code != "field:email" {
		t.Errorf("bad email: %d %+v", code, e)
	}
	form.Invite, form.Email, form.Phone = "sms", "", "06 12 34 56 78"
	if code := s.call("POST", "/api/panel/sessions", "", form, &e); code != http.StatusBadRequest || e.Code != "field:phone" {
		t.Errorf("national phone without a region: %d %+v", code, e)
	}
	form.PhoneRegion = "FR"
	form.Name = "J"
	if code := s.call("POST", "/api/panel/sessions", "", form, &e); code != http.StatusBadRequest || e.Code != "field:name" {
		t.Errorf("one-letter name: %d %+v", code, e)
	}
	form.Name = "Jane Doe"
	var created web.PanelSession
	if code := s.call("POST", "/api/panel/sessions", "", form, &created); code != 200 {
		t.Fatalf("schedule: %d", code)
	}
	if created.Session.Local.Start != "3:00 PM" || created.RoomID == "" || len(created.Participants) != 1 || created.Participants[0].Link == "" {
		t.Errorf("created %+v", created)
	}
	// This clinic sends no SMS: the panel says why Jane's confirmation did not go.
	s.clock.Advance(time.Second) // the sender's next round
	bridgetest.Eventually(t, 15*time.Second, "the unsent confirmation on the panel", func() bool {
		var view web.PanelSession
		s.call("GET", "/api/panel/sessions/"+created.Session.ID, "", nil, &view)
		ps := view.Participants
		return len(ps) == 1 && len(ps[0].Problems) == 1 && ps[0].Problems[0].Kind == "confirmation" &&
			strings.Contains(ps[0].Problems[0].Reason, "not configured")
	})
	// A second session: the past participant auto-fills.
	var contacts struct {
		Contacts []struct {
			Name  string `json:"name"`
			Phone string `json:"phone"`
		} `json:"contacts"`
	}
	if code := s.call("GET", "/api/panel/contacts?q=ja", "", nil, &contacts); code != 200 || len(contacts.Contacts) != 1 || contacts.Contacts[0].Phone != "+33612345678" {
		t.Errorf("contacts: %d %+v", code, contacts)
	}
	var list struct {
		Sessions []web.PanelSession `json:"sessions"`
		Version  uint64             `json:"version"`
	}
	s.call("GET", "/api/panel/sessions", "", nil, &list)
	before := list.Version
	form.Date, form.Time = "2026-11-25", "09:30"
	s.call("POST", "/api/panel/sessions", "", form, &web.PanelSession{})
	// The list the panel follows moves on by itself: the long poll answers with the new session.
	s.call("GET", fmt.Sprintf("/api/panel/sessions?after=%d", before), "", nil, &list)
	if len(list.Sessions) != 2 || list.Sessions[0].Session.ID != created.Session.ID || list.Version == before {
		t.Fatalf("upcoming: version %d after %d, %+v", list.Version, before, list.Sessions)
	}

	// Edit, then the Attendees Access Panel.
	edit := form
	edit.Date, edit.Time = "2026-11-24", "16:00"
	var moved web.PanelSession
	if code := s.call("PUT", "/api/panel/sessions/"+created.Session.ID, "", edit, &moved); code != 200 || moved.Session.Local.Start != "4:00 PM" {
		t.Errorf("edit: %d %+v", code, moved.Session.Local)
	}
	var enter struct {
		URL string `json:"url"`
	}
	if code := s.call("POST", "/api/panel/sessions/"+created.Session.ID+"/enter", "", struct{}{}, &enter); code != 200 || !strings.Contains(enter.URL, "/call/"+created.Session.ID+"#") {
		t.Errorf("enter: %d %+v", code, enter)
	}
	if code := s.call("POST", "/api/panel/sessions/"+created.Session.ID+"/deny", "", map[string]string{"participant": "1"}, &e); code != http.StatusConflict || !strings.Contains(e.Error, "not waiting") {
		t.Errorf("deny someone not waiting: %d %+v", code, e)
	}
	if code := s.call("POST", "/api/panel/sessions/"+created.Session.ID+"/message", "", map[string]string{"text": "Running 5 minutes late"}, &moved); code != 200 || moved.Session.LobbyMessage != "Running 5 minutes late" {
		t.Errorf("message: %d %+v", code, moved.Session)
	}
	if code := s.call("POST", "/api/panel/sessions/"+created.Session.ID+"/cancel", "", struct{}{}, &moved); code != 200 || moved.Session.Status != "cancelled" {
		t.Errorf("cancel: %d %+v", code, moved.Session)
	}
	// Another clinician's session is not reachable.
	other := s.env.User(t, "dr.other")
	otherSess, err := s.env.App.Sessions.Schedule(context.Background(), bridge.ScheduleRequest{
		Clinician: other.UserID.String(), Start: time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC),
		End: time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC), TimeZone: "Europe/Paris",
		Participants: []bridge.ParticipantRequest{{Name: "XY"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if code := s.call("GET", "/api/panel/sessions/"+otherSess.ID, "", nil, &e); code != http.StatusForbidden {
		t.Errorf("another clinician's session: %d %+v", code, e)
	}

	// The sign-in ends after 30 minutes without activity.
	s.clock.Advance(31 * time.Minute)
	if code := s.call("GET", "/api/panel/me", "", nil, &e); code != http.StatusUnauthorized {
		t.Errorf("after 31 idle minutes: %d", code)
	}
	// The CSRF guard: a state-changing request without the custom header is refused.
	req, _ := http.NewRequest("POST", s.env.Config.Web.PublicURL+"/api/panel/logout", nil)
	resp, err := s.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("POST without X-Requested-With: %d", resp.StatusCode)
	}
}

func TestMySessions(t *testing.T) {
	s := newSite(t)
	ctx := context.Background()
	later, err := s.env.App.Sessions.Schedule(ctx, bridge.ScheduleRequest{
		Clinician: s.clinician.UserID.String(), Start: time.Date(2026, 12, 1, 14, 0, 0, 0, time.UTC),
		End: time.Date(2026, 12, 1, 14, 50, 0, 0, time.UTC), TimeZone: "Europe/Paris",
		Participants: []bridge.ParticipantRequest{{Name: "Jane", Email: "JD@example.org", Invite: bridge.InviteEmail}},
	})
	if err != nil {
		t.Fatal(err)
	}
	first, token := s.guestSession(bridge.ParticipantRequest{Name: "Jane", Email: "jd@example.org", Invite: bridge.InviteEmail})
	s.guestSession(bridge.ParticipantRequest{Name: "Someone else", Email: "other@example.org", Invite: bridge.InviteEmail})
	s.openWindow(first)
	var mine struct {
		Sessions []web.SessionListItem `json:"sessions"`
	}
	if code := s.call("GET", "/api/call/sessions", token, nil, &mine); code != 200 || len(mine.Sessions) != 2 {
		t.Fatalf("my sessions: %d %+v", code, mine)
	}
	if mine.Sessions[0].Session.ID != first.ID || !mine.Sessions[0].CanJoin || mine.Sessions[1].Session.ID != later.ID || mine.Sessions[1].CanJoin {
		t.Errorf("order or join state: %+v", mine.Sessions)
	}
	if mine.Sessions[1].Link == "" {
		t.Error("no link to the other session")
	}
}

func TestWidgetOpenID(t *testing.T) {
	s := newSite(t)
	ctx := context.Background()
	jane := s.env.User(t, "jane")
	sess, err := s.env.App.Sessions.Schedule(ctx, bridge.ScheduleRequest{
		Clinician: s.clinician.UserID.String(), Start: time.Date(2026, 11, 24, 14, 0, 0, 0, time.UTC),
		End: time.Date(2026, 11, 24, 14, 50, 0, 0, time.UTC), TimeZone: "Europe/Paris",
		Participants: []bridge.ParticipantRequest{{Name: "Jane", MatrixID: jane.UserID.String()}},
	})
	if err != nil {
		t.Fatal(err)
	}
	openid, err := jane.RequestOpenIDToken(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var login web.WidgetLogin
	body := map[string]any{"access_token": openid.AccessToken, "matrix_server_name": openid.MatrixServerName, "session_id": sess.ID}
	if code := s.call("POST", "/api/widget/login", "", body, &login); code != 200 || login.UserID != jane.UserID.String() || login.CallToken == "" {
		t.Fatalf("widget login: %d %+v", code, login)
	}
	var st web.CallState
	if code := s.call("GET", "/api/call/state", login.CallToken, nil, &st); code != 200 || st.Me.Name != "Jane" || st.Me.Guest {
		t.Errorf("state from the widget: %d %+v", code, st.Me)
	}
	// A token from another server than the one it claims is refused.
	var e apiErr
	body["matrix_server_name"] = "elsewhere.example"
	if code := s.call("POST", "/api/widget/login", "", body, &e); code != http.StatusForbidden {
		t.Errorf("token claiming another server: %d %+v", code, e)
	}
	body["matrix_server_name"], body["access_token"] = openid.MatrixServerName, "made-up"
	if code := s.call("POST", "/api/widget/login", "", body, &e); code != http.StatusForbidden {
		t.Errorf("made-up token: %d %+v", code, e)
	}
	// Someone not booked on the session gets no call page.
	stranger := s.env.User(t, "mallory")
	openid, _ = stranger.RequestOpenIDToken(ctx)
	body["access_token"] = openid.AccessToken
	if code := s.call("POST", "/api/widget/login", "", body, &e); code != http.StatusForbidden || e.Code != "not_booked" {
		t.Errorf("stranger: %d %+v", code, e)
	}
}

func TestGuestDeniedThenSessionEnds(t *testing.T) {
	s := newSite(t)
	sess, token := s.guestSession(bridge.ParticipantRequest{Name: "JD"})
	s.openWindow(sess)
	var st web.CallState
	if code := s.call("POST", "/api/call/knock", token, map[string]string{"name": "Jane"}, &st); code != 200 || st.Me.State != "waiting" {
		t.Fatalf("knock: %d %+v", code, st.Me)
	}
	var e apiErr
	if code := s.call("POST", "/api/call/join", token, struct{}{}, &e); code != http.StatusForbidden || e.Code != "not_admitted" {
		t.Errorf("a waiting guest got a call credential: %d %+v", code, e)
	}
	if _, err := s.env.App.Sessions.Deny(context.Background(), "", sess.ID, "1"); err != nil {
		t.Fatal(err)
	}
	if s.call("GET", fmt.Sprintf("/api/call/state?after=%d", st.Version), token, nil, &st); st.Me.State != "denied" || !st.Me.CanKnock {
		t.Errorf("after the denial: %+v", st.Me)
	}
	if _, err := s.env.App.Sessions.End(context.Background(), "", sess.ID); err != nil {
		t.Fatal(err)
	}
	if s.call("GET", fmt.Sprintf("/api/call/state?after=%d", st.Version), token, nil, &st); st.Session.Status != "ended" || st.Me.CanKnock || st.Me.CanJoinCall {
		t.Errorf("after the end: %+v %+v", st.Session.Status, st.Me)
	}
	if code := s.call("POST", "/api/call/knock", token, map[string]string{"name": "Jane"}, &e); code != http.StatusConflict || e.Code != "session_over" {
		t.Errorf("knock after the end: %d %+v", code, e)
	}
}

// stream publishes audio and video packets every 20 ms until stop is closed.
func stream(c *callclient.Client, stop <-chan struct{}) {
	go func() {
		buf := make([]byte, 1200)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for i := uint32(0); ; i++ {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			_ = c.WriteAudio(uint16(i), i*960, i, 160, buf)
			_ = c.WriteVideo(uint16(i), i*3000, true, i, 1000, buf)
		}
	}()
}

func jsonText(v any) string {
	data, _ := json.Marshal(v)
	return string(data)
}

func itoa(v uint64) string { return fmt.Sprint(v) }
