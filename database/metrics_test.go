package database_test

import (
	"context"
	"testing"
	"time"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"github.com/telehealth-bridge/telehealth-bridge/database"
	"github.com/telehealth-bridge/telehealth-bridge/internal/dbtest"
)

// The counts the metrics read at each scrape: sessions by status, people waiting in sessions
// not over (one waiting in an ended session does not count), and due pending notifications
// per channel with the oldest's due time (later, sent or cancelled ones do not count).
func TestMetricsCounts(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.Database) {
		ctx := context.Background()
		store := db.Store()
		if n, since, err := db.Participant.Waiting(ctx); err != nil || n != 0 || !since.IsZero() {
			t.Errorf("nobody waiting yet: %d since %s, %v", n, since, err)
		}
		start := time.Date(2026, 11, 24, 14, 0, 0, 0, time.UTC)
		live, ps := sampleSession("live23", start)
		live.Status = bridge.StatusLive
		ps[0].State, ps[1].State = bridge.StateWaiting, bridge.StateWaiting
		if err := store.InsertSession(ctx, live, ps); err != nil {
			t.Fatal(err)
		}
		ended, eps := sampleSession("ended2", start)
		ended.Status = bridge.StatusEnded
		eps[0].State = bridge.StateWaiting
		if err := store.InsertSession(ctx, ended, eps); err != nil {
			t.Fatal(err)
		}
		other, ops := sampleSession("sched2", start)
		if err := store.InsertSession(ctx, other, ops); err != nil {
			t.Fatal(err)
		}
		counts, err := db.Session.CountByStatus(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(counts) != 3 || counts[bridge.StatusLive] != 1 || counts[bridge.StatusEnded] != 1 || counts[bridge.StatusScheduled] != 1 {
			t.Errorf("sessions by status: %v", counts)
		}
		if n, since, err := db.Participant.Waiting(ctx); err != nil || n != 2 || !since.Equal(ps[0].UpdatedAt) {
			t.Errorf("waiting: %d since %s, %v", n, since, err)
		}

		now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
		note := func(ch bridge.Channel, due time.Time, status bridge.NotificationStatus) *bridge.Notification {
			return &bridge.Notification{SessionID: "live23", ParticipantID: ps[0].ID, Kind: bridge.NoticeReminder, Channel: ch,
				Due: due, Status: status, CreatedAt: now, UpdatedAt: now}
		}
		if err = db.Outbox.Insert(ctx,
			note(bridge.ChannelSMS, now.Add(-10*time.Minute), bridge.NotificationPending),
			note(bridge.ChannelSMS, now.Add(-time.Minute), bridge.NotificationPending),
			note(bridge.ChannelEmail, now.Add(-2*time.Minute), bridge.NotificationPending),
			note(bridge.ChannelEmail, now.Add(time.Minute), bridge.NotificationPending),   // not due yet
			note(bridge.ChannelMatrix, now.Add(-time.Hour), bridge.NotificationSent),      // done
			note(bridge.ChannelMatrix, now.Add(-time.Hour), bridge.NotificationCancelled), // done
		); err != nil {
			t.Fatal(err)
		}
		due, oldest, err := db.Outbox.DueByChannel(ctx, now)
		if err != nil {
			t.Fatal(err)
		}
		if len(due) != 2 || due[bridge.ChannelSMS] != 2 || due[bridge.ChannelEmail] != 1 || !oldest.Equal(now.Add(-10*time.Minute)) {
			t.Errorf("due: %v, oldest %s", due, oldest)
		}
		if due, oldest, err = db.Outbox.DueByChannel(ctx, now.Add(-time.Hour)); err != nil || len(due) != 0 || !oldest.IsZero() {
			t.Errorf("nothing due: %v %s %v", due, oldest, err)
		}
	})
}
