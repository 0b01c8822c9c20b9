package appservice

import (
	"maunium.net/go/mautrix/event"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
)

// The bridge's own event types, documented for integrators in docs/events.md.
var (
	// SessionEventType is a state event (state key "") holding a session's schedule and status.
	// Only the bot writes it; the clinician may change it to reschedule or cancel; anyone else's
	// change is rolled back.
	SessionEventType = event.Type{Type: "org.telehealthbridge.session", Class: event.StateEventType}
	// LifecycleEventType is a timeline event the bot posts on every step of a session's life.
	LifecycleEventType = event.Type{Type: "org.telehealthbridge.lifecycle", Class: event.MessageEventType}
	// CommandEventType is a timeline event an integrator sends to act on a session.
	CommandEventType = event.Type{Type: "org.telehealthbridge.command", Class: event.MessageEventType}
	// ResultEventType answers a command event.
	ResultEventType = event.Type{Type: "org.telehealthbridge.result", Class: event.MessageEventType}
)

// SessionContent is the content of SessionEventType.
type SessionContent struct {
	SessionID string `json:"session_id"`
	Clinician string `json:"clinician"`
	// Start and End are Unix milliseconds, UTC.
	Start    int64  `json:"start"`
	End      int64  `json:"end"`
	TimeZone string `json:"time_zone"`
	Kind     string `json:"kind"`
	Status   string `json:"status"`
	Policy   string `json:"admission"`
	// LobbyOpens and LobbyCloses bound the join window, Unix milliseconds.
	LobbyOpens       int64 `json:"lobby_opens"`
	LobbyCloses      int64 `json:"lobby_closes"`
	ClinicianPresent bool  `json:"clinician_present"`
	Revision         int   `json:"revision"`
}

func sessionContent(s *bridge.Session, w bridge.Window) *SessionContent {
	return &SessionContent{
		SessionID: s.ID, Clinician: s.Clinician,
		Start: s.Start.UnixMilli(), End: s.End.UnixMilli(), TimeZone: s.TimeZone,
		Kind: string(s.Kind), Status: string(s.Status), Policy: string(s.Policy),
		LobbyOpens: s.Opens(w).UnixMilli(), LobbyCloses: s.Closes(w).UnixMilli(),
		ClinicianPresent: s.ClinicianPresent, Revision: s.Revision,
	}
}

// LifecycleContent is the content of LifecycleEventType.
type LifecycleContent struct {
	SessionID   string              `json:"session_id"`
	Action      string              `json:"action"`
	Status      string              `json:"status"`
	Participant *ParticipantContent `json:"participant,omitempty"`
	Actor       string              `json:"actor,omitempty"`
	Reason      string              `json:"reason,omitempty"`
	// At is Unix milliseconds.
	At int64 `json:"at"`
}

// ParticipantContent describes a participant in lifecycle events.
type ParticipantContent struct {
	Number int    `json:"number"`
	Name   string `json:"name"`
	UserID string `json:"user_id,omitempty"`
	State  string `json:"state"`
}

func participantContent(p *bridge.Participant) *ParticipantContent {
	if p == nil {
		return nil
	}
	return &ParticipantContent{Number: p.Number, Name: p.DisplayName(), UserID: p.MatrixID, State: string(p.State)}
}

// CommandContent is the content of CommandEventType.
type CommandContent struct {
	// Action is one of: schedule, reschedule, cancel, start, admit, admit_anyway, admit_all,
	// deny, remove, send_back, ban, end, message, mark_paid, waive.
	Action string `json:"action"`
	// Session is the session's ID; in a session's room it may be left out.
	Session string `json:"session,omitempty"`
	// Participant is a number, a user ID or the start of a name.
	Participant string `json:"participant,omitempty"`
	// Text is the message for "message".
	Text string `json:"text,omitempty"`
	// Reference is the clinic's own reference of a payment (an invoice number), for mark_paid.
	Reference string `json:"reference,omitempty"`
	// Start and End (RFC 3339) and TimeZone are for schedule and reschedule.
	Start    string `json:"start,omitempty"`
	End      string `json:"end,omitempty"`
	TimeZone string `json:"time_zone,omitempty"`
	Kind     string `json:"kind,omitempty"`
	Policy   string `json:"admission,omitempty"`
	// Participants are the people to book, for schedule.
	Participants []CommandParticipant `json:"participants,omitempty"`
	// PaymentServiceID, for schedule, asks each participant for payment before joining: a
	// service of the clinic's price list; PaymentAmount (minor units) replaces its price.
	PaymentServiceID int64 `json:"payment_service_id,omitempty"`
	PaymentAmount    int64 `json:"payment_amount,omitempty"`
}

// CommandParticipant is a participant to book through a command event.
type CommandParticipant struct {
	Name     string `json:"name"`
	UserID   string `json:"user_id,omitempty"`
	Email    string `json:"email,omitempty"`
	Phone    string `json:"phone,omitempty"`
	Locale   string `json:"locale,omitempty"`
	TimeZone string `json:"time_zone,omitempty"`
	Invite   string `json:"invite,omitempty"`
}

// ResultContent is the content of ResultEventType.
type ResultContent struct {
	// Command is the event ID of the command this answers.
	Command   string `json:"command"`
	OK        bool   `json:"ok"`
	Error     string `json:"error,omitempty"`
	SessionID string `json:"session_id,omitempty"`
	RoomID    string `json:"room_id,omitempty"`
}
