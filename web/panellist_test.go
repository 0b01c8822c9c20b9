package web_test

import (
	"context"
	"testing"
	"time"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"github.com/telehealth-bridge/telehealth-bridge/web"
)

// TestPanelListFollowsEachChange: the panel's list shows every change of a session, whether it
// wakes the panels (a knock) or not (a payment settled, a link withdrawn), though the list
// makes a session's view again only when the session changed (web/panel.go panelListed).
func TestPanelListFollowsEachChange(t *testing.T) {
	s, _ := paymentSite(t, false)
	ctx := context.Background()
	service := &bridge.PricedService{Name: "Consultation", Duration: time.Hour, Price: 5000, Currency: "eur", UpdatedBy: "@boss:x", UpdatedAt: s.clock.Now()}
	if err := s.env.App.DB.Store().PutPricedService(ctx, service); err != nil {
		t.Fatal(err)
	}
	sess, _ := s.paidSession(service.ID, 5000)
	s.signInDirect()
	listed := func() web.ParticipantView {
		t.Helper()
		var list struct {
			Sessions []web.PanelSession `json:"sessions"`
		}
		if code := s.call("GET", "/api/panel/sessions", "", nil, &list); code != 200 {
			t.Fatalf("the list: %d", code)
		}
		for _, v := range list.Sessions {
			if v.Session.ID == sess.ID && len(v.Participants) == 1 {
				return v.Participants[0]
			}
		}
		t.Fatalf("the session is not in the list: %+v", list.Sessions)
		return web.ParticipantView{}
	}
	if p := listed(); p.State != "waiting" || p.Payment == nil || p.Payment.Status != "due" || p.Link == "" {
		t.Fatalf("waiting, payment due, with a link: %+v", p)
	}
	// Read twice with nothing changed: the same.
	if p := listed(); p.State != "waiting" || p.Payment == nil || p.Payment.Status != "due" {
		t.Fatalf("read again: %+v", p)
	}
	if _, err := s.env.App.Sessions.MarkPaid(ctx, s.clinician.UserID.String(), sess.ID, "1", "cash"); err != nil {
		t.Fatal(err)
	}
	if p := listed(); p.Payment == nil || p.Payment.Status != "paid" {
		t.Errorf("after the payment: %+v", p.Payment)
	}
	if code := s.call("POST", "/api/panel/sessions/"+sess.ID+"/revoke", "", map[string]string{"participant": "1"}, nil); code != 200 {
		t.Fatalf("revoke: %d", code)
	}
	if p := listed(); p.Link != "" {
		t.Errorf("the withdrawn link is still listed: %q", p.Link)
	}
	if err := s.env.App.Sessions.HostAction(ctx, s.clinician.UserID.String(), sess.ID, "deny", "1", ""); err != nil {
		t.Fatal(err)
	}
	if p := listed(); p.State != "denied" {
		t.Errorf("after the denial: %s", p.State)
	}
}
