package web_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"github.com/telehealth-bridge/telehealth-bridge/internal/bridgetest"
	"github.com/telehealth-bridge/telehealth-bridge/web"
)

// hostActions are every action of POST /api/call/host/{action} (bridge.HostAction), with the
// spellings the signalling also accepts, and one the bridge does not know.
var hostActions = []string{
	"admit", "admit-anyway", "admit_anyway", "waive", "deny", "remove", "send-back", "send_back",
	"ban", "admit-all", "admit_all", "message", "start", "end", "cancel", "no-such-action",
}

// sessionWithJane books a session at 15:00 Paris with a web-link guest (participant 1) and
// Jane, who has a Matrix account (participant 2); it returns the session and the guest's token.
func (s *site) sessionWithJane(jane *mautrix.Client) (*bridge.Session, string) {
	s.t.Helper()
	ctx := context.Background()
	sess, err := s.env.App.Sessions.Schedule(ctx, bridge.ScheduleRequest{
		Clinician: s.clinician.UserID.String(), Start: time.Date(2026, 11, 24, 14, 0, 0, 0, time.UTC),
		End: time.Date(2026, 11, 24, 14, 50, 0, 0, time.UTC), TimeZone: "Europe/Paris",
		Participants: []bridge.ParticipantRequest{{Name: "JD"}, {Name: "Jane", MatrixID: jane.UserID.String()}},
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

// widgetToken signs a Matrix user in to a session's call page from the widget (OpenID).
func (s *site) widgetToken(user *mautrix.Client, sess *bridge.Session) string {
	s.t.Helper()
	openid, err := user.RequestOpenIDToken(context.Background())
	if err != nil {
		s.t.Fatal(err)
	}
	var login web.WidgetLogin
	body := map[string]any{"access_token": openid.AccessToken, "matrix_server_name": openid.MatrixServerName, "session_id": sess.ID}
	if code := s.call("POST", "/api/widget/login", "", body, &login); code != 200 || login.CallToken == "" {
		s.t.Fatalf("widget sign-in of %s: %d %+v", user.UserID, code, login)
	}
	return login.CallToken
}

// lobbySnapshot is what the host actions could change: the session's status, presence and
// lobby message, and every participant's state.
func (s *site) lobbySnapshot(sess *bridge.Session) string {
	s.t.Helper()
	got, ps, err := s.env.App.Sessions.Lobby(context.Background(), "", sess.ID)
	if err != nil {
		s.t.Fatal(err)
	}
	out := fmt.Sprintf("status=%s present=%v message=%q", got.Status, got.ClinicianPresent, got.LobbyMessage)
	for _, p := range ps {
		out += fmt.Sprintf(" %d=%s", p.Number, p.State)
	}
	return out
}

// TestCallHostActionsAreTheHosts: every action under /api/call/host/ is the session's
// clinician's. A waiting guest's link, a participant's call page signed in from the widget
// (let in, in the call), another clinician's call page for this session and no token at all
// are refused, whatever the action, and nothing changes. The clinician's own call page admits.
func TestCallHostActionsAreTheHosts(t *testing.T) {
	s := newSite(t)
	ctx := context.Background()
	jane := s.env.User(t, "jane")
	sess, guest := s.sessionWithJane(jane)
	s.openWindow(sess)
	var st web.CallState
	if code := s.call("POST", "/api/call/knock", guest, map[string]string{"name": "Jane Doe"}, &st); code != 200 || st.Me.State != "waiting" {
		t.Fatalf("knock: %d %+v", code, st.Me)
	}
	// Jane is let in and joins from her Matrix app: a participant in the call.
	if _, err := s.env.App.Sessions.Admit(ctx, s.clinician.UserID.String(), sess.ID, "2"); err != nil {
		t.Fatal(err)
	}
	if _, err := jane.JoinRoomByID(ctx, id.RoomID(sess.RoomID)); err != nil {
		t.Fatal(err)
	}
	janeToken := s.widgetToken(jane, sess)
	bridgetest.Eventually(t, wait, "Jane in the session", func() bool {
		s.call("GET", "/api/call/state", janeToken, nil, &st)
		return st.Me.State == "in_session"
	})
	drOther := s.env.User(t, "dr.other").UserID.String()
	callers := []struct {
		who, token string
		status     int
		code       string
	}{
		{"a waiting guest", guest, http.StatusForbidden, "host_only"},
		{"a participant in the call (widget)", janeToken, http.StatusForbidden, "host_only"},
		{"a participant in the call (join link)", s.callTokenFor(jane.UserID.String(), sess), http.StatusForbidden, "host_only"},
		{"another clinician", s.callTokenFor(drOther, sess), http.StatusForbidden, "host_only"},
		{"anonymous", "", http.StatusUnauthorized, "signed_out"},
	}
	before := s.lobbySnapshot(sess)
	for _, c := range callers {
		for _, action := range hostActions {
			for _, target := range []string{"1", "2"} {
				var e apiErr
				code := s.call("POST", "/api/call/host/"+action, c.token, map[string]string{"participant": target, "text": "Go home"}, &e)
				if code != c.status || e.Code != c.code {
					t.Errorf("%s: %s of participant %s: %d %+v, want %d %s", c.who, action, target, code, e, c.status, c.code)
				}
			}
		}
	}
	if after := s.lobbySnapshot(sess); after != before {
		t.Errorf("the refused host actions changed the session:\n before %s\n after  %s", before, after)
	}
	if s.call("GET", "/api/call/state", guest, nil, &st); st.Me.State != "waiting" || st.Session.Status != "open" {
		t.Errorf("the guest's page after the refused actions: %s %+v", st.Session.Status, st.Me)
	}

	// The clinician's call page lets the guest in with the same request.
	host := s.callTokenFor(s.clinician.UserID.String(), sess)
	var hostSt web.CallState
	if code := s.call("POST", "/api/call/host/admit", host, map[string]string{"participant": "1"}, &hostSt); code != 200 || !hostSt.Me.Host {
		t.Fatalf("the host's admit: %d %+v", code, hostSt.Me)
	}
	bridgetest.Eventually(t, wait, "the guest to be let in by the host", func() bool {
		s.call("GET", "/api/call/state", guest, nil, &st)
		return st.Me.State == "in_session" || st.Me.State == "admitted"
	})
}

// TestCallJoinNeedsTheRoom: a Matrix participant let in (invited) who has not joined the
// room yet gets no call credential, only the API's refusal; once they joined, they get one.
func TestCallJoinNeedsTheRoom(t *testing.T) {
	s := newSite(t)
	ctx := context.Background()
	jane := s.env.User(t, "jane")
	sess, _ := s.sessionWithJane(jane)
	s.openWindow(sess)
	token := s.callTokenFor(jane.UserID.String(), sess)
	if _, err := s.env.App.Sessions.Admit(ctx, s.clinician.UserID.String(), sess.ID, "2"); err != nil {
		t.Fatal(err)
	}
	var st web.CallState
	if s.call("GET", "/api/call/state", token, nil, &st); st.Me.State != "admitted" || st.Me.CanJoinCall {
		t.Errorf("invited, not joined: %+v", st.Me)
	}
	var body map[string]any
	// Failures name the keys, never a credential's value.
	if code := s.call("POST", "/api/call/join", token, struct{}{}, &body); code != http.StatusForbidden || body["code"] != "not_admitted" {
		t.Errorf("invited, not joined, asking to join the call: %d, code %v", code, body["code"])
	}
	for _, key := range []string{"credential", "ws_url", "livekit", "ice_servers"} {
		if _, ok := body[key]; ok {
			t.Errorf("the answer to someone invited, not joined, carries %q", key)
		}
	}

	// Joined the room: in the session, and a credential.
	if _, err := jane.JoinRoomByID(ctx, id.RoomID(sess.RoomID)); err != nil {
		t.Fatal(err)
	}
	bridgetest.Eventually(t, wait, "Jane in the session", func() bool {
		s.call("GET", "/api/call/state", token, nil, &st)
		return st.Me.State == "in_session"
	})
	var access web.CallAccess
	if code := s.call("POST", "/api/call/join", token, struct{}{}, &access); code != 200 || access.Credential == "" || access.Host {
		t.Errorf("joined, asking to join the call: %d, credential given %v, host %v", code, access.Credential != "", access.Host)
	}
}

// TestCallTokenEndsWithTheSession: a call page token (the widget's sign-in, or a join link's)
// works until the session's end plus web.link_grace, and not a second later.
func TestCallTokenEndsWithTheSession(t *testing.T) {
	s := newSite(t)
	ctx := context.Background()
	jane := s.env.User(t, "jane")
	// Half an hour from the test clock's 09:00, so that nothing but the token's expiry is
	// at stake: the hourly pruner, whose next run is at 10:00 and 11:00, deletes only
	// what expired before its run.
	sess, err := s.env.App.Sessions.Schedule(ctx, bridge.ScheduleRequest{
		Clinician: s.clinician.UserID.String(), Start: time.Date(2026, 11, 24, 9, 30, 0, 0, time.UTC),
		End: time.Date(2026, 11, 24, 9, 40, 0, 0, time.UTC), TimeZone: "Europe/Paris",
		Participants: []bridge.ParticipantRequest{{Name: "Jane", MatrixID: jane.UserID.String()}},
	})
	if err != nil {
		t.Fatal(err)
	}
	tokens := map[string]string{"widget": s.widgetToken(jane, sess), "join link": s.callTokenFor(jane.UserID.String(), sess)}
	grace := s.env.Config.Web.LinkGrace
	if grace == 0 {
		grace = 2 * time.Hour // web.Server's default
	}
	expires := sess.End.Add(grace)
	s.clock.Advance(expires.Add(-time.Second).Sub(s.clock.Now()))
	for kind, token := range tokens {
		var st web.CallState
		if code := s.call("GET", "/api/call/state", token, nil, &st); code != 200 || st.Me.Name != "Jane" {
			t.Errorf("%s token a second before the session's end plus %s: %d %+v", kind, grace, code, st.Me)
		}
	}
	s.clock.Advance(2 * time.Second)
	for kind, token := range tokens {
		var e apiErr
		if code := s.call("GET", "/api/call/state", token, nil, &e); code != http.StatusUnauthorized || e.Code != "signed_out" {
			t.Errorf("%s token a second after the session's end plus %s: %d %+v", kind, grace, code, e)
		}
		if code := s.call("POST", "/api/call/join", token, struct{}{}, &e); code != http.StatusUnauthorized {
			t.Errorf("%s token asking to join a second after: %d %+v", kind, code, e)
		}
	}
}
