package scheduler_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/telehealth-bridge/telehealth-bridge/database"
	"github.com/telehealth-bridge/telehealth-bridge/internal/dbtest"
	"github.com/telehealth-bridge/telehealth-bridge/internal/twiliotest"
)

// seedClinic books sessions over the next month, each with one SMS participant and three
// notifications planned (a confirmation sent, a reminder and the waiting room's link pending),
// in bulk, the way a clinic's database looks after months of use.
func seedClinic(b *testing.B, db *database.Database, sessions int) {
	b.Helper()
	ctx := context.Background()
	now := time.Now().UnixMilli()
	day := int64(24 * time.Hour / time.Millisecond)
	steps := []string{
		fmt.Sprintf(`INSERT INTO telehealth_session (id, clinician, start_ts, end_ts, time_zone, kind, status, policy, created_at, updated_at)
			SELECT 's' || g, '@dr' || (g %% 50) || ':hs', %[1]d + 3*%[2]d + g::bigint * 25000, %[1]d + 3*%[2]d + g::bigint * 25000 + 2700000,
				'Europe/Paris', 'video', 'scheduled', 'manual', %[1]d, %[1]d FROM generate_series(1, %[3]d) g`, now, day, sessions),
		fmt.Sprintf(`INSERT INTO telehealth_participant (session_id, number, name, email, phone, locale, time_zone, invite, state, updated_at)
			SELECT 's' || g, 1, 'NN', '', '+3361' || lpad(g::text, 7, '0'), 'fr', 'Europe/Paris', 'sms', 'booked', %d
			FROM generate_series(1, %d) g`, now, sessions),
		fmt.Sprintf(`INSERT INTO telehealth_outbox (session_id, participant_id, kind, channel, due_at, status, attempts, revision, created_at, updated_at)
			SELECT s.id, p.id, k.kind, 'sms', CASE k.kind WHEN 'confirmation' THEN %[1]d WHEN 'reminder' THEN s.start_ts - %[2]d ELSE s.start_ts - 1800000 END,
				CASE k.kind WHEN 'confirmation' THEN 'sent' ELSE 'pending' END, 0, 0, %[1]d, %[1]d
			FROM telehealth_session s JOIN telehealth_participant p ON p.session_id = s.id
			CROSS JOIN (VALUES ('confirmation'), ('reminder'), ('window_open')) AS k(kind)`, now, day),
		`ANALYZE`,
	}
	for _, q := range steps {
		if _, err := db.Exec(ctx, q); err != nil {
			b.Fatal(err)
		}
	}
}

// dueRows plans one waiting-room message per booked session from first, due at the given
// instants (the session's participant is the message's recipient).
func dueRows(b *testing.B, db *database.Database, first int, due []time.Time) map[string]time.Time {
	b.Helper()
	ctx := context.Background()
	byPhone := make(map[string]time.Time, len(due))
	var rows []*bridge.Notification
	for i, at := range due {
		sessionID := fmt.Sprintf("s%d", first+i)
		ps, err := db.Store().Participants(ctx, sessionID)
		if err != nil || len(ps) != 1 {
			b.Fatalf("participants of %s: %v", sessionID, err)
		}
		byPhone[ps[0].Phone] = at
		rows = append(rows, &bridge.Notification{SessionID: sessionID, ParticipantID: ps[0].ID, Kind: bridge.NoticeWindowOpen,
			Channel: bridge.ChannelSMS, Due: at, Status: bridge.NotificationPending, CreatedAt: at, UpdatedAt: at})
	}
	for chunk := range slices.Chunk(rows, 1000) {
		if err := db.Outbox.Insert(ctx, chunk...); err != nil {
			b.Fatal(err)
		}
	}
	return byPhone
}

func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, int(float64(len(sorted))*p))]
}

// BenchmarkReminders measures the outbox of a clinic with 100 000 booked sessions on
// PostgreSQL: how late notifications go out one by one, how fast a burst of 10 000 due in the
// same minute drains at the provider's rate limit, the bridge's start-up time and peak memory.
func BenchmarkReminders(b *testing.B) {
	const sessions, burst, trickle, perSecond = 100_000, 10_000, 300, 500
	cfg := dbtest.Config(b, "pgx")
	db, err := database.Open(context.Background(), cfg, zerolog.Nop())
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	seedClinic(b, db, sessions)
	fake := twiliotest.StartFake(b)
	spec, _ := json.Marshal(childSpec{DB: cfg, TwilioURL: fake.URL, Workers: 8, PerSecond: perSecond})

	// Outside the burst: one message every 50 ms from 3 s after start-up; then the burst.
	startAt := time.Now()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), bridgeEnv+"="+string(spec))
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err = cmd.Start(); err != nil {
		b.Fatal(err)
	}
	lines := bufio.NewScanner(stdout)
	for lines.Scan() && lines.Text() != "READY" {
	}
	startup := time.Since(startAt)

	t0 := time.Now().Add(3 * time.Second)
	var spread []time.Time
	for i := range trickle {
		spread = append(spread, t0.Add(time.Duration(i)*50*time.Millisecond))
	}
	single := dueRows(b, db, 1, spread)
	burstAt := t0.Add(time.Duration(trickle)*50*time.Millisecond + 2*time.Second)
	burstDue := make([]time.Time, burst)
	for i := range burstDue {
		burstDue[i] = burstAt.Add(time.Duration(i%60) * time.Second / 60) // within one second of the minute's start
	}
	inBurst := dueRows(b, db, trickle+1, burstDue)
	b.ResetTimer()
	msgs := fake.WaitFor(b, trickle+burst, 5*time.Minute)
	b.StopTimer()
	_ = stdin.Close()
	peak := ""
	for lines.Scan() {
		if rest, ok := strings.CutPrefix(lines.Text(), "PEAK "); ok {
			peak = rest
		}
	}
	_ = cmd.Wait()

	var late []time.Duration
	var burstEnd time.Time
	for _, m := range msgs {
		if due, ok := single[m.To]; ok {
			late = append(late, m.At.Sub(due))
		} else if _, ok := inBurst[m.To]; ok && m.At.After(burstEnd) {
			burstEnd = m.At
		}
	}
	slices.Sort(late)
	kb, _ := strconv.Atoi(strings.TrimSuffix(peak, " kB"))
	drain := burstEnd.Sub(burstAt)
	fmt.Printf("BENCH reminders sessions=%d burst=%d lateness_p50_ms=%.1f lateness_p99_ms=%.1f burst_drain_s=%.1f burst_rate_per_s=%.0f rate_limit_per_s=%d rss_mb=%d startup_ms=%d\n",
		sessions, burst, float64(percentile(late, 0.5).Microseconds())/1000, float64(percentile(late, 0.99).Microseconds())/1000,
		drain.Seconds(), float64(burst)/drain.Seconds(), perSecond, kb/1024, startup.Milliseconds())
}
