package bridge_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"github.com/telehealth-bridge/telehealth-bridge/database"
	"github.com/telehealth-bridge/telehealth-bridge/internal/dbtest"
)

// changeDesk is deskRooms that also hears the lifecycle events and the clients' changes.
type changeDesk struct {
	deskRooms
	cmu     sync.Mutex
	events  []string // "<session> <action> <actor>"
	changes []string // "cancelled <session>", "move <session> <n times>", "moved <from> <to>"
}

func (d *changeDesk) Emit(_ context.Context, s *bridge.Session, e bridge.Lifecycle) error {
	d.cmu.Lock()
	defer d.cmu.Unlock()
	d.events = append(d.events, s.ID+" "+string(e.Action)+" "+e.Actor)
	return nil
}

func (d *changeDesk) ClientCancelled(_ context.Context, s *bridge.Session, p *bridge.Participant) {
	d.cmu.Lock()
	defer d.cmu.Unlock()
	d.changes = append(d.changes, "cancelled "+s.ID)
}

func (d *changeDesk) MoveRequested(_ context.Context, s *bridge.Session, p *bridge.Participant, r *bridge.MoveRequest) {
	d.cmu.Lock()
	defer d.cmu.Unlock()
	d.changes = append(d.changes, "move "+s.ID+" "+string(rune('0'+len(r.Preferred))))
}

func (d *changeDesk) ClientMoved(_ context.Context, from, to *bridge.Session, p *bridge.Participant) {
	d.cmu.Lock()
	defer d.cmu.Unlock()
	d.changes = append(d.changes, "moved "+from.ID+" "+to.ID)
}

func (d *changeDesk) told() string {
	d.cmu.Lock()
	defer d.cmu.Unlock()
	return strings.Join(d.changes, "; ")
}

// newChanges is newSelfScheduling whose service hears the clients' changes, with policy.
func newChanges(t *testing.T, db *database.Database, policy *bridge.ClientChangePolicy) (*selfScheduling, *changeDesk) {
	ss := newSelfScheduling(t, db)
	svc := bridge.New(bridge.Options{Store: db.Store(), Clock: ss.clock, Bot: "@bot:hs", Audit: db.Audit, Clients: db.Store(), ClientChanges: policy})
	desk := &changeDesk{}
	svc.Use(desk, desk, desk, nil)
	t.Cleanup(svc.Close)
	ss.svc = svc
	return ss, desk
}

// bookFor schedules a one-hour video session of @dr:hs's for the clients, start after now.
func (ss *selfScheduling) bookFor(t *testing.T, start time.Duration, clients ...int64) *bridge.Session {
	t.Helper()
	var ps []bridge.ParticipantRequest
	for _, id := range clients {
		ps = append(ps, bridge.ParticipantRequest{ClientID: id, Invite: bridge.InviteEmail})
	}
	at := ss.clock.Now().Add(start).Truncate(time.Minute)
	s, err := ss.svc.Schedule(context.Background(), bridge.ScheduleRequest{Clinician: "@dr:hs", Start: at, End: at.Add(time.Hour),
		TimeZone: "Europe/Paris", Kind: bridge.KindVideo, Participants: ps})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// A client cancels their own session as a clinician's cancel would (the lifecycle event names
// them, the outbox is replanned), and the clinician is told; nobody else's, nothing started,
// nothing within the notice, nothing others are booked in.
func TestCancelAsClient(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.Database) {
		ctx := context.Background()
		ss, desk := newChanges(t, db, nil) // the default: allowed, a day's notice
		mine := ss.bookFor(t, 72*time.Hour, ss.jane)
		joes := ss.bookFor(t, 72*time.Hour, ss.joe)
		soon := ss.bookFor(t, 5*time.Hour, ss.jane)
		shared := ss.bookFor(t, 96*time.Hour, ss.jane, ss.joe)

		for _, tc := range []struct {
			name   string
			client int64
			id     string
			want   error
		}{
			{"another client's session", ss.jane, joes.ID, bridge.ErrNotYourSession},
			{"a session that does not exist", ss.jane, "nosuch", bridge.ErrNotYourSession},
			{"no client", 0, mine.ID, bridge.ErrNotYourSession},
			{"within the notice", ss.jane, soon.ID, bridge.ErrChangeTooLate},
			{"a session shared with another client", ss.jane, shared.ID, bridge.ErrSharedSession},
		} {
			if _, err := ss.svc.CancelAsClient(ctx, tc.client, tc.id); !errors.Is(err, tc.want) {
				t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
			}
		}
		if got := desk.told(); got != "" {
			t.Errorf("refusals told the clinician: %s", got)
		}

		desk.mu.Lock()
		desk.planned = nil
		desk.mu.Unlock()
		s, err := ss.svc.CancelAsClient(ctx, ss.jane, mine.ID)
		if err != nil || s.Status != bridge.StatusCancelled {
			t.Fatalf("Jane's cancel: %v %+v", err, s)
		}
		ss.svc.Close() // the lifecycle events queued are out
		desk.cmu.Lock()
		events := strings.Join(desk.events, "; ")
		desk.cmu.Unlock()
		if !strings.Contains(events, mine.ID+" session_cancelled client:") {
			t.Errorf("lifecycle events: %s", events)
		}
		if desk.told() != "cancelled "+mine.ID {
			t.Errorf("the clinician was told: %s", desk.told())
		}
		desk.mu.Lock()
		planned := strings.Join(desk.planned, " ")
		desk.mu.Unlock()
		if planned != mine.ID {
			t.Errorf("the outbox was replanned for %q", planned)
		}
		// Once cancelled, again is refused as over; Joe's session is untouched.
		if _, err = ss.svc.CancelAsClient(ctx, ss.jane, mine.ID); !errors.Is(err, bridge.ErrSessionStarted) {
			t.Errorf("cancelling twice: %v", err)
		}
		if got, _ := ss.svc.Session(ctx, joes.ID); got.Status != bridge.StatusScheduled {
			t.Errorf("Joe's session: %s", got.Status)
		}
		// The audit trail names the client as the actor, and nothing about them.
		rows, err := db.Query(ctx, "SELECT actor, detail FROM telehealth_audit WHERE action='cancel' AND session_id=$1", mine.ID)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var actor, detail string
		for rows.Next() {
			_ = rows.Scan(&actor, &detail)
		}
		if actor != bridge.ClientActor(ss.jane) || strings.Contains(detail, "Jane") {
			t.Errorf("audit: %s %s", actor, detail)
		}

		// A started session cannot be cancelled by its client.
		ss.clock.Advance(72*time.Hour - 10*time.Minute)
		if _, err = ss.svc.CancelAsClient(ctx, ss.jane, soon.ID); !errors.Is(err, bridge.ErrSessionStarted) {
			t.Errorf("a past session: %v", err)
		}
	})
}

// A clinic that takes no changes online refuses them; one with no notice takes them until
// the start.
func TestClientChangePolicy(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.Database) {
		ctx := context.Background()
		off, _ := newChanges(t, db, &bridge.ClientChangePolicy{Allowed: false, Notice: 24 * time.Hour})
		s := off.bookFor(t, 72*time.Hour, off.jane)
		if _, err := off.svc.CancelAsClient(ctx, off.jane, s.ID); !errors.Is(err, bridge.ErrClientChangesOff) {
			t.Errorf("changes off: %v", err)
		}
		if _, err := off.svc.RequestMove(ctx, off.jane, s.ID, []time.Time{off.clock.Now().Add(96 * time.Hour)}); !errors.Is(err, bridge.ErrClientChangesOff) {
			t.Errorf("changes off, a move request: %v", err)
		}
		anytime := bridge.New(bridge.Options{Store: db.Store(), Clock: off.clock, Bot: "@bot:hs", ClientChanges: &bridge.ClientChangePolicy{Allowed: true}})
		anytime.Use(quietRooms{}, quietRooms{}, nil, nil)
		t.Cleanup(anytime.Close)
		soon := off.bookFor(t, 10*time.Minute, off.jane)
		if _, err := anytime.CancelAsClient(ctx, off.jane, soon.ID); err != nil {
			t.Errorf("no notice: %v", err)
		}
	})
}

// A move request keeps up to three future times, replaces the client's previous one, and is
// told to the clinician; the session does not move.
func TestRequestMove(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.Database) {
		ctx := context.Background()
		ss, desk := newChanges(t, db, nil)
		s := ss.bookFor(t, 72*time.Hour, ss.jane, ss.joe) // a shared session may be asked to move
		now := ss.clock.Now()
		for name, times := range map[string][]time.Time{
			"none":        nil,
			"four":        {now.Add(100 * time.Hour), now.Add(101 * time.Hour), now.Add(102 * time.Hour), now.Add(103 * time.Hour)},
			"in the past": {now.Add(-time.Hour)},
		} {
			if _, err := ss.svc.RequestMove(ctx, ss.jane, s.ID, times); !errors.Is(err, bridge.ErrInvalidSchedule) {
				t.Errorf("%s: %v", name, err)
			}
		}
		if _, err := ss.svc.RequestMove(ctx, 999, s.ID, []time.Time{now.Add(100 * time.Hour)}); !errors.Is(err, bridge.ErrNotYourSession) {
			t.Errorf("a stranger's request: %v", err)
		}
		if _, err := ss.svc.RequestMove(ctx, ss.jane, s.ID, []time.Time{now.Add(200 * time.Hour), now.Add(100 * time.Hour)}); err != nil {
			t.Fatal(err)
		}
		if _, err := ss.svc.RequestMove(ctx, ss.jane, s.ID, []time.Time{now.Add(150 * time.Hour)}); err != nil {
			t.Fatal(err)
		}
		reqs, err := ss.svc.MoveRequests(ctx, s.ID)
		if err != nil || len(reqs) != 1 || len(reqs[0].Preferred) != 1 || !reqs[0].Preferred[0].Equal(now.Add(150*time.Hour).Truncate(time.Minute)) || reqs[0].ClientID != ss.jane {
			t.Errorf("stored requests: %+v %v", reqs, err)
		}
		if got := desk.told(); got != "move "+s.ID+" 2; move "+s.ID+" 1" {
			t.Errorf("the clinician was told: %s", got)
		}
		if got, _ := ss.svc.Session(ctx, s.ID); !got.Start.Equal(s.Start) || got.Status != bridge.StatusScheduled {
			t.Errorf("the session moved: %+v", got)
		}
	})
}

// A client moves their session into a free slot: the new one is booked (as theirs), the old
// one cancelled, the clinician told once; a slot of another length, a taken slot or someone
// else's session leaves the old session as it was.
func TestMoveToSlot(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.Database) {
		ctx := context.Background()
		ss, desk := newChanges(t, db, nil)
		thursday := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
		old := ss.bookFor(t, 6*24*time.Hour, ss.jane) // Monday 30 November
		slots, err := ss.svc.FreeSlots(ctx, "@dr:hs", ss.typ, thursday, thursday.Add(24*time.Hour), newYork)
		if err != nil || len(slots) < 2 {
			t.Fatalf("slots: %v %v", slots, err)
		}
		// Joe cannot move Jane's session.
		if _, err = ss.svc.MoveToSlot(ctx, jane, ss.joe, old.ID, ss.typ, slots[0].Start); !errors.Is(err, bridge.ErrNotYourSession) {
			t.Errorf("Joe moving Jane's: %v", err)
		}
		// Joe takes the first slot; Jane cannot have it any more.
		if _, err = ss.svc.BookSlot(ctx, bridge.ParticipantRequest{Name: "Joe Roe", Email: "joe@example.org"}, ss.joe, "@dr:hs", ss.typ, slots[0].Start); err != nil {
			t.Fatal(err)
		}
		if _, err = ss.svc.MoveToSlot(ctx, jane, ss.jane, old.ID, ss.typ, slots[0].Start); err == nil {
			t.Errorf("a taken slot was booked")
		}
		// A half-hour session cannot move into a one-hour slot.
		half := ss.clock.Now().Add(7 * 24 * time.Hour).Truncate(time.Minute)
		short, err := ss.svc.Schedule(ctx, bridge.ScheduleRequest{Clinician: "@dr:hs", Start: half, End: half.Add(30 * time.Minute), TimeZone: "Europe/Paris",
			Participants: []bridge.ParticipantRequest{{ClientID: ss.jane, Invite: bridge.InviteEmail}}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err = ss.svc.MoveToSlot(ctx, jane, ss.jane, short.ID, ss.typ, slots[1].Start); !errors.Is(err, bridge.ErrMoveType) {
			t.Errorf("another length: %v", err)
		}
		if got, _ := ss.svc.Session(ctx, old.ID); got.Status != bridge.StatusScheduled {
			t.Fatalf("a refused move touched the old session: %s", got.Status)
		}

		moved, err := ss.svc.MoveToSlot(ctx, jane, ss.jane, old.ID, ss.typ, slots[1].Start)
		if err != nil {
			t.Fatal(err)
		}
		if !moved.Start.Equal(slots[1].Start) || moved.ID == old.ID {
			t.Errorf("moved to %+v", moved)
		}
		if got, _ := ss.svc.Session(ctx, old.ID); got.Status != bridge.StatusCancelled {
			t.Errorf("the old session is %s", got.Status)
		}
		_, ps, _ := ss.svc.Lobby(ctx, "", moved.ID)
		if len(ps) != 1 || ps[0].ClientID != ss.jane {
			t.Errorf("the new session's participant: %+v", ps)
		}
		if got := desk.told(); got != "moved "+old.ID+" "+moved.ID {
			t.Errorf("the clinician was told: %s", got)
		}
	})
}
