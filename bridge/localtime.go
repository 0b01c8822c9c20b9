package bridge

import (
	"fmt"
	"time"
)

// French day and month names: Go's time package writes English only.
var (
	frDays   = []string{"dimanche", "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi"}
	frMonths = []string{"janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre"}
)

// LocalTime is a session's schedule in a person's zone and language.
type LocalTime struct {
	Date     string `json:"date"`
	Start    string `json:"start"`
	End      string `json:"end"`
	Opens    string `json:"opens"`
	Zone     string `json:"zone"`
	ZoneAbbr string `json:"zone_abbr"`
}

// LocalTimeOf writes a session's schedule in a zone and language: French with a 24-hour
// clock, English with AM/PM. The zone's abbreviation is the one in force on the session's day,
// so a session after a daylight-saving change shows the right one. An unknown zone falls back
// to the session's.
func LocalTimeOf(s *Session, w Window, zone, locale string) LocalTime {
	loc, err := time.LoadLocation(zone)
	if err != nil || zone == "" {
		loc, zone = s.Location(), s.TimeZone
	}
	start, end, opens := s.Start.In(loc), s.End.In(loc), s.Opens(w).In(loc)
	clock := func(t time.Time) string { return t.Format("3:04 PM") }
	date := start.Format("Monday 2 January 2006")
	if locale == "fr" {
		clock = func(t time.Time) string { return t.Format("15:04") }
		date = fmt.Sprintf("%s %d %s %d", FrenchDay(start.Weekday()), start.Day(), FrenchMonth(start.Month()), start.Year())
	}
	abbr, _ := start.Zone()
	return LocalTime{Date: date, Start: clock(start), End: clock(end), Opens: clock(opens), Zone: zone, ZoneAbbr: abbr}
}

// FrenchDay is a weekday's name in French, in lower case ("mardi").
func FrenchDay(d time.Weekday) string { return frDays[d] }

// FrenchMonth is a month's name in French, in lower case ("mars").
func FrenchMonth(m time.Month) string { return frMonths[m-1] }
