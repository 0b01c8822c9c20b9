package database_test

import (
	"context"
	"testing"
	"time"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"github.com/telehealth-bridge/telehealth-bridge/database"
	"github.com/telehealth-bridge/telehealth-bridge/internal/dbtest"
)

// A client's Matrix identity and Messages room are set once (the first writer wins), the room
// finds its client, and the thread's bookkeeping counts one notice per unread batch.
func TestMessageThreadStorage(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.Database) {
		ctx := context.Background()
		now := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
		var ids []int64
		for _, name := range []string{"Anna Martin", "Léo Martin"} {
			c := &bridge.Client{DisplayName: name, Locale: "fr", TimeZone: "Europe/Paris", Reminders: bridge.RemindNone, CreatedAt: now, UpdatedAt: now}
			if err := db.Client.Insert(ctx, c); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, c.ID)
		}
		anna, leo := ids[0], ids[1]

		if got, err := db.Client.SetGhost(ctx, anna, "@telehealth_client_a:hs"); err != nil || got != "@telehealth_client_a:hs" {
			t.Fatalf("first ghost: %q %v", got, err)
		}
		if got, err := db.Client.SetGhost(ctx, anna, "@telehealth_client_b:hs"); err != nil || got != "@telehealth_client_a:hs" {
			t.Fatalf("a second ghost replaced the first: %q %v", got, err)
		}
		if _, err := db.Client.SetMessagesRoom(ctx, anna, "!room:hs"); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Client.SetMessagesRoom(ctx, leo, "!room:hs"); err == nil {
			t.Error("two clients were given one Messages room")
		}
		c, err := db.Client.Get(ctx, anna)
		if err != nil || c.Ghost != "@telehealth_client_a:hs" || c.MessagesRoom != "!room:hs" {
			t.Fatalf("the record after: %+v %v", c, err)
		}
		// An edit of the record from the panel leaves them alone.
		c.DisplayName = "Anna M."
		if err = db.Client.Update(ctx, c); err != nil {
			t.Fatal(err)
		}
		if c, _ = db.Client.Get(ctx, anna); c.Ghost == "" || c.MessagesRoom == "" {
			t.Fatalf("an edit lost the identity: %+v", c)
		}
		if id, ok, err := db.Client.ByMessagesRoom(ctx, "!room:hs"); err != nil || !ok || id != anna {
			t.Errorf("room → client: %d %v %v", id, ok, err)
		}
		if _, ok, err := db.Client.ByMessagesRoom(ctx, ""); err != nil || ok {
			t.Errorf("an empty room ID found a client: %v %v", ok, err)
		}

		th, err := db.MessageThread.Get(ctx, anna)
		if err != nil || th.Unread != 0 || !th.LastAt.IsZero() {
			t.Fatalf("a thread without messages: %+v %v", th, err)
		}
		// Two messages from the professional: one batch, from the first.
		for i, at := range []time.Time{now, now.Add(5 * time.Minute)} {
			if err = db.MessageThread.ProfessionalMessage(ctx, anna, at); err != nil {
				t.Fatal(i, err)
			}
		}
		th, _ = db.MessageThread.Get(ctx, anna)
		if th.Unread != 2 || !th.UnreadSince.Equal(now) || !th.LastAt.Equal(now.Add(5*time.Minute)) {
			t.Fatalf("after two messages: %+v", th)
		}
		due, err := db.MessageThread.DueNotices(ctx, now.Add(-time.Minute), now.Add(time.Hour), 10)
		if err != nil || len(due) != 0 {
			t.Fatalf("due before its time: %+v %v", due, err)
		}
		due, err = db.MessageThread.DueNotices(ctx, now, now.Add(time.Hour), 10)
		if err != nil || len(due) != 1 || due[0].ClientID != anna {
			t.Fatalf("due: %+v %v", due, err)
		}
		if err = db.MessageThread.PostponeNotice(ctx, due[0], now.Add(2*time.Hour)); err != nil {
			t.Fatal(err)
		}
		if due, _ = db.MessageThread.DueNotices(ctx, now, now.Add(time.Hour), 10); len(due) != 0 {
			t.Fatalf("a postponed notice is due: %+v", due)
		}
		due, _ = db.MessageThread.DueNotices(ctx, now, now.Add(2*time.Hour), 10)
		if len(due) != 1 {
			t.Fatalf("the postponed notice never came due")
		}
		if ok, err := db.MessageThread.ClaimNotice(ctx, due[0]); err != nil || !ok {
			t.Fatalf("claim: %v %v", ok, err)
		}
		if ok, _ := db.MessageThread.ClaimNotice(ctx, due[0]); ok {
			t.Error("one batch was claimed twice")
		}
		// A third message of the same batch brings no second notice.
		if err = db.MessageThread.ProfessionalMessage(ctx, anna, now.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if due, _ = db.MessageThread.DueNotices(ctx, now.Add(2*time.Hour), now.Add(3*time.Hour), 10); len(due) != 0 {
			t.Fatalf("a second notice for one batch: %+v", due)
		}
		// Read: the next message starts a new batch.
		if err = db.MessageThread.MarkRead(ctx, anna, now.Add(2*time.Hour)); err != nil {
			t.Fatal(err)
		}
		th, _ = db.MessageThread.Get(ctx, anna)
		if th.Unread != 0 || !th.UnreadSince.IsZero() || th.Noticed || !th.ReadAt.Equal(now.Add(2*time.Hour)) || !th.LastAt.Equal(now.Add(time.Hour)) {
			t.Fatalf("after reading: %+v", th)
		}
		if err = db.MessageThread.ProfessionalMessage(ctx, anna, now.Add(3*time.Hour)); err != nil {
			t.Fatal(err)
		}
		due, _ = db.MessageThread.DueNotices(ctx, now.Add(3*time.Hour), now.Add(3*time.Hour), 10)
		if len(due) != 1 || due[0].Noticed || due[0].Unread != 1 {
			t.Fatalf("the new batch: %+v", due)
		}
		// The client's own message reads the thread.
		if err = db.MessageThread.ClientMessage(ctx, anna, now.Add(4*time.Hour)); err != nil {
			t.Fatal(err)
		}
		if th, _ = db.MessageThread.Get(ctx, anna); th.Unread != 0 || !th.LastAt.Equal(now.Add(4*time.Hour)) {
			t.Fatalf("after the client's answer: %+v", th)
		}
		if th, _ = db.MessageThread.Get(ctx, leo); th.Unread != 0 {
			t.Errorf("another client's thread moved: %+v", th)
		}
	})
}
