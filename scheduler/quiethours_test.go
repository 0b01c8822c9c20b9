package scheduler_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"github.com/telehealth-bridge/telehealth-bridge/database"
	"github.com/telehealth-bridge/telehealth-bridge/internal/dbtest"
	"github.com/telehealth-bridge/telehealth-bridge/scheduler"
)

// bookAbroad stores a session a Paris clinician booked for a client in New York, told by SMS.
func bookAbroad(t *testing.T, db *database.Database, id string, at, start time.Time) *bridge.Session {
	t.Helper()
	s := &bridge.Session{
		ID: id, Clinician: "@dr:hs", Start: start, End: start.Add(45 * time.Minute), TimeZone: "Europe/Paris",
		Kind: bridge.KindVideo, Status: bridge.StatusScheduled, Policy: bridge.PolicyManual, CreatedAt: at, UpdatedAt: at,
	}
	ps := []*bridge.Participant{{Number: 1, Name: "John Smith", Locale: "en", TimeZone: "America/New_York",
		Invite: bridge.InviteSMS, Phone: "+12125550123", State: bridge.StateBooked, UpdatedAt: at}}
	if err := db.Store().InsertSession(context.Background(), s, ps); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestQuietHoursAreTheParticipants: quiet hours follow the participant's zone, not the
// session's (the clinician's): for a New York client of a Paris clinic, an SMS due at 23:30 in
// Paris (17:30 in New York) goes out, and one due at 03:00 in New York (09:00 in Paris) waits
// for 08:00 in New York.
func TestQuietHoursAreTheParticipants(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.Database) {
		ctx := context.Background()
		// November: Paris is UTC+1, New York UTC-5.
		parisNight := time.Date(2026, 11, 10, 22, 30, 0, 0, time.UTC) // 23:30 Paris, 17:30 New York
		c := newClinic(t, db, parisNight)
		evening := bookAbroad(t, db, "abroad1", parisNight, time.Date(2026, 11, 16, 14, 0, 0, 0, time.UTC))
		if err := c.nt.Plan(ctx, evening); err != nil {
			t.Fatal(err)
		}
		c.sendDue(t)
		got := c.sms.WaitFor(t, 1, 5*time.Second)
		if got[0].To != "+12125550123" {
			t.Fatalf("the confirmation went to %s", got[0].To)
		}
		if n := c.status(t, evening.ID, bridge.NoticeConfirmation, bridge.ChannelSMS); n.Status != bridge.NotificationSent {
			t.Fatalf("the confirmation due at 17:30 in New York is %s, due %s", n.Status, n.Due)
		}

		nyNight := time.Date(2026, 11, 11, 8, 0, 0, 0, time.UTC) // 03:00 New York, 09:00 Paris
		c.setClock(t, nyNight)
		night := bookAbroad(t, db, "abroad2", nyNight, time.Date(2026, 11, 17, 14, 0, 0, 0, time.UTC))
		if err := c.nt.Plan(ctx, night); err != nil {
			t.Fatal(err)
		}
		c.sendDue(t)
		nyMorning := time.Date(2026, 11, 11, 13, 0, 0, 0, time.UTC) // 08:00 New York
		n := c.status(t, night.ID, bridge.NoticeConfirmation, bridge.ChannelSMS)
		if n.Status != bridge.NotificationPending || !n.Due.Equal(nyMorning) || len(c.sms.Messages()) != 1 {
			t.Fatalf("the confirmation due at 03:00 in New York: %s due %s, %d SMS sent", n.Status, n.Due.UTC(), len(c.sms.Messages()))
		}
		c.setClock(t, nyMorning.Add(-time.Minute))
		c.sendDue(t)
		if len(c.sms.Messages()) != 1 {
			t.Fatal("the held confirmation went out before 08:00 in New York")
		}
		c.setClock(t, nyMorning)
		c.sendDue(t)
		c.sms.WaitFor(t, 2, 5*time.Second)
		if n := c.status(t, night.ID, bridge.NoticeConfirmation, bridge.ChannelSMS); n.Status != bridge.NotificationSent {
			t.Fatalf("the held confirmation at 08:00 in New York is %s", n.Status)
		}
	})
}

// TestQuietHoursExemptions pins which SMS go out at night: the waiting room's link and the
// telephone introduction (both about a call starting now: held until 08:00 they would arrive
// after it) and the clinician's own text (the clinician sends it now, knowing the hour).
// Everything else waits for 08:00 in the recipient's zone. README and docs/operations.md say so.
func TestQuietHoursExemptions(t *testing.T) {
	paris := mustLoad(t, "Europe/Paris")
	night := time.Date(2026, 11, 10, 23, 0, 0, 0, paris)
	var exempt []bridge.NoticeKind
	for _, kind := range []bridge.NoticeKind{
		bridge.NoticeConfirmation, bridge.NoticeReminder, bridge.NoticeWindowOpen, bridge.NoticeReschedule,
		bridge.NoticeCancellation, bridge.NoticePhoneIntro, bridge.NoticeMessage, bridge.NoticeUnreadMessages,
		bridge.NoticeFormToDo, bridge.NoticePaymentDue,
	} {
		if scheduler.NextSendTime(night, "Europe/Paris", kind).Equal(night) {
			exempt = append(exempt, kind)
		}
	}
	want := []bridge.NoticeKind{bridge.NoticeWindowOpen, bridge.NoticePhoneIntro, bridge.NoticeMessage}
	if !slices.Equal(exempt, want) {
		t.Errorf("SMS sent at 23:00: %v, want %v", exempt, want)
	}
}
