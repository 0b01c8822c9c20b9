package bridge_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/rs/zerolog"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"github.com/telehealth-bridge/telehealth-bridge/database"
)

// quietRooms stands in for Matrix: the benchmark measures the lobby's own work.
type quietRooms struct{}

func (quietRooms) CreateRoom(context.Context, *bridge.Session) (string, error) {
	return "!room:hs", nil
}
func (quietRooms) SetLobbyOpen(context.Context, *bridge.Session, bool) error                      { return nil }
func (quietRooms) Invite(context.Context, string, string) error                                   { return nil }
func (quietRooms) Kick(context.Context, string, string, string) error                             { return nil }
func (quietRooms) Ban(context.Context, string, string, string) error                              { return nil }
func (quietRooms) PublishSession(context.Context, *bridge.Session) error                          { return nil }
func (quietRooms) Emit(context.Context, *bridge.Session, bridge.Lifecycle) error                  { return nil }
func (quietRooms) Waiting(context.Context, *bridge.Session, []*bridge.Participant)                {}
func (quietRooms) Unreached(context.Context, *bridge.Session, *bridge.Participant, string, error) {}

// BenchmarkLobbyMembershipEvent is the lobby's handling of one membership event (knock,
// invite, join or leave, in turn) with SQLite storage and no network. Reported as µs/event.
func BenchmarkLobbyMembershipEvent(b *testing.B) {
	ctx := context.Background()
	db, err := database.Open(ctx, database.Config{Type: "sqlite", URI: filepath.Join(b.TempDir(), "bench.db"), MaxOpenConns: 5, MaxIdleConns: 2}, zerolog.Nop())
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	clock := clockwork.NewFakeClockAt(time.Date(2026, 11, 24, 13, 40, 0, 0, time.UTC))
	svc := bridge.New(bridge.Options{Store: db.Store(), Clock: clock, Bot: "@bot:hs"})
	svc.Use(quietRooms{}, quietRooms{}, nil, nil)
	s, err := svc.Schedule(ctx, bridge.ScheduleRequest{
		Clinician: "@dr:hs", Start: clock.Now().Add(20 * time.Minute), End: clock.Now().Add(70 * time.Minute),
		TimeZone: "Europe/Paris", Participants: []bridge.ParticipantRequest{{Name: "Jane", MatrixID: "@jane:hs"}},
	})
	if err != nil {
		b.Fatal(err)
	}
	cycle := []bridge.Membership{
		{Target: "@jane:hs", Sender: "@jane:hs", Membership: bridge.MemberKnock, Reason: "Jane"},
		{Target: "@jane:hs", Sender: "@dr:hs", Membership: bridge.MemberInvite},
		{Target: "@jane:hs", Sender: "@jane:hs", Membership: bridge.MemberJoin},
		{Target: "@jane:hs", Sender: "@jane:hs", Membership: bridge.MemberLeave},
	}
	b.ResetTimer()
	for i := range b.N {
		m := cycle[i%len(cycle)]
		m.RoomID = s.RoomID
		if err = svc.OnMembership(ctx, m); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "µs/event")
	_, ps, _ := svc.Lobby(ctx, "", s.ID)
	if want := []bridge.LobbyState{bridge.StateWaiting, bridge.StateAdmitted, bridge.StateInSession, bridge.StateLeft}[(b.N-1)%4]; ps[0].State != want {
		b.Fatalf("after %d events the participant is %s, want %s", b.N, ps[0].State, want)
	}
}
