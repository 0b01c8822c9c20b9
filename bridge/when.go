package bridge

import (
	"fmt"
	"strings"
	"time"
)

// ParseWhen reads a date ("2026-11-24", "today", "tomorrow") and a time ("15:00", "3pm",
// "3:30pm") in an IANA zone.
func ParseWhen(date, clock, zone string, now time.Time) (time.Time, error) {
	loc, err := time.LoadLocation(zone)
	if err != nil || zone == "" {
		return time.Time{}, fmt.Errorf("%q is not a time zone such as Europe/Paris", zone)
	}
	var day time.Time
	switch strings.ToLower(date) {
	case "today":
		day = now.In(loc)
	case "tomorrow":
		day = now.In(loc).AddDate(0, 0, 1)
	default:
		if day, err = time.ParseInLocation("2006-01-02", date, loc); err != nil {
			return time.Time{}, fmt.Errorf("%q is not a date such as 2026-11-24", date)
		}
	}
	var hm time.Time
	for _, layout := range []string{"15:04", "3:04pm", "3pm", "15h04", "15h"} {
		if hm, err = time.Parse(layout, strings.ToLower(clock)); err == nil {
			break
		}
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not a time such as 15:00 or 3:00pm", clock)
	}
	return time.Date(day.Year(), day.Month(), day.Day(), hm.Hour(), hm.Minute(), 0, 0, loc), nil
}
