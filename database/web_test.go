package database_test

import (
	"context"
	"testing"
	"time"

	"github.com/telehealth-bridge/telehealth-bridge/database"
	"github.com/telehealth-bridge/telehealth-bridge/internal/dbtest"
)

func TestGuestLinks(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.Database) {
		ctx := context.Background()
		start := time.Date(2026, 11, 24, 14, 0, 0, 0, time.UTC)
		s, ps := sampleSession("abc234", start)
		if err := db.Store().InsertSession(ctx, s, ps); err != nil {
			t.Fatal(err)
		}
		q := db.GuestLink
		link := &database.GuestLink{TokenHash: "h1", SessionID: s.ID, ParticipantID: ps[0].ID, CreatedAt: start, ExpiresAt: start.Add(2 * time.Hour)}
		if err := q.Put(ctx, link); err != nil {
			t.Fatal(err)
		}
		got, err := q.ByHash(ctx, "h1")
		if err != nil || got == nil || got.ParticipantID != ps[0].ID || !got.ExpiresAt.Equal(link.ExpiresAt) || !got.RevokedAt.IsZero() {
			t.Fatalf("by hash: %+v %v", got, err)
		}
		if err = q.Revoke(ctx, ps[0].ID, start); err != nil {
			t.Fatal(err)
		}
		if got, _ = q.ByHash(ctx, "h1"); !got.RevokedAt.Equal(start) {
			t.Errorf("revoked at %v", got.RevokedAt)
		}
		// A new link replaces the old one: the old token no longer resolves.
		link.TokenHash = "h2"
		if err = q.Put(ctx, link); err != nil {
			t.Fatal(err)
		}
		if old, _ := q.ByHash(ctx, "h1"); old != nil {
			t.Error("the replaced link still resolves")
		}
		if got, _ = q.ByParticipant(ctx, ps[0].ID); got == nil || got.TokenHash != "h2" || !got.RevokedAt.IsZero() {
			t.Errorf("by participant: %+v", got)
		}
	})
}

func TestWebSessions(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.Database) {
		ctx := context.Background()
		now := time.Date(2026, 11, 24, 14, 0, 0, 0, time.UTC)
		q := db.WebSession
		one := &database.WebSession{TokenHash: "once", Kind: "login", UserID: "@dr:hs", CreatedAt: now, ExpiresAt: now.Add(10 * time.Minute), LastSeen: now}
		if err := q.Insert(ctx, one); err != nil {
			t.Fatal(err)
		}
		if got, _ := q.Take(ctx, "once", "panel"); got != nil {
			t.Error("a one-time link was taken as another kind")
		}
		got, err := q.Take(ctx, "once", "login")
		if err != nil || got == nil || got.UserID != "@dr:hs" {
			t.Fatalf("take: %+v %v", got, err)
		}
		if again, _ := q.Take(ctx, "once", "login"); again != nil {
			t.Error("a one-time link worked twice")
		}
		panel := &database.WebSession{TokenHash: "p", Kind: "panel", UserID: "@dr:hs", CreatedAt: now, ExpiresAt: now.Add(30 * time.Minute), LastSeen: now}
		if err = q.Insert(ctx, panel); err != nil {
			t.Fatal(err)
		}
		if err = q.Touch(ctx, "p", now.Add(time.Minute), now.Add(31*time.Minute)); err != nil {
			t.Fatal(err)
		}
		if got, _ = q.Get(ctx, "p"); !got.ExpiresAt.Equal(now.Add(31 * time.Minute)) {
			t.Errorf("touch: %+v", got)
		}
		if _, err = q.Prune(ctx, now.Add(32*time.Minute)); err != nil {
			t.Fatal(err)
		}
		if got, _ = q.Get(ctx, "p"); got != nil {
			t.Error("an expired web session survived pruning")
		}
	})
}
