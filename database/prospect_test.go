package database_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"go.mau.fi/util/dbutil"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"github.com/telehealth-bridge/telehealth-bridge/database"
	"github.com/telehealth-bridge/telehealth-bridge/database/upgrades"
	"github.com/telehealth-bridge/telehealth-bridge/internal/dbtest"
)

func TestProspects(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.Database) {
		ctx := context.Background()
		store := db.Store()
		now := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
		a := &bridge.Prospect{Name: "Anna Martin", Contact: bridge.PortalContact{Email: "anna@example.org"}, Locale: "fr",
			TimeZone: "Europe/Paris", Status: bridge.ProspectWaiting, CreatedAt: now, UpdatedAt: now}
		b := &bridge.Prospect{Name: "Ben Ode", Contact: bridge.PortalContact{Phone: "+33612345678"}, Locale: "en",
			TimeZone: "UTC", Status: bridge.ProspectWaiting, CreatedAt: now.Add(-time.Hour), UpdatedAt: now}
		for _, p := range []*bridge.Prospect{a, b} {
			if err := store.InsertProspect(ctx, p); err != nil {
				t.Fatal(err)
			}
		}
		if a.ID == 0 || a.ID == b.ID {
			t.Fatalf("IDs %d %d", a.ID, b.ID)
		}
		got, err := store.GetProspect(ctx, a.ID)
		if err != nil || *got != *a {
			t.Fatalf("get: %+v %v, want %+v", got, err, a)
		}
		if got, err = store.GetProspect(ctx, b.ID); err != nil || got.Contact.Phone != "+33612345678" || got.Contact.Email != "" {
			t.Errorf("phone prospect: %+v %v", got, err)
		}
		if _, err = store.GetProspect(ctx, 999); !errors.Is(err, bridge.ErrProspectNotFound) {
			t.Errorf("unknown: %v", err)
		}
		list, err := store.WaitingProspects(ctx, 10)
		if err != nil || len(list) != 2 || list[0].ID != b.ID || list[1].ID != a.ID {
			t.Errorf("waiting, oldest first: %+v %v", list, err)
		}
		if p, err := store.WaitingProspectByContact(ctx, "anna@example.org"); err != nil || p == nil || p.ID != a.ID {
			t.Errorf("by contact: %+v %v", p, err)
		}
		if p, err := store.WaitingProspectByContact(ctx, "nobody@example.org"); err != nil || p != nil {
			t.Errorf("unknown contact: %+v %v", p, err)
		}

		// Two clinicians close one prospect at once: one wins.
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = store.CloseProspect(ctx, a.ID, bridge.ProspectLinked, int64(40+i), now.Add(time.Minute))
			}()
		}
		wg.Wait()
		if (errs[0] == nil) == (errs[1] == nil) || !errors.Is(errors.Join(errs...), bridge.ErrProspectNotFound) {
			t.Fatalf("racing closes: %v", errs)
		}
		got, _ = store.GetProspect(ctx, a.ID)
		if got.Status != bridge.ProspectLinked || (got.ClientID != 40 && got.ClientID != 41) || !got.UpdatedAt.Equal(now.Add(time.Minute)) {
			t.Errorf("linked: %+v", got)
		}
		if err = store.CloseProspect(ctx, a.ID, bridge.ProspectDismissed, 0, now); !errors.Is(err, bridge.ErrProspectNotFound) {
			t.Errorf("a linked prospect dismissed: %v", err)
		}
		if p, _ := store.WaitingProspectByContact(ctx, "anna@example.org"); p != nil {
			t.Errorf("a linked prospect still waits: %+v", p)
		}
		if list, _ = store.WaitingProspects(ctx, 10); len(list) != 1 || list[0].ID != b.ID {
			t.Errorf("waiting after the link: %+v", list)
		}
		if list, _ = store.WaitingProspects(ctx, 0); len(list) != 0 {
			t.Errorf("limit 0: %+v", list)
		}
	})
}

func TestPortalSessionOfAProspect(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.Database) {
		ctx := context.Background()
		now := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
		s := &database.PortalSession{TokenHash: "h1", ProspectID: 5, CreatedAt: now, LastSeen: now,
			IdleExpiresAt: now.Add(time.Hour), ExpiresAt: now.Add(24 * time.Hour)}
		if err := db.PortalSession.Insert(ctx, s); err != nil {
			t.Fatal(err)
		}
		got, err := db.PortalSession.Get(ctx, "h1")
		if err != nil || got.ClientID != 0 || got.ProspectID != 5 {
			t.Fatalf("get: %+v %v", got, err)
		}
		if err = db.PortalSession.BecomeClient(ctx, "h1", 12); err != nil {
			t.Fatal(err)
		}
		// Only once: a session that is a client's stays that client's.
		if err = db.PortalSession.BecomeClient(ctx, "h1", 13); err != nil {
			t.Fatal(err)
		}
		if got, _ = db.PortalSession.Get(ctx, "h1"); got.ClientID != 12 {
			t.Errorf("after the link: %+v", got)
		}
		if n, err := db.PortalSession.DeleteClient(ctx, 12); n != 1 || err != nil {
			t.Errorf("sign out everywhere: %d %v", n, err)
		}
	})
}

// TestMigrationKeepsPortalSessions: the upgrade to v11 keeps the clients' portal sign-ins, as
// clients' (no prospect), and starts with no prospects.
func TestMigrationKeepsPortalSessions(t *testing.T) {
	for _, kind := range dbtest.Kinds {
		t.Run(kind, func(t *testing.T) {
			ctx := context.Background()
			cfg := dbtest.Config(t, kind)
			uri := cfg.URI
			if kind == "sqlite" {
				uri = "file:" + uri + "?_pragma=foreign_keys(1)"
			}
			raw, err := dbutil.NewFromConfig("test", dbutil.Config{PoolConfig: dbutil.PoolConfig{Type: cfg.Type, URI: uri, MaxOpenConns: 1, MaxIdleConns: 1}}, dbutil.ZeroLogger(zerolog.Nop()))
			if err != nil {
				t.Fatal(err)
			}
			db := database.New(raw)
			defer db.Close()
			const before = 10
			db.UpgradeTable = upgrades.Table[:before]
			if err = db.Database.Upgrade(ctx); err != nil {
				t.Fatal(err)
			}
			var version int
			if err = db.QueryRow(ctx, "SELECT version FROM "+database.VersionTable).Scan(&version); err != nil || version != before {
				t.Fatalf("at version %d (%v), want %d", version, err, before)
			}
			if _, err = db.Exec(ctx, `INSERT INTO telehealth_portal_session (token_hash, client_id, created_at, last_seen, idle_expires_at, expires_at)
				VALUES ('h', 7, 1, 2, 3, 4)`); err != nil {
				t.Fatal(err)
			}
			db.UpgradeTable = upgrades.Table
			if err = db.Upgrade(ctx); err != nil {
				t.Fatalf("upgrading from v%d: %v", before, err)
			}
			s, err := db.PortalSession.Get(ctx, "h")
			if err != nil || s == nil || s.ClientID != 7 || s.ProspectID != 0 || s.ExpiresAt.UnixMilli() != 4 {
				t.Errorf("the sign-in after the upgrade: %+v %v", s, err)
			}
			if list, err := db.Store().WaitingProspects(ctx, 10); err != nil || len(list) != 0 {
				t.Errorf("prospects after the upgrade: %+v %v", list, err)
			}
		})
	}
}

func TestAllControlRooms(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.Database) {
		ctx := context.Background()
		if all, err := db.ControlRoom.All(ctx); err != nil || len(all) != 0 {
			t.Fatalf("none yet: %+v %v", all, err)
		}
		for user, room := range map[string]string{"@b:hs": "!b:hs", "@a:hs": "!a:hs"} {
			if err := db.ControlRoom.Set(ctx, user, room, time.Now()); err != nil {
				t.Fatal(err)
			}
		}
		all, err := db.ControlRoom.All(ctx)
		if err != nil || len(all) != 2 || all[0] != (database.ControlRoomOf{User: "@a:hs", RoomID: "!a:hs"}) || all[1].User != "@b:hs" {
			t.Errorf("all: %+v %v", all, err)
		}
	})
}
