package database_test

import (
	"context"
	"errors"
	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/telehealth-bridge/telehealth-bridge/database"
	"github.com/telehealth-bridge/telehealth-bridge/database/upgrades"
	"github.com/telehealth-bridge/telehealth-bridge/internal/dbtest"
)

func TestSchemaIsAtLatestVersion(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.Database) {
		var version int
		if err := db.QueryRow(context.Background(), "SELECT version FROM "+database.VersionTable).Scan(&version); err != nil {
			t.Fatal(err)
		}
		if version != len(upgrades.Table) {
			t.Errorf("version %d, latest %d", version, len(upgrades.Table))
		}
		// Opening again is a no-op upgrade.
		if err := db.Upgrade(context.Background()); err != nil {
			t.Errorf("second upgrade: %v", err)
		}
	})
}

func TestHandledEvents(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.Database) {
		ctx := context.Background()
		q := db.HandledEvent
		now := time.Now()
		if handled, err := q.IsHandled(ctx, "$a"); err != nil || handled {
			t.Fatalf("new event handled=%v err=%v", handled, err)
		}
		for range 2 { // marking twice is harmless: a redelivery races with the first handling
			if err := q.MarkHandled(ctx, "$a", "!room", now.Add(-48*time.Hour)); err != nil {
				t.Fatal(err)
			}
		}
		if err := q.MarkHandled(ctx, "$b", "!room", now); err != nil {
			t.Fatal(err)
		}
		if handled, err := q.IsHandled(ctx, "$a"); err != nil || !handled {
			t.Fatalf("marked event handled=%v err=%v", handled, err)
		}
		n, err := q.Prune(ctx, now.Add(-24*time.Hour))
		if err != nil || n != 1 {
			t.Fatalf("pruned %d (err %v), want 1", n, err)
		}
		if handled, _ := q.IsHandled(ctx, "$b"); !handled {
			t.Error("pruning removed a recent event")
		}
	})
}

func TestControlRooms(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.Database) {
		ctx := context.Background()
		q := db.ControlRoom
		if room, err := q.Get(ctx, "@dr:hs"); err != nil || room != "" {
			t.Fatalf("no control room yet: %q %v", room, err)
		}
		if err := q.Set(ctx, "@dr:hs", "!one:hs", time.Now()); err != nil {
			t.Fatal(err)
		}
		if err := q.Set(ctx, "@dr:hs", "!two:hs", time.Now()); err != nil {
			t.Fatal(err)
		}
		if room, _ := q.Get(ctx, "@dr:hs"); room != "!two:hs" {
			t.Errorf("control room = %q, want the newer one", room)
		}
		if owner, _ := q.Owner(ctx, "!two:hs"); owner != "@dr:hs" {
			t.Errorf("owner = %q", owner)
		}
		if err := q.Delete(ctx, "!two:hs"); err != nil {
			t.Fatal(err)
		}
		if room, _ := q.Get(ctx, "@dr:hs"); room != "" {
			t.Errorf("deleted control room still there: %q", room)
		}
	})
}

func TestUnreachableDatabaseNamesURLWithoutPassword(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := database.Open(ctx, database.Config{Type: "pgx", URI: "postgres://clinic:s3cret@127.0.0.1:1/telehealth?connect_timeout=2"}, zerolog.Nop())
	if err == nil {
		t.Fatal("opened a database on a closed port")
	}
	if !strings.Contains(err.Error(), "127.0.0.1:1/telehealth") || !strings.Contains(err.Error(), "unreachable") {
		t.Errorf("error does not name the database: %v", err)
	}
	if strings.Contains(err.Error(), "s3cret") {
		t.Errorf("error shows the password: %v", err)
	}
}

// A second bridge on the same SQLite file would send every reminder twice: it stops at once,
// and starts once the first one has closed the database.
func TestSecondInstanceOnSQLiteIsRefused(t *testing.T) {
	ctx := context.Background()
	cfg := dbtest.Config(t, "sqlite")
	first, err := database.Open(ctx, cfg, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	_, err = database.Open(ctx, cfg, zerolog.Nop())
	if !errors.Is(err, database.ErrSecondInstance) || !strings.Contains(err.Error(), "PostgreSQL") {
		t.Fatalf("second instance: %v", err)
	}
	if err = first.Close(); err != nil {
		t.Fatal(err)
	}
	again, err := database.Open(ctx, cfg, zerolog.Nop())
	if err != nil {
		t.Fatalf("after the first closed: %v", err)
	}
	_ = again.Close()
}

func TestOutboxStorage(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.Database) {
		ctx := context.Background()
		start := time.Date(2026, 11, 24, 14, 0, 0, 0, time.UTC)
		s, ps := sampleSession("out234", start)
		if err := db.Store().InsertSession(ctx, s, ps); err != nil {
			t.Fatal(err)
		}
		now := start.Add(-48 * time.Hour)
		row := func(kind bridge.NoticeKind, due time.Time) *bridge.Notification {
			return &bridge.Notification{SessionID: s.ID, ParticipantID: ps[1].ID, Kind: kind, Channel: bridge.ChannelSMS,
				Due: due, Status: bridge.NotificationPending, CreatedAt: now, UpdatedAt: now}
		}
		early, late := row(bridge.NoticeConfirmation, now), row(bridge.NoticeReminder, start.Add(-24*time.Hour))
		if err := db.Outbox.Insert(ctx, late, early); err != nil {
			t.Fatal(err)
		}
		claimed, err := db.Outbox.ClaimDue(ctx, now, 10)
		if err != nil || len(claimed) != 1 || claimed[0].ID != early.ID || claimed[0].Status != bridge.NotificationSending || claimed[0].Attempts != 1 {
			t.Fatalf("claim at the booking: %+v, %v", claimed, err)
		}
		if again, _ := db.Outbox.ClaimDue(ctx, now, 10); len(again) != 0 {
			t.Fatalf("a claimed row was claimed twice: %+v", again)
		}
		// A crash leaves it in flight; the next sender puts it back in line.
		if n, err := db.Outbox.ReleaseSending(ctx, now); err != nil || n != 1 {
			t.Fatalf("release: %d, %v", n, err)
		}
		claimed, _ = db.Outbox.ClaimDue(ctx, start, 10)
		if len(claimed) != 2 || claimed[0].ID != early.ID || claimed[0].Attempts != 2 {
			t.Fatalf("claim at the start, due order: %+v", claimed)
		}
		claimed[0].Status, claimed[0].ProviderID = bridge.NotificationSent, "SM123"
		if err = db.Outbox.Update(ctx, claimed[0]); err != nil {
			t.Fatal(err)
		}
		if got, err := db.Outbox.ByProviderID(ctx, "SM123"); err != nil || got == nil || got.ID != early.ID {
			t.Fatalf("by provider ID: %+v, %v", got, err)
		}
		if got, err := db.Outbox.ByProviderID(ctx, "SMnone"); err != nil || got != nil {
			t.Fatalf("unknown provider ID: %+v, %v", got, err)
		}

		if out, _ := db.OptOut.OptedOut(ctx, "+33612345678"); out {
			t.Fatal("opted out before STOP")
		}
		for range 2 { // STOP twice is one opt-out
			if err = db.OptOut.OptOut(ctx, "+33612345678", now); err != nil {
				t.Fatal(err)
			}
		}
		if out, _ := db.OptOut.OptedOut(ctx, "+33612345678"); !out {
			t.Fatal("not opted out after STOP")
		}
		if err = db.OptOut.OptIn(ctx, "+33612345678"); err != nil {
			t.Fatal(err)
		}
		if out, _ := db.OptOut.OptedOut(ctx, "+33612345678"); out {
			t.Fatal("still opted out after START")
		}
	})
}
