package scheduler_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"github.com/telehealth-bridge/telehealth-bridge/database"
	"github.com/telehealth-bridge/telehealth-bridge/internal/dbtest"
)

// recordReminders reads the preference from the stored client records.
type recordReminders struct{ db *database.Database }

func (r recordReminders) ClientReminders(ctx context.Context, id int64) (bridge.ReminderPreference, error) {
	c, err := r.db.Client.Get(ctx, id)
	if err != nil {
		return "", err
	}
	return c.Reminders, nil
}

// A client's reminder preference (set in the portal's Settings) decides how their appointment
// reminder goes, whatever they were invited by; the other notices keep the invitation mode,
// and another client's preference changes nothing of theirs.
func TestPlanHonoursTheClientsReminderPreference(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.Database) {
		ctx := context.Background()
		clock := clockwork.NewFakeClockAt(booked)
		nt := newNotifier(db, clock, nil, nil)
		nt.UseReminderPreferences(recordReminders{db})
		client := &bridge.Client{DisplayName: "John Smith", Emails: []string{"john@example.org"}, Phones: []string{"+15145550123"},
			Locale: "en", TimeZone: "America/New_York", Reminders: bridge.RemindSMS, CreatedAt: booked, UpdatedAt: booked}
		other := &bridge.Client{DisplayName: "Jeanne Dupont", Phones: []string{"+33612345678"}, Locale: "fr", TimeZone: "Europe/Paris",
			Reminders: bridge.RemindSMS, CreatedAt: booked, UpdatedAt: booked}
		for _, c := range []*bridge.Client{client, other} {
			if err := db.Client.Insert(ctx, c); err != nil {
				t.Fatal(err)
			}
		}
		start := time.Date(2026, 3, 24, 14, 0, 0, 0, time.UTC)
		s := &bridge.Session{ID: "pref01", Clinician: "@dr:hs", Start: start, End: start.Add(45 * time.Minute), TimeZone: "Europe/Paris",
			Kind: bridge.KindVideo, Status: bridge.StatusScheduled, Policy: bridge.PolicyManual, CreatedAt: booked, UpdatedAt: booked}
		ps := []*bridge.Participant{
			// Invited by email, with a phone on the booking too.
			{Number: 1, Name: "John Smith", Locale: "en", TimeZone: "America/New_York", Invite: bridge.InviteEmail, Email: "john@example.org",
				Phone: "+15145550123", State: bridge.StateBooked, UpdatedAt: booked, ClientID: client.ID},
			{Number: 2, Name: "Jeanne Dupont", Locale: "fr", TimeZone: "Europe/Paris", Invite: bridge.InviteSMS, Phone: "+33612345678",
				State: bridge.StateBooked, UpdatedAt: booked, ClientID: other.ID},
		}
		if err := db.Store().InsertSession(ctx, s, ps); err != nil {
			t.Fatal(err)
		}
		p1, p2 := fmt.Sprintf("p%d", ps[0].ID), fmt.Sprintf("p%d", ps[1].ID)
		plan := func(pref bridge.ReminderPreference) {
			t.Helper()
			client.Reminders = pref
			if err := db.Client.Update(ctx, client); err != nil {
				t.Fatal(err)
			}
			if err := nt.Plan(ctx, s); err != nil {
				t.Fatal(err)
			}
		}
		jeanne := []string{p2 + " confirmation sms pending 03-20T09:00", p2 + " reminder sms pending 03-23T14:00", p2 + " window_open sms pending 03-24T13:30"}

		plan(bridge.RemindSMS)
		expect(t, outline(t, db, s.ID), append([]string{
			p1 + " confirmation email pending 03-20T09:00", p1 + " reminder sms pending 03-23T14:00", p1 + " window_open email pending 03-24T13:30",
		}, jeanne...)...)
		plan(bridge.RemindSMS) // planning twice changes nothing
		expect(t, outline(t, db, s.ID), append([]string{
			p1 + " confirmation email pending 03-20T09:00", p1 + " reminder sms pending 03-23T14:00", p1 + " window_open email pending 03-24T13:30",
		}, jeanne...)...)

		plan(bridge.RemindNone)
		expect(t, outline(t, db, s.ID), append([]string{
			p1 + " confirmation email pending 03-20T09:00", p1 + " reminder sms cancelled 03-23T14:00", p1 + " window_open email pending 03-24T13:30",
		}, jeanne...)...)

		plan(bridge.RemindEmail)
		expect(t, outline(t, db, s.ID), append([]string{
			p1 + " confirmation email pending 03-20T09:00", p1 + " reminder sms cancelled 03-23T14:00", p1 + " reminder email pending 03-23T14:00",
			p1 + " window_open email pending 03-24T13:30",
		}, jeanne...)...)
	})
}
