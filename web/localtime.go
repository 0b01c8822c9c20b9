package web

import (
	"fmt"
	"time"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
)

var (
	frDays   = []string{"dimanche", "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi"}
	frMonths = []string{"janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre"}
)

// localTime writes a session's schedule in a zone and language: French with a 24-hour clock,
// English with AM/PM. The zone's abbreviation is the one in force on the session's day, so a
// session after a daylight-saving change shows the right one.
func localTime(s *bridge.Session, w bridge.Window, zone, locale string) LocalTime {
	loc, err := time.LoadLocation(zone)
	if err != nil {
		loc, zone = s.Location(), s.TimeZone
	}
	start, end, opens := s.Start.In(loc), s.End.In(loc), s.Opens(w).In(loc)
	clock := func(t time.Time) string { return t.Format("3:04 PM") }
	date := start.Format("Monday 2 January 2006")
	if locale == "fr" {
		clock = func(t time.Time) string { return t.Format("15:04") }
		date = fmt.Sprintf("%s %d %s %d", frDays[start.Weekday()], start.Day(), frMonths[start.Month()-1], start.Year())
	}
	abbr, _ := start.Zone()
	return LocalTime{Date: date, Start: clock(start), End: clock(end), Opens: clock(opens), Zone: zone, ZoneAbbr: abbr}
}
