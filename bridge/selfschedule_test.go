package bridge_test

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"github.com/telehealth-bridge/telehealth-bridge/database"
	"github.com/telehealth-bridge/telehealth-bridge/internal/dbtest"
)

// deskRooms is quietRooms that also hears the control-room notices and the planner.
type deskRooms struct {
	quietRooms
	mu      sync.Mutex
	booked  []string // "<session> <participant name> <type name>"
	planned []string
	rooms   int
}

func (d *deskRooms) CreateRoom(context.Context, *bridge.Session) (string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.rooms++
	return "!room" + strconv.Itoa(d.rooms) + ":hs", nil
}

func (d *deskRooms) SelfBooked(_ context.Context, s *bridge.Session, p *bridge.Participant, t bridge.SessionType) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.booked = append(d.booked, s.ID+" "+p.Name+" "+t.Name)
}

func (d *deskRooms) Plan(_ context.Context, s *bridge.Session) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.planned = append(d.planned, s.ID)
	return nil
}

type selfScheduling struct {
	svc   *bridge.Service
	desk  *deskRooms
	clock *clockwork.FakeClock
	typ   int64
	// jane and joe are client records assigned to @dr:hs.
	jane, joe int64
}

// newSelfScheduling is a Service on a real database with @dr:hs's Paris week published
// (Monday to Friday, 09-12 and 14-17, one-hour video consultations, a day's notice).
func newSelfScheduling(t *testing.T, db *database.Database) *selfScheduling {
	clock := clockwork.NewFakeClockAt(time.Date(2026, 11, 24, 9, 30, 0, 0, time.UTC)) // Tuesday
	svc := bridge.New(bridge.Options{Store: db.Store(), Clock: clock, Bot: "@bot:hs", Audit: db.Audit, Clients: db.Store()})
	desk := &deskRooms{}
	svc.Use(desk, desk, desk, nil)
	t.Cleanup(svc.Close)
	av := weekdays9to5()
	av.Types[0].ID = 0
	if err := svc.SetAvailability(context.Background(), "@dr:hs", av); err != nil {
		t.Fatal(err)
	}
	ss := &selfScheduling{svc: svc, desk: desk, clock: clock, typ: av.Types[0].ID}
	for _, c := range []struct {
		id          *int64
		name, email string
	}{{&ss.jane, "Jane Doe", "jane@example.org"}, {&ss.joe, "Joe Roe", "joe@example.org"}} {
		rec, err := svc.CreateClient(context.Background(), "@dr:hs", bridge.ClientRequest{DisplayName: c.name, Emails: []string{c.email}})
		if err != nil {
			t.Fatal(err)
		}
		*c.id = rec.ID
	}
	return ss
}

var jane = bridge.ParticipantRequest{Name: "Jane Doe", Email: "jane@example.org", Locale: "en", TimeZone: "America/New_York"}

func TestBookSlot(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.Database) {
		ctx := context.Background()
		ss := newSelfScheduling(t, db)
		thursday := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
		slots, err := ss.svc.FreeSlots(ctx, "@dr:hs", ss.typ, thursday, thursday.Add(24*time.Hour), newYork)
		if err != nil || len(slots) != 6 || slots[0].Start.Format("15:04 MST") != "03:00 EST" {
			t.Fatalf("Thursday's slots in New York: %v %v", clock(slots), err)
		}
		start := slots[1].Start // 10:00 in Paris
		s, err := ss.svc.BookSlot(ctx, jane, ss.jane, "@dr:hs", ss.typ, start)
		if err != nil {
			t.Fatal(err)
		}
		if !s.Start.Equal(start) || s.End.Sub(s.Start) != time.Hour || s.Kind != bridge.KindVideo || s.TimeZone != "Europe/Paris" ||
			s.Clinician != "@dr:hs" || s.Policy != bridge.PolicyManual || s.RoomID == "" {
			t.Errorf("booked session %+v", s)
		}
		_, ps, _ := ss.svc.Lobby(ctx, "", s.ID)
		if len(ps) != 1 || ps[0].Name != "Jane Doe" || ps[0].Invite != bridge.InviteEmail || ps[0].TimeZone != "America/New_York" || ps[0].ClientID != ss.jane {
			t.Errorf("participant %+v", ps[0])
		}
		// Confirmation and reminders are planned as for any session; the clinician is told.
		if len(ss.desk.planned) == 0 || ss.desk.planned[0] != s.ID {
			t.Errorf("planned %v", ss.desk.planned)
		}
		if len(ss.desk.booked) != 1 || ss.desk.booked[0] != s.ID+" Jane Doe Consultation" {
			t.Errorf("control room told %v", ss.desk.booked)
		}
		if sessionID, clientID, _ := db.SlotClaim.Session(ctx, "@dr:hs", start); sessionID != s.ID || clientID != ss.jane {
			t.Errorf("claim %q client %d", sessionID, clientID)
		}
		// The slot is gone for the next client, and booking it again says so.
		slots, _ = ss.svc.FreeSlots(ctx, "@dr:hs", ss.typ, thursday, thursday.Add(24*time.Hour), newYork)
		if len(slots) != 5 {
			t.Errorf("after the booking: %v", clock(slots))
		}
		if _, err = ss.svc.BookSlot(ctx, jane, ss.joe, "@dr:hs", ss.typ, start); !errors.Is(err, bridge.ErrSlotTaken) {
			t.Errorf("a taken slot: %v", err)
		}
		// Cancelled, it is free again.
		if _, err = ss.svc.Cancel(ctx, "@dr:hs", s.ID); err != nil {
			t.Fatal(err)
		}
		if _, err = ss.svc.BookSlot(ctx, jane, ss.joe, "@dr:hs", ss.typ, start); err != nil {
			t.Errorf("the slot of a cancelled session: %v", err)
		}
	})
}

func TestBookSlotRefusals(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.Database) {
		ctx := context.Background()
		ss := newSelfScheduling(t, db)
		// Another professional with a type of their own.
		other := weekdays9to5()
		other.Types[0].ID = 0
		if err := ss.svc.SetAvailability(ctx, "@other:hs", other); err != nil {
			t.Fatal(err)
		}
		thursday10 := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
		for _, c := range []struct {
			name      string
			clinician string
			typ       int64
			start     time.Time
			client    bridge.ParticipantRequest
			want      error
		}{
			{"a forged professional", "@nobody:hs", ss.typ, thursday10, jane, bridge.ErrSelfSchedulingOff},
			{"another professional's type", "@dr:hs", other.Types[0].ID, thursday10, jane, bridge.ErrSessionTypeUnknown},
			{"a forged type", "@dr:hs", 999999, thursday10, jane, bridge.ErrSessionTypeUnknown},
			{"off the grid", "@dr:hs", ss.typ, thursday10.Add(15 * time.Minute), jane, bridge.ErrSlotUnavailable},
			{"too soon", "@dr:hs", ss.typ, time.Date(2026, 11, 24, 14, 0, 0, 0, time.UTC), jane, bridge.ErrSlotTooSoon},
			{"beyond the horizon", "@dr:hs", ss.typ, thursday10.Add(63 * 24 * time.Hour), jane, bridge.ErrSlotBeyondHorizon},
			{"a bad email", "@dr:hs", ss.typ, thursday10, bridge.ParticipantRequest{Name: "Jo", Email: "jo@", Invite: bridge.InviteEmail}, bridge.ErrInvalidSchedule},
		} {
			if s, err := ss.svc.BookSlot(ctx, c.client, 0, c.clinician, c.typ, c.start); !errors.Is(err, c.want) || s != nil {
				t.Errorf("%s: %v, want %v", c.name, err, c.want)
			}
		}
		// Nothing was held by the refusals: the slot is still free.
		if _, err := ss.svc.BookSlot(ctx, jane, 0, "@dr:hs", ss.typ, thursday10); err != nil {
			t.Errorf("the slot after the refusals: %v", err)
		}
		if _, err := ss.svc.FreeSlots(ctx, "@nobody:hs", ss.typ, thursday10, thursday10.Add(time.Hour), newYork); !errors.Is(err, bridge.ErrSelfSchedulingOff) {
			t.Errorf("slots of a forged professional: %v", err)
		}
		// Turned off, nobody books.
		av, _ := ss.svc.Availability(ctx, "@dr:hs", "UTC")
		av.SelfScheduling = false
		if err := ss.svc.SetAvailability(ctx, "@dr:hs", av); err != nil {
			t.Fatal(err)
		}
		if _, err := ss.svc.BookSlot(ctx, jane, 0, "@dr:hs", ss.typ, thursday10.Add(time.Hour)); !errors.Is(err, bridge.ErrSelfSchedulingOff) {
			t.Errorf("self-scheduling off: %v", err)
		}
		if _, err := ss.svc.FreeSlots(ctx, "@dr:hs", ss.typ, thursday10, thursday10.Add(time.Hour), newYork); !errors.Is(err, bridge.ErrSelfSchedulingOff) {
			t.Errorf("slots with self-scheduling off: %v", err)
		}
	})
}

// Twenty clients book the same slot through the service at once: one session, nineteen
// "just booked by someone else".
func TestBookSlotRace(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.Database) {
		ctx := context.Background()
		ss := newSelfScheduling(t, db)
		start := time.Date(2026, 11, 27, 13, 0, 0, 0, time.UTC)
		var wg sync.WaitGroup
		var mu sync.Mutex
		won, taken := 0, 0
		ready := make(chan struct{})
		for i := range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-ready
				_, err := ss.svc.BookSlot(ctx, jane, ss.joe+int64(i%2)*(ss.jane-ss.joe), "@dr:hs", ss.typ, start)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					won++
				case errors.Is(err, bridge.ErrSlotTaken):
					taken++
				default:
					t.Errorf("client %d: %v", i, err)
				}
			}()
		}
		close(ready)
		wg.Wait()
		if won != 1 || taken != 19 {
			t.Fatalf("%d won, %d told it was taken", won, taken)
		}
		sessions, _ := ss.svc.Sessions(ctx, "@dr:hs")
		if len(sessions) != 1 {
			t.Errorf("%d sessions booked", len(sessions))
		}
	})
}

func TestAvailabilityDefaultsAndValidation(t *testing.T) {
	db := dbtest.Open(t, "sqlite")
	ctx := context.Background()
	svc := bridge.New(bridge.Options{Store: db.Store(), Clock: clockwork.NewFakeClock(), Bot: "@bot:hs"})
	av, err := svc.Availability(ctx, "@new:hs", "Europe/Paris")
	if err != nil || av.SelfScheduling || av.TimeZone != "Europe/Paris" || av.Horizon != 60*24*time.Hour {
		t.Fatalf("a new professional's availability: %+v %v", av, err)
	}
	av.SelfScheduling = true
	var fe *bridge.AvailabilityError
	if err = svc.SetAvailability(ctx, "@new:hs", av); !errors.As(err, &fe) || fe.Field != "self_scheduling" {
		t.Errorf("on without hours: %v", err)
	}
}
