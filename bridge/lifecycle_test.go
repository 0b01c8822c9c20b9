package bridge

import (
	"errors"
	"testing"
	"time"
)

var (
	paris = "Europe/Paris"
	t0    = time.Date(2026, 11, 24, 14, 0, 0, 0, time.UTC) // 15:00 in Paris
)

func session(status Status) *Session {
	return &Session{ID: "abc234", Clinician: "@dr:hs", Start: t0, End: t0.Add(50 * time.Minute), TimeZone: paris, Status: status, Policy: PolicyManual}
}

func TestLobbyTransitions(t *testing.T) {
	opens := t0.Add(-30 * time.Minute)
	cases := []struct {
		name    string
		status  Status
		from    LobbyState
		action  Action
		now     time.Time
		want    LobbyState
		changed bool
		err     error
	}{
		{"knock at the instant the window opens", StatusScheduled, StateBooked, ActKnock, opens, StateWaiting, true, nil},
		{"knock a nanosecond early", StatusScheduled, StateBooked, ActKnock, opens.Add(-time.Nanosecond), StateBooked, false, ErrLobbyClosed},
		{"knock in an open lobby", StatusOpen, StateBooked, ActKnock, t0, StateWaiting, true, nil},
		{"knock during a live session", StatusLive, StateBooked, ActKnock, t0.Add(10 * time.Minute), StateWaiting, true, nil},
		{"knock again while waiting", StatusOpen, StateWaiting, ActKnock, t0, StateWaiting, false, nil},
		{"knock after the window closed", StatusScheduled, StateBooked, ActKnock, t0.Add(50 * time.Minute), StateBooked, false, ErrLobbyClosed},
		{"knock on an ended session", StatusEnded, StateBooked, ActKnock, t0, StateBooked, false, ErrSessionOver},
		{"knock on a cancelled session", StatusCancelled, StateWaiting, ActKnock, t0, StateWaiting, false, ErrSessionOver},
		{"admit from the waiting room", StatusOpen, StateWaiting, ActAdmit, t0, StateAdmitted, true, nil},
		{"admitted participant joins", StatusLive, StateAdmitted, ActJoin, t0, StateInSession, true, nil},
		{"admitted participant reconnects: no second knock", StatusLive, StateInSession, ActJoin, t0, StateInSession, false, nil},
		{"a knock cannot follow an admission", StatusLive, StateInSession, ActKnock, t0, StateInSession, false, ErrInvalidTransition},
		{"deny a knock", StatusOpen, StateWaiting, ActDeny, t0, StateDenied, true, nil},
		{"denied participant knocks again", StatusOpen, StateDenied, ActKnock, t0, StateWaiting, true, nil},
		{"remove a member", StatusLive, StateInSession, ActRemove, t0, StateRemoved, true, nil},
		{"removed participant cannot knock back in", StatusLive, StateRemoved, ActKnock, t0, StateRemoved, false, ErrInvalidTransition},
		{"clinician lets a removed participant back", StatusLive, StateRemoved, ActAdmit, t0, StateAdmitted, true, nil},
		{"send back to the waiting room", StatusLive, StateInSession, ActSendBack, t0, StateBooked, true, nil},
		{"sent back participant knocks again", StatusLive, StateBooked, ActKnock, t0, StateWaiting, true, nil},
		{"withdraw a knock", StatusOpen, StateWaiting, ActLeave, t0, StateLeft, true, nil},
		{"leave the call", StatusLive, StateInSession, ActLeave, t0, StateLeft, true, nil},
		{"come back after leaving", StatusLive, StateLeft, ActKnock, t0, StateWaiting, true, nil},
		{"ban", StatusLive, StateWaiting, ActBan, t0, StateRemoved, true, nil},
		{"join without being let in", StatusOpen, StateWaiting, ActJoin, t0, StateWaiting, false, ErrInvalidTransition},
		{"deny someone not waiting", StatusOpen, StateBooked, ActDeny, t0, StateBooked, false, ErrInvalidTransition},
		{"admit after the end", StatusEnded, StateWaiting, ActAdmit, t0, StateWaiting, false, ErrSessionOver},
		{"lobby closes around a waiting participant", StatusOpen, StateWaiting, ActReset, t0, StateBooked, true, nil},
		{"session ends with the participant in", StatusLive, StateInSession, ActEnd, t0, StateLeft, true, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := &Participant{Name: "JD", State: tc.from}
			changed, err := p.Apply(tc.action, session(tc.status), tc.now, DefaultWindow)
			if !errors.Is(err, tc.err) || (tc.err == nil && err != nil) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if p.State != tc.want || changed != tc.changed {
				t.Errorf("state %s changed=%v, want %s changed=%v", p.State, changed, tc.want, tc.changed)
			}
		})
	}
}

func TestEveryStateHasAnExit(t *testing.T) {
	// Each state can be reached and left: a participant is never stuck.
	for state, actions := range transitions {
		if len(actions) == 0 {
			t.Errorf("%s has no transitions", state)
		}
		if _, ok := actions[ActEnd]; !ok {
			t.Errorf("%s cannot follow the end of the session", state)
		}
	}
}

func TestSessionTransitions(t *testing.T) {
	w := DefaultWindow
	cases := []struct {
		name   string
		status Status
		do     func(s *Session) error
		want   Status
		err    error
	}{
		{"window opens", StatusScheduled, func(s *Session) error { return s.OpenWindow(t0) }, StatusOpen, nil},
		{"window opens twice", StatusOpen, func(s *Session) error { return s.OpenWindow(t0) }, StatusOpen, nil},
		{"window cannot reopen an ended session", StatusEnded, func(s *Session) error { return s.OpenWindow(t0) }, StatusEnded, ErrSessionOver},
		{"clinician starts in the window", StatusOpen, func(s *Session) error { return s.Begin(t0.Add(-5*time.Minute), w) }, StatusLive, nil},
		{"clinician starts when the window opens, before the job ran", StatusScheduled, func(s *Session) error { return s.Begin(t0.Add(-30*time.Minute), w) }, StatusLive, nil},
		{"clinician cannot start a day early", StatusScheduled, func(s *Session) error { return s.Begin(t0.Add(-24*time.Hour), w) }, StatusScheduled, ErrLobbyClosed},
		{"end for all", StatusLive, func(s *Session) error { return s.Finish(t0) }, StatusEnded, nil},
		{"end twice", StatusEnded, func(s *Session) error { return s.Finish(t0) }, StatusEnded, ErrSessionOver},
		{"cancel while someone waits", StatusOpen, func(s *Session) error { return s.Cancel(t0) }, StatusCancelled, nil},
		{"cannot cancel a live session", StatusLive, func(s *Session) error { return s.Cancel(t0) }, StatusLive, ErrInvalidTransition},
		{"reschedule an open session out of its window", StatusOpen, func(s *Session) error {
			return s.Reschedule(t0.Add(24*time.Hour), t0.Add(25*time.Hour), paris, t0.Add(-10*time.Minute), w)
		}, StatusScheduled, nil},
		{"reschedule an open session within its window", StatusOpen, func(s *Session) error {
			return s.Reschedule(t0.Add(10*time.Minute), t0.Add(60*time.Minute), paris, t0.Add(-10*time.Minute), w)
		}, StatusOpen, nil},
		{"reschedule a scheduled session into its window", StatusScheduled, func(s *Session) error {
			return s.Reschedule(t0.Add(-2*time.Hour+20*time.Minute), t0, paris, t0.Add(-2*time.Hour), w)
		}, StatusOpen, nil},
		{"cannot reschedule a live session", StatusLive, func(s *Session) error {
			return s.Reschedule(t0.Add(time.Hour), t0.Add(2*time.Hour), paris, t0, w)
		}, StatusLive, ErrInvalidTransition},
		{"cannot reschedule into the past", StatusScheduled, func(s *Session) error {
			return s.Reschedule(t0.Add(-3*time.Hour), t0.Add(-2*time.Hour), paris, t0, w)
		}, StatusScheduled, ErrInvalidSchedule},
		{"cannot reschedule to an unknown zone", StatusScheduled, func(s *Session) error {
			return s.Reschedule(t0.Add(time.Hour), t0.Add(2*time.Hour), "Mars/Olympus", t0, w)
		}, StatusScheduled, ErrInvalidSchedule},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := session(tc.status)
			err := tc.do(s)
			if !errors.Is(err, tc.err) || (tc.err == nil && err != nil) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if s.Status != tc.want {
				t.Errorf("status %s, want %s", s.Status, tc.want)
			}
		})
	}
}

func TestClinicianLeavingKeepsSessionLive(t *testing.T) {
	s := session(StatusOpen)
	if err := s.Begin(t0, DefaultWindow); err != nil {
		t.Fatal(err)
	}
	s.ClinicianLeft(t0.Add(time.Minute))
	if s.Status != StatusLive || s.ClinicianPresent {
		t.Fatalf("after leaving: status %s present %v", s.Status, s.ClinicianPresent)
	}
	if err := s.Begin(t0.Add(2*time.Minute), DefaultWindow); err != nil || !s.ClinicianPresent {
		t.Fatalf("coming back: err %v present %v", err, s.ClinicianPresent)
	}
}

func TestReschedulingRaisesRevision(t *testing.T) {
	s := session(StatusScheduled)
	for i := 1; i <= 2; i++ {
		if err := s.Reschedule(t0.Add(time.Duration(i)*time.Hour), t0.Add(time.Duration(i)*time.Hour+time.Minute*30), paris, t0.Add(-48*time.Hour), DefaultWindow); err != nil {
			t.Fatal(err)
		}
		if s.Revision != i {
			t.Errorf("revision %d after %d changes", s.Revision, i)
		}
	}
}

func TestValidateName(t *testing.T) {
	for name, ok := range map[string]bool{"JD": true, " J  D ": true, "J": false, "": false, "é": false, "Élodie": true,
		"<img src=x onerror=alert(1)>": true, "a\x07b": false} {
		_, err := ValidateName(name)
		if (err == nil) != ok {
			t.Errorf("ValidateName(%q) err=%v, want ok=%v", name, err, ok)
		}
	}
}

func TestNewParticipantContacts(t *testing.T) {
	cases := []struct {
		req  ParticipantRequest
		ok   bool
		want string
	}{
		{ParticipantRequest{Name: "JD", Invite: InviteEmail, Email: "jd@example.org"}, true, ""},
		{ParticipantRequest{Name: "JD", Invite: InviteEmail}, false, ""},
		{ParticipantRequest{Name: "JD", Invite: InviteEmail, Email: "not-an-email"}, false, ""},
		{ParticipantRequest{Name: "JD", Invite: InviteSMS, Phone: "+33 6 12 34 56 78"}, true, "+33612345678"},
		{ParticipantRequest{Name: "JD", Invite: InviteSMS, Phone: "+1 212 555 0100"}, true, "+12125550100"},
		{ParticipantRequest{Name: "JD", Invite: InviteSMS, Phone: "12345"}, false, ""},
		{ParticipantRequest{Name: "JD", Invite: InviteSMS}, false, ""},
		{ParticipantRequest{Name: "JD", Invite: "pigeon"}, false, ""},
		{ParticipantRequest{Name: "JD", Locale: "de"}, false, ""},
		{ParticipantRequest{Name: "JD", TimeZone: "Nowhere/City"}, false, ""},
		{ParticipantRequest{Name: "JD", MatrixID: "bob"}, false, ""},
		{ParticipantRequest{Name: "J", Invite: InviteNone}, false, ""},
	}
	for _, tc := range cases {
		p, err := NewParticipant(tc.req, paris)
		if (err == nil) != tc.ok {
			t.Errorf("%+v: err=%v, want ok=%v", tc.req, err, tc.ok)
			continue
		}
		if err == nil && tc.want != "" && p.Phone != tc.want {
			t.Errorf("phone %q, want %q", p.Phone, tc.want)
		}
		if err == nil && p.TimeZone != paris {
			t.Errorf("zone %q, want the session's", p.TimeZone)
		}
	}
}

func TestFindParticipant(t *testing.T) {
	ps := []*Participant{
		{Number: 1, Name: "Jane Doe", MatrixID: "@jane:hs", State: StateWaiting},
		{Number: 2, Name: "John Roe", KnockName: "Johnny", State: StateBooked},
		{Number: 3, Name: "Jo", State: StateBooked},
	}
	for ref, want := range map[string]int{"": 1, "2": 2, "#3": 3, "@jane:hs": 1, "johnny": 2, "jane": 1} {
		p, err := FindParticipant(ps, ref)
		if err != nil || p.Number != want {
			t.Errorf("FindParticipant(%q) = %v, %v; want %d", ref, p, err, want)
		}
	}
	for _, ref := range []string{"9", "jo", "zed"} {
		if _, err := FindParticipant(ps, ref); !errors.Is(err, ErrParticipantUnkn) {
			t.Errorf("FindParticipant(%q) err=%v", ref, err)
		}
	}
}
