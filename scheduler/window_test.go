package scheduler

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/rs/zerolog"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
)

// switches records the window switches the jobs make.
type switches struct {
	mu    sync.Mutex
	calls []string
}

func (s *switches) OpenWindow(_ context.Context, id string) error  { return s.add("open " + id) }
func (s *switches) CloseWindow(_ context.Context, id string) error { return s.add("close " + id) }
func (s *switches) add(call string) error {
	s.mu.Lock()
	s.calls = append(s.calls, call)
	s.mu.Unlock()
	return nil
}
func (s *switches) seen() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.calls...)
}

type sessionList []*bridge.Session

func (l sessionList) ActiveSessionsStartingBefore(_ context.Context, t time.Time) ([]*bridge.Session, error) {
	var out []*bridge.Session
	for _, s := range l {
		if !s.Over() && s.Start.Before(t) {
			out = append(out, s)
		}
	}
	return out, nil
}

func waitCalls(t *testing.T, sw *switches, want ...string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		got := sw.seen()
		if len(got) == len(want) {
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("switches %v, want %v", got, want)
				}
			}
			return
		}
		if len(got) > len(want) || time.Now().After(deadline) {
			t.Fatalf("switches %v, want %v", got, want)
		}
		<-time.After(5 * time.Millisecond)
	}
}

func TestWindowSwitches(t *testing.T) {
	now := time.Date(2026, 3, 29, 0, 0, 0, 0, time.UTC) // a daylight-saving change in Paris
	clock := clockwork.NewFakeClockAt(now)
	start := now.Add(3 * time.Hour)
	missed := &bridge.Session{ID: "missed", Status: bridge.StatusScheduled, Start: now.Add(10 * time.Minute), End: now.Add(time.Hour), TimeZone: "Europe/Paris"}
	later := &bridge.Session{ID: "later2", Status: bridge.StatusScheduled, Start: start, End: start.Add(50 * time.Minute), TimeZone: "Europe/Paris"}
	over := &bridge.Session{ID: "over22", Status: bridge.StatusCancelled, Start: start, End: start.Add(time.Hour), TimeZone: "Europe/Paris"}
	sw := &switches{}
	s, err := New(clock, bridge.DefaultWindow, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	s.Use(sw, sessionList{missed, later, over})
	if err = s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer s.Stop()
	// The window of "missed" opened while the bridge was down: the switch runs at once.
	waitCalls(t, sw, "open missed")

	// Planning again (a reschedule with the same times) does not double the jobs.
	if err = s.Plan(context.Background(), later); err != nil {
		t.Fatal(err)
	}
	if err = clock.BlockUntilContext(context.Background(), 3); err != nil { // missed's close, later's open and close
		t.Fatal(err)
	}
	clock.Advance(time.Hour)
	waitCalls(t, sw, "open missed", "close missed")
	clock.Advance(start.Add(-30 * time.Minute).Sub(clock.Now()))
	waitCalls(t, sw, "open missed", "close missed", "open later2")

	// Cancelling removes what is planned.
	later.Status = bridge.StatusCancelled
	if err = s.Plan(context.Background(), later); err != nil {
		t.Fatal(err)
	}
	clock.Advance(2 * time.Hour)
	if err = s.Plan(context.Background(), missed); err != nil { // a fence: its jobs run at once
		t.Fatal(err)
	}
	// Both of its switches are past, so both run at once, in either order (each checks the time
	// itself); later2's cancelled close is not among them.
	deadline := time.Now().Add(5 * time.Second)
	for len(sw.seen()) < 5 && time.Now().Before(deadline) {
		<-time.After(5 * time.Millisecond)
	}
	got := sw.seen()
	if len(got) != 5 || got[2] != "open later2" || !((got[3] == "open missed" && got[4] == "close missed") || (got[3] == "close missed" && got[4] == "open missed")) {
		t.Fatalf("switches %v", got)
	}
}

// A session booked days ahead gets no timer at start; the periodic planner brings it in once
// it is within reach, and its waiting room opens on time.
func TestFarSessionsArePlannedWhenInReach(t *testing.T) {
	now := time.Date(2026, 3, 20, 9, 0, 0, 0, time.UTC)
	clock := clockwork.NewFakeClockAt(now)
	far := &bridge.Session{ID: "far234", Status: bridge.StatusScheduled, Start: now.Add(5 * 24 * time.Hour), TimeZone: "Europe/Paris"}
	far.End = far.Start.Add(time.Hour)
	sw := &switches{}
	s, err := New(clock, bridge.DefaultWindow, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	s.Use(sw, sessionList{far})
	if err = s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer s.Stop()
	planned := func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.planned[far.ID]
	}
	if planned() {
		t.Fatal("a session 5 days ahead was planned at start")
	}
	clock.Advance(far.Opens(bridge.DefaultWindow).Add(-time.Hour).Sub(clock.Now()))
	for deadline := time.Now().Add(5 * time.Second); !planned(); {
		if time.Now().After(deadline) {
			t.Fatal("the session was not planned once within reach")
		}
		<-time.After(5 * time.Millisecond)
	}
	if got := sw.seen(); len(got) != 0 {
		t.Fatalf("switches an hour before the window: %v", got)
	}
	clock.Advance(time.Hour)
	waitCalls(t, sw, "open far234")
}
