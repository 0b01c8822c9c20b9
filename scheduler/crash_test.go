package scheduler_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"github.com/telehealth-bridge/telehealth-bridge/database"
	"github.com/telehealth-bridge/telehealth-bridge/internal/dbtest"
	"github.com/telehealth-bridge/telehealth-bridge/internal/twiliotest"
)

// seedBurst books sessions with one SMS participant each, all with a message due now.
func seedBurst(t *testing.T, db *database.Database, n int) {
	t.Helper()
	ctx := context.Background()
	now := time.Now().UTC()
	var rows []*bridge.Notification
	for i := range n {
		s := &bridge.Session{ID: fmt.Sprintf("b%05d", i), Clinician: "@dr:hs", Start: now.Add(20 * time.Minute), End: now.Add(time.Hour),
			TimeZone: "UTC", Kind: bridge.KindVideo, Status: bridge.StatusOpen, Policy: bridge.PolicyManual, CreatedAt: now, UpdatedAt: now}
		p := &bridge.Participant{Number: 1, Name: "NN", Locale: "en", TimeZone: "UTC", Invite: bridge.InviteSMS,
			Phone: fmt.Sprintf("+336120%05d", i), State: bridge.StateBooked, UpdatedAt: now}
		if err := db.Store().InsertSession(ctx, s, []*bridge.Participant{p}); err != nil {
			t.Fatal(err)
		}
		rows = append(rows, &bridge.Notification{SessionID: s.ID, ParticipantID: p.ID, Kind: bridge.NoticeWindowOpen,
			Channel: bridge.ChannelSMS, Due: now.Add(-time.Second), Status: bridge.NotificationPending, CreatedAt: now, UpdatedAt: now})
	}
	if err := db.Outbox.Insert(ctx, rows...); err != nil {
		t.Fatal(err)
	}
}

// A bridge killed with SIGKILL in the middle of a burst, several times, still delivers every
// message once it is back; a message goes twice only if it was in flight at a kill.
func TestKilledSenderLosesNothing(t *testing.T) {
	const burst, workers = 300, 4
	for _, kind := range dbtest.Kinds {
		t.Run(kind, func(t *testing.T) {
			cfg := dbtest.Config(t, kind)
			db, err := database.Open(context.Background(), cfg, zerolog.Nop())
			if err != nil {
				t.Fatal(err)
			}
			seedBurst(t, db, burst)
			_ = db.Close() // the sender is another process (and SQLite serves one)
			fake := twiliotest.StartFake(t)
			spec, _ := json.Marshal(childSpec{DB: cfg, TwilioURL: fake.URL, Workers: workers, PerSecond: 100})
			start := func() *exec.Cmd {
				cmd := exec.Command(os.Args[0])
				cmd.Env = append(os.Environ(), senderEnv+"="+string(spec))
				if err := cmd.Start(); err != nil {
					t.Fatal(err)
				}
				return cmd
			}
			kills := 0
			for _, after := range []int{40, 120, 200} {
				cmd := start()
				done := make(chan error, 1)
				go func() { done <- cmd.Wait() }()
				deadline := time.After(30 * time.Second)
			wait:
				for len(fake.Messages()) < after {
					select {
					case err := <-done:
						t.Fatalf("the sender ended before it was killed (%d sent): %v", len(fake.Messages()), err)
					case <-deadline:
						t.Fatalf("the sender sent %d messages in 30 s", len(fake.Messages()))
					case <-time.After(time.Millisecond):
						continue wait
					}
				}
				_ = cmd.Process.Kill() // SIGKILL: no clean-up of any kind
				<-done
				kills++
				if sent := len(fake.Messages()); sent >= burst {
					t.Fatalf("kill %d came after the burst was over (%d sent)", kills, sent)
				}
			}
			last := start()
			if err := last.Wait(); err != nil {
				t.Fatalf("the last sender failed: %v", err)
			}

			perPhone := map[string]int{}
			for _, m := range fake.Messages() {
				perPhone[m.To]++
			}
			dups := 0
			for i := range burst {
				switch n := perPhone[fmt.Sprintf("+336120%05d", i)]; {
				case n == 0:
					t.Errorf("participant %d never got their message", i)
				case n > 1:
					dups += n - 1
				}
			}
			if dups > kills*workers {
				t.Errorf("%d duplicates after %d kills with %d sends in flight at most", dups, kills, workers)
			}
			db, err = database.Open(context.Background(), cfg, zerolog.Nop())
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			var unsent int
			if err = db.QueryRow(context.Background(), "SELECT COUNT(*) FROM telehealth_outbox WHERE status<>'sent'").Scan(&unsent); err != nil {
				t.Fatal(err)
			}
			if unsent != 0 {
				t.Errorf("%d notifications not marked sent", unsent)
			}
			t.Logf("%d messages for %d notifications over %d kills: %d duplicates", len(fake.Messages()), burst, kills, dups)
		})
	}
}
