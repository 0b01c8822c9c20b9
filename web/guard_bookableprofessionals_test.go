package web_test

import (
	"context"
	"testing"
	"time"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"github.com/telehealth-bridge/telehealth-bridge/web"
)

// Guard of `GET /api/portal/professionals` (docs/security.md, "Client portal": their assigned
// professionals who take bookings online), for make mutate.

// TestPortalProfessionalsLeaveOutThoseWhoTakeNoBookings: a professional who has session types
// but turned self-scheduling off is not offered to their client; once they turn it on, they are.
func TestPortalProfessionalsLeaveOutThoseWhoTakeNoBookings(t *testing.T) {
	s := newSite(t)
	ctx := context.Background()
	martin := s.clinician.UserID.String()
	svc := s.env.App.Sessions
	av := &bridge.Availability{
		TimeZone: "Europe/Paris", SelfScheduling: false, Horizon: 30 * 24 * time.Hour,
		Hours: []bridge.WeeklyHours{{Day: time.Thursday, Start: 9 * 60, End: 12 * 60}},
		Types: []bridge.SessionType{{Name: "Consultation", Duration: time.Hour, Kind: bridge.KindVideo}},
	}
	if err := svc.SetAvailability(ctx, martin, av); err != nil {
		t.Fatal(err)
	}
	call, _ := s.signedIn(map[string]bridge.ClientRequest{
		"jane": {DisplayName: "Jane Doe", Emails: []string{"jane@example.org"}, Locale: "en", Professionals: []string{martin}},
	})
	list := func() []web.BookableProfessional {
		var pros struct {
			Professionals []web.BookableProfessional `json:"professionals"`
		}
		if code := call("GET", "/api/portal/professionals", "jane", nil, &pros); code != 200 {
			t.Fatalf("professionals: %d", code)
		}
		return pros.Professionals
	}
	if got := list(); len(got) != 0 {
		t.Errorf("with self-scheduling off, Jane is offered %+v", got)
	}
	av.SelfScheduling = true
	if err := svc.SetAvailability(ctx, martin, av); err != nil {
		t.Fatal(err)
	}
	if got := list(); len(got) != 1 || got[0].UserID != martin {
		t.Errorf("with self-scheduling on, Jane is offered %+v", got)
	}
}
