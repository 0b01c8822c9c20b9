package bridge

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Availability is when a professional takes bookings from clients themselves (self-scheduling):
// weekly hours in their own time zone, the kinds of sessions they offer, how much notice they
// need, how far ahead clients may book, and the days they are away. Slots follow the
// professional's wall clock, so 09:00 stays 09:00 in Paris across a change of summer time,
// whatever hour that is for the client.
type Availability struct {
	Clinician string
	// TimeZone is the IANA zone the weekly hours and days off are in.
	TimeZone string
	Hours    []WeeklyHours
	Types    []SessionType
	// MinNotice is how long before its start a slot can still be booked.
	MinNotice time.Duration
	// Horizon is how far ahead of now a slot can be booked.
	Horizon time.Duration
	// DaysOff are dates (in TimeZone) without slots, whatever the weekly hours say.
	DaysOff []Date
	// SlotStep is the time between two slot starts; zero means back to back (the type's duration).
	SlotStep time.Duration
	// SelfScheduling: clients may book slots. Off, the hours are kept but nobody books.
	SelfScheduling bool
	UpdatedAt      time.Time
}

// WeeklyHours is one range of hours on a weekday, in the professional's zone. Several ranges
// make a day (09:00-12:00 and 14:00-18:00).
type WeeklyHours struct {
	Day time.Weekday
	// Start and End are minutes after midnight; End may be 24:00 (1440).
	Start, End Minute
}

// Minute is a time of day as minutes after midnight, 0 to 1440.
type Minute int

// ParseMinute reads "HH:MM" (24:00 allowed, for the end of a day).
func ParseMinute(s string) (Minute, error) {
	bad := len(s) != 5 || s[2] != ':'
	for i := 0; !bad && i < 5; i++ {
		bad = i != 2 && (s[i] < '0' || s[i] > '9')
	}
	if bad {
		return 0, fmt.Errorf("%q is not a time like 09:30", s)
	}
	h, m := int(s[0]-'0')*10+int(s[1]-'0'), int(s[3]-'0')*10+int(s[4]-'0')
	if h > 24 || m > 59 || (h == 24 && m != 0) {
		return 0, fmt.Errorf("%q is not a time like 09:30", s)
	}
	return Minute(h*60 + m), nil
}

func (m Minute) String() string { return fmt.Sprintf("%02d:%02d", int(m)/60, int(m)%60) }

// SessionType is a kind of appointment a professional offers: "First consultation, 50
// minutes, video".
type SessionType struct {
	// ID is set by the store; it is what a booking names.
	ID       int64
	Name     string
	Duration time.Duration
	Kind     Kind
}

// Date is a calendar date, "2006-01-02".
type Date string

// ParseDate checks a date.
func ParseDate(s string) (Date, error) {
	if _, err := time.Parse(time.DateOnly, s); err != nil {
		return "", fmt.Errorf("%q is not a date like 2026-12-24", s)
	}
	return Date(s), nil
}

// DateOf is the date of an instant in a zone.
func DateOf(t time.Time, loc *time.Location) Date { return Date(t.In(loc).Format(time.DateOnly)) }

// Limits of what a professional may publish: enough for any practice, small enough that a
// search stays cheap.
const (
	MaxHoursPerWeek  = 70
	MaxSessionTypes  = 20
	MaxDaysOff       = 400
	MaxMinNotice     = 30 * 24 * time.Hour
	MaxHorizon       = 365 * 24 * time.Hour
	MinTypeDuration  = 5 * time.Minute
	MaxTypeDuration  = 12 * time.Hour
	maxTypeNameRunes = 60
)

// AvailabilityError is a problem with one field of an availability, for the form to show
// next to it. Field is the API's name: "time_zone", "hours[2].end", "types[0].name"...
type AvailabilityError struct {
	Field  string
	Reason string
}

func (e *AvailabilityError) Error() string { return e.Field + ": " + e.Reason }

func fieldProblem(field, format string, args ...any) error {
	return &AvailabilityError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// Validate checks an availability before it is stored, and puts its hours and days off in
// order. The first problem found is returned.
func (av *Availability) Validate() error {
	if _, err := time.LoadLocation(av.TimeZone); err != nil || av.TimeZone == "" || av.TimeZone == "Local" {
		return fieldProblem("time_zone", "%q is not an IANA time zone (e.g. Europe/Paris)", av.TimeZone)
	}
	if len(av.Hours) > MaxHoursPerWeek {
		return fieldProblem("hours", "at most %d ranges of hours a week", MaxHoursPerWeek)
	}
	for i, h := range av.Hours {
		field := fmt.Sprintf("hours[%d]", i)
		switch {
		case h.Day < time.Sunday || h.Day > time.Saturday:
			return fieldProblem(field+".day", "the day must be monday to sunday")
		case h.Start < 0 || h.Start >= 24*60:
			return fieldProblem(field+".start", "the start must be between 00:00 and 23:59")
		case h.End <= h.Start || h.End > 24*60:
			return fieldProblem(field+".end", "the end must be after the start, at 24:00 at the latest")
		}
	}
	// Overlapping ranges are a typing mistake: say which one.
	order := make([]int, len(av.Hours))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		ha, hb := av.Hours[a], av.Hours[b]
		return cmp.Or(cmp.Compare(ha.Day, hb.Day), cmp.Compare(ha.Start, hb.Start))
	})
	for k := 1; k < len(order); k++ {
		prev, cur := av.Hours[order[k-1]], av.Hours[order[k]]
		if prev.Day == cur.Day && cur.Start < prev.End {
			return fieldProblem(fmt.Sprintf("hours[%d].start", order[k]), "this range overlaps %s-%s on the same day", prev.Start, prev.End)
		}
	}
	if len(av.Types) > MaxSessionTypes {
		return fieldProblem("types", "at most %d session types", MaxSessionTypes)
	}
	for i := range av.Types {
		t := &av.Types[i]
		field := fmt.Sprintf("types[%d]", i)
		t.Name = strings.Join(strings.Fields(t.Name), " ")
		if err := visibleText(t.Name); err != nil {
			return fieldProblem(field+".name", "%s", strings.Replace(err.Error(), "the name", "the session type's name", 1))
		}
		if n := utf8.RuneCountInString(t.Name); n < 2 || n > maxTypeNameRunes {
			return fieldProblem(field+".name", "the name must have 2 to %d characters", maxTypeNameRunes)
		}
		if t.Duration < MinTypeDuration || t.Duration > MaxTypeDuration || t.Duration%time.Minute != 0 {
			return fieldProblem(field+".duration_minutes", "the duration must be whole minutes, from 5 minutes to 12 hours")
		}
		if t.Kind != KindVideo && t.Kind != KindPhone {
			return fieldProblem(field+".kind", "the kind must be video or phone")
		}
	}
	if av.MinNotice < 0 || av.MinNotice > MaxMinNotice || av.MinNotice%time.Minute != 0 {
		return fieldProblem("min_notice_minutes", "the minimum notice must be whole minutes, from none to 30 days")
	}
	if av.Horizon < 24*time.Hour || av.Horizon > MaxHorizon || av.Horizon%(24*time.Hour) != 0 {
		return fieldProblem("horizon_days", "the booking horizon must be 1 to 365 days")
	}
	if av.Horizon <= av.MinNotice {
		return fieldProblem("horizon_days", "the booking horizon must be longer than the minimum notice")
	}
	if av.SlotStep != 0 && (av.SlotStep < MinTypeDuration || av.SlotStep > MaxTypeDuration || av.SlotStep%time.Minute != 0) {
		return fieldProblem("slot_step_minutes", "the time between slots must be whole minutes, from 5 minutes to 12 hours")
	}
	if len(av.DaysOff) > MaxDaysOff {
		return fieldProblem("days_off", "at most %d days off", MaxDaysOff)
	}
	for i, d := range av.DaysOff {
		if _, err := ParseDate(string(d)); err != nil {
			return fieldProblem(fmt.Sprintf("days_off[%d]", i), "%s", err.Error())
		}
	}
	if av.SelfScheduling && (len(av.Types) == 0 || len(av.Hours) == 0) {
		return fieldProblem("self_scheduling", "add weekly hours and a session type before clients can book")
	}
	slices.SortStableFunc(av.Hours, func(a, b WeeklyHours) int {
		return cmp.Or(cmp.Compare(a.Day, b.Day), cmp.Compare(a.Start, b.Start))
	})
	slices.Sort(av.DaysOff)
	av.DaysOff = slices.Compact(av.DaysOff)
	return nil
}

// Location is the professional's zone (UTC if it no longer loads).
func (av *Availability) Location() *time.Location {
	if loc, err := time.LoadLocation(av.TimeZone); err == nil {
		return loc
	}
	return time.UTC
}

// Type returns one of the professional's session types, or ErrSessionTypeUnknown.
func (av *Availability) Type(id int64) (SessionType, error) {
	for _, t := range av.Types {
		if t.ID == id {
			return t, nil
		}
	}
	return SessionType{}, ErrSessionTypeUnknown
}

// Interval is a span of time, [Start, End).
type Interval struct{ Start, End time.Time }

// Slot is a time a client may book. Start and End are in the client's zone, for display.
type Slot struct{ Start, End time.Time }

// FreeSlots lists the slots of a session type that start in [from, to): within the weekly
// hours, not on a day off, at least MinNotice after now and at most Horizon after it, and
// overlapping none of busy (the professional's sessions and claims). Slots are in order, in
// the client's zone.
func (av *Availability) FreeSlots(t SessionType, from, to, now time.Time, busy []Interval, client *time.Location) []Slot {
	from = later(from, now.Add(av.MinNotice))
	to = earlier(to, now.Add(av.Horizon))
	if !from.Before(to) || t.Duration <= 0 {
		return nil
	}
	if client == nil {
		client = time.UTC
	}
	step := av.SlotStep
	if step <= 0 {
		step = t.Duration
	}
	blocked := mergeIntervals(busy)
	var slots []Slot
	av.eachRange(from, to, func(start, end time.Time) {
		for s := start; !s.Add(t.Duration).After(end); s = s.Add(step) {
			if s.Before(from) || !s.Before(to) {
				continue
			}
			e := s.Add(t.Duration)
			// The first busy interval ending after the slot starts is the only one that can
			// overlap it: they are disjoint and in order.
			i, _ := slices.BinarySearchFunc(blocked, s, func(iv Interval, s time.Time) int {
				if iv.End.After(s) {
					return 1
				}
				return -1
			})
			if i < len(blocked) && blocked[i].Start.Before(e) {
				continue
			}
			slots = append(slots, Slot{Start: s.In(client), End: e.In(client)})
		}
	})
	slices.SortFunc(slots, func(a, b Slot) int { return a.Start.Compare(b.Start) })
	return slots
}

// CheckSlot says why a session of type t cannot be booked at start, ignoring other bookings:
// self-scheduling is off, the start is not one of the slots, too soon or too far ahead.
func (av *Availability) CheckSlot(t SessionType, start, now time.Time) error {
	switch {
	case !av.SelfScheduling:
		return ErrSelfSchedulingOff
	case start.Before(now.Add(av.MinNotice)):
		return ErrSlotTooSoon
	case !start.Before(now.Add(av.Horizon)):
		return ErrSlotBeyondHorizon
	}
	for _, s := range av.FreeSlots(t, start, start.Add(time.Nanosecond), now, nil, time.UTC) {
		if s.Start.Equal(start) {
			return nil
		}
	}
	return ErrSlotUnavailable
}

// eachRange calls f with the instants of every range of weekly hours on the dates between from
// and to (in the professional's zone), skipping days off, in order.
func (av *Availability) eachRange(from, to time.Time, f func(start, end time.Time)) {
	loc := av.Location()
	// A range starting the day before from may still reach into it.
	day := from.In(loc)
	day = time.Date(day.Year(), day.Month(), day.Day()-1, 12, 0, 0, 0, loc)
	last := DateOf(to, loc)
	for ; DateOf(day, loc) <= last; day = time.Date(day.Year(), day.Month(), day.Day()+1, 12, 0, 0, 0, loc) {
		date := DateOf(day, loc)
		if slices.Contains(av.DaysOff, date) {
			continue
		}
		for _, h := range av.Hours {
			if h.Day != day.Weekday() {
				continue
			}
			start, end := wallClock(day, h.Start, loc, true), wallClock(day, h.End, loc, false)
			if start.Before(end) {
				f(start, end)
			}
		}
	}
}

// wallClock is the instant a clock in loc shows minute on day. A time the clock skips (the
// hour lost in spring) is the moment the clock jumps; a time it shows twice (the hour gained
// in autumn) is the first one for a start (the range begins as soon as the clock says so) and
// the second for an end.
func wallClock(day time.Time, minute Minute, loc *time.Location, first bool) time.Time {
	h, m := int(minute)/60, int(minute)%60
	t := time.Date(day.Year(), day.Month(), day.Day(), h, m, 0, 0, loc)
	if h < 24 && (t.Hour() != h || t.Minute() != m) {
		zoneStart, _ := t.ZoneBounds()
		return zoneStart
	}
	if first {
		_, offset := t.Zone()
		zoneStart, _ := t.ZoneBounds()
		if _, before := zoneStart.Add(-time.Second).Zone(); before > offset {
			if alt := t.Add(-time.Duration(before-offset) * time.Second); alt.Hour() == t.Hour() && alt.Minute() == t.Minute() {
				return alt
			}
		}
	}
	return t
}

// mergeIntervals sorts intervals and joins those that overlap or touch.
func mergeIntervals(in []Interval) []Interval {
	out := slices.Clone(in)
	slices.SortFunc(out, func(a, b Interval) int { return a.Start.Compare(b.Start) })
	merged := out[:0]
	for _, iv := range out {
		if n := len(merged); n > 0 && !iv.Start.After(merged[n-1].End) {
			merged[n-1].End = later(merged[n-1].End, iv.End)
			continue
		}
		merged = append(merged, iv)
	}
	return merged
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func earlier(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// Errors of self-scheduling. Their texts are shown to clients.
var (
	// ErrSelfSchedulingOff: the professional takes no bookings online. An unknown professional
	// gets the same answer, so that the portal does not tell who is one.
	ErrSelfSchedulingOff  = errors.New("this professional does not take appointments online")
	ErrSessionTypeUnknown = errors.New("no such type of appointment")
	ErrSlotUnavailable    = errors.New("this time is not one of the professional's free times")
	ErrSlotTooSoon        = errors.New("this time is too soon to book online; please contact the clinic")
	ErrSlotBeyondHorizon  = errors.New("this time is too far ahead to book yet")
	ErrSlotTaken          = errors.New("this time has just been booked by someone else; please choose another")
)
