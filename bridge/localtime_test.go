package bridge_test

import (
	"testing"
	"time"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
)

func TestLocalTimeOf(t *testing.T) {
	paris, _ := time.LoadLocation("Europe/Paris")
	// The day after summer time starts in Paris; New York changed three weeks earlier.
	start := time.Date(2026, 3, 30, 15, 0, 0, 0, paris)
	s := &bridge.Session{Start: start.UTC(), End: start.Add(45 * time.Minute).UTC(), TimeZone: "Europe/Paris"}
	for _, c := range []struct {
		zone, locale string
		want         bridge.LocalTime
	}{
		{"Europe/Paris", "fr", bridge.LocalTime{Date: "lundi 30 mars 2026", Start: "15:00", End: "15:45", Opens: "14:30", Zone: "Europe/Paris", ZoneAbbr: "CEST"}},
		{"America/New_York", "en", bridge.LocalTime{Date: "Monday 30 March 2026", Start: "9:00 AM", End: "9:45 AM", Opens: "8:30 AM", Zone: "America/New_York", ZoneAbbr: "EDT"}},
		// An unknown or empty zone: the session's.
		{"Mars/Olympus", "en", bridge.LocalTime{Date: "Monday 30 March 2026", Start: "3:00 PM", End: "3:45 PM", Opens: "2:30 PM", Zone: "Europe/Paris", ZoneAbbr: "CEST"}},
		{"", "fr", bridge.LocalTime{Date: "lundi 30 mars 2026", Start: "15:00", End: "15:45", Opens: "14:30", Zone: "Europe/Paris", ZoneAbbr: "CEST"}},
	} {
		if got := bridge.LocalTimeOf(s, bridge.DefaultWindow, c.zone, c.locale); got != c.want {
			t.Errorf("LocalTimeOf(%q, %q) = %+v, want %+v", c.zone, c.locale, got, c.want)
		}
	}
}
