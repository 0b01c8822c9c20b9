package scheduler_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/go-co-op/gocron/v2"
	"github.com/jonboulle/clockwork"
	"github.com/rs/zerolog"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"github.com/telehealth-bridge/telehealth-bridge/database"
	"github.com/telehealth-bridge/telehealth-bridge/scheduler"
)

// The crash test and the benchmark run the sender in processes of its own: this test binary,
// started again with one of these variables holding a childSpec.
const (
	// senderEnv: send what is due, then exit (the crash test kills it on the way).
	senderEnv = "TELEHEALTH_SENDER_CHILD"
	// bridgeEnv: run the scheduler as the bridge does on PostgreSQL, print READY, and print the
	// peak RSS once standard input closes (the benchmark).
	bridgeEnv = "TELEHEALTH_BENCH_BRIDGE"
)

// childSpec is what a child process sends with.
type childSpec struct {
	DB        database.Config
	TwilioURL string
	Workers   int
	PerSecond float64
}

const (
	childSID   = "AC0123456789abcdef0123456789abcdef"
	childToken = "0123456789abcdef0123456789abcdef"
)

// TestMain is either a child process (its variable set) or the tests.
func TestMain(m *testing.M) {
	for env, run := range map[string]func(context.Context, childSpec, *database.Database, *scheduler.SMS) error{
		senderEnv: sendDue, bridgeEnv: runBridge,
	} {
		if raw := os.Getenv(env); raw != "" {
			if err := runChild(raw, run); err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
			os.Exit(0)
		}
	}
	os.Exit(m.Run())
}

// runChild opens what a child sends with (the database and an SMS sender pointed at the
// parent's loopback Twilio) and runs it.
func runChild(raw string, run func(context.Context, childSpec, *database.Database, *scheduler.SMS) error) error {
	var spec childSpec
	if err := json.Unmarshal([]byte(raw), &spec); err != nil {
		return fmt.Errorf("reading the child's settings: %w", err)
	}
	ctx := context.Background()
	db, err := database.Open(ctx, spec.DB, zerolog.Nop())
	if err != nil {
		return err
	}
	defer db.Close()
	sms, err := loopbackSMS(spec.TwilioURL)
	if err != nil {
		return err
	}
	return run(ctx, spec, db, sms)
}

// loopbackSMS is an SMS sender pointed at a loopback Twilio.
func loopbackSMS(apiURL string) (*scheduler.SMS, error) {
	return scheduler.NewSMS(scheduler.SMSConfig{AccountSID: childSID, AuthToken: childToken, From: "+33123456789", APIURL: apiURL}, zerolog.Nop())
}

// sendDue is the crash test's sender: it sends until nothing is due.
func sendDue(ctx context.Context, spec childSpec, db *database.Database, sms *scheduler.SMS) error {
	nt := scheduler.NewNotifier(scheduler.NotifyConfig{
		Clinic: scheduler.Clinic{Name: "Clinique du Parc"}, Window: bridge.DefaultWindow,
		SMSPerSecond: spec.PerSecond, Workers: spec.Workers,
	}, clockwork.NewRealClock(), zerolog.Nop(), db.Outbox, db.OptOut, db.Store(), sms, nil)
	return nt.SendDue(ctx)
}

// runBridge is the process BenchmarkReminders measures.
func runBridge(ctx context.Context, spec childSpec, db *database.Database, sms *scheduler.SMS) error {
	sched, err := startScheduler(ctx, db, sms, scheduler.NotifyConfig{ReminderBefore: 24 * time.Hour,
		SMSPerSecond: spec.PerSecond, Workers: spec.Workers})
	if err != nil {
		return err
	}
	fmt.Println("READY")
	_, _ = io.Copy(io.Discard, os.Stdin)
	_ = sched.Stop()
	status, _ := os.ReadFile("/proc/self/status")
	for _, line := range strings.Split(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			fmt.Println("PEAK", strings.TrimSpace(rest))
		}
	}
	return nil
}

// noSwitches stands in for the session domain's window switches, which the outbox tests'
// sessions never reach.
type noSwitches struct{}

func (noSwitches) OpenWindow(context.Context, string) error  { return nil }
func (noSwitches) CloseWindow(context.Context, string) error { return nil }

// startScheduler runs the scheduler as the bridge does on PostgreSQL: behind the elector, with
// the window planner and the outbox sender. cfg gets the test clinic and the default window.
func startScheduler(ctx context.Context, db *database.Database, sms *scheduler.SMS, cfg scheduler.NotifyConfig) (*scheduler.Scheduler, error) {
	cfg.Clinic, cfg.Window = scheduler.Clinic{Name: "Clinique du Parc"}, bridge.DefaultWindow
	clock := clockwork.NewRealClock()
	nt := scheduler.NewNotifier(cfg, clock, zerolog.Nop(), db.Outbox, db.OptOut, db.Store(), sms, nil)
	sched, err := scheduler.New(clock, bridge.DefaultWindow, zerolog.Nop(),
		gocron.WithDistributedElector(scheduler.NewElector(db.RawDB, scheduler.ElectorKey, nt.Elected)))
	if err != nil {
		return nil, err
	}
	sched.Use(noSwitches{}, db.Store())
	sched.Notify(nt)
	return sched, sched.Start(ctx)
}

// waitFor polls cond until it holds, failing the test after the deadline.
func waitFor(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(within); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", within, what)
		}
		<-time.After(10 * time.Millisecond)
	}
}
