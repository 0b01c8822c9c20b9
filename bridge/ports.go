package bridge

import (
	"context"
	"errors"
	"time"
)

// Clock tells the time. Tests use a fake one and move it.
type Clock interface {
	Now() time.Time
}

// Store keeps sessions, participants and the lobby log.
type Store interface {
	InsertSession(ctx context.Context, s *Session, participants []*Participant) error
	// GetSession and GetSessionByRoom return ErrNotFound when there is none.
	GetSession(ctx context.Context, id string) (*Session, error)
	GetSessionByRoom(ctx context.Context, roomID string) (*Session, error)
	UpdateSession(ctx context.Context, s *Session) error
	// ActiveSessions are the sessions not ended or cancelled.
	ActiveSessions(ctx context.Context) ([]*Session, error)
	// ClinicianSessions are a clinician's sessions not over and ending after since, next first.
	ClinicianSessions(ctx context.Context, clinician string, since time.Time) ([]*Session, error)
	Participants(ctx context.Context, sessionID string) ([]*Participant, error)
	AddParticipant(ctx context.Context, p *Participant) error
	UpdateParticipant(ctx context.Context, p *Participant) error
	// LogLobby records who did what to whom in the lobby, and when.
	LogLobby(ctx context.Context, e LobbyEntry) error
}

// LobbyEntry is one line of a session's lobby log.
type LobbyEntry struct {
	SessionID     string
	ParticipantID int64
	Action        Action
	// Actor is the Matrix user who acted: the clinician, the participant, or the bridge's bot.
	Actor string
	At    time.Time
}

// Rooms is the session's Matrix room, as the bridge drives it.
type Rooms interface {
	// CreateRoom creates the session's room with the clinician invited and returns its ID.
	CreateRoom(ctx context.Context, s *Session) (string, error)
	// SetLobbyOpen switches the room's join rule: knock when open, invite when closed.
	SetLobbyOpen(ctx context.Context, s *Session, open bool) error
	// Invite lets a user in (admits a knock).
	Invite(ctx context.Context, roomID, userID string) error
	// Kick takes a user out: denies a knock, rescinds an invite or removes a member. An error
	// wrapping ErrNotTold means the user is out but may not learn it from their own client.
	Kick(ctx context.Context, roomID, userID, reason string) error
	// Ban removes a user for good.
	Ban(ctx context.Context, roomID, userID, reason string) error
	// PublishSession writes the session's schedule and status into the room's state.
	PublishSession(ctx context.Context, s *Session) error
	// Emit posts a lifecycle event into the room, for integrators.
	Emit(ctx context.Context, s *Session, e Lifecycle) error
}

// ErrNotTold: a knock was declined (the user is out of the room), but the homeserver could
// not do it the way clients show: Dendrite refuses to kick someone knocking and has no knocks
// in /sync, so a Matrix user's client may still say they are waiting.
var ErrNotTold = errors.New("their homeserver cannot show them that their request to join was declined")

// Notifier tells the clinician about their lobby (the control room).
type Notifier interface {
	// Waiting says that participants are waiting to be let in.
	Waiting(ctx context.Context, s *Session, waiting []*Participant)
	// Unreached says that taking a participant out of the room (declining their knock, a
	// removal, the end) may not have reached them: err wraps ErrNotTold when they are out but
	// their client may not show it, and is the homeserver's refusal otherwise. reason is the
	// bridge's own text that the kick carried.
	Unreached(ctx context.Context, s *Session, p *Participant, reason string, err error)
}

// Planner plans what happens at set times: the join window switches and reminders.
type Planner interface {
	// Plan (re)plans the session's timed work from its current schedule and status.
	Plan(ctx context.Context, s *Session) error
}

// Calls is the SFU: it ends the calls of people who must no longer be in them.
type Calls interface {
	// Hangup closes a participant's call at once.
	Hangup(sessionID, userID string)
	// EndCalls closes every call of the session.
	EndCalls(sessionID string)
	// LetIn moves a participant's waiting connection, if their page opened one, into the call:
	// they are in the session now (stored before). It must not block.
	LetIn(sessionID, userID string)
}

// Watcher hears about every change to a session or its lobby: the web pages and the call's
// host panel follow the lobby through it. It must not block.
type Watcher interface {
	LobbyChanged(s *Session, ps []*Participant)
}

// DetailsWatcher is a Watcher that also hears of changes to what a lobby shows beside its
// people (the session's documents and forms and their acknowledgements, the participants'
// payments), told apart from a change of the people themselves: the panel patches its view of
// the people, and reads the rest again. A Watcher without it hears documents and forms
// through LobbyChanged, and payments not at all.
type DetailsWatcher interface {
	DetailsChanged(s *Session)
}

// BookingWatcher hears of each new booking once it is stored, with its participants pointed at
// their client records (the web pages send the portal enrolment on a first booking). It must
// not block.
type BookingWatcher interface {
	Booked(ctx context.Context, s *Session, ps []*Participant)
}

// Lifecycle is an event in the session's room that integrators can follow.
type Lifecycle struct {
	Action      LifecycleAction
	Participant *Participant
	Actor       string
	Reason      string
	At          time.Time
}

// LifecycleAction names a lifecycle event.
type LifecycleAction string

const (
	LifeScheduled   LifecycleAction = "session_scheduled"
	LifeRescheduled LifecycleAction = "session_rescheduled"
	LifeWindowOpen  LifecycleAction = "window_opened"
	LifeWindowClose LifecycleAction = "window_closed"
	LifeStarted     LifecycleAction = "session_started"
	LifeEnded       LifecycleAction = "session_ended"
	LifeCancelled   LifecycleAction = "session_cancelled"
	LifeWaiting     LifecycleAction = "participant_waiting"
	LifeAdmitted    LifecycleAction = "participant_admitted"
	LifeJoined      LifecycleAction = "participant_joined"
	LifeDenied      LifecycleAction = "participant_denied"
	LifeRemoved     LifecycleAction = "participant_removed"
	LifeSentBack    LifecycleAction = "participant_sent_back"
	LifeLeft        LifecycleAction = "participant_left"
	LifeMessage     LifecycleAction = "lobby_message"
)

// lifecycleFor maps a lobby action to the event integrators see.
var lifecycleFor = map[Action]LifecycleAction{
	ActKnock: LifeWaiting, ActAdmit: LifeAdmitted, ActJoin: LifeJoined, ActDeny: LifeDenied,
	ActRemove: LifeRemoved, ActBan: LifeRemoved, ActSendBack: LifeSentBack, ActLeave: LifeLeft,
}
