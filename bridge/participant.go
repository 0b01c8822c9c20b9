package bridge

import (
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// LobbyState is where a participant is between booking and the end of the session.
type LobbyState string

const (
	// StateBooked: expected, not (or no longer) asking to enter.
	StateBooked LobbyState = "booked"
	// StateWaiting: knocked; in the waiting room.
	StateWaiting LobbyState = "waiting"
	// StateAdmitted: let in (invited) but not joined yet.
	StateAdmitted LobbyState = "admitted"
	// StateInSession: joined the session room.
	StateInSession LobbyState = "in_session"
	// StateDenied: refused from the waiting room; may knock again.
	StateDenied LobbyState = "denied"
	// StateRemoved: taken out of the session by the clinician; stays out unless let in again.
	StateRemoved LobbyState = "removed"
	// StateLeft: left by themselves, or the session ended.
	StateLeft LobbyState = "left"
)

// InviteMode is how a participant hears about the session.
type InviteMode string

const (
	InviteEmail InviteMode = "email"
	InviteSMS   InviteMode = "sms"
	InviteNone  InviteMode = "none"
)

// Participant is a person booked on a session: a Matrix user, or a web-link guest whom the
// bridge represents with a ghost user.
type Participant struct {
	ID        int64
	SessionID string
	// Number is the participant's position in the session (1, 2, ...), for short commands.
	Number int
	// Name is the display name or initials the clinician booked (2 characters at least).
	Name string
	// MatrixID is the user who knocks for them: their own account or their ghost.
	MatrixID string
	Email    string
	// Phone is E.164 (+33612345678).
	Phone    string
	Locale   string
	TimeZone string
	Invite   InviteMode
	State    LobbyState
	// KnockName is the name they confirmed when they knocked.
	KnockName  string
	AdmittedBy string
	AdmittedAt time.Time
	UpdatedAt  time.Time
	// ClientID is the clinic's record of the person (0 for a booking made without records).
	ClientID int64
}

// DisplayName is the name to show the clinician: the confirmed one once they knocked.
func (p *Participant) DisplayName() string {
	if p.KnockName != "" {
		return p.KnockName
	}
	return p.Name
}

// Active reports whether the participant is in the lobby or in the session.
func (p *Participant) Active() bool {
	return p.State == StateWaiting || p.State == StateAdmitted || p.State == StateInSession
}

// Action is something that happens to a participant: mostly a Matrix membership change.
type Action string

const (
	// ActKnock: asks to enter (a knock).
	ActKnock Action = "knock"
	// ActAdmit: let in (an invite).
	ActAdmit Action = "admit"
	// ActDeny: refused from the waiting room (the knock is kicked).
	ActDeny Action = "deny"
	// ActJoin: entered the room after being let in.
	ActJoin Action = "join"
	// ActRemove: taken out of the session (a kick of a member).
	ActRemove Action = "remove"
	// ActSendBack: taken out, and may knock again to wait once more.
	ActSendBack Action = "send_back"
	// ActLeave: left by themselves, or withdrew their knock, or declined the invite.
	ActLeave Action = "leave"
	// ActBan: removed and banned from the room, for abuse.
	ActBan Action = "ban"
	// ActReset: the lobby closed around them (the session moved): back to booked.
	ActReset Action = "reset"
	// ActEnd: the session ended for all.
	ActEnd Action = "end"
)

// transitions is the lobby's state machine: the state each action leads to from each state.
// A missing entry means the action is not possible from that state.
var transitions = map[LobbyState]map[Action]LobbyState{
	StateBooked: {
		ActKnock: StateWaiting, ActAdmit: StateAdmitted, ActLeave: StateBooked,
		ActBan: StateRemoved, ActReset: StateBooked, ActEnd: StateBooked,
	},
	StateWaiting: {
		ActKnock: StateWaiting, ActAdmit: StateAdmitted, ActDeny: StateDenied, ActLeave: StateLeft,
		ActRemove: StateDenied, ActBan: StateRemoved, ActReset: StateBooked, ActEnd: StateLeft,
	},
	StateAdmitted: {
		ActAdmit: StateAdmitted, ActJoin: StateInSession, ActDeny: StateDenied, ActRemove: StateRemoved,
		ActSendBack: StateBooked, ActLeave: StateLeft, ActBan: StateRemoved, ActReset: StateBooked, ActEnd: StateLeft,
	},
	StateInSession: {
		// A reconnect is a join while joined: they stay in, no second knock.
		ActAdmit: StateInSession, ActJoin: StateInSession, ActRemove: StateRemoved, ActSendBack: StateBooked,
		ActLeave: StateLeft, ActBan: StateRemoved, ActReset: StateBooked, ActEnd: StateLeft,
	},
	StateDenied: {
		ActKnock: StateWaiting, ActAdmit: StateAdmitted, ActDeny: StateDenied, ActLeave: StateDenied,
		ActBan: StateRemoved, ActReset: StateBooked, ActEnd: StateDenied,
	},
	StateRemoved: {
		// A removed participant's knock is declined by the bridge (Knock below); the clinician
		// may still let them back in.
		ActAdmit: StateAdmitted, ActRemove: StateRemoved, ActLeave: StateRemoved, ActBan: StateRemoved,
		ActDeny: StateRemoved, ActEnd: StateRemoved,
	},
	StateLeft: {
		ActKnock: StateWaiting, ActAdmit: StateAdmitted, ActLeave: StateLeft, ActDeny: StateLeft,
		ActBan: StateRemoved, ActReset: StateLeft, ActEnd: StateLeft,
	},
}

// Apply moves the participant through the lobby. It reports whether the state changed; an
// action that is not possible from the current state is an error and changes nothing.
// Knocking also needs the session's window to be open.
func (p *Participant) Apply(a Action, s *Session, now time.Time, w Window) (bool, error) {
	if a == ActKnock {
		switch {
		case s.Over():
			return false, fmt.Errorf("%w: the session is %s", ErrSessionOver, s.Status)
		case !s.AcceptsKnocks(now, w):
			return false, fmt.Errorf("%w: it opens at %s", ErrLobbyClosed, s.Opens(w).In(s.Location()).Format("15:04 MST"))
		case p.State == StateRemoved:
			return false, fmt.Errorf("%w: %s was removed from this session", ErrInvalidTransition, p.DisplayName())
		}
	}
	if (a == ActAdmit || a == ActJoin) && s.Over() {
		return false, fmt.Errorf("%w: the session is %s", ErrSessionOver, s.Status)
	}
	next, ok := transitions[p.State][a]
	if !ok {
		return false, fmt.Errorf("%w: cannot %s a participant who is %s", ErrInvalidTransition, strings.ReplaceAll(string(a), "_", " "), p.State)
	}
	if next == p.State {
		return false, nil
	}
	p.State, p.UpdatedAt = next, now
	return true, nil
}

// ValidateName checks a participant's name or initials: 2 characters at least, 64 at most,
// and nothing invisible. It returns the name with its spaces collapsed.
func ValidateName(name string) (string, error) {
	if err := visibleText(name); err != nil {
		return "", err
	}
	name = strings.Join(strings.Fields(name), " ")
	n := utf8.RuneCountInString(name)
	if n < 2 {
		return "", fmt.Errorf("the name or initials must have at least 2 characters")
	}
	if n > 64 {
		return "", fmt.Errorf("the name must have at most 64 characters")
	}
	return name, nil
}

// visibleText refuses characters that show nothing, or change how the text around them shows,
// in Element, the panel, e-mails and calendar invites: control characters (Cc) other than the
// spaces that are collapsed anyway, format characters (Cf: bidi overrides and isolates,
// zero-width characters, tags), private use (Co), unassigned code points (Cn) and line and
// paragraph separators (Zl, Zp). A name holding one could pass for another's. The code point
// is named so that the person can find it.
func visibleText(name string) error {
	if !utf8.ValidString(name) {
		return fmt.Errorf("the name is not valid text (UTF-8)")
	}
	for _, r := range name {
		switch {
		case r == '\t' || r == '\n' || r == '\r':
		case unicode.Is(unicode.Cc, r):
			return fmt.Errorf("the name contains a control character U+%04X", r)
		case unicode.In(r, unicode.Cf, unicode.Co, unicode.Zl, unicode.Zp),
			!unicode.In(r, unicode.L, unicode.M, unicode.N, unicode.P, unicode.S, unicode.Z): // unassigned (Cn)
			return fmt.Errorf("the name contains an invisible character U+%04X", r)
		}
	}
	return nil
}
