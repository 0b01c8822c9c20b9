package appservice_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix/event"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"github.com/telehealth-bridge/telehealth-bridge/internal/bridgetest"
)

// A client books a slot: the clinician reads who, what and when in their control room, with
// the session's commands; the confirmation leaves as for any booking.
func TestSelfBookingNoticeInControlRoom(t *testing.T) {
	l := newLobby(t, "sqlite")
	ctx := context.Background()
	svc := l.env.App.Sessions
	clinician := l.clinician.UserID.String()
	av := &bridge.Availability{
		TimeZone: "Europe/Paris", SelfScheduling: true, MinNotice: time.Hour, Horizon: 30 * 24 * time.Hour,
		Hours: []bridge.WeeklyHours{{Day: time.Thursday, Start: 9 * 60, End: 12 * 60}},
		Types: []bridge.SessionType{{Name: "Follow-up", Duration: 30 * time.Minute, Kind: bridge.KindVideo}},
	}
	if err := svc.SetAvailability(ctx, clinician, av); err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 11, 26, 9, 30, 0, 0, time.UTC) // 10:30 in Paris
	s, err := svc.BookSlot(ctx, bridge.ParticipantRequest{Name: "Jane Doe", Email: "jane@example.org", Locale: "fr"}, 0, clinician, av.Types[0].ID, start)
	if err != nil {
		t.Fatal(err)
	}
	evt := bridgetest.WaitMessage(t, l.clinician, l.control, wait, "the booking notice", func(evt *event.Event) bool {
		return evt.Sender == l.bot() && strings.Contains(evt.Content.AsMessage().Body, "New booking")
	})
	body := evt.Content.AsMessage().Body
	for _, want := range []string{"Jane Doe", "Follow-up", "(video, 30 min)", "Thu 26 Nov 2026 10:30 CET", "session " + s.ID, "!cancel " + s.ID} {
		if !strings.Contains(body, want) {
			t.Errorf("the notice %q lacks %q", body, want)
		}
	}
	planned, err := l.env.App.DB.Outbox.ForSession(ctx, s.ID)
	if err != nil || len(planned) == 0 || planned[0].Kind != bridge.NoticeConfirmation || planned[0].Channel != bridge.ChannelEmail {
		t.Errorf("the client's confirmation is not planned: %+v %v", planned, err)
	}
}
