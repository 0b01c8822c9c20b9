package database_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/telehealth-bridge/telehealth-bridge/database"
	"github.com/telehealth-bridge/telehealth-bridge/internal/dbtest"
)

func TestPortalCredentials(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.Database) {
		ctx := context.Background()
		now := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
		q := db.PortalCredential
		c := &database.PortalCredential{CredentialID: "cred-a", ClientID: 7, PublicKey: "pk", AAGUID: "aa", SignCount: 3,
			Transports: []string{"internal", "hybrid"}, BackupEligible: true, CreatedAt: now}
		if err := q.Insert(ctx, c); err != nil {
			t.Fatal(err)
		}
		// One credential belongs to one client.
		if err := q.Insert(ctx, &database.PortalCredential{CredentialID: "cred-a", ClientID: 8, PublicKey: "x", CreatedAt: now}); err == nil {
			t.Error("a credential ID was stored for a second client")
		}
		got, err := q.Get(ctx, "cred-a")
		if err != nil || got == nil || got.ClientID != 7 || got.SignCount != 3 || !slices.Equal(got.Transports, c.Transports) ||
			!got.BackupEligible || got.BackupState || !got.LastUsedAt.IsZero() || !got.CreatedAt.Equal(now) {
			t.Fatalf("get: %+v %v", got, err)
		}
		if err = q.Used(ctx, "cred-a", 4, true, now.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if got, _ = q.Get(ctx, "cred-a"); got.SignCount != 4 || !got.BackupState || !got.LastUsedAt.Equal(now.Add(time.Hour)) {
			t.Errorf("used: %+v", got)
		}
		if err = q.Insert(ctx, &database.PortalCredential{CredentialID: "cred-b", ClientID: 7, PublicKey: "pk2", CreatedAt: now.Add(time.Minute)}); err != nil {
			t.Fatal(err)
		}
		list, err := q.ByClient(ctx, 7)
		if err != nil || len(list) != 2 || list[0].CredentialID != "cred-a" || list[1].Transports != nil {
			t.Errorf("by client: %+v %v", list, err)
		}
		// Another client cannot delete it.
		if ok, err := q.Delete(ctx, 8, "cred-b"); ok || err != nil {
			t.Errorf("another client's delete: %v %v", ok, err)
		}
		if ok, err := q.Delete(ctx, 7, "cred-b"); !ok || err != nil {
			t.Errorf("delete: %v %v", ok, err)
		}
		if n, _ := q.Count(ctx, 7); n != 1 {
			t.Errorf("count %d", n)
		}
		if missing, err := q.Get(ctx, "nope"); missing != nil || err != nil {
			t.Errorf("missing: %v %v", missing, err)
		}
	})
}

func TestPortalPasswords(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.Database) {
		ctx := context.Background()
		now := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
		q := db.PortalPassword
		if h, err := q.Get(ctx, 7); h != "" || err != nil {
			t.Fatalf("none yet: %q %v", h, err)
		}
		if err := q.Set(ctx, 7, "$argon2id$one", now); err != nil {
			t.Fatal(err)
		}
		if err := q.Set(ctx, 7, "$argon2id$two", now); err != nil {
			t.Fatal(err)
		}
		if h, _ := q.Get(ctx, 7); h != "$argon2id$two" {
			t.Errorf("replaced: %q", h)
		}
		if h, _ := q.Get(ctx, 8); h != "" {
			t.Errorf("another client's: %q", h)
		}
		if err := q.Delete(ctx, 7); err != nil {
			t.Fatal(err)
		}
		if h, _ := q.Get(ctx, 7); h != "" {
			t.Errorf("deleted: %q", h)
		}
	})
}

func TestPortalCodes(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.Database) {
		ctx := context.Background()
		now := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
		q := db.PortalCode
		c := &database.PortalCode{Lookup: "L", ClientID: 7, Purpose: "sign_in", CodeHash: "H1", CreatedAt: now, ExpiresAt: now.Add(10 * time.Minute)}
		if err := q.Put(ctx, c); err != nil {
			t.Fatal(err)
		}
		if n, err := q.Fail(ctx, "L"); n != 1 || err != nil {
			t.Errorf("fail: %d %v", n, err)
		}
		if n, _ := q.Fail(ctx, "nope"); n != 0 {
			t.Errorf("fail of no code: %d", n)
		}
		// Wrong guesses in parallel are all counted.
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() { _, _ = q.Fail(ctx, "L") })
		}
		wg.Wait()
		if got, _ := q.Get(ctx, "L"); got.Attempts != 9 {
			t.Errorf("attempts after parallel guesses: %d", got.Attempts)
		}
		// A new code replaces the old one, attempts and all.
		c.CodeHash = "H2"
		if err := q.Put(ctx, c); err != nil {
			t.Fatal(err)
		}
		if got, _ := q.Take(ctx, "L", "H1", 5); got != nil {
			t.Error("the replaced code worked")
		}
		got, err := q.Take(ctx, "L", "H2", 5)
		if err != nil || got == nil || got.ClientID != 7 || got.Attempts != 0 || !got.ExpiresAt.Equal(c.ExpiresAt) {
			t.Fatalf("take: %+v %v", got, err)
		}
		if again, _ := q.Take(ctx, "L", "H2", 5); again != nil {
			t.Error("a code worked twice")
		}
		// A spent code does not work, even right.
		c.Attempts = 5
		if err = q.Put(ctx, c); err != nil {
			t.Fatal(err)
		}
		if spent, _ := q.Take(ctx, "L", "H2", 5); spent != nil {
			t.Error("a spent code worked")
		}
		c.Attempts = 0
		// Two requests racing with the right code: one wins.
		if err = q.Put(ctx, c); err != nil {
			t.Fatal(err)
		}
		var mu sync.Mutex
		wins := 0
		for range 4 {
			wg.Go(func() {
				if got, _ := q.Take(ctx, "L", "H2", 5); got != nil {
					mu.Lock()
					wins++
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if wins != 1 {
			t.Errorf("%d winners", wins)
		}
		if err = q.Put(ctx, c); err != nil {
			t.Fatal(err)
		}
		if n, _ := q.Prune(ctx, now.Add(11*time.Minute)); n != 1 {
			t.Errorf("pruned %d", n)
		}
	})
}

func TestPortalSessions(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.Database) {
		ctx := context.Background()
		now := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
		q := db.PortalSession
		for i, s := range []struct {
			hash   string
			client int64
		}{{"a1", 7}, {"a2", 7}, {"b1", 8}} {
			err := q.Insert(ctx, &database.PortalSession{TokenHash: s.hash, ClientID: s.client, CreatedAt: now, LastSeen: now,
				IdleExpiresAt: now.Add(time.Duration(30+i) * time.Minute), ExpiresAt: now.Add(12 * time.Hour)})
			if err != nil {
				t.Fatal(err)
			}
		}
		if err := q.Touch(ctx, "a1", now.Add(time.Minute), now.Add(31*time.Minute)); err != nil {
			t.Fatal(err)
		}
		got, err := q.Get(ctx, "a1")
		if err != nil || got == nil || got.ClientID != 7 || !got.LastSeen.Equal(now.Add(time.Minute)) ||
			!got.IdleExpiresAt.Equal(now.Add(31*time.Minute)) || !got.ExpiresAt.Equal(now.Add(12*time.Hour)) {
			t.Fatalf("get: %+v %v", got, err)
		}
		// Signing out everywhere ends every session of the client, and no one else's.
		if n, err := q.DeleteClient(ctx, 7); n != 2 || err != nil {
			t.Errorf("delete client: %d %v", n, err)
		}
		if s, _ := q.Get(ctx, "a2"); s != nil {
			t.Error("a session survived signing out everywhere")
		}
		if s, _ := q.Get(ctx, "b1"); s == nil {
			t.Error("another client's session ended")
		}
		if err = q.Delete(ctx, "b1"); err != nil {
			t.Fatal(err)
		}
		if err = q.Insert(ctx, &database.PortalSession{TokenHash: "idle", ClientID: 9, CreatedAt: now, LastSeen: now,
			IdleExpiresAt: now.Add(30 * time.Minute), ExpiresAt: now.Add(12 * time.Hour)}); err != nil {
			t.Fatal(err)
		}
		if n, _ := db.Prune(ctx, now.Add(31*time.Minute)); n != 1 {
			t.Errorf("pruned %d (an idle session is pruned)", n)
		}
	})
}
