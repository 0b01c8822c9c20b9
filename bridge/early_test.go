package bridge_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/rs/zerolog"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"github.com/telehealth-bridge/telehealth-bridge/database"
)

// TestClinicianInTheCallBeforeTheWindow: a clinician may open the call before the window to try
// it out; the session stays scheduled and nobody can enter; if they are still in when the
// window opens, it goes live then (and with admission=auto, those who knock enter); if they
// left, it does not. Another clinician's connection changes nothing.
func TestClinicianInTheCallBeforeTheWindow(t *testing.T) {
	ctx := context.Background()
	db, err := database.Open(ctx, database.Config{Type: "sqlite", URI: filepath.Join(t.TempDir(), "early.db"), MaxOpenConns: 5, MaxIdleConns: 2}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	clock := clockwork.NewFakeClockAt(time.Date(2026, 11, 24, 13, 0, 0, 0, time.UTC))
	svc := bridge.New(bridge.Options{Store: db.Store(), Clock: clock, Bot: "@bot:hs"})
	svc.Use(&numberedRooms{}, quietRooms{}, nil, nil)
	book := func() *bridge.Session {
		s, err := svc.Schedule(ctx, bridge.ScheduleRequest{
			Clinician: "@dr:hs", Start: clock.Now().Add(time.Hour), End: clock.Now().Add(110 * time.Minute), TimeZone: "Europe/Paris",
			Policy: bridge.PolicyAutoAdmit, Participants: []bridge.ParticipantRequest{{Name: "Jane", MatrixID: "@jane:hs"}},
		})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	stays, leaves := book(), book()
	for _, s := range []*bridge.Session{stays, leaves} {
		if err = svc.ClinicianConnected(ctx, "@dr:hs", s.ID); !errors.Is(err, bridge.ErrBeforeWindow) {
			t.Fatalf("connecting before the window: %v", err)
		}
	}
	if err = svc.ClinicianConnected(ctx, "@other:hs", stays.ID); !errors.Is(err, bridge.ErrNotYourSession) {
		t.Errorf("another clinician connecting: %v", err)
	}
	if err = svc.ClinicianAway(ctx, leaves.ID); err != nil {
		t.Fatal(err)
	}
	got, _ := svc.Session(ctx, stays.ID)
	if got.Status != bridge.StatusScheduled || got.ClinicianPresent {
		t.Fatalf("opening the call early made the session %s (present %v)", got.Status, got.ClinicianPresent)
	}

	clock.Advance(30 * time.Minute)
	for _, s := range []*bridge.Session{stays, leaves} {
		if err = svc.OpenWindow(ctx, s.ID); err != nil {
			t.Fatal(err)
		}
	}
	got, _ = svc.Session(ctx, stays.ID)
	if got.Status != bridge.StatusLive || !got.ClinicianPresent {
		t.Errorf("the window opened with the clinician in: %s (present %v)", got.Status, got.ClinicianPresent)
	}
	got, _ = svc.Session(ctx, leaves.ID)
	if got.Status != bridge.StatusOpen || got.ClinicianPresent {
		t.Errorf("the window opened after the clinician left: %s (present %v)", got.Status, got.ClinicianPresent)
	}

	// admission=auto: a knock waits while the clinician is away, enters while they are in.
	knock := func(s *bridge.Session) bridge.LobbyState {
		if err := svc.OnMembership(ctx, bridge.Membership{RoomID: s.RoomID, Target: "@jane:hs", Sender: "@jane:hs", Membership: bridge.MemberKnock, Reason: "Jane"}); err != nil {
			t.Fatal(err)
		}
		_, ps, _ := svc.Lobby(ctx, "", s.ID)
		return ps[0].State
	}
	if state := knock(leaves); state != bridge.StateWaiting {
		t.Errorf("with the clinician away, a knock made the participant %s", state)
	}
	if state := knock(stays); state != bridge.StateAdmitted {
		t.Errorf("with the clinician in, a knock made the participant %s", state)
	}
}

// numberedRooms gives each session a room of its own.
type numberedRooms struct {
	quietRooms
	n int
}

func (r *numberedRooms) CreateRoom(context.Context, *bridge.Session) (string, error) {
	r.n++
	return fmt.Sprintf("!room%d:hs", r.n), nil
}
