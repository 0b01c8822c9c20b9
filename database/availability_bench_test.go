package database_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"github.com/telehealth-bridge/telehealth-bridge/database"
	"github.com/telehealth-bridge/telehealth-bridge/internal/dbtest"
)

// BenchmarkSlotSearch is a client's search of one professional's free slots over 60 days, in
// their own zone, through the Service on PostgreSQL (the bound: 20 ms). The calendar is
// a busy practice's: the professional works Monday to Friday 08:00-12:00 and 13:00-19:00 in
// Paris with 50-minute sessions on the hour, 8 sessions a day booked for the 60 days ahead and
// the year behind, a few days off; 30 colleagues have the same load in the same tables.
// Reported as ms/search (mean) and p95-ms.
func BenchmarkSlotSearch(b *testing.B) {
	for _, kind := range []string{"pgx"} {
		b.Run(kind, func(b *testing.B) {
			ctx := context.Background()
			db := dbtest.Open(b, kind)
			now := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
			clock := clockwork.NewFakeClockAt(now)
			svc := bridge.New(bridge.Options{Store: db.Store(), Clock: clock, Bot: "@bot:hs"})
			paris, _ := time.LoadLocation("Europe/Paris")
			newYork, _ := time.LoadLocation("America/New_York")
			av := &bridge.Availability{
				TimeZone: "Europe/Paris", SelfScheduling: true, MinNotice: 24 * time.Hour, Horizon: 60 * 24 * time.Hour, SlotStep: time.Hour,
				Types:   []bridge.SessionType{{Name: "Consultation", Duration: 50 * time.Minute, Kind: bridge.KindVideo}},
				DaysOff: []bridge.Date{"2026-12-24", "2026-12-25", "2026-12-31", "2027-01-01"},
			}
			for d := time.Monday; d <= time.Friday; d++ {
				av.Hours = append(av.Hours, bridge.WeeklyHours{Day: d, Start: 8 * 60, End: 12 * 60}, bridge.WeeklyHours{Day: d, Start: 13 * 60, End: 19 * 60})
			}
			if err := svc.SetAvailability(ctx, "@dr0:hs", av); err != nil {
				b.Fatal(err)
			}
			booked := fillCalendars(b, db, now, paris, 31)
			b.ResetTimer()
			took := make([]time.Duration, 0, b.N)
			var slots []bridge.Slot
			for range b.N {
				t0 := time.Now()
				var err error
				if slots, err = svc.FreeSlots(ctx, "@dr0:hs", av.Types[0].ID, now, now.Add(60*24*time.Hour), newYork); err != nil {
					b.Fatal(err)
				}
				took = append(took, time.Since(t0))
			}
			b.StopTimer()
			slices.Sort(took)
			p95 := took[len(took)*95/100]
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/1000, "ms/search")
			b.ReportMetric(float64(p95.Microseconds())/1000, "p95-ms")
			b.ReportMetric(float64(len(slots)), "slots")
			b.ReportMetric(float64(booked), "sessions")
			// 10 hours a day, 8 booked: 2 free slots on each working day but the days off.
			if len(slots) == 0 || len(slots) > 2*45 {
				b.Errorf("%d free slots", len(slots))
			}
			if p95 > 20*time.Millisecond {
				b.Errorf("p95 %s over 60 days, above the 20 ms bound", p95)
			}
		})
	}
}

// fillCalendars books 8 sessions on each working day, from a year before now to 60 days
// after, for clinicians @dr0:hs to @dr<n-1>:hs, and returns how many.
func fillCalendars(b *testing.B, db *database.Database, now time.Time, loc *time.Location, clinicians int) int {
	b.Helper()
	ctx := context.Background()
	n := 0
	err := db.DoTxn(ctx, nil, func(ctx context.Context) error {
		for c := range clinicians {
			for day := -365; day <= 61; day++ {
				date := now.In(loc).AddDate(0, 0, day)
				if date.Weekday() == time.Saturday || date.Weekday() == time.Sunday {
					continue
				}
				for _, hour := range []int{8, 9, 10, 11, 13, 14, 15, 16} {
					start := time.Date(date.Year(), date.Month(), date.Day(), hour, 0, 0, 0, loc)
					status := bridge.StatusScheduled
					if start.Before(now) {
						status = bridge.StatusEnded
					}
					s := &bridge.Session{ID: fmt.Sprintf("c%dd%dh%d", c, day+400, hour), Clinician: fmt.Sprintf("@dr%d:hs", c),
						Start: start, End: start.Add(50 * time.Minute), TimeZone: "Europe/Paris", Kind: bridge.KindVideo,
						Status: status, Policy: bridge.PolicyManual, CreatedAt: now, UpdatedAt: now}
					if err := db.Session.Insert(ctx, s); err != nil {
						return err
					}
					n++
				}
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	if _, err = db.Exec(ctx, "ANALYZE telehealth_session"); err != nil {
		b.Fatal(err)
	}
	return n
}
