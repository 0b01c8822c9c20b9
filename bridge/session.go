// Package bridge is the session domain: sessions, their participants, the lobby and the rules
// of who may enter when. It knows no transport: Matrix rooms, the SFU, the scheduler and the
// database are reached through the small interfaces declared here, which those packages
// implement. Time comes from a Clock, so tests move it instead of waiting.
package bridge

import (
	"errors"
	"fmt"
	"time"
)

// Status is where a session is in its life.
type Status string

const (
	// StatusScheduled: booked; the lobby is not open yet.
	StatusScheduled Status = "scheduled"
	// StatusOpen: the join window is open; participants may knock and wait in the lobby.
	StatusOpen Status = "open"
	// StatusLive: the clinician has started the session.
	StatusLive Status = "live"
	// StatusEnded: the clinician ended it for all, or its window closed.
	StatusEnded Status = "ended"
	// StatusCancelled: called off before it went live.
	StatusCancelled Status = "cancelled"
)

// Kind is how the session is held.
type Kind string

const (
	KindVideo Kind = "video"
	// KindPhone sessions are audio only; the clinician calls the participant's number.
	KindPhone Kind = "phone"
)

// Policy says who lets a participant in.
type Policy string

const (
	// PolicyManual: the clinician admits each participant.
	PolicyManual Policy = "manual"
	// PolicyAutoAdmit: a participant enters by themselves once the clinician is present, and
	// waits in the lobby until then.
	PolicyAutoAdmit Policy = "auto"
)

// Window is when the lobby of a session is open relative to its schedule.
type Window struct {
	// OpensBefore is how long before the start the lobby opens (30 minutes by default).
	OpensBefore time.Duration
	// ClosesAfter is how long after the end the lobby stays open for late arrivals.
	ClosesAfter time.Duration
}

// DefaultWindow opens the lobby 30 minutes before the start and closes it at the end.
var DefaultWindow = Window{OpensBefore: 30 * time.Minute}

// Session is one scheduled telehealth session: a Matrix room with a lobby.
type Session struct {
	// ID is short, opaque and unique: clinicians type it in commands.
	ID string
	// Clinician is the Matrix user who hosts the session.
	Clinician string
	// Start and End are UTC instants.
	Start, End time.Time
	// TimeZone is the IANA zone the session was booked in.
	TimeZone string
	Kind     Kind
	Status   Status
	Policy   Policy
	// RoomID is the session's Matrix room, once created.
	RoomID string
	// ClinicianPresent is true from when the clinician starts the session until they leave it.
	ClinicianPresent bool
	// Revision counts changes to the schedule (calendar invites use it as SEQUENCE).
	Revision int
	// LobbyMessage is the clinician's latest message to those waiting ("running 5 minutes late").
	LobbyMessage string
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// Errors a caller may want to tell apart. Their texts are shown to clinicians.
var (
	ErrNotFound          = errors.New("no such session")
	ErrNotYourSession    = errors.New("this is not your session")
	ErrParticipantUnkn   = errors.New("no such participant in this session")
	ErrSessionOver       = errors.New("the session is over")
	ErrLobbyClosed       = errors.New("the lobby is not open")
	ErrInvalidSchedule   = errors.New("invalid schedule")
	ErrInvalidTransition = errors.New("not possible now")
)

// Opens is when the lobby opens.
func (s *Session) Opens(w Window) time.Time { return s.Start.Add(-w.OpensBefore) }

// Closes is when the lobby closes.
func (s *Session) Closes(w Window) time.Time { return s.End.Add(w.ClosesAfter) }

// InWindow reports whether now is within the join window: from the opening instant, inclusive,
// to the closing instant, exclusive.
func (s *Session) InWindow(now time.Time, w Window) bool {
	return !now.Before(s.Opens(w)) && now.Before(s.Closes(w))
}

// Over reports whether the session has ended or was cancelled.
func (s *Session) Over() bool { return s.Status == StatusEnded || s.Status == StatusCancelled }

// AcceptsKnocks reports whether a participant may enter the lobby now. A knock at the very
// instant the window opens is accepted even if the window-opening job has not run yet.
func (s *Session) AcceptsKnocks(now time.Time, w Window) bool {
	switch s.Status {
	case StatusOpen, StatusLive:
		return true
	case StatusScheduled:
		return s.InWindow(now, w)
	}
	return false
}

// Location returns the session's booking time zone.
func (s *Session) Location() *time.Location {
	if loc, err := time.LoadLocation(s.TimeZone); err == nil {
		return loc
	}
	return time.UTC
}

// ValidateSchedule checks a start, end and zone for a new or moved session.
func ValidateSchedule(start, end time.Time, zone string, now time.Time) error {
	if _, err := time.LoadLocation(zone); err != nil || zone == "" {
		return fmt.Errorf("%w: %q is not an IANA time zone (e.g. Europe/Paris)", ErrInvalidSchedule, zone)
	}
	if !end.After(start) {
		return fmt.Errorf("%w: the end must be after the start", ErrInvalidSchedule)
	}
	if end.Sub(start) > 12*time.Hour {
		return fmt.Errorf("%w: a session lasts at most 12 hours", ErrInvalidSchedule)
	}
	if !end.After(now) {
		return fmt.Errorf("%w: the session would be over already", ErrInvalidSchedule)
	}
	return nil
}

// OpenWindow records that the join window opened: the lobby accepts knocks.
func (s *Session) OpenWindow(now time.Time) error {
	switch s.Status {
	case StatusScheduled:
		s.Status, s.UpdatedAt = StatusOpen, now
		return nil
	case StatusOpen, StatusLive:
		return nil
	}
	return fmt.Errorf("%w: the session is %s", ErrSessionOver, s.Status)
}

// Begin records that the clinician started the session: it is live and they are present.
func (s *Session) Begin(now time.Time, w Window) error {
	switch {
	case s.Over():
		return fmt.Errorf("%w: the session is %s", ErrSessionOver, s.Status)
	case s.Status == StatusScheduled && !s.InWindow(now, w):
		return fmt.Errorf("%w: it opens at %s", ErrLobbyClosed, s.Opens(w).In(s.Location()).Format("Mon 2 Jan 15:04 MST"))
	}
	s.Status, s.ClinicianPresent, s.UpdatedAt = StatusLive, true, now
	return nil
}

// ClinicianLeft records that the clinician is no longer in the session. The session stays
// live: they may come back, and are never locked out of their own session.
func (s *Session) ClinicianLeft(now time.Time) {
	if s.ClinicianPresent {
		s.ClinicianPresent, s.UpdatedAt = false, now
	}
}

// Finish ends the session for all.
func (s *Session) Finish(now time.Time) error {
	if s.Over() {
		return fmt.Errorf("%w: the session is %s", ErrSessionOver, s.Status)
	}
	s.Status, s.ClinicianPresent, s.UpdatedAt = StatusEnded, false, now
	return nil
}

// Cancel calls off a session that has not gone live.
func (s *Session) Cancel(now time.Time) error {
	switch s.Status {
	case StatusScheduled, StatusOpen:
		s.Status, s.UpdatedAt = StatusCancelled, now
		return nil
	case StatusLive:
		return fmt.Errorf("%w: the session is live; end it instead", ErrInvalidTransition)
	}
	return fmt.Errorf("%w: the session is %s", ErrSessionOver, s.Status)
}

// Reschedule moves a session that has not gone live. The status follows the new window: a
// session moved out of its open window goes back to scheduled (its lobby closes), one moved
// into its window opens.
func (s *Session) Reschedule(start, end time.Time, zone string, now time.Time, w Window) error {
	switch s.Status {
	case StatusLive:
		return fmt.Errorf("%w: the session is live; end it first", ErrInvalidTransition)
	case StatusEnded, StatusCancelled:
		return fmt.Errorf("%w: the session is %s", ErrSessionOver, s.Status)
	}
	if err := ValidateSchedule(start, end, zone, now); err != nil {
		return err
	}
	s.Start, s.End, s.TimeZone = start.UTC(), end.UTC(), zone
	s.Revision++
	s.UpdatedAt = now
	if s.InWindow(now, w) {
		s.Status = StatusOpen
	} else {
		s.Status = StatusScheduled
	}
	return nil
}
