package web

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
)

// The clinician's own availability on the panel: GET /api/panel/availability and PUT it back.
// There is no clinician in the address or the body: a clinician reads and changes only their
// own, so another clinician's is out of reach by construction.

// AvailabilityForm is a professional's availability as the panel edits it.
type AvailabilityForm struct {
	TimeZone         string            `json:"time_zone"`
	SelfScheduling   bool              `json:"self_scheduling"`
	MinNoticeMinutes int               `json:"min_notice_minutes"`
	HorizonDays      int               `json:"horizon_days"`
	SlotStepMinutes  int               `json:"slot_step_minutes"`
	Hours            []HoursForm       `json:"hours"`
	Types            []SessionTypeForm `json:"types"`
	DaysOff          []string          `json:"days_off"`
}

// HoursForm is one range of weekly hours: {"day": "monday", "start": "09:00", "end": "12:00"}.
type HoursForm struct {
	Day   string `json:"day"`
	Start string `json:"start"`
	End   string `json:"end"`
}

// SessionTypeForm is a kind of appointment; a new one has no ID.
type SessionTypeForm struct {
	ID              int64  `json:"id,omitempty"`
	Name            string `json:"name"`
	DurationMinutes int    `json:"duration_minutes"`
	Kind            string `json:"kind"`
}

var weekdayNames = []string{"sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"}

func availabilityForm(av *bridge.Availability) AvailabilityForm {
	f := AvailabilityForm{
		TimeZone: av.TimeZone, SelfScheduling: av.SelfScheduling, MinNoticeMinutes: int(av.MinNotice / time.Minute),
		HorizonDays: int(av.Horizon / (24 * time.Hour)), SlotStepMinutes: int(av.SlotStep / time.Minute),
		Hours: []HoursForm{}, Types: []SessionTypeForm{}, DaysOff: []string{},
	}
	for _, h := range av.Hours {
		f.Hours = append(f.Hours, HoursForm{Day: weekdayNames[h.Day], Start: h.Start.String(), End: h.End.String()})
	}
	for _, t := range av.Types {
		f.Types = append(f.Types, SessionTypeForm{ID: t.ID, Name: t.Name, DurationMinutes: int(t.Duration / time.Minute), Kind: string(t.Kind)})
	}
	for _, d := range av.DaysOff {
		f.DaysOff = append(f.DaysOff, string(d))
	}
	return f
}

// availability reads the form; a field that does not parse is a field error.
func (f *AvailabilityForm) availability() (*bridge.Availability, error) {
	av := &bridge.Availability{
		TimeZone: strings.TrimSpace(f.TimeZone), SelfScheduling: f.SelfScheduling,
		MinNotice: time.Duration(f.MinNoticeMinutes) * time.Minute, Horizon: time.Duration(f.HorizonDays) * 24 * time.Hour,
		SlotStep: time.Duration(f.SlotStepMinutes) * time.Minute,
	}
	for i, h := range f.Hours {
		day := -1
		for d, name := range weekdayNames {
			if strings.EqualFold(strings.TrimSpace(h.Day), name) {
				day = d
			}
		}
		if day < 0 {
			return nil, fieldError(fmt.Sprintf("hours[%d].day", i), "the day must be monday to sunday")
		}
		start, err := bridge.ParseMinute(strings.TrimSpace(h.Start))
		if err != nil {
			return nil, fieldError(fmt.Sprintf("hours[%d].start", i), err.Error())
		}
		end, err := bridge.ParseMinute(strings.TrimSpace(h.End))
		if err != nil {
			return nil, fieldError(fmt.Sprintf("hours[%d].end", i), err.Error())
		}
		av.Hours = append(av.Hours, bridge.WeeklyHours{Day: time.Weekday(day), Start: start, End: end})
	}
	for _, t := range f.Types {
		av.Types = append(av.Types, bridge.SessionType{ID: t.ID, Name: t.Name, Duration: time.Duration(t.DurationMinutes) * time.Minute, Kind: bridge.Kind(t.Kind)})
	}
	for _, d := range f.DaysOff {
		av.DaysOff = append(av.DaysOff, bridge.Date(strings.TrimSpace(d)))
	}
	return av, nil
}

// defaultAvailabilityZone is the zone of an availability not published yet; the panel asks.
const defaultAvailabilityZone = "UTC"

// panelAvailability is the signed-in clinician's own availability.
func (srv *Server) panelAvailability(r *http.Request, clinician string) (any, error) {
	av, err := srv.svc.Availability(r.Context(), clinician, defaultAvailabilityZone)
	if err != nil {
		return nil, err
	}
	return availabilityForm(av), nil
}

// panelSetAvailability replaces the signed-in clinician's availability; problems name their
// field. A session type ID that is not one of theirs is refused like a mistyped one.
func (srv *Server) panelSetAvailability(r *http.Request, clinician string) (any, error) {
	var f AvailabilityForm
	if err := decode(r, &f); err != nil {
		return nil, err
	}
	av, err := f.availability()
	if err != nil {
		return nil, err
	}
	current, err := srv.svc.Availability(r.Context(), clinician, defaultAvailabilityZone)
	if err != nil {
		return nil, err
	}
	for i, t := range av.Types {
		if _, err := current.Type(t.ID); t.ID != 0 && err != nil {
			return nil, fieldError(fmt.Sprintf("types[%d].id", i), "there is no such session type; leave the ID out for a new one")
		}
	}
	var fe *bridge.AvailabilityError
	switch err = srv.svc.SetAvailability(r.Context(), clinician, av); {
	case errors.As(err, &fe):
		return nil, fieldError(fe.Field, fe.Reason)
	case errors.Is(err, bridge.ErrSessionTypeUnknown):
		return nil, fieldError("types", "there is no such session type; leave the ID out for a new one")
	case err != nil:
		return nil, err
	}
	return availabilityForm(av), nil
}
