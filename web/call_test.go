package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"github.com/telehealth-bridge/telehealth-bridge/internal/bridgetest"
	"github.com/telehealth-bridge/telehealth-bridge/internal/callclient"
	"github.com/telehealth-bridge/telehealth-bridge/web"
)

// TestCallThroughTheBridge: a guest let in gets a credential and a call with the clinician;
// the clinician's connection makes the session live; the guest removed is cut off at once.
func TestCallThroughTheBridge(t *testing.T) {
	s := newSite(t)
	sess, token := s.guestSession(bridge.ParticipantRequest{Name: "JD"})
	s.openWindow(sess)
	var st web.CallState
	s.call("POST", "/api/call/knock", token, map[string]string{"name": "Jane"}, &st)
	var e apiErr
	if code := s.call("POST", "/api/call/join", token, struct{}{}, &e); code != http.StatusForbidden {
		t.Fatalf("a waiting guest got a credential: %d", code)
	}

	// The clinician enters from the panel's Enter Meeting.
	control := roomWithBot(t, s)
	s.login(control)
	var enter struct {
		URL string `json:"url"`
	}
	s.call("POST", "/api/panel/sessions/"+sess.ID+"/enter", "", struct{}{}, &enter)
	hostToken := enter.URL[strings.Index(enter.URL, "#")+1:]
	var hostAccess web.CallAccess
	if code := s.call("POST", "/api/call/join", hostToken, struct{}{}, &hostAccess); code != 200 || !hostAccess.Host {
		t.Fatalf("the clinician's credential: %d %+v", code, hostAccess)
	}
	api, err := callclient.NewAPI("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var fromGuest callclient.Counter
	host, err := callclient.Dial(ctx, api, hostAccess.WebSocket, sess.ID, hostAccess.Credential, callclient.Options{Publish: true, OnPacket: fromGuest.Add})
	if err != nil {
		t.Fatal(err)
	}
	defer host.Close()
	bridgetest.Eventually(t, wait, "the session to go live with the clinician present", func() bool {
		got, _ := s.env.App.Sessions.Session(ctx, sess.ID)
		return got.Status == bridge.StatusLive && got.ClinicianPresent
	})
	// The host's call page shows the lobby.
	bridgetest.Eventually(t, wait, "the lobby on the host's socket", func() bool {
		for _, m := range host.Messages() {
			if m["type"] == "lobby" && strings.Contains(jsonText(m), `"state":"waiting"`) {
				return true
			}
		}
		return false
	})
	// Admit from the call's own signalling.
	host.Send(map[string]any{"type": "host", "command": "admit", "participant": "1"})
	s.call("GET", "/api/call/state?after="+itoa(st.Version), token, nil, &st)
	defer func() {
		if t.Failed() {
			for _, m := range host.Messages() {
				t.Logf("host got %s", jsonText(m))
			}
		}
	}()
	bridgetest.Eventually(t, wait, "the guest to be in", func() bool {
		s.call("GET", "/api/call/state", token, nil, &st)
		return st.Me.CanJoinCall
	})
	var access web.CallAccess
	if code := s.call("POST", "/api/call/join", token, struct{}{}, &access); code != 200 || access.Host {
		t.Fatalf("the guest's credential: %d %+v", code, access)
	}
	var fromHost callclient.Counter
	guest, err := callclient.Dial(ctx, api, access.WebSocket, sess.ID, access.Credential, callclient.Options{Publish: true, OnPacket: fromHost.Add})
	if err != nil {
		t.Fatal(err)
	}
	defer guest.Close()
	stop := make(chan struct{})
	defer close(stop)
	stream(host, stop)
	stream(guest, stop)
	bridgetest.Eventually(t, wait, "media both ways", func() bool {
		return fromHost.Get(s.clinician.UserID.String()+" camera") > 10 && fromGuest.Get(access.UserID+" camera") > 10
	})

	// Both connections and the admission made from the call are in the audit trail.
	bridgetest.Eventually(t, wait, "the call's connections in the audit trail", func() bool {
		return s.env.Audited(t, s.clinician.UserID.String(), bridge.AuditCallJoined, sess.ID, map[string]string{"role": "host", "via": "call"}) &&
			s.env.Audited(t, access.UserID, bridge.AuditCallJoined, sess.ID, map[string]string{"role": "participant"})
	})
	if !s.env.Audited(t, s.clinician.UserID.String(), bridge.AuditAdmit, sess.ID, map[string]string{"via": "call"}) {
		t.Error("the admission from the call is not in the audit trail")
	}

	// Removed: the guest's call closes within a second.
	start := time.Now()
	if _, err = s.env.App.Sessions.Remove(ctx, s.clinician.UserID.String(), sess.ID, "1"); err != nil {
		t.Fatal(err)
	}
	select {
	case <-guest.Closed():
	case <-time.After(time.Second):
		t.Fatal("the removed guest's call stayed open")
	}
	t.Logf("removal closed the call in %s", time.Since(start))
	// And their old credential no longer connects.
	if _, err = callclient.Dial(ctx, api, access.WebSocket, sess.ID, access.Credential, callclient.Options{}); err == nil {
		t.Error("a removed guest reconnected with their credential")
	}
	// End for all closes the clinician's call too.
	if _, err = s.env.App.Sessions.End(ctx, s.clinician.UserID.String(), sess.ID); err != nil {
		t.Fatal(err)
	}
	select {
	case <-host.Closed():
	case <-time.After(time.Second):
		t.Fatal("the clinician's call stayed open after the end")
	}
}

// TestCallJoinGivesAListOfICEServers: without TURN, ice_servers is an empty list, never null
// (docs/web-api.md; RTCConfiguration.iceServers does not take null).
func TestCallJoinGivesAListOfICEServers(t *testing.T) {
	s := newSite(t)
	if s.env.Config.Media.TURN.Enabled {
		t.Fatal("this test needs TURN off, the default")
	}
	sess, _ := s.guestSession(bridge.ParticipantRequest{Name: "JD"})
	s.openWindow(sess)
	s.login(roomWithBot(t, s))
	var enter struct {
		URL string `json:"url"`
	}
	s.call("POST", "/api/panel/sessions/"+sess.ID+"/enter", "", struct{}{}, &enter)
	hostToken := enter.URL[strings.Index(enter.URL, "#")+1:]
	var raw map[string]json.RawMessage
	if code := s.call("POST", "/api/call/join", hostToken, struct{}{}, &raw); code != 200 {
		t.Fatalf("the clinician's credential: %d", code)
	}
	if got := string(raw["ice_servers"]); got != "[]" {
		t.Errorf(`ice_servers is %s, want []`, got)
	}
}
