package scheduler_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/rs/zerolog"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"github.com/telehealth-bridge/telehealth-bridge/database"
	"github.com/telehealth-bridge/telehealth-bridge/internal/dbtest"
	"github.com/telehealth-bridge/telehealth-bridge/scheduler"
)

var booked = time.Date(2026, 3, 20, 9, 0, 0, 0, time.UTC)

// book stores a session with three participants: one told by SMS, one by email, one not at all.
func book(t *testing.T, db *database.Database, id string, start time.Time, kind bridge.Kind) (*bridge.Session, []*bridge.Participant) {
	t.Helper()
	s := &bridge.Session{
		ID: id, Clinician: "@dr:hs", Start: start, End: start.Add(45 * time.Minute), TimeZone: "Europe/Paris",
		Kind: kind, Status: bridge.StatusScheduled, Policy: bridge.PolicyManual, CreatedAt: booked, UpdatedAt: booked,
	}
	ps := []*bridge.Participant{
		{Number: 1, Name: "Jeanne Dupont", Locale: "fr", TimeZone: "Europe/Paris", Invite: bridge.InviteSMS, Phone: "+33612345678", State: bridge.StateBooked, UpdatedAt: booked},
		{Number: 2, Name: "John Smith", Locale: "en", TimeZone: "America/New_York", Invite: bridge.InviteEmail, Email: "john@example.org", State: bridge.StateBooked, UpdatedAt: booked},
		{Number: 3, Name: "NN", Locale: "en", TimeZone: "Europe/Paris", Invite: bridge.InviteNone, State: bridge.StateBooked, UpdatedAt: booked},
	}
	if err := db.Store().InsertSession(context.Background(), s, ps); err != nil {
		t.Fatal(err)
	}
	return s, ps
}

func newNotifier(db *database.Database, clock clockwork.Clock, sms scheduler.SMSSender, email scheduler.EmailSender) *scheduler.Notifier {
	return newLoggingNotifier(db, clock, sms, email, zerolog.Nop())
}

func newLoggingNotifier(db *database.Database, clock clockwork.Clock, sms scheduler.SMSSender, email scheduler.EmailSender, log zerolog.Logger) *scheduler.Notifier {
	return scheduler.NewNotifier(scheduler.NotifyConfig{
		Clinic: scheduler.Clinic{Name: "Clinique du Parc", Phone: "+33123456789", Email: "rdv@clinique.example", Domain: "clinique.example"},
		Window: bridge.DefaultWindow, Confirmation: true, ReminderBefore: 24 * time.Hour, PhoneIntroBefore: 10 * time.Minute,
	}, clock, log, db.Outbox, db.OptOut, db.Store(), sms, email)
}

// outline lists a session's outbox as "participant kind channel status due" lines.
func outline(t *testing.T, db *database.Database, sessionID string) []string {
	t.Helper()
	rows, err := db.Outbox.ForSession(context.Background(), sessionID)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, n := range rows {
		out = append(out, fmt.Sprintf("p%d %s %s %s %s", n.ParticipantID, n.Kind, n.Channel, n.Status, n.Due.Format("01-02T15:04")))
	}
	slices.Sort(out)
	return out
}

func expect(t *testing.T, got []string, want ...string) {
	t.Helper()
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("outbox:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

// markSent records a notification as sent, as the sender would.
func markSent(t *testing.T, db *database.Database, sessionID string, kind bridge.NoticeKind) {
	t.Helper()
	rows, _ := db.Outbox.ForSession(context.Background(), sessionID)
	for _, n := range rows {
		if n.Kind == kind && n.Status == bridge.NotificationPending {
			n.Status = bridge.NotificationSent
			if err := db.Outbox.Update(context.Background(), n); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func TestPlanFollowsTheSchedule(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.Database) {
		ctx := context.Background()
		clock := clockwork.NewFakeClockAt(booked)
		nt := newNotifier(db, clock, nil, nil)
		start := time.Date(2026, 3, 24, 14, 0, 0, 0, time.UTC)
		s, ps := book(t, db, "plan01", start, bridge.KindVideo)
		p1, p2 := fmt.Sprintf("p%d", ps[0].ID), fmt.Sprintf("p%d", ps[1].ID)

		if err := nt.Plan(ctx, s); err != nil {
			t.Fatal(err)
		}
		first := []string{
			p1 + " confirmation sms pending 03-20T09:00", p1 + " reminder sms pending 03-23T14:00", p1 + " window_open sms pending 03-24T13:30",
			p2 + " confirmation email pending 03-20T09:00", p2 + " reminder email pending 03-23T14:00", p2 + " window_open email pending 03-24T13:30",
		}
		expect(t, outline(t, db, s.ID), first...)
		if err := nt.Plan(ctx, s); err != nil {
			t.Fatal(err)
		}
		expect(t, outline(t, db, s.ID), first...) // planning twice changes nothing

		// The confirmations went out; then the session moves a day later.
		markSent(t, db, s.ID, bridge.NoticeConfirmation)
		clock.Advance(time.Hour)
		s.Start, s.End, s.Revision = start.Add(24*time.Hour), start.Add(24*time.Hour+45*time.Minute), 1
		if err := db.Store().UpdateSession(ctx, s); err != nil {
			t.Fatal(err)
		}
		if err := nt.Plan(ctx, s); err != nil {
			t.Fatal(err)
		}
		expect(t, outline(t, db, s.ID),
			p1+" confirmation sms sent 03-20T09:00", p1+" reschedule sms pending 03-20T10:00",
			p1+" reminder sms pending 03-24T14:00", p1+" window_open sms pending 03-25T13:30",
			p2+" confirmation email sent 03-20T09:00", p2+" reschedule email pending 03-20T10:00",
			p2+" reminder email pending 03-24T14:00", p2+" window_open email pending 03-25T13:30",
		)

		// Cancelled: nothing more is sent but the cancellation, to those who were told.
		markSent(t, db, s.ID, bridge.NoticeReschedule)
		s.Status, s.Revision = bridge.StatusCancelled, 2
		if err := nt.Plan(ctx, s); err != nil {
			t.Fatal(err)
		}
		expect(t, outline(t, db, s.ID),
			p1+" confirmation sms sent 03-20T09:00", p1+" reschedule sms sent 03-20T10:00",
			p1+" reminder sms cancelled 03-24T14:00", p1+" window_open sms cancelled 03-25T13:30", p1+" cancellation sms pending 03-20T10:00",
			p2+" confirmation email sent 03-20T09:00", p2+" reschedule email sent 03-20T10:00",
			p2+" reminder email cancelled 03-24T14:00", p2+" window_open email cancelled 03-25T13:30", p2+" cancellation email pending 03-20T10:00",
		)
		if err := nt.Plan(ctx, s); err != nil {
			t.Fatal(err)
		}
		if n := len(outline(t, db, s.ID)); n != 10 {
			t.Fatalf("a second plan of the cancelled session changed the outbox: %d rows", n)
		}
	})
}

func TestPlanSoonAndPhoneSessions(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.Database) {
		ctx := context.Background()
		clock := clockwork.NewFakeClockAt(booked)
		nt := newNotifier(db, clock, nil, nil)

		// Booked two hours ahead: the 24-hour reminder's moment has passed, it is not sent late.
		soon, ps := book(t, db, "soon01", booked.Add(2*time.Hour), bridge.KindVideo)
		if err := nt.Plan(ctx, soon); err != nil {
			t.Fatal(err)
		}
		p1, p2 := fmt.Sprintf("p%d", ps[0].ID), fmt.Sprintf("p%d", ps[1].ID)
		expect(t, outline(t, db, soon.ID),
			p1+" confirmation sms pending 03-20T09:00", p1+" window_open sms pending 03-20T10:30",
			p2+" confirmation email pending 03-20T09:00", p2+" window_open email pending 03-20T10:30")

		// Booked a day and a half-hour ahead: the reminder would follow the confirmation
		// within the hour, so the confirmation is all they get until the waiting room opens.
		tomorrow, ps := book(t, db, "soon02", booked.Add(24*time.Hour+30*time.Minute), bridge.KindVideo)
		if err := nt.Plan(ctx, tomorrow); err != nil {
			t.Fatal(err)
		}
		p1, p2 = fmt.Sprintf("p%d", ps[0].ID), fmt.Sprintf("p%d", ps[1].ID)
		expect(t, outline(t, db, tomorrow.ID),
			p1+" confirmation sms pending 03-20T09:00", p1+" window_open sms pending 03-21T09:00",
			p2+" confirmation email pending 03-20T09:00", p2+" window_open email pending 03-21T09:00")

		// A telephone session: no waiting room link, but the caller is introduced by SMS to
		// whoever has a phone number, whatever their invitation mode.
		call, ps := book(t, db, "call01", booked.Add(48*time.Hour), bridge.KindPhone)
		ps[1].Phone = "+12125550123"
		if err := db.Store().UpdateParticipant(ctx, ps[1]); err != nil {
			t.Fatal(err)
		}
		if err := nt.Plan(ctx, call); err != nil {
			t.Fatal(err)
		}
		p1, p2 = fmt.Sprintf("p%d", ps[0].ID), fmt.Sprintf("p%d", ps[1].ID)
		expect(t, outline(t, db, call.ID),
			p1+" confirmation sms pending 03-20T09:00", p1+" reminder sms pending 03-21T09:00", p1+" phone_intro sms pending 03-22T08:50",
			p2+" confirmation email pending 03-20T09:00", p2+" reminder email pending 03-21T09:00", p2+" phone_intro sms pending 03-22T08:50")

		// Ended: whatever was still planned is dropped.
		call.Status = bridge.StatusEnded
		if err := nt.Plan(ctx, call); err != nil {
			t.Fatal(err)
		}
		for _, line := range outline(t, db, call.ID) {
			if !strings.Contains(line, " cancelled ") {
				t.Fatalf("after the end: %s", line)
			}
		}
	})
}
