package web_test

import (
	"context"
	"testing"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"github.com/telehealth-bridge/telehealth-bridge/internal/bridgetest"
	"github.com/telehealth-bridge/telehealth-bridge/web"
)

// TestCallStateNamesPeople: every client page is told the clinic to contact and the
// clinician's display name; the names of the people in the call go only to those let in
// (a waiting guest learns nobody's), so tiles carry names, never roles.
func TestCallStateNamesPeople(t *testing.T) {
	s := newSiteWith(t, func(cfg map[string]any) {
		cfg["notifications.clinic_name"] = "Cabinet Martin"
		cfg["notifications.clinic_phone"] = "+33123456789"
	})
	ctx := context.Background()
	if err := s.clinician.SetDisplayName(ctx, "Dr Claire Martin"); err != nil {
		t.Fatal(err)
	}
	sess, token := s.guestSession(bridge.ParticipantRequest{Name: "Jane Doe"})
	s.openWindow(sess)
	var st web.CallState
	s.call("POST", "/api/call/knock", token, map[string]string{"name": "Jane"}, &st)
	if st.Clinic.Name != "Cabinet Martin" || st.Clinic.Phone != "+33123456789" {
		t.Errorf("the clinic on a waiting page: %+v", st.Clinic)
	}
	if st.Session.ClinicianName != "Dr Claire Martin" {
		t.Errorf("the clinician's name on a waiting page: %q", st.Session.ClinicianName)
	}
	if len(st.People) != 0 {
		t.Errorf("a waiting guest learns who is in the call: %+v", st.People)
	}
	if _, err := s.env.App.Sessions.Admit(ctx, s.clinician.UserID.String(), sess.ID, "1"); err != nil {
		t.Fatal(err)
	}
	bridgetest.Eventually(t, wait, "the guest let in", func() bool {
		s.call("GET", "/api/call/state", token, nil, &st)
		return st.Me.CanJoinCall
	})
	names := map[string]bool{}
	for _, p := range st.People {
		names[p.Name] = p.Host
		if p.UserID == "" {
			t.Errorf("a person without a user ID: %+v", p)
		}
	}
	if host, ok := names["Dr Claire Martin"]; !ok || !host {
		t.Errorf("the clinician among the people: %+v", st.People)
	}
	if host, ok := names["Jane"]; !ok || host {
		t.Errorf("the guest, under the name she typed, among the people: %+v", st.People)
	}
}
