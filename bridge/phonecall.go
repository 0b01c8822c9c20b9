package bridge

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

// A telephone session's call is placed by the bridge in two legs: it rings the clinician's own
// phone first and, once they answer and accept, calls the client, with the clinic's number as
// caller ID on both, so that neither sees the other's personal number. A CallAttempt is one
// try; the session keeps its latest.

// CallState is where a call attempt is.
type CallState string

const (
	// CallRingingClinician: the clinician's own phone is ringing.
	CallRingingClinician CallState = "ringing_clinician"
	// CallClinicianAnswered: the clinician answered; the bridge waits for them to accept.
	CallClinicianAnswered CallState = "clinician_answered"
	// CallRingingClient: the clinician accepted; the client's phone is ringing.
	CallRingingClient CallState = "ringing_client"
	// CallConnected: both are on the line; the session is live.
	CallConnected CallState = "connected"
	// CallEnded: the call was connected and one of them hung up; the session ended.
	CallEnded CallState = "ended"
	// CallFailed: the call did not connect; Problem says why.
	CallFailed CallState = "failed"
)

// CallLeg is which of the two phones a provider's report is about.
type CallLeg string

const (
	LegClinician CallLeg = "clinician"
	LegClient    CallLeg = "client"
)

// CallStatus is what a telephone provider reports about one leg.
type CallStatus string

const (
	CallStatusRinging   CallStatus = "ringing"
	CallStatusAnswered  CallStatus = "answered"
	CallStatusBusy      CallStatus = "busy"
	CallStatusNoAnswer  CallStatus = "no_answer"
	CallStatusUnreached CallStatus = "failed" // invalid or unreachable number, refused by the network
	CallStatusCancelled CallStatus = "cancelled"
	CallStatusCompleted CallStatus = "completed"
)

// CallAttempt is one try at connecting a telephone session's clinician and client.
type CallAttempt struct {
	// ID is random and opaque: the provider's callbacks name the attempt with it.
	ID          string
	SessionID   string
	Participant int
	// Clinician is who placed the call, and whose phone rings first.
	Clinician string
	// ProviderID is the provider's ID of the call to the clinician (Twilio's CallSid).
	ProviderID string
	State      CallState
	// Problem says in words why the attempt failed, for the clinician; ProblemCode names it for
	// pages that say it in another language: "<leg>_<status>" (client_busy,
	// clinician_no_answer, clinician_completed...) or "not_placed".
	Problem     string
	ProblemCode string
	StartedAt   time.Time
	UpdatedAt   time.Time
}

// Errors of placing a call that the caller may tell apart.
var (
	ErrNotTelephone   = errors.New("this is not a telephone session")
	ErrNoPhoneOnFile  = errors.New("you have no phone on file: ask the clinic's administrator to add yours to telephone.clinicians")
	ErrCallInProgress = errors.New("a call is already in progress for this session")
	ErrCallNotPlaced  = errors.New("the call could not be placed")
	ErrCallsOff       = errors.New("this bridge cannot place calls (see the warning in its log at start): call the client from your phone")
)

// NewCallAttempt starts an attempt for a participant of a session.
func NewCallAttempt(s *Session, p *Participant, clinician string, now time.Time) *CallAttempt {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return &CallAttempt{ID: hex.EncodeToString(b), SessionID: s.ID, Participant: p.Number, Clinician: clinician,
		State: CallRingingClinician, StartedAt: now, UpdatedAt: now}
}

// Active reports whether the attempt may still connect or is connected.
func (a *CallAttempt) Active() bool { return a.State != CallEnded && a.State != CallFailed }

// Accept records that the clinician accepted to be connected to the client. It reports false
// when the attempt is no longer waiting for that (a replayed or late request).
func (a *CallAttempt) Accept(now time.Time) bool {
	if a.State != CallClinicianAnswered && a.State != CallRingingClinician {
		return false
	}
	a.State, a.UpdatedAt = CallRingingClient, now
	return true
}

// Apply moves the attempt with a provider's report on one leg and reports whether it changed.
// Reports that arrive late or twice change nothing.
func (a *CallAttempt) Apply(leg CallLeg, st CallStatus, now time.Time) bool {
	if !a.Active() {
		return false
	}
	before := a.State
	switch {
	case st == CallStatusRinging:
	case leg == LegClinician && st == CallStatusAnswered:
		if a.State == CallRingingClinician {
			a.State = CallClinicianAnswered
		}
	case leg == LegClient && st == CallStatusAnswered:
		a.State = CallConnected
	case st == CallStatusCompleted && a.State == CallConnected:
		a.State = CallEnded
	case st == CallStatusCompleted && leg == LegClinician:
		// The clinician's line ended before the client was on it.
		a.State, a.Problem = CallFailed, "The call ended before your client answered (you hung up, or did not press 1)."
	case st == CallStatusCompleted:
		// The client's leg completed without having answered: the clinician's report follows.
	default:
		a.State, a.Problem = CallFailed, callProblem(leg, st)
	}
	if a.State == before {
		return false
	}
	if a.State == CallFailed {
		a.ProblemCode = string(leg) + "_" + string(st)
	}
	a.UpdatedAt = now
	return true
}

// callProblem says in words why a leg did not connect.
func callProblem(leg CallLeg, st CallStatus) string {
	whose := "Your phone"
	if leg == LegClient {
		whose = "Your client's phone"
	}
	switch st {
	case CallStatusBusy:
		return whose + " was busy."
	case CallStatusNoAnswer:
		if leg == LegClient {
			return "Your client did not answer."
		}
		return "Your phone did not answer."
	case CallStatusCancelled:
		return "The call was cancelled."
	}
	if leg == LegClient {
		return "Your client's number could not be called: check it on the booking."
	}
	return "Your phone could not be called: check your number in telephone.clinicians."
}

// Words describes the attempt for the clinician.
func (a *CallAttempt) Words() string {
	switch a.State {
	case CallRingingClinician:
		return "Calling your phone…"
	case CallClinicianAnswered:
		return "You answered: press 1 to call your client."
	case CallRingingClient:
		return "Calling your client…"
	case CallConnected:
		return "You are on the line with your client."
	case CallEnded:
		return "The call has ended."
	}
	return fmt.Sprintf("The call did not go through. %s", a.Problem)
}

// Texter sends a clinician's own text message to a participant by SMS, through the outbox.
type Texter interface {
	QueueText(ctx context.Context, s *Session, p *Participant, body string) error
}

// MaxTextLength bounds a clinician's text message: two SMS segments' worth, a note, not a letter.
const MaxTextLength = 300

// TextReminder is shown wherever a clinician writes a text message to a client.
const TextReminder = "Text messages are not private: write no health details, diagnosis, reason for the visit or full name."
