package scheduler_test

import (
	"context"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/rs/zerolog"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"github.com/telehealth-bridge/telehealth-bridge/database"
	"github.com/telehealth-bridge/telehealth-bridge/internal/dbtest"
	"github.com/telehealth-bridge/telehealth-bridge/scheduler"
)

// The bookkeeping tables do not grow forever: handled events older than a week and expired web
// sessions go when the bridge starts, and every hour after, on both databases.
func TestOldRowsArePruned(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.Database) {
		ctx := context.Background()
		now := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
		clock := clockwork.NewFakeClockAt(now)
		mark := func(id string, at time.Time) {
			if err := db.HandledEvent.MarkHandled(ctx, id, "!room:hs", at); err != nil {
				t.Fatal(err)
			}
		}
		handled := func(id string) bool {
			ok, err := db.HandledEvent.IsHandled(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			return ok
		}
		webSession := func(hash string) bool {
			s, err := db.WebSession.Get(ctx, hash)
			if err != nil {
				t.Fatal(err)
			}
			return s != nil
		}
		mark("$old", now.Add(-8*24*time.Hour))
		mark("$recent", now.Add(-24*time.Hour))
		mark("$almost", now.Add(-7*24*time.Hour+30*time.Minute))
		for hash, expires := range map[string]time.Time{"expired": now.Add(-time.Minute), "valid": now.Add(2 * time.Hour)} {
			if err := db.WebSession.Insert(ctx, &database.WebSession{TokenHash: hash, Kind: "panel", UserID: "@dr:hs",
				CreatedAt: now.Add(-time.Hour), ExpiresAt: expires, LastSeen: now.Add(-time.Hour)}); err != nil {
				t.Fatal(err)
			}
		}

		s, err := scheduler.New(clock, bridge.DefaultWindow, zerolog.Nop())
		if err != nil {
			t.Fatal(err)
		}
		s.Use(noSwitches{}, db.Store())
		s.PruneWith(db)
		if err = s.Start(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Stop() })

		waitFor(t, 10*time.Second, "the pruning at start", func() bool { return !handled("$old") && !webSession("expired") })
		if !handled("$recent") || !handled("$almost") || !webSession("valid") {
			t.Fatalf("pruning removed rows still needed: recent %v, almost %v, valid session %v",
				handled("$recent"), handled("$almost"), webSession("valid"))
		}
		// An hour later, the event that has just turned a week old goes too.
		waitFor(t, 10*time.Second, "the hourly pruning", func() bool {
			clock.Advance(time.Minute)
			return !handled("$almost")
		})
		if !handled("$recent") {
			t.Error("the hourly pruning removed a day-old event")
		}
	})
}
