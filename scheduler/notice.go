package scheduler

import (
	"time"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
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
	Kind        bridge.NoticeKind
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
