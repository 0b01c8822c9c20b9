package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix/id"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"github.com/telehealth-bridge/telehealth-bridge/internal/bridgetest"
	"github.com/telehealth-bridge/telehealth-bridge/internal/callclient"
	"github.com/telehealth-bridge/telehealth-bridge/media"
	"github.com/telehealth-bridge/telehealth-bridge/web"
)

// twoGuests books a session with two web-link guests and returns their link tokens.
func (s *site) twoGuests() (*bridge.Session, string, string) {
	s.t.Helper()
	ctx := context.Background()
	sess, err := s.env.App.Sessions.Schedule(ctx, bridge.ScheduleRequest{
		Clinician: s.clinician.UserID.String(), Start: time.Date(2026, 11, 24, 14, 0, 0, 0, time.UTC),
		End: time.Date(2026, 11, 24, 14, 50, 0, 0, time.UTC), TimeZone: "Europe/Paris",
		Participants: []bridge.ParticipantRequest{{Name: "Jane Doe"}, {Name: "Ann Lee"}},
	})
	if err != nil {
		s.t.Fatal(err)
	}
	if _, err = s.clinician.JoinRoomByID(ctx, id.RoomID(sess.RoomID)); err != nil {
		s.t.Fatal(err)
	}
	_, ps, _ := s.env.App.Sessions.Lobby(ctx, "", sess.ID)
	var tokens []string
	for _, p := range ps {
		link, err := s.env.App.Web.ParticipantLink(ctx, sess, p)
		if err != nil {
			s.t.Fatal(err)
		}
		tokens = append(tokens, link[strings.LastIndex(link, "/")+1:])
	}
	return sess, tokens[0], tokens[1]
}

// TestWaitingConnectionThroughTheBridge: a guest who knocked connects to the call while
// waiting; nothing reaches or leaves that connection (counted at the clients and at the SFU);
// let in, the same connection carries the call. Only a participant waiting on that session
// gets a waiting credential; it opens nothing in another session, and a denied or withdrawn
// knock closes the connection at once and leaves the credential useless.
func TestWaitingConnectionThroughTheBridge(t *testing.T) {
	s := newSite(t)
	sess, jane, ann := s.twoGuests()
	s.openWindow(sess)
	other, otherToken := s.guestSession(bridge.ParticipantRequest{Name: "Eve Noor"})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	// Who may ask: nobody before knocking, no anonymous caller, not the clinician.
	var e apiErr
	if code := s.call("POST", "/api/call/prepare", jane, struct{}{}, &e); code != http.StatusForbidden || e.Code != "not_waiting" {
		t.Errorf("before knocking: %d %s", code, e.Code)
	}
	if code := s.call("POST", "/api/call/prepare", "", struct{}{}, &e); code != http.StatusUnauthorized {
		t.Errorf("anonymous: %d", code)
	}
	control := roomWithBot(t, s)
	s.login(control)
	var enter struct {
		URL string `json:"url"`
	}
	s.call("POST", "/api/panel/sessions/"+sess.ID+"/enter", "", struct{}{}, &enter)
	hostToken := enter.URL[strings.Index(enter.URL, "#")+1:]
	if code := s.call("POST", "/api/call/prepare", hostToken, struct{}{}, &e); code != http.StatusForbidden {
		t.Errorf("the clinician got a waiting credential: %d", code)
	}

	var st web.CallState
	for _, tok := range []string{jane, ann} {
		if code := s.call("POST", "/api/call/knock", tok, map[string]string{"name": "Guest"}, &st); code != 200 || st.Me.State != "waiting" || !st.Me.CanPrepareCall {
			t.Fatalf("knocking: %d %+v", code, st.Me)
		}
	}
	var janeAccess, annAccess web.CallAccess
	if code := s.call("POST", "/api/call/prepare", jane, struct{}{}, &janeAccess); code != 200 || janeAccess.Host {
		t.Fatalf("jane's waiting credential: %d %+v", code, janeAccess)
	}
	s.call("POST", "/api/call/prepare", ann, struct{}{}, &annAccess)
	claims, err := media.Verify([]byte(s.env.Config.Media.CredentialSecret), janeAccess.Credential, s.clock.Now())
	if err != nil || !claims.Waiting || claims.Host || claims.Session != sess.ID || claims.User != janeAccess.UserID ||
		time.Unix(claims.Expires, 0).Sub(s.clock.Now()) > 5*time.Minute {
		t.Fatalf("jane's waiting credential says %+v (%v)", claims, err)
	}

	api, err := callclient.NewAPI("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	dial := func(session, credential string, onPacket func(callclient.Packet)) (*callclient.Client, error) {
		return callclient.Dial(ctx, api, janeAccess.WebSocket, session, credential, callclient.Options{Publish: true, OnPacket: onPacket})
	}
	// Another session's call, with jane's or ann's credential: refused. Eve, waiting in her own
	// session, gets a credential for hers only.
	if c, err := dial(other.ID, janeAccess.Credential, nil); err == nil {
		c.Close()
		t.Error("jane's waiting credential opened another session's call")
	}
	s.openWindow(other)
	s.call("POST", "/api/call/knock", otherToken, map[string]string{"name": "Eve"}, &st)
	var eveAccess web.CallAccess
	s.call("POST", "/api/call/prepare", otherToken, struct{}{}, &eveAccess)
	if c, err := dial(sess.ID, eveAccess.Credential, nil); err == nil {
		c.Close()
		t.Error("another session's participant connected to this session with their waiting credential")
	}

	// The clinician is in and publishes; jane waits connected (and sends, as a broken page might).
	var atHost, atJane callclient.Counter
	host, err := dial(sess.ID, s.env.App.Calls.Credential(sess.ID, s.clinician.UserID.String(), true), atHost.Add)
	if err != nil {
		t.Fatal(err)
	}
	defer host.Close()
	janeCall, err := dial(sess.ID, janeAccess.Credential, atJane.Add)
	if err != nil {
		t.Fatal(err)
	}
	defer janeCall.Close()
	annCall, err := dial(sess.ID, annAccess.Credential, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer annCall.Close()
	stop := make(chan struct{})
	defer close(stop)
	stream(host, stop)
	<-janeCall.Connected()
	stream(janeCall, stop)
	bridgetest.Eventually(t, wait, "the SFU to drop what jane sends while waiting", func() bool {
		return s.env.App.Calls.Stats().Dropped[media.DropWaiting] > 40
	})
	if n := janeCall.Received() + host.Received(); n != 0 || atHost.Get(janeAccess.UserID+" camera") != 0 {
		t.Errorf("%d media packets reached or left a waiting connection", n)
	}
	if st := s.env.App.Calls.Stats(); st.PacketsOut != 0 || st.Waiting != 2 {
		t.Errorf("the SFU sent %d packets, holds %d waiting connections (want 0 and 2)", st.PacketsOut, st.Waiting)
	}
	// Asking to enter before being let in is refused (ann's connection closes).
	annCall.Enter()
	select {
	case <-annCall.Closed():
	case <-time.After(5 * time.Second):
		t.Fatal("a waiting guest entered the call without being let in")
	}

	// Let in: the bridge moves the same connection into the call, without the page asking.
	host.Send(map[string]any{"type": "host", "command": "admit", "participant": "1"})
	select {
	case <-janeCall.Joined():
	case <-time.After(10 * time.Second):
		t.Fatalf("jane was not let into the call: %s", janeCall.Reason())
	}
	s.call("GET", "/api/call/state", jane, nil, &st)
	if st.Me.State != string(bridge.StateAdmitted) && st.Me.State != string(bridge.StateInSession) {
		t.Errorf("jane's connection entered the call before she was let in: %+v", st.Me)
	}
	janeCall.Enter() // the page's own request, once it hears: nothing more happens
	bridgetest.Eventually(t, wait, "media both ways", func() bool {
		return atJane.Get(s.clinician.UserID.String()+" camera") > 10 && atHost.Get(janeAccess.UserID+" camera") > 10
	})

	// Ann waits connected again (a new credential); denied, her connection closes at once and
	// a credential she got before no longer connects.
	var again web.CallAccess
	s.call("POST", "/api/call/prepare", ann, struct{}{}, &again)
	spare := again.Credential
	annCall, err = dial(sess.ID, again.Credential, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer annCall.Close()
	<-annCall.Connected()
	start := time.Now()
	if _, err = s.env.App.Sessions.Deny(ctx, s.clinician.UserID.String(), sess.ID, "2"); err != nil {
		t.Fatal(err)
	}
	select {
	case <-annCall.Closed():
	case <-time.After(time.Second):
		t.Fatal("the denied guest's waiting connection stayed open")
	}
	t.Logf("the denial closed the waiting connection in %s", time.Since(start))
	if c, err := dial(sess.ID, spare, nil); err == nil {
		c.Close()
		t.Error("a denied guest connected with their waiting credential")
	}
	if code := s.call("POST", "/api/call/prepare", ann, struct{}{}, &e); code != http.StatusForbidden {
		t.Errorf("a denied guest got a waiting credential: %d", code)
	}

	// Eve withdraws her knock: her waiting connection closes, her credential is useless.
	eveCall, err := dial(other.ID, eveAccess.Credential, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer eveCall.Close()
	s.call("POST", "/api/call/prepare", otherToken, struct{}{}, &eveAccess)
	s.call("POST", "/api/call/leave", otherToken, struct{}{}, &st)
	select {
	case <-eveCall.Closed():
	case <-time.After(5 * time.Second):
		t.Fatal("a withdrawn knock's waiting connection stayed open")
	}
	if c, err := dial(other.ID, eveAccess.Credential, nil); err == nil {
		c.Close()
		t.Error("a withdrawn knock's credential connected")
	}
}
