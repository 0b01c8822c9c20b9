package scheduler_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/rs/zerolog"

	"github.com/telehealth-bridge/telehealth-bridge/database"
	"github.com/telehealth-bridge/telehealth-bridge/internal/dbtest"
	"github.com/telehealth-bridge/telehealth-bridge/scheduler"
)

// Two bridges on one PostgreSQL: one sends, the other waits; when the first loses its
// database connection (a crash, a network cut), the second takes over at its next round.
func TestOneInstanceSends(t *testing.T) {
	ctx := context.Background()
	cfg := dbtest.Config(t, "pgx")
	open := func() *database.Database {
		db, err := database.Open(ctx, cfg, zerolog.Nop())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = db.Close() })
		return db
	}
	var firstElected, secondElected atomic.Int32
	first := scheduler.NewElector(open().RawDB, scheduler.ElectorKey, func() { firstElected.Add(1) })
	second := scheduler.NewElector(open().RawDB, scheduler.ElectorKey, func() { secondElected.Add(1) })
	defer first.Close()
	defer second.Close()

	if err := first.IsLeader(ctx); err != nil {
		t.Fatalf("the first instance: %v", err)
	}
	for range 3 {
		if err := second.IsLeader(ctx); !errors.Is(err, scheduler.ErrNotLeader) {
			t.Fatalf("the second instance while the first holds the lock: %v", err)
		}
		if err := first.IsLeader(ctx); err != nil {
			t.Fatalf("the first instance lost the lead: %v", err)
		}
	}
	if firstElected.Load() != 1 || secondElected.Load() != 0 {
		t.Fatalf("elections: first %d, second %d", firstElected.Load(), secondElected.Load())
	}

	// The first instance's connection dies: PostgreSQL releases the lock with it.
	admin := open()
	if _, err := admin.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype='advisory' AND granted`); err != nil {
		t.Fatal(err)
	}
	if err := second.IsLeader(ctx); err != nil {
		t.Fatalf("the second instance after the first lost its connection: %v", err)
	}
	if err := first.IsLeader(ctx); !errors.Is(err, scheduler.ErrNotLeader) {
		t.Fatalf("the first instance came back while the second leads: %v", err)
	}
	if secondElected.Load() != 1 {
		t.Fatalf("the second instance was elected %d times", secondElected.Load())
	}
}
