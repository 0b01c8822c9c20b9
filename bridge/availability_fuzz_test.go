package bridge_test

import (
	"testing"
	"time"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
)

var fuzzZones = []string{"Europe/Paris", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata", "America/St_Johns", "UTC"}

// Whatever a professional publishes and whatever a client asks, every slot found is whole, in
// order, inside the search, the notice and the horizon, on a working day in the professional's
// zone, inside one range of hours of that day, and clear of every busy interval; and it can be
// booked (CheckSlot) when nothing else is.
func FuzzFreeSlots(f *testing.F) {
	f.Add(uint8(0), uint16(540), uint16(720), uint16(60), uint16(0), uint16(0), uint16(24), uint16(400), int16(48), uint16(90))
	f.Add(uint8(0), uint16(60), uint16(240), uint16(60), uint16(0), uint16(0), uint16(2988), uint16(800), int16(100), uint16(30))   // across 29 March
	f.Add(uint8(2), uint16(0), uint16(1440), uint16(45), uint16(20), uint16(1), uint16(3000), uint16(200), int16(-20), uint16(600)) // 30-minute changes
	f.Add(uint8(4), uint16(510), uint16(1050), uint16(50), uint16(0), uint16(0), uint16(400), uint16(2200), int16(300), uint16(50))
	f.Fuzz(func(t *testing.T, zone uint8, start, end, duration, step, notice, fromHours, spanHours uint16, busyAt int16, busyMinutes uint16) {
		av := &bridge.Availability{
			TimeZone: fuzzZones[int(zone)%len(fuzzZones)], SelfScheduling: true,
			MinNotice: time.Duration(notice%72) * time.Hour, Horizon: 90 * 24 * time.Hour, SlotStep: time.Duration(step%240) * time.Minute,
			Types:   []bridge.SessionType{{ID: 1, Name: "Consultation", Duration: time.Duration(5+duration%240) * time.Minute, Kind: bridge.KindVideo}},
			DaysOff: []bridge.Date{"2026-12-25", "2027-03-28"},
		}
		s, e := bridge.Minute(start%1440), bridge.Minute(end%1441)
		for d := time.Sunday; d <= time.Saturday; d++ {
			if d != time.Wednesday {
				av.Hours = append(av.Hours, bridge.WeeklyHours{Day: d, Start: s, End: e})
			}
		}
		if err := av.Validate(); err != nil {
			return // refused: nothing to search
		}
		now := time.Date(2026, 11, 24, 9, 17, 0, 0, time.UTC)
		from := now.Add(time.Duration(fromHours%3500) * time.Hour)
		to := from.Add(time.Duration(spanHours%2300) * time.Hour)
		busy := []bridge.Interval{{Start: from.Add(time.Duration(busyAt) * time.Hour), End: from.Add(time.Duration(busyAt)*time.Hour + time.Duration(busyMinutes%2000)*time.Minute)}}
		typ := av.Types[0]
		loc := av.Location()
		slots := av.FreeSlots(typ, from, to, now, busy, time.UTC)
		for i, sl := range slots {
			switch {
			case sl.End.Sub(sl.Start) != typ.Duration:
				t.Fatalf("slot %v lasts %s", sl, sl.End.Sub(sl.Start))
			case i > 0 && !sl.Start.After(slots[i-1].Start):
				t.Fatalf("slots out of order: %v then %v", slots[i-1], sl)
			case sl.Start.Before(from) || !sl.Start.Before(to):
				t.Fatalf("slot %v outside [%s, %s)", sl, from, to)
			case sl.Start.Before(now.Add(av.MinNotice)) || !sl.Start.Before(now.Add(av.Horizon)):
				t.Fatalf("slot %v inside the notice or beyond the horizon", sl)
			case busy[0].Start.Before(sl.End) && sl.Start.Before(busy[0].End):
				t.Fatalf("slot %v overlaps busy %v", sl, busy[0])
			}
			local := sl.Start.In(loc)
			if local.Weekday() == time.Wednesday || bridge.DateOf(sl.Start, loc) == "2026-12-25" || bridge.DateOf(sl.Start, loc) == "2027-03-28" {
				t.Fatalf("slot %v on a day without hours (%s)", sl, local)
			}
			// Inside the day's range: it starts no earlier than the range's start on the wall
			// clock, and ends no later than its end (the next midnight for 24:00).
			if m := bridge.Minute(local.Hour()*60 + local.Minute()); m < s {
				t.Fatalf("slot %v starts at %s before the range's %s", sl, local.Format("15:04 MST"), s)
			}
			dayEnd := time.Date(local.Year(), local.Month(), local.Day(), int(e)/60, int(e)%60, 0, 0, loc)
			if sl.End.After(dayEnd.Add(time.Hour)) { // an hour of slack for a change of time in the range
				t.Fatalf("slot %v ends after the range's end %s", sl, dayEnd)
			}
			if err := av.CheckSlot(typ, sl.Start, now); err != nil {
				t.Fatalf("slot %v found, but CheckSlot says %v", sl, err)
			}
		}
	})
}
