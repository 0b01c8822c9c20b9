package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"github.com/telehealth-bridge/telehealth-bridge/internal/callclient"
	"github.com/telehealth-bridge/telehealth-bridge/web"
)

// TestConnectionCheck: "Test my setup" gets a call of its own (any valid link, before being let
// in): ICE connects to the SFU through it; its credential never opens the session's own call,
// and nobody without a valid link gets one.
func TestConnectionCheck(t *testing.T) {
	s := newSite(t)
	sess, token := s.guestSession(bridge.ParticipantRequest{Name: "Jane Doe"})
	var e apiErr
	if code := s.call("POST", "/api/call/check", "", struct{}{}, &e); code != http.StatusUnauthorized {
		t.Errorf("a check without a link: %d %+v", code, e)
	}
	forged := token[:strings.LastIndex(token, ".")+1] + "AAAAAAAAAAAAAAAAAAAAAA"
	if code := s.call("POST", "/api/call/check", forged, struct{}{}, &e); code != http.StatusForbidden {
		t.Errorf("a check with a forged link: %d %+v", code, e)
	}
	var access web.CallAccess
	if code := s.call("POST", "/api/call/check", token, struct{}{}, &access); code != http.StatusOK {
		t.Fatalf("a booked guest's check: %d", code)
	}
	if !strings.HasPrefix(access.Session, web.CheckSessionPrefix) || access.Session == sess.ID || access.Host || access.ICEServers == nil {
		t.Fatalf("the check's access: %+v", access)
	}
	api, err := callclient.NewAPI("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	// Into the session's own call with the check's credential: refused.
	if c, err := callclient.Dial(ctx, api, access.WebSocket, sess.ID, access.Credential, callclient.Options{}); err == nil {
		c.Close()
		t.Fatal("a check's credential opened the session's call")
	}
	// Its own call connects.
	c, err := callclient.Dial(ctx, api, access.WebSocket, access.Session, access.Credential, callclient.Options{})
	if err != nil {
		t.Fatalf("the check's own call: %v", err)
	}
	c.Close()
	// A check is nobody's presence: the session did not go live, nothing was audited for it.
	got, _ := s.env.App.Sessions.Session(ctx, sess.ID)
	if got.Status == bridge.StatusLive || got.ClinicianPresent {
		t.Errorf("a check changed the session: %s", got.Status)
	}
}
