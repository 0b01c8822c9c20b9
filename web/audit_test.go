package web_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"github.com/telehealth-bridge/telehealth-bridge/internal/hstest"
	"github.com/telehealth-bridge/telehealth-bridge/web"
)

// What a compliance officer reads in the audit trail after a clinician's morning on the panel:
// the sign-in, the links made and withdrawn, the looks at the lobby, the sign-out; and a
// patient's refused attempt to open the panel from the widget. Nothing anonymous is recorded.
func TestPanelActionsAreAudited(t *testing.T) {
	s := newSiteWith(t, func(cfg map[string]any) {
		cfg["permissions"] = map[string]any{"@dr.martin:" + hstest.ServerName: "clinician"}
	})
	ctx := context.Background()
	dr := s.clinician.UserID.String()
	sess, _ := s.guestSession(bridge.ParticipantRequest{Name: "Jane Doe"})

	control := roomWithBot(t, s)
	s.login(control)
	if !s.env.Audited(t, dr, bridge.AuditLinkIssued, "", map[string]string{"kind": "login", "via": "matrix"}) {
		t.Error("the !login link is not in the audit trail")
	}
	if !s.env.Audited(t, dr, bridge.AuditSignIn, "", map[string]string{"kind": "panel", "via": "link"}) {
		t.Error("the panel sign-in is not in the audit trail")
	}
	if !s.env.Audited(t, s.env.App.Matrix.Bot().String(), bridge.AuditLinkIssued, sess.ID, map[string]string{"kind": "guest"}) {
		t.Error("the guest's first link is not in the audit trail")
	}

	var view web.PanelSession
	if code := s.call("GET", "/api/panel/sessions/"+sess.ID, "", nil, &view); code != 200 {
		t.Fatalf("lobby: %d", code)
	}
	before := len(s.env.AuditTrail(t))
	if code := s.call("GET", "/api/panel/sessions/"+sess.ID+"?after=0", "", nil, &view); code != 200 {
		t.Fatalf("lobby refresh: %d", code)
	}
	if !s.env.Audited(t, dr, bridge.AuditParticipantDataViewed, sess.ID, map[string]string{"view": "lobby", "via": "panel"}) {
		t.Error("opening the lobby is not in the audit trail")
	}
	if after := len(s.env.AuditTrail(t)); after != before {
		t.Errorf("a refresh of an open lobby added %d audit rows, want 0", after-before)
	}

	for _, action := range []string{"link", "revoke"} {
		if code := s.call("POST", "/api/panel/sessions/"+sess.ID+"/"+action, "", map[string]string{"participant": "1"}, &view); code != 200 {
			t.Fatalf("%s: %d", action, code)
		}
	}
	if !s.env.Audited(t, dr, bridge.AuditLinkIssued, sess.ID, map[string]string{"kind": "guest", "via": "panel"}) ||
		!s.env.Audited(t, dr, bridge.AuditLinkWithdrawn, sess.ID, map[string]string{"kind": "guest", "via": "panel"}) {
		t.Error("the new and the withdrawn guest link are not in the audit trail")
	}

	if code := s.call("POST", "/api/panel/logout", "", struct{}{}, nil); code != 200 && code != http.StatusNoContent {
		t.Fatalf("logout: %d", code)
	}
	if !s.env.Audited(t, dr, bridge.AuditSignOut, "", map[string]string{"kind": "panel", "via": "panel"}) {
		t.Error("the sign-out is not in the audit trail")
	}

	// A patient asks the widget for the panel: refused, and recorded under their name.
	jane := s.env.User(t, "jane")
	openid, err := jane.RequestOpenIDToken(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var e apiErr
	body := map[string]any{"access_token": openid.AccessToken, "matrix_server_name": openid.MatrixServerName, "panel": true}
	if code := s.call("POST", "/api/widget/login", "", body, &e); code != http.StatusForbidden {
		t.Fatalf("a patient's panel sign-in from the widget: %d %+v", code, e)
	}
	if !s.env.Audited(t, jane.UserID.String(), bridge.AuditSignInRefused, "", map[string]string{"kind": "panel", "reason": "not_clinician", "via": "widget"}) {
		t.Error("the refused panel sign-in is not in the audit trail")
	}
	// Forged tokens from anyone are not: the trail is never pruned and anyone can send them.
	before = len(s.env.AuditTrail(t))
	for range 5 {
		s.call("GET", "/api/call/state", sess.ID+".forged.token", nil, &e)
	}
	if after := len(s.env.AuditTrail(t)); after != before {
		t.Errorf("forged tokens added %d audit rows", after-before)
	}
	// The trail holds.
	if n, broken, err := s.env.App.DB.Audit.Verify(ctx); err != nil || broken != nil {
		t.Errorf("verify after %d rows: %v %v", n, broken, err)
	}
}
