package bridge_test

import (
	"context"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"github.com/telehealth-bridge/telehealth-bridge/database"
	"github.com/telehealth-bridge/telehealth-bridge/internal/dbtest"
)

// TestLateKickEchoKeepsANewKnock: a send-back's kick goes to the homeserver after the lobby
// stored it, so its echo can come back after the guest knocked again. That echo is the
// bridge's own and must not turn the new knock into a denial (seen in the controls scenario:
// "Your clinician did not let you in").
func TestLateKickEchoKeepsANewKnock(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.Database) {
		ctx := context.Background()
		clock := clockwork.NewFakeClockAt(time.Date(2026, 11, 24, 13, 40, 0, 0, time.UTC))
		svc := bridge.New(bridge.Options{Store: db.Store(), Clock: clock, Bot: "@bot:hs"})
		svc.Use(&numberedRooms{}, quietRooms{}, nil, nil)
		s, err := svc.Schedule(ctx, bridge.ScheduleRequest{Clinician: "@dr:hs", Start: clock.Now().Add(20 * time.Minute),
			End: clock.Now().Add(70 * time.Minute), TimeZone: "Europe/Paris",
			Participants: []bridge.ParticipantRequest{{Name: "Jane", MatrixID: "@jane:hs"}}})
		if err != nil {
			t.Fatal(err)
		}
		if err = svc.OpenWindow(ctx, s.ID); err != nil {
			t.Fatal(err)
		}
		member := func(sender, membership string) {
			t.Helper()
			if err := svc.OnMembership(ctx, bridge.Membership{RoomID: s.RoomID, Target: "@jane:hs", Sender: sender, Membership: membership}); err != nil {
				t.Fatal(err)
			}
		}
		state := func() bridge.LobbyState {
			t.Helper()
			_, ps, err := svc.Lobby(ctx, "", s.ID)
			if err != nil {
				t.Fatal(err)
			}
			return ps[0].State
		}
		member("@jane:hs", bridge.MemberKnock)
		if _, err = svc.Admit(ctx, "@dr:hs", s.ID, "1"); err != nil {
			t.Fatal(err)
		}
		member("@jane:hs", bridge.MemberJoin)
		if err = svc.HostAction(ctx, "@dr:hs", s.ID, "send-back", "1", ""); err != nil {
			t.Fatal(err)
		}
		member("@jane:hs", bridge.MemberKnock) // she asks again before the kick's echo
		member("@bot:hs", bridge.MemberLeave)  // the send-back's kick comes back
		if got := state(); got != bridge.StateWaiting {
			t.Fatalf("after the late echo of the send-back's kick Jane is %s, want waiting", got)
		}
		// A kick by someone else (a clinician in Element) still denies.
		member("@dr:hs", bridge.MemberLeave)
		if got := state(); got != bridge.StateDenied {
			t.Fatalf("after the clinician's own kick Jane is %s, want denied", got)
		}
	})
}
