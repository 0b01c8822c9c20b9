package scheduler

import (
	"time"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
)

// NoticeKind is what a notification tells the participant.
type NoticeKind string

const (
	// NoticeConfirmation: the session is booked (sent when it is scheduled).
	NoticeConfirmation NoticeKind = "confirmation"
	// NoticeReminder: the session is tomorrow (by default 24 hours before).
	NoticeReminder NoticeKind = "reminder"
	// NoticeWindowOpen: the waiting room opens now; carries the participant's link.
	NoticeWindowOpen NoticeKind = "window_open"
	// NoticeReschedule: the session moved.
	NoticeReschedule NoticeKind = "reschedule"
	// NoticeCancellation: the session was cancelled.
	NoticeCancellation NoticeKind = "cancellation"
	// NoticePhoneIntro: for telephone sessions, who will call and from which number, shortly
	// before the call, so the client recognises the caller.
	NoticePhoneIntro NoticeKind = "phone_intro"
	// NoticeMessage: a text message the clinician wrote (!sms, the panel), by SMS.
	NoticeMessage NoticeKind = "message"
)

// Channel is how a notification travels.
type Channel string

const (
	ChannelSMS   Channel = "sms"
	ChannelEmail Channel = "email"
)

// Clinic is what notifications say about the sender. Never a specialty or a reason for a visit.
type Clinic struct {
	// Name is the clinic's display name ("Clinique du Parc").
	Name string
	// Phone is the number the clinic calls from, E.164; telephone sessions announce it.
	Phone string
	// Email is the From address of emails and the organizer of calendar invites.
	Email string
	// Domain makes calendar invite UIDs globally unique (the bridge's public host).
	Domain string
}

// Notice is everything one notification may say: templates render it and add nothing else.
type Notice struct {
	Kind        NoticeKind
	Clinic      Clinic
	Session     *bridge.Session
	Participant *bridge.Participant
	// Window is the sessions' join window: the waiting room opens at Session.Opens(Window).
	Window bridge.Window
	// Link is the participant's own page: join (window open) or "my sessions" (the others).
	// Empty for a participant who joins from Matrix.
	Link string
	// ClinicianName is the clinician's display name, for the telephone introduction.
	ClinicianName string
	// Body is the clinician's own text (NoticeMessage).
	Body string
	// Sequence is the calendar invite's SEQUENCE: the session's revision at planning time.
	Sequence int
	// Now is when the notice is rendered (calendar DTSTAMP).
	Now time.Time
}

// Status is where a planned notification is.
type Status string

const (
	// StatusPending: planned; sent at its due instant.
	StatusPending Status = "pending"
	// StatusSending: claimed by the sender. A row left here by a crash is sent again.
	StatusSending Status = "sending"
	// StatusSent: the provider accepted it.
	StatusSent Status = "sent"
	// StatusFailed: the provider refused it for good (an invalid number), or it could not be
	// delivered in time; LastError says why.
	StatusFailed Status = "failed"
	// StatusSkipped: not sent on purpose (opted out, no contact any more); LastError says why.
	StatusSkipped Status = "skipped"
	// StatusCancelled: no longer needed (the session moved, was cancelled or ended).
	StatusCancelled Status = "cancelled"
)

// Notification is one planned message to one participant: a row of the outbox.
type Notification struct {
	ID            int64
	SessionID     string
	ParticipantID int64
	Kind          NoticeKind
	Channel       Channel
	// Due is when it should be sent, UTC.
	Due      time.Time
	Status   Status
	Attempts int
	// Revision is the session's revision when the notification was planned.
	Revision   int
	ProviderID string
	LastError  string
	CreatedAt  time.Time
	UpdatedAt  time.Time
	// Body is the clinician's own text of a NoticeMessage, kept until it is sent or given up.
	Body string
}
