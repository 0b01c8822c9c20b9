package bridge_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/rs/zerolog"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"github.com/telehealth-bridge/telehealth-bridge/database"
)

// stuckRooms is a homeserver that takes lifecycle events and does not answer until released;
// it keeps what it finally received, per session, in order.
type stuckRooms struct {
	numberedRooms
	release chan struct{}
	mu      sync.Mutex
	got     map[string][]string
}

func (r *stuckRooms) Emit(ctx context.Context, s *bridge.Session, e bridge.Lifecycle) error {
	<-r.release
	r.mu.Lock()
	defer r.mu.Unlock()
	what := string(e.Action)
	if e.Participant != nil {
		what = fmt.Sprintf("%s #%d", e.Action, e.Participant.Number)
	}
	r.got[s.ID] = append(r.got[s.ID], what)
	return nil
}

// TestLifecycleEventsNeverBlockTheLobby: with the homeserver not answering the lifecycle
// events, 1000 lobby changes across sessions still complete at once (the morning rush makes
// more events than any fixed queue holds); once it answers, every session's events arrive, in
// the order the changes happened.
func TestLifecycleEventsNeverBlockTheLobby(t *testing.T) {
	ctx := context.Background()
	svc, clock := newLobbyService(t)
	var err error
	rooms := &stuckRooms{release: make(chan struct{}), got: map[string][]string{}}
	released := false
	release := func() {
		if !released {
			released = true
			close(rooms.release)
		}
	}
	defer release()
	svc.Use(rooms, quietRooms{}, nil, nil)

	const sessions, guests, rounds = 10, 5, 10 // 10 × 5 × 10 × (knock + leave) = 1000 changes
	type booked struct {
		s     *bridge.Session
		users []string
	}
	var all []booked
	for i := 0; i < sessions; i++ {
		req := bridge.ScheduleRequest{Clinician: "@dr:hs", Start: clock.Now().Add(20 * time.Minute), End: clock.Now().Add(70 * time.Minute), TimeZone: "Europe/Paris"}
		var users []string
		for g := 1; g <= guests; g++ {
			user := fmt.Sprintf("@guest%d_%d:hs", i, g)
			users = append(users, user)
			req.Participants = append(req.Participants, bridge.ParticipantRequest{Name: fmt.Sprintf("Guest %d", g), MatrixID: user})
		}
		s, err := svc.Schedule(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, booked{s, users})
	}
	// What each session's room must finally hear, after what it heard of its booking.
	want := map[string][]string{}
	done := make(chan error, 1)
	began := time.Now()
	go func() {
		for r := 0; r < rounds; r++ {
			for _, b := range all {
				for g, user := range b.users {
					for _, m := range []string{bridge.MemberKnock, bridge.MemberLeave} {
						if err := svc.OnMembership(ctx, bridge.Membership{RoomID: b.s.RoomID, Target: user, Sender: user, Membership: m}); err != nil {
							done <- err
							return
						}
					}
					want[b.s.ID] = append(want[b.s.ID], fmt.Sprintf("participant_waiting #%d", g+1), fmt.Sprintf("participant_left #%d", g+1))
				}
			}
		}
		done <- nil
	}()
	select {
	case err = <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("1000 lobby changes did not complete in 30 s while the homeserver did not answer the lifecycle events (%d queued)", svc.PendingLifecycleEvents())
	}
	t.Logf("1000 lobby changes in %v with the homeserver stuck; %d events queued", time.Since(began).Round(time.Millisecond), svc.PendingLifecycleEvents())
	_, ps, err := svc.Lobby(ctx, "", all[0].s.ID)
	if err != nil || ps[0].State != bridge.StateLeft {
		t.Fatalf("the lobby after the changes: %v %v", ps, err)
	}

	release()
	deadline := time.Now().Add(60 * time.Second)
	for svc.PendingLifecycleEvents() > 0 && time.Now().Before(deadline) {
		select {
		case <-time.After(10 * time.Millisecond):
		case <-ctx.Done():
		}
	}
	svc.Close()
	rooms.mu.Lock()
	defer rooms.mu.Unlock()
	for _, b := range all {
		got := rooms.got[b.s.ID]
		// The booking's own events come first; the lobby's follow in order.
		if len(got) < len(want[b.s.ID]) {
			t.Fatalf("session %s: %d events arrived, want at least %d", b.s.ID, len(got), len(want[b.s.ID]))
		}
		lobby := got[len(got)-len(want[b.s.ID]):]
		for i := range lobby {
			if lobby[i] != want[b.s.ID][i] {
				t.Fatalf("session %s: event %d is %q, want %q (events out of order)", b.s.ID, i, lobby[i], want[b.s.ID][i])
			}
		}
	}
}

// slowInvites is a homeserver whose invites wait until released, then fail if told to.
type slowInvites struct {
	quietRooms
	inviting chan struct{}
	release  chan struct{}
	fail     bool
}

func (r *slowInvites) Invite(context.Context, string, string) error {
	r.inviting <- struct{}{}
	<-r.release
	if r.fail {
		return errors.New("the homeserver refused the invite")
	}
	return nil
}

// TestAdmissionDoesNotHoldTheLobby: while the homeserver takes its time over an admission's
// invite, the same session's lobby takes another knock at once, and already shows the
// admission. An invite that fails puts the participant back in the waiting room and says so.
func TestAdmissionDoesNotHoldTheLobby(t *testing.T) {
	ctx := context.Background()
	svc, clock := newLobbyService(t)
	var err error
	rooms := &slowInvites{inviting: make(chan struct{}, 1), release: make(chan struct{})}
	svc.Use(rooms, quietRooms{}, nil, nil)
	defer svc.Close()
	s, err := svc.Schedule(ctx, bridge.ScheduleRequest{Clinician: "@dr:hs", Start: clock.Now().Add(20 * time.Minute), End: clock.Now().Add(70 * time.Minute),
		TimeZone: "Europe/Paris", Participants: []bridge.ParticipantRequest{{Name: "Jane", MatrixID: "@jane:hs"}, {Name: "Joe", MatrixID: "@joe:hs"}}})
	if err != nil {
		t.Fatal(err)
	}
	knock := func(user string) error {
		return svc.OnMembership(ctx, bridge.Membership{RoomID: s.RoomID, Target: user, Sender: user, Membership: bridge.MemberKnock})
	}
	if err = knock("@jane:hs"); err != nil {
		t.Fatal(err)
	}
	for _, fail := range []bool{false, true} {
		rooms.fail, rooms.release = fail, make(chan struct{})
		admitted := make(chan error, 1)
		go func() { _, err := svc.Admit(ctx, "@dr:hs", s.ID, "1"); admitted <- err }()
		<-rooms.inviting
		knocked := make(chan error, 1)
		go func() { knocked <- knock("@joe:hs") }()
		select {
		case err = <-knocked:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(5 * time.Second):
			close(rooms.release)
			<-admitted
			t.Fatal("a knock waited on the homeserver's invite of another participant")
		}
		_, ps, _ := svc.Lobby(ctx, "", s.ID)
		if ps[0].State != bridge.StateAdmitted || ps[1].State != bridge.StateWaiting {
			t.Errorf("while the invite is out: %s, %s", ps[0].State, ps[1].State)
		}
		close(rooms.release)
		err = <-admitted
		_, ps, _ = svc.Lobby(ctx, "", s.ID)
		if fail {
			if err == nil || ps[0].State != bridge.StateWaiting {
				t.Errorf("a failed invite: %v, Jane is %s", err, ps[0].State)
			}
		} else if err != nil || ps[0].State != bridge.StateAdmitted {
			t.Errorf("the admission: %v, Jane is %s", err, ps[0].State)
		}
		if !fail { // Jane goes back to waiting for the failing round
			if _, err = svc.SendBack(ctx, "@dr:hs", s.ID, "1"); err != nil {
				t.Fatal(err)
			}
			if err = knock("@jane:hs"); err != nil {
				t.Fatal(err)
			}
			if err = svc.OnMembership(ctx, bridge.Membership{RoomID: s.RoomID, Target: "@joe:hs", Sender: "@joe:hs", Membership: bridge.MemberLeave}); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// orderedRooms records the order in which the homeserver gets invites and kicks; its invites
// wait for release.
type orderedRooms struct {
	slowInvites
	mu    sync.Mutex
	calls []string
}

func (r *orderedRooms) Invite(ctx context.Context, room, user string) error {
	err := r.slowInvites.Invite(ctx, room, user)
	r.mu.Lock()
	r.calls = append(r.calls, "invite "+user)
	r.mu.Unlock()
	return err
}

func (r *orderedRooms) Kick(_ context.Context, _, user, _ string) error {
	r.mu.Lock()
	r.calls = append(r.calls, "kick "+user)
	r.mu.Unlock()
	return nil
}

// TestSendBackKickFollowsTheInvite: a send-back stored while the admission's invite is still
// on its way has its kick reach the homeserver after the invite, not before (the invite would
// then leave the participant invited, their next knock refused); the lobby shows the
// send-back at once all the same, and the echo of the late invite lets nobody in again.
func TestSendBackKickFollowsTheInvite(t *testing.T) {
	ctx := context.Background()
	svc, clock := newLobbyService(t)
	var err error
	rooms := &orderedRooms{slowInvites: slowInvites{inviting: make(chan struct{}, 1), release: make(chan struct{})}}
	svc.Use(rooms, quietRooms{}, nil, nil)
	defer svc.Close()
	s, err := svc.Schedule(ctx, bridge.ScheduleRequest{Clinician: "@dr:hs", Start: clock.Now().Add(20 * time.Minute), End: clock.Now().Add(70 * time.Minute),
		TimeZone: "Europe/Paris", Participants: []bridge.ParticipantRequest{{Name: "Jane", MatrixID: "@jane:hs"}}})
	if err != nil {
		t.Fatal(err)
	}
	if err = svc.OnMembership(ctx, bridge.Membership{RoomID: s.RoomID, Target: "@jane:hs", Sender: "@jane:hs", Membership: bridge.MemberKnock}); err != nil {
		t.Fatal(err)
	}
	admitted := make(chan error, 1)
	go func() { _, err := svc.Admit(ctx, "@dr:hs", s.ID, "1"); admitted <- err }()
	<-rooms.inviting
	sentBack := make(chan error, 1)
	go func() { _, err := svc.SendBack(ctx, "@dr:hs", s.ID, "1"); sentBack <- err }()
	for deadline := time.Now().Add(5 * time.Second); ; {
		if _, ps, _ := svc.Lobby(ctx, "", s.ID); ps[0].State == bridge.StateBooked {
			break
		}
		if time.Now().After(deadline) {
			close(rooms.release)
			t.Fatal("the send-back waited on the admission's invite to be shown")
		}
		<-time.After(5 * time.Millisecond)
	}
	close(rooms.release)
	for _, done := range []chan error{admitted, sentBack} {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	if got := fmt.Sprint(rooms.calls); got != "[invite @jane:hs kick @jane:hs]" {
		t.Errorf("the homeserver got %s, want the invite and then the kick", got)
	}
	// The late invite's echo, from the bot.
	if err = svc.OnMembership(ctx, bridge.Membership{RoomID: s.RoomID, Target: "@jane:hs", Sender: "@bot:hs", Membership: bridge.MemberInvite, Prev: bridge.MemberLeave}); err != nil {
		t.Fatal(err)
	}
	if _, ps, _ := svc.Lobby(ctx, "", s.ID); ps[0].State != bridge.StateBooked {
		t.Errorf("after the echo of the bridge's own late invite Jane is %s, want %s", ps[0].State, bridge.StateBooked)
	}
}

// newLobbyService is a lobby on SQLite with the bot @bot:hs, at 13:40 on a fake clock.
func newLobbyService(t *testing.T) (*bridge.Service, *clockwork.FakeClock) {
	t.Helper()
	db, err := database.Open(context.Background(), database.Config{Type: "sqlite", URI: filepath.Join(t.TempDir(), "lobby.db"), MaxOpenConns: 5, MaxIdleConns: 2}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	clock := clockwork.NewFakeClockAt(time.Date(2026, 11, 24, 13, 40, 0, 0, time.UTC))
	return bridge.New(bridge.Options{Store: db.Store(), Clock: clock, Bot: "@bot:hs"}), clock
}
