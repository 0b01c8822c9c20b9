package database_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"github.com/telehealth-bridge/telehealth-bridge/database"
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
