package bridge_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
)

var (
	paris, _   = time.LoadLocation("Europe/Paris")
	newYork, _ = time.LoadLocation("America/New_York")
)

// weekdays9to5 is a Paris practice: Monday to Friday, 09:00-12:00 and 14:00-17:00, one-hour
// video sessions, a day's notice, 60 days ahead.
func weekdays9to5() *bridge.Availability {
	av := &bridge.Availability{
		Clinician: "@dr:hs", TimeZone: "Europe/Paris", SelfScheduling: true,
		MinNotice: 24 * time.Hour, Horizon: 60 * 24 * time.Hour,
		Types: []bridge.SessionType{{ID: 7, Name: "Consultation", Duration: time.Hour, Kind: bridge.KindVideo}},
	}
	for d := time.Monday; d <= time.Friday; d++ {
		av.Hours = append(av.Hours, bridge.WeeklyHours{Day: d, Start: 9 * 60, End: 12 * 60}, bridge.WeeklyHours{Day: d, Start: 14 * 60, End: 17 * 60})
	}
	return av
}

// clock formats slots as the client reads them: "Mon 30 03:00 EDT".
func clock(slots []bridge.Slot) []string {
	var out []string
	for _, s := range slots {
		out = append(out, s.Start.Format("Mon 2 15:04 MST"))
	}
	return out
}

func mustValid(t *testing.T, av *bridge.Availability) *bridge.Availability {
	t.Helper()
	if err := av.Validate(); err != nil {
		t.Fatal(err)
	}
	return av
}

// Late March: Paris moves to summer time on Sunday 29 March 2026, three weeks after New York
// (8 March). A Paris 09:00 is 04:00 in New York on the Friday before and 03:00 on the Monday
// after: the slots follow the professional's wall clock, and the client sees their own.
func TestSlotsAcrossSpringChange(t *testing.T) {
	av := mustValid(t, weekdays9to5())
	now := time.Date(2026, 3, 20, 10, 0, 0, 0, time.UTC)
	from, to := time.Date(2026, 3, 27, 0, 0, 0, 0, time.UTC), time.Date(2026, 3, 31, 0, 0, 0, 0, time.UTC)
	typ, _ := av.Type(7)
	got := clock(av.FreeSlots(typ, from, to, now, nil, newYork))
	want := []string{
		"Fri 27 04:00 EDT", "Fri 27 05:00 EDT", "Fri 27 06:00 EDT", "Fri 27 09:00 EDT", "Fri 27 10:00 EDT", "Fri 27 11:00 EDT",
		"Mon 30 03:00 EDT", "Mon 30 04:00 EDT", "Mon 30 05:00 EDT", "Mon 30 08:00 EDT", "Mon 30 09:00 EDT", "Mon 30 10:00 EDT",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("New York sees\n%v\nwant\n%v", got, want)
	}
	// In Paris, the same slots are at 09:00 on both sides of the change.
	inParis := clock(av.FreeSlots(typ, from, to, now, nil, paris))
	if inParis[0] != "Fri 27 09:00 CET" || inParis[6] != "Mon 30 09:00 CEST" {
		t.Errorf("Paris sees %v", inParis)
	}
}

// Late October: Paris goes back to winter time on Sunday 25 October 2026, a week before New
// York (1 November): a Paris 09:00 is 03:00 in New York on the Friday before and 04:00 on the
// Monday after.
func TestSlotsAcrossAutumnChange(t *testing.T) {
	av := mustValid(t, weekdays9to5())
	now := time.Date(2026, 10, 1, 10, 0, 0, 0, time.UTC)
	typ, _ := av.Type(7)
	got := clock(av.FreeSlots(typ, time.Date(2026, 10, 23, 0, 0, 0, 0, time.UTC), time.Date(2026, 10, 27, 0, 0, 0, 0, time.UTC), now, nil, newYork))
	if len(got) != 12 || got[0] != "Fri 23 03:00 EDT" || got[5] != "Fri 23 10:00 EDT" || got[6] != "Mon 26 04:00 EDT" || got[11] != "Mon 26 11:00 EDT" {
		t.Errorf("New York sees %v", got)
	}
}

// Hours that cross the change itself: the hour lost in spring has no slots, the hour gained in
// autumn has twice as many; a range that starts at a time the clock skips starts when it jumps.
func TestSlotsDuringTheChange(t *testing.T) {
	av := &bridge.Availability{
		TimeZone: "Europe/Paris", SelfScheduling: true, Horizon: 365 * 24 * time.Hour,
		Types: []bridge.SessionType{{ID: 1, Name: "Night line", Duration: time.Hour, Kind: bridge.KindPhone}},
		Hours: []bridge.WeeklyHours{{Day: time.Sunday, Start: 60, End: 4 * 60}},
	}
	mustValid(t, av)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	typ := av.Types[0]
	day := func(y int, m time.Month, d int) []string {
		return clock(av.FreeSlots(typ, time.Date(y, m, d-1, 0, 0, 0, 0, time.UTC), time.Date(y, m, d+1, 0, 0, 0, 0, time.UTC), now, nil, paris))
	}
	if got := day(2026, 3, 29); fmt.Sprint(got) != "[Sun 29 01:00 CET Sun 29 03:00 CEST]" {
		t.Errorf("spring: %v", got)
	}
	if got := day(2026, 10, 25); fmt.Sprint(got) != "[Sun 25 01:00 CEST Sun 25 02:00 CEST Sun 25 02:00 CET Sun 25 03:00 CET]" {
		t.Errorf("autumn: %v", got)
	}
	av.Hours = []bridge.WeeklyHours{{Day: time.Sunday, Start: 2*60 + 30, End: 4 * 60}}
	if got := day(2026, 3, 29); fmt.Sprint(got) != "[Sun 29 03:00 CEST]" {
		t.Errorf("a range starting in the skipped hour: %v", got)
	}
	// 02:30 happens twice in autumn: the range starts at the first.
	av.Hours = []bridge.WeeklyHours{{Day: time.Sunday, Start: 2*60 + 30, End: 3*60 + 30}}
	if got := day(2026, 10, 25); fmt.Sprint(got) != "[Sun 25 02:30 CEST Sun 25 02:30 CET]" {
		t.Errorf("a range starting in the repeated hour: %v", got)
	}
}

func TestSlotsSkipBusyTimesDaysOffNoticeAndHorizon(t *testing.T) {
	av := weekdays9to5()
	av.DaysOff = []bridge.Date{"2026-11-27"}
	mustValid(t, av)
	typ, _ := av.Type(7)
	now := time.Date(2026, 11, 24, 9, 30, 0, 0, time.UTC) // Tuesday 10:30 in Paris
	busy := []bridge.Interval{
		// 10:30-11:30 on Wednesday takes the 10:00 and 11:00 slots.
		{Start: time.Date(2026, 11, 25, 9, 30, 0, 0, time.UTC), End: time.Date(2026, 11, 25, 10, 30, 0, 0, time.UTC)},
		// Touching the 15:00 slot's end is no overlap.
		{Start: time.Date(2026, 11, 25, 15, 0, 0, 0, time.UTC), End: time.Date(2026, 11, 25, 17, 0, 0, 0, time.UTC)},
	}
	got := clock(av.FreeSlots(typ, now, time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC), now, busy, paris))
	// Tuesday is inside the day's notice until 10:30, Wednesday loses 10:00, 11:00 and 16:00,
	// Friday is a day off.
	want := []string{
		"Wed 25 14:00 CET", "Wed 25 15:00 CET",
		"Thu 26 09:00 CET", "Thu 26 10:00 CET", "Thu 26 11:00 CET", "Thu 26 14:00 CET", "Thu 26 15:00 CET", "Thu 26 16:00 CET",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got\n%v\nwant\n%v", got, want)
	}
	// The horizon: nothing starts more than 60 days after now.
	far := av.FreeSlots(typ, now, now.Add(90*24*time.Hour), now, nil, paris)
	if last := far[len(far)-1].Start; !last.Before(now.Add(60*24*time.Hour)) || last.Before(now.Add(59*24*time.Hour)) {
		t.Errorf("last slot %s for a 60-day horizon from %s", last, now)
	}
	// Every 30 minutes instead of back to back.
	av.SlotStep = 30 * time.Minute
	thu := clock(av.FreeSlots(typ, time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC), now, nil, paris))
	if strings.Join(thu, ",") != "Thu 26 09:00 CET,Thu 26 09:30 CET,Thu 26 10:00 CET,Thu 26 10:30 CET,Thu 26 11:00 CET" {
		t.Errorf("every 30 minutes: %v", thu)
	}
}

func TestCheckSlot(t *testing.T) {
	av := mustValid(t, weekdays9to5())
	typ, _ := av.Type(7)
	now := time.Date(2026, 11, 24, 9, 30, 0, 0, time.UTC)
	thursday10 := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name  string
		start time.Time
		want  error
	}{
		{"a free slot", thursday10, nil},
		{"off the grid", thursday10.Add(30 * time.Minute), bridge.ErrSlotUnavailable},
		{"at lunch", time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC), bridge.ErrSlotUnavailable},
		{"a Saturday", time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC), bridge.ErrSlotUnavailable},
		{"within the notice", time.Date(2026, 11, 24, 13, 0, 0, 0, time.UTC), bridge.ErrSlotTooSoon},
		{"beyond the horizon", thursday10.Add(70 * 24 * time.Hour), bridge.ErrSlotBeyondHorizon},
	} {
		if err := av.CheckSlot(typ, c.start, now); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
	if _, err := av.Type(8); !errors.Is(err, bridge.ErrSessionTypeUnknown) {
		t.Errorf("another type: %v", err)
	}
	av.SelfScheduling = false
	if err := av.CheckSlot(typ, thursday10, now); !errors.Is(err, bridge.ErrSelfSchedulingOff) {
		t.Errorf("self-scheduling off: %v", err)
	}
}

func TestAvailabilityValidationNamesTheField(t *testing.T) {
	for _, c := range []struct {
		field string
		edit  func(av *bridge.Availability)
	}{
		{"time_zone", func(av *bridge.Availability) { av.TimeZone = "Paris" }},
		{"hours[1].start", func(av *bridge.Availability) { av.Hours[1].Start = 11 * 60 }},
		{"hours[0].end", func(av *bridge.Availability) { av.Hours[0].End = 8 * 60 }},
		{"hours[0].day", func(av *bridge.Availability) { av.Hours[0].Day = 9 }},
		{"types[0].name", func(av *bridge.Availability) { av.Types[0].Name = " " }},
		{"types[0].name", func(av *bridge.Availability) { av.Types[0].Name = "Consult\u202e" }},
		{"types[0].duration_minutes", func(av *bridge.Availability) { av.Types[0].Duration = 3 * time.Minute }},
		{"types[0].kind", func(av *bridge.Availability) { av.Types[0].Kind = "carrier pigeon" }},
		{"min_notice_minutes", func(av *bridge.Availability) { av.MinNotice = -time.Hour }},
		{"horizon_days", func(av *bridge.Availability) { av.Horizon = 0 }},
		{"horizon_days", func(av *bridge.Availability) { av.Horizon, av.MinNotice = 24*time.Hour, 48*time.Hour }},
		{"days_off[0]", func(av *bridge.Availability) { av.DaysOff = []bridge.Date{"2026-02-30"} }},
		{"slot_step_minutes", func(av *bridge.Availability) { av.SlotStep = time.Minute }},
		{"self_scheduling", func(av *bridge.Availability) { av.Types = nil }},
	} {
		av := weekdays9to5()
		c.edit(av)
		var fe *bridge.AvailabilityError
		if err := av.Validate(); !errors.As(err, &fe) || fe.Field != c.field {
			t.Errorf("%s: %v", c.field, err)
		}
	}
	// Off, nothing published yet is fine: a new professional starts there.
	empty := &bridge.Availability{TimeZone: "Europe/Paris", Horizon: 30 * 24 * time.Hour}
	if err := empty.Validate(); err != nil {
		t.Errorf("an empty availability: %v", err)
	}
}

func TestParseMinute(t *testing.T) {
	for in, want := range map[string]bridge.Minute{"00:00": 0, "09:30": 570, "24:00": 1440} {
		if got, err := bridge.ParseMinute(in); err != nil || got != want || got.String() != in {
			t.Errorf("%s: %d %v", in, got, err)
		}
	}
	for _, bad := range []string{"9:30", "24:01", "12:60", "ab:cd", "", "+9:30", " 9:30", "09-30", "25:00"} {
		if _, err := bridge.ParseMinute(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
