package database_test

import (
	"context"
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
