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

// refusingRooms kick with the error set, and remember what the clinician was told.
type refusingRooms struct {
	quietRooms
	mu      sync.Mutex
	kickErr error
	told    []string
}

func (r *refusingRooms) Kick(context.Context, string, string, string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.kickErr
}

func (r *refusingRooms) Unreached(_ context.Context, _ *bridge.Session, p *bridge.Participant, reason string, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.told = append(r.told, fmt.Sprintf("%s|%s|%v|%v", p.MatrixID, reason, errors.Is(err, bridge.ErrNotTold), err))
}

func (r *refusingRooms) take(kickErr error) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	told := r.told
	r.told, r.kickErr = nil, kickErr
	return told
}

// A decline that cannot reach a booked participant (the homeserver refused the kick, or took it
// in a way their client will not show) is told to the clinician; a stranger's is not.
func TestUnreachedDeclinesAreTold(t *testing.T) {
	ctx := context.Background()
	db, err := database.Open(ctx, database.Config{Type: "sqlite", URI: filepath.Join(t.TempDir(), "bridge.db"), MaxOpenConns: 5, MaxIdleConns: 2}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	clock := clockwork.NewFakeClockAt(time.Date(2026, 11, 24, 13, 40, 0, 0, time.UTC))
	svc := bridge.New(bridge.Options{Store: db.Store(), Clock: clock, Bot: "@bot:hs", Audit: db.Audit})
	rooms := &refusingRooms{}
	svc.Use(rooms, rooms, nil, nil)
	s, err := svc.Schedule(ctx, bridge.ScheduleRequest{
		Clinician: "@dr:hs", Start: clock.Now().Add(20 * time.Minute), End: clock.Now().Add(70 * time.Minute),
		TimeZone: "Europe/Paris", Participants: []bridge.ParticipantRequest{{Name: "Jane", MatrixID: "@jane:hs"}, {Name: "John", MatrixID: "@john:hs"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	knock := func(who string) {
		t.Helper()
		if err := svc.OnMembership(ctx, bridge.Membership{RoomID: s.RoomID, Target: who, Sender: who, Membership: bridge.MemberKnock, Reason: "Jo"}); err != nil {
			t.Fatalf("%s knocking: %v", who, err)
		}
	}
	const denied = "The clinician did not admit you to this session"

	rooms.take(fmt.Errorf("declined with a leave membership: %w", bridge.ErrNotTold))
	knock("@jane:hs")
	if _, err = svc.Deny(ctx, "@dr:hs", s.ID, "1"); err != nil {
		t.Fatal(err)
	}
	refused := errors.New("M_FORBIDDEN: not allowed")
	if told := rooms.take(refused); len(told) != 1 || told[0] != "@jane:hs|"+denied+"|true|declined with a leave membership: "+bridge.ErrNotTold.Error() {
		t.Errorf("a decline Jane's client will not show: the clinician was told %q", told)
	}

	knock("@john:hs")
	if _, err = svc.Deny(ctx, "@dr:hs", s.ID, "2"); err != nil {
		t.Fatal(err)
	}
	if told := rooms.take(fmt.Errorf("declined: %w", bridge.ErrNotTold)); len(told) != 1 || told[0] != "@john:hs|"+denied+"|false|M_FORBIDDEN: not allowed" {
		t.Errorf("a refused kick: the clinician was told %q", told)
	}

	// A stranger's knock is declined without a word to the clinician.
	knock("@mallory:hs")
	if told := rooms.take(nil); len(told) != 0 {
		t.Errorf("a stranger's decline was told to the clinician: %q", told)
	}
	// A kick that reached them says nothing.
	knock("@jane:hs")
	if _, err = svc.Deny(ctx, "@dr:hs", s.ID, "1"); err != nil {
		t.Fatal(err)
	}
	if told := rooms.take(nil); len(told) != 0 {
		t.Errorf("a decline that reached Jane was told to the clinician: %q", told)
	}
}
