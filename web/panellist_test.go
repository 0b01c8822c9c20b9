package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"github.com/telehealth-bridge/telehealth-bridge/internal/bridgetest"
	"github.com/telehealth-bridge/telehealth-bridge/web"
)

// TestPanelListFollowsEachChange: the panel's list shows every change of a session (a knock, a
// payment settled, a link withdrawn, a denial) and wakes the panels waiting on it, though the
// list makes a session's view again only when the session changed (web/panel.go panelListed),
// and only patches it when its people changed: each list read equals one made afresh.
func TestPanelListFollowsEachChange(t *testing.T) {
	s, _ := paymentSite(t, false)
	ctx := context.Background()
	service := &bridge.PricedService{Name: "Consultation", Duration: time.Hour, Price: 5000, Currency: "eur", UpdatedBy: "@boss:x", UpdatedAt: s.clock.Now()}
	if err := s.env.App.DB.Store().PutPricedService(ctx, service); err != nil {
		t.Fatal(err)
	}
	sess, token := s.paidSession(service.ID, 5000)
	s.signInDirect()
	type list struct {
		Sessions []web.PanelSession `json:"sessions"`
		Version  uint64             `json:"version"`
	}
	// read returns the list, and what it shows as JSON (its versions left out: the first
	// reading of a session makes its participants' links, which moves its version).
	read := func(path string) (list, string) {
		t.Helper()
		var l list
		if code := s.call("GET", path, "", nil, &l); code != 200 {
			t.Fatalf("the list: %d", code)
		}
		shown := slices.Clone(l.Sessions)
		for i := range shown {
			shown[i].Version = 0
		}
		data, err := json.Marshal(shown)
		if err != nil {
			t.Fatal(err)
		}
		return l, string(data)
	}
	// listed reads the list as the panel does, and checks it against a list made afresh: the
	// view of a session whose people changed is patched in memory (web/panel.go patchPanel).
	listed := func() web.ParticipantView {
		t.Helper()
		l, kept := read("/api/panel/sessions")
		s.env.App.Web.ForgetPanelViews()
		if _, fresh := read("/api/panel/sessions"); fresh != kept {
			t.Errorf("the list differs from one made afresh:\n%s\n%s", kept, fresh)
		}
		for _, v := range l.Sessions {
			if v.Session.ID == sess.ID && len(v.Participants) == 1 {
				return v.Participants[0]
			}
		}
		t.Fatalf("the session is not in the list: %+v", l.Sessions)
		return web.ParticipantView{}
	}
	if p := listed(); p.State != "waiting" || p.Payment == nil || p.Payment.Status != "due" || p.Link == "" {
		t.Fatalf("waiting, payment due, with a link: %+v", p)
	}
	// Read twice with nothing changed: the same.
	if p := listed(); p.State != "waiting" || p.Payment == nil || p.Payment.Status != "due" {
		t.Fatalf("read again: %+v", p)
	}
	// A panel following its list (long polls, as the page does) shows the payment at once, once
	// the session's notices are through (each one not sent wakes the panels, and would show
	// the payment with it).
	bridgetest.Eventually(t, 10*time.Second, "the session's notices handled", func() bool {
		notices, err := s.env.App.DB.Outbox.ForSession(ctx, sess.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range notices {
			if n.Status == bridge.NotificationSending || n.Status == bridge.NotificationPending && !n.Due.After(s.clock.Now()) {
				return false
			}
		}
		return true
	})
	before, _ := read("/api/panel/sessions")
	shown := make(chan bool, 1)
	go func() {
		for version, deadline := before.Version, time.Now().Add(10*time.Second); time.Now().Before(deadline); {
			var l list
			if s.call("GET", fmt.Sprintf("/api/panel/sessions?after=%d", version), "", nil, &l) != 200 {
				break
			}
			version = l.Version
			for _, v := range l.Sessions {
				if v.Session.ID == sess.ID && v.Participants[0].Payment != nil && v.Participants[0].Payment.Status == "paid" {
					shown <- true
					return
				}
			}
		}
		shown <- false
	}()
	if _, err := s.env.App.Sessions.MarkPaid(ctx, s.clinician.UserID.String(), sess.ID, "1", "cash"); err != nil {
		t.Fatal(err)
	}
	if !<-shown {
		t.Error("a panel following its list did not show the payment within 10 s")
	}
	if p := listed(); p.Payment == nil || p.Payment.Status != "paid" {
		t.Errorf("after the payment: %+v", p.Payment)
	}
	if err := s.env.App.Sessions.HostAction(ctx, s.clinician.UserID.String(), sess.ID, "deny", "1", ""); err != nil {
		t.Fatal(err)
	}
	if p := listed(); p.State != "denied" {
		t.Errorf("after the denial: %s", p.State)
	}
	// Denied, she asks again: the view is patched back to waiting.
	if code := s.call("POST", "/api/call/knock", token, map[string]string{"name": "Jane"}, nil); code != 200 {
		t.Fatalf("knock again: %d", code)
	}
	if p := listed(); p.State != "waiting" {
		t.Errorf("after knocking again: %s", p.State)
	}
	if code := s.call("POST", "/api/panel/sessions/"+sess.ID+"/revoke", "", map[string]string{"participant": "1"}, nil); code != 200 {
		t.Fatalf("revoke: %d", code)
	}
	if p := listed(); p.Link != "" {
		t.Errorf("the withdrawn link is still listed: %q", p.Link)
	}
}
