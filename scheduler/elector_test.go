package scheduler_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/telehealth-bridge/telehealth-bridge/database"
	"github.com/telehealth-bridge/telehealth-bridge/internal/dbtest"
	"github.com/telehealth-bridge/telehealth-bridge/internal/twiliotest"
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
	// PostgreSQL ends the backend (and frees its locks) shortly after it is told to: the second
	// instance takes over at one of its next rounds.
	waitFor(t, 10*time.Second, "the second instance to lead after the first lost its connection", func() bool {
		return second.IsLeader(ctx) == nil
	})
	if err := first.IsLeader(ctx); !errors.Is(err, scheduler.ErrNotLeader) {
		t.Fatalf("the first instance came back while the second leads: %v", err)
	}
	if secondElected.Load() != 1 {
		t.Fatalf("the second instance was elected %d times", secondElected.Load())
	}
}

// Two bridges share one PostgreSQL, each with its scheduler running: a burst goes out once.
func TestTwoInstancesSendOnce(t *testing.T) {
	ctx := context.Background()
	cfg := dbtest.Config(t, "pgx")
	fake := twiliotest.StartFake(t)
	seed, err := database.Open(ctx, cfg, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	defer seed.Close()
	const burst = 60
	seedBurst(t, seed, burst)
	for range 2 {
		db, err := database.Open(ctx, cfg, zerolog.Nop())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = db.Close() })
		sms, err := loopbackSMS(fake.URL)
		if err != nil {
			t.Fatal(err)
		}
		sched, err := startScheduler(ctx, db, sms, scheduler.NotifyConfig{Poll: 20 * time.Millisecond, SMSPerSecond: 200})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = sched.Stop() })
	}
	waitFor(t, 30*time.Second, "every notification marked sent", func() bool {
		var unsent int
		err := seed.QueryRow(ctx, "SELECT COUNT(*) FROM telehealth_outbox WHERE status<>'sent'").Scan(&unsent)
		return err == nil && unsent == 0
	})
	// Each row is marked sent after its send: a second send would already be here.
	if got := len(fake.Messages()); got != burst {
		t.Fatalf("%d messages for %d notifications", got, burst)
	}
}
