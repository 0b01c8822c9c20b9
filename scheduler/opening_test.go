package scheduler_test

import (
	"context"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"github.com/telehealth-bridge/telehealth-bridge/internal/bridgetest"
)

// fastTimers is a fake clock whose timers longer than ahead fire that much early while its
// time reads right: a timer that ran ahead of the clock, or a wall clock stepped back after
// the timer was armed.
type fastTimers struct {
	*clockwork.FakeClock
	ahead time.Duration
}

func (c fastTimers) AfterFunc(d time.Duration, f func()) clockwork.Timer {
	if d > c.ahead {
		d -= c.ahead
	}
	return c.FakeClock.AfterFunc(d, f)
}

// waiters is how many timers the fake clock holds now.
func waiters(c *clockwork.FakeClock) int {
	now, cancel := context.WithCancel(context.Background())
	cancel()
	n := 0
	for c.BlockUntilContext(now, n+1) == nil {
		n++
	}
	return n
}

// TestLobbyOpensAtItsTimeOnce: the clock crosses the opening in steps (T-31m, T-30m-1s, T-30m,
// T-29m) and the room's join rule turns to knock at T-30m, not before, and once; also when the
// opening's timer fires a second or a minute early (the switch then finds the window shut and
// must plan itself again rather than give up until a restart). The whole bridge runs against
// Dendrite, so the join rule is the one a client's knock meets.
func TestLobbyOpensAtItsTimeOnce(t *testing.T) {
	for _, tc := range []struct {
		name  string
		early time.Duration
	}{{"on time", 0}, {"a second early", time.Second}, {"a minute early", time.Minute}} {
		t.Run(tc.name, func(t *testing.T) {
			fake := clockwork.NewFakeClockAt(time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC))
			var clock clockwork.Clock = fake
			if tc.early > 0 {
				clock = fastTimers{fake, tc.early}
			}
			env := bridgetest.New(t, bridgetest.Options{Clock: clock})
			env.Start(t)
			clinician := env.User(t, "dr.martin")
			ctx := context.Background()
			sess, err := env.App.Sessions.Schedule(ctx, bridge.ScheduleRequest{
				Clinician: clinician.UserID.String(), Start: time.Date(2026, 11, 24, 14, 0, 0, 0, time.UTC),
				End: time.Date(2026, 11, 24, 14, 50, 0, 0, time.UTC), TimeZone: "Europe/Paris",
				Participants: []bridge.ParticipantRequest{{Name: "JD"}},
			})
			if err != nil {
				t.Fatal(err)
			}
			room := id.RoomID(sess.RoomID)
			if _, err = clinician.JoinRoomByID(ctx, room); err != nil {
				t.Fatal(err)
			}
			joinRule := func() event.JoinRule {
				var rules event.JoinRulesEventContent
				if err := clinician.StateEvent(ctx, room, event.StateJoinRules, "", &rules); err != nil {
					t.Fatalf("reading the join rule: %v", err)
				}
				return rules.JoinRule
			}
			opens := sess.Opens(bridge.DefaultWindow)
			for _, step := range []time.Duration{-time.Minute, -time.Second, 0, time.Minute} {
				at := opens.Add(step)
				before := waiters(fake)
				fake.Advance(at.Sub(fake.Now()))
				if tc.early > 0 && step == -tc.early {
					// The opening's timer fired now, early: wait for it to be handled before the
					// next step (the clock holds as many timers as before once the switch has
					// planned itself again). Without that, the lobby stays shut below.
					wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
					if err := fake.BlockUntilContext(wctx, before); err != nil {
						t.Logf("at T%s the switch fired early and was not planned again", step)
					}
					cancel()
				}
				if at.Before(opens) {
					if got := joinRule(); got != event.JoinRuleInvite {
						t.Fatalf("at T%s (before the opening) the join rule is %s", step, got)
					}
					continue
				}
				bridgetest.Eventually(t, 15*time.Second, "the join rule knock at T"+step.String(), func() bool {
					return joinRule() == event.JoinRuleKnock
				})
			}
			// The close is the fence: once the rule is back to invite, every switch has run.
			fake.Advance(sess.Closes(bridge.DefaultWindow).Sub(fake.Now()))
			bridgetest.Eventually(t, 15*time.Second, "the join rule invite after the close", func() bool {
				return joinRule() == event.JoinRuleInvite
			})
			resp, err := clinician.Messages(ctx, room, "", "", mautrix.DirectionBackward, nil, 500)
			if err != nil {
				t.Fatal(err)
			}
			knocks := 0
			for _, evt := range resp.Chunk {
				if evt.Type == event.StateJoinRules {
					_ = evt.Content.ParseRaw(evt.Type)
					if evt.Content.AsJoinRules().JoinRule == event.JoinRuleKnock {
						knocks++
					}
				}
			}
			if knocks != 1 {
				t.Errorf("the join rule turned to knock %d times, want once", knocks)
			}
		})
	}
}
