package database_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"github.com/telehealth-bridge/telehealth-bridge/database"
	"github.com/telehealth-bridge/telehealth-bridge/internal/dbtest"
)

func sampleAvailability(clinician string) *bridge.Availability {
	return &bridge.Availability{
		Clinician: clinician, TimeZone: "Europe/Paris", SelfScheduling: true,
		MinNotice: 90 * time.Minute, Horizon: 60 * 24 * time.Hour, SlotStep: 30 * time.Minute,
		Hours: []bridge.WeeklyHours{{Day: time.Monday, Start: 540, End: 720}, {Day: time.Monday, Start: 840, End: 1080}, {Day: time.Friday, Start: 600, End: 1440}},
		Types: []bridge.SessionType{
			{Name: "First consultation", Duration: 50 * time.Minute, Kind: bridge.KindVideo},
			{Name: "Follow-up call", Duration: 25 * time.Minute, Kind: bridge.KindPhone},
		},
		DaysOff:   []bridge.Date{"2026-12-24", "2026-12-25"},
		UpdatedAt: time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC),
	}
}

func TestAvailabilityStorage(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.Database) {
		ctx := context.Background()
		store := db.Store()
		if _, err := store.GetAvailability(ctx, "@dr:hs"); !errors.Is(err, bridge.ErrNoAvailability) {
			t.Fatalf("nothing published yet: %v", err)
		}
		av := sampleAvailability("@dr:hs")
		if err := store.SaveAvailability(ctx, av); err != nil {
			t.Fatal(err)
		}
		if av.Types[0].ID == 0 || av.Types[1].ID == 0 || av.Types[0].ID == av.Types[1].ID {
			t.Fatalf("type IDs not set: %+v", av.Types)
		}
		got, err := store.GetAvailability(ctx, "@dr:hs")
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(got.Hours) != fmt.Sprint(av.Hours) || fmt.Sprint(got.Types) != fmt.Sprint(av.Types) ||
			fmt.Sprint(got.DaysOff) != fmt.Sprint(av.DaysOff) || got.TimeZone != "Europe/Paris" || !got.SelfScheduling ||
			got.MinNotice != 90*time.Minute || got.Horizon != 60*24*time.Hour || got.SlotStep != 30*time.Minute || !got.UpdatedAt.Equal(av.UpdatedAt) {
			t.Fatalf("read back\n%+v\nwant\n%+v", got, av)
		}

		// Rename the first type, drop the second, add a third: IDs of kept types stay.
		kept := got.Types[0].ID
		got.Types = []bridge.SessionType{{ID: kept, Name: "Consultation", Duration: time.Hour, Kind: bridge.KindVideo}, {Name: "Short", Duration: 15 * time.Minute, Kind: bridge.KindVideo}}
		got.DaysOff, got.SelfScheduling = nil, false
		if err = store.SaveAvailability(ctx, got); err != nil {
			t.Fatal(err)
		}
		again, _ := store.GetAvailability(ctx, "@dr:hs")
		if len(again.Types) != 2 || again.Types[0].ID != kept || again.Types[0].Name != "Consultation" || again.Types[1].Name != "Short" ||
			len(again.DaysOff) != 0 || again.SelfScheduling {
			t.Fatalf("after the change: %+v", again)
		}

		// Another professional cannot take over (or rename) this one's type by its ID.
		other := sampleAvailability("@other:hs")
		other.Types = []bridge.SessionType{{ID: kept, Name: "Stolen", Duration: time.Hour, Kind: bridge.KindVideo}}
		if err = store.SaveAvailability(ctx, other); !errors.Is(err, bridge.ErrSessionTypeUnknown) {
			t.Fatalf("saving another's type ID: %v", err)
		}
		if mine, _ := store.GetAvailability(ctx, "@dr:hs"); mine.Types[0].Name != "Consultation" {
			t.Errorf("another professional renamed the type: %+v", mine.Types[0])
		}
		if _, err = store.GetAvailability(ctx, "@other:hs"); !errors.Is(err, bridge.ErrNoAvailability) {
			t.Errorf("the refused save left something behind: %v", err)
		}
	})
}

func TestBusyTimes(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.Database) {
		ctx := context.Background()
		store := db.Store()
		if err := store.SaveAvailability(ctx, sampleAvailability("@dr:hs")); err != nil {
			t.Fatal(err)
		}
		day := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
		book := func(id, clinician string, hour int, status bridge.Status) {
			s, ps := sampleSession(id, day.Add(time.Duration(hour)*time.Hour))
			s.Clinician, s.Status = clinician, status
			if err := store.InsertSession(ctx, s, ps[:1]); err != nil {
				t.Fatal(err)
			}
		}
		book("sched1", "@dr:hs", 8, bridge.StatusScheduled)
		book("ended1", "@dr:hs", 9, bridge.StatusEnded)
		book("cance1", "@dr:hs", 10, bridge.StatusCancelled)
		book("other1", "@other:hs", 11, bridge.StatusScheduled)
		book("later1", "@dr:hs", 30, bridge.StatusScheduled)
		now := day.Add(-48 * time.Hour)
		pending := &bridge.SlotClaim{Clinician: "@dr:hs", Start: day.Add(13 * time.Hour), End: day.Add(14 * time.Hour), TypeID: 1, ClaimedAt: now}
		if err := store.ClaimSlot(ctx, pending); err != nil {
			t.Fatal(err)
		}
		busy, err := store.BusyBetween(ctx, "@dr:hs", day, day.Add(24*time.Hour), now)
		if err != nil {
			t.Fatal(err)
		}
		var starts []int
		for _, b := range busy {
			starts = append(starts, int(b.Start.Sub(day).Hours()))
		}
		if fmt.Sprint(len(starts)) != "3" || !containsAll(starts, 8, 9, 13) {
			t.Errorf("busy hours %v, want 8 (scheduled), 9 (ended) and 13 (a claim being booked)", starts)
		}
		// A claim whose booking never finished stops counting after ClaimTimeout.
		busy, _ = store.BusyBetween(ctx, "@dr:hs", day, day.Add(24*time.Hour), now.Add(bridge.ClaimTimeout+time.Second))
		if len(busy) != 2 {
			t.Errorf("a stale claim still counts: %v", busy)
		}
	})
}

func containsAll(have []int, want ...int) bool {
	for _, w := range want {
		found := false
		for _, h := range have {
			found = found || h == w
		}
		if !found {
			return false
		}
	}
	return true
}

// Twenty clients click the same slot at once: exactly one claim succeeds, on both databases;
// then twenty race for overlapping slots of different lengths (10:00 for an hour, 10:30 for
// half an hour): again one.
func TestSlotRaceHasOneWinner(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.Database) {
		ctx := context.Background()
		store := db.Store()
		if err := store.SaveAvailability(ctx, sampleAvailability("@dr:hs")); err != nil {
			t.Fatal(err)
		}
		now := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
		race := func(claim func(i int) *bridge.SlotClaim) (won int, claims []*bridge.SlotClaim) {
			var wg sync.WaitGroup
			var mu sync.Mutex
			start := make(chan struct{})
			for i := range 20 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					c := claim(i)
					<-start
					err := store.ClaimSlot(ctx, c)
					mu.Lock()
					defer mu.Unlock()
					switch {
					case err == nil:
						won++
						claims = append(claims, c)
					case !errors.Is(err, bridge.ErrSlotTaken):
						t.Errorf("client %d: %v", i, err)
					}
				}()
			}
			close(start)
			wg.Wait()
			return won, claims
		}
		slot := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
		won, claims := race(func(i int) *bridge.SlotClaim {
			return &bridge.SlotClaim{Clinician: "@dr:hs", Start: slot, End: slot.Add(50 * time.Minute), TypeID: 1, ClientID: int64(i + 1), ClaimedAt: now}
		})
		if won != 1 {
			t.Fatalf("%d clients won the same slot", won)
		}
		// The winner's session is stored; the claim points at it and keeps the client.
		s, ps := sampleSession("slot01", slot)
		if err := store.InsertSession(ctx, s, ps[:1]); err != nil {
			t.Fatal(err)
		}
		if err := store.ClaimBooked(ctx, claims[0], "slot01"); err != nil {
			t.Fatal(err)
		}
		if sessionID, clientID, err := db.SlotClaim.Session(ctx, "@dr:hs", slot); err != nil || sessionID != "slot01" || clientID != claims[0].ClientID {
			t.Errorf("claim reads %q client %d (%v)", sessionID, clientID, err)
		}

		overlap := time.Date(2026, 11, 30, 13, 0, 0, 0, time.UTC)
		won, _ = race(func(i int) *bridge.SlotClaim {
			if i%2 == 0 {
				return &bridge.SlotClaim{Clinician: "@dr:hs", Start: overlap, End: overlap.Add(time.Hour), TypeID: 1, ClaimedAt: now}
			}
			return &bridge.SlotClaim{Clinician: "@dr:hs", Start: overlap.Add(30 * time.Minute), End: overlap.Add(time.Hour), TypeID: 2, ClaimedAt: now}
		})
		if won != 1 {
			t.Fatalf("%d clients won overlapping slots", won)
		}
	})
}

// A slot comes free again when its booking is cancelled, given back, or crashed half way.
func TestClaimedSlotsComeFree(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.Database) {
		ctx := context.Background()
		store := db.Store()
		av := sampleAvailability("@dr:hs")
		if err := store.SaveAvailability(ctx, av); err != nil {
			t.Fatal(err)
		}
		now := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
		slot := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
		claim := func(at time.Time) error {
			return store.ClaimSlot(ctx, &bridge.SlotClaim{Clinician: "@dr:hs", Start: slot, End: slot.Add(50 * time.Minute), TypeID: 1, ClaimedAt: at})
		}
		c := &bridge.SlotClaim{Clinician: "@dr:hs", Start: slot, End: slot.Add(50 * time.Minute), TypeID: 1, ClaimedAt: now}
		if err := store.ClaimSlot(ctx, c); err != nil {
			t.Fatal(err)
		}
		if err := claim(now); !errors.Is(err, bridge.ErrSlotTaken) {
			t.Fatalf("a second claim: %v", err)
		}
		if err := store.ReleaseClaim(ctx, c); err != nil {
			t.Fatal(err)
		}
		if err := claim(now); err != nil {
			t.Fatalf("after the release: %v", err)
		}
		// That claim's booking crashed: a minute later the slot is still held, after
		// ClaimTimeout it is not.
		if err := claim(now.Add(time.Minute)); !errors.Is(err, bridge.ErrSlotTaken) {
			t.Fatalf("a fresh claim was taken over: %v", err)
		}
		if err := claim(now.Add(bridge.ClaimTimeout + time.Second)); err != nil {
			t.Fatalf("a crashed booking still holds the slot: %v", err)
		}
		later := now.Add(bridge.ClaimTimeout + time.Second)
		s, ps := sampleSession("slot02", slot)
		if err := store.InsertSession(ctx, s, ps[:1]); err != nil {
			t.Fatal(err)
		}
		_ = store.ClaimBooked(ctx, c, "slot02")
		if err := claim(later.Add(bridge.ClaimTimeout * 2)); !errors.Is(err, bridge.ErrSlotTaken) {
			t.Fatalf("a booked slot was claimed again: %v", err)
		}
		s.Status = bridge.StatusCancelled
		if err := store.UpdateSession(ctx, s); err != nil {
			t.Fatal(err)
		}
		if err := claim(later.Add(bridge.ClaimTimeout * 2)); err != nil {
			t.Fatalf("the slot of a cancelled session: %v", err)
		}

		// Off, or never published, or someone else: nobody claims.
		av.SelfScheduling = false
		if err := store.SaveAvailability(ctx, av); err != nil {
			t.Fatal(err)
		}
		other := slot.Add(24 * time.Hour)
		for _, clinician := range []string{"@dr:hs", "@nobody:hs"} {
			err := store.ClaimSlot(ctx, &bridge.SlotClaim{Clinician: clinician, Start: other, End: other.Add(time.Hour), ClaimedAt: now})
			if !errors.Is(err, bridge.ErrSelfSchedulingOff) {
				t.Errorf("%s: %v", clinician, err)
			}
		}
	})
}
