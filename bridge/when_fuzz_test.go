package bridge

import (
	"strings"
	"testing"
	"time"
)

// ParseWhen reads what a clinician typed; whatever it is, the answer is an error naming the
// bad part, or a time on the minute in the zone asked for, within a day of the date given.
func FuzzParseWhen(f *testing.F) {
	for _, seed := range [][3]string{
		{"2026-11-24", "15:00", "Europe/Paris"}, {"today", "3pm", "UTC"}, {"TOMORROW", "3:30PM", "America/New_York"},
		{"2026-03-29", "02:30", "Europe/Paris"}, {"2026-02-30", "10:00", "UTC"}, {"2026-11-24", "25:00", "UTC"},
		{"2026-11-24", "15h", "Local"}, {"2026-11-24", "15:00", ""}, {"2026-11-24", "15:00", "../../etc/passwd"},
		{"2026-11-24", "15:00", "Mars/Base"}, {"99999-01-01", "00:00", "UTC"},
	} {
		f.Add(seed[0], seed[1], seed[2])
	}
	now := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, date, clock, zone string) {
		got, err := ParseWhen(date, clock, zone, now)
		if err != nil {
			if !strings.Contains(err.Error(), "is not a") {
				t.Fatalf("error %q does not say what is wrong", err)
			}
			return
		}
		if got.Location().String() != zone || got.Second() != 0 || got.Nanosecond() != 0 {
			t.Fatalf("ParseWhen(%q, %q, %q) = %s", date, clock, zone, got)
		}
		day := now
		switch strings.ToLower(date) {
		case "today":
		case "tomorrow":
			day = now.AddDate(0, 0, 1)
		default:
			if day, err = time.Parse("2006-01-02", date); err != nil {
				t.Fatalf("date %q accepted but not a date", date)
			}
		}
		if d := got.Sub(day); d < -48*time.Hour || d > 48*time.Hour {
			t.Fatalf("ParseWhen(%q, %q, %q) = %s, far from the date", date, clock, zone, got)
		}
	})
}
