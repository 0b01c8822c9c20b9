package bridge

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/rs/zerolog"
)

// Changes a client makes to their own sessions from the portal: cancelling one, asking to move
// it (up to three preferred times, for the clinician to choose from), or moving it themselves
// into a free slot when their professional takes bookings online. A client acts only on a
// session they hold a place in through their record (a participant row pointing at it), only
// before it starts, and only as long before as the clinic's notice allows. The clinician hears
// of each change in their control room, without any reason: the client gives none.

// Refusals of a client's change.
var (
	// ErrClientChangesOff: the clinic takes no cancellations or moves online.
	ErrClientChangesOff = errors.New("your clinic does not take cancellations online; please call the clinic")
	// ErrChangeTooLate: the session is closer than the clinic's minimum notice.
	ErrChangeTooLate = errors.New("it is too late to change this session online; please call the clinic")
	// ErrSessionStarted: the session has started, is over or was cancelled.
	ErrSessionStarted = errors.New("this session has already started, is over or was cancelled")
	// ErrSharedSession: others are booked in the session; one of them cannot call it off or
	// move it for all.
	ErrSharedSession = errors.New("other people are booked in this session; please call the clinic to change it")
	// ErrMoveType: the slot is of another kind or length than the session it would replace.
	ErrMoveType = errors.New("this kind of appointment is not the one of your session")
)

// MaxMoveTimes is how many preferred times a move request holds.
const MaxMoveTimes = 3

// ClientChangePolicy is what the clinic lets clients change online (portal.client_cancel and
// portal.cancel_notice).
type ClientChangePolicy struct {
	Allowed bool
	// Notice is how long before a session's start a client may still change it.
	Notice time.Duration
}

// DefaultClientChanges: clients may cancel or ask to move until a day before.
var DefaultClientChanges = ClientChangePolicy{Allowed: true, Notice: 24 * time.Hour}

// AuditMoveRequested: a client asked to move a session (the times are in the request, not in
// the trail). AuditClientMoved: a client moved a session into a free slot (Detail "to").
const (
	AuditMoveRequested AuditAction = "move_requested"
	AuditClientMoved   AuditAction = "client_moved"
)

// MoveRequest is a client's request to move one of their sessions.
type MoveRequest struct {
	SessionID     string
	ParticipantID int64
	ClientID      int64
	// Preferred are the start times the client would take, soonest first, UTC.
	Preferred []time.Time
	// Revision is the session's when asked: once the session moved, the request is answered.
	Revision  int
	CreatedAt time.Time
}

// Open reports whether the request still waits for the clinician: the session has not moved
// or been called off since.
func (r *MoveRequest) Open(s *Session) bool {
	return r.Revision == s.Revision && (s.Status == StatusScheduled || s.Status == StatusOpen)
}

// MoveRequestStore keeps the clients' move requests, one per participant (a new request
// replaces theirs). The database implements it.
type MoveRequestStore interface {
	PutMoveRequest(ctx context.Context, r *MoveRequest) error
	// MoveRequests are the requests on a session, oldest first.
	MoveRequests(ctx context.Context, sessionID string) ([]*MoveRequest, error)
}

// ClientChangeNotifier tells the clinician, in their control room, of their clients' changes.
// The Notifier the service uses implements it (the Matrix side).
type ClientChangeNotifier interface {
	ClientCancelled(ctx context.Context, s *Session, p *Participant)
	MoveRequested(ctx context.Context, s *Session, p *Participant, r *MoveRequest)
	ClientMoved(ctx context.Context, from, to *Session, p *Participant)
}

// ClientChanges is the clinic's policy of changes by clients.
func (svc *Service) ClientChanges() ClientChangePolicy {
	if svc.changes == nil {
		return DefaultClientChanges
	}
	return *svc.changes
}

// ClientChangeable says whether the client's place p in s lets them change it now: nil, or
// the refusal they would get. The portal asks it to show a button or "Call the clinic".
func (svc *Service) ClientChangeable(s *Session, p *Participant, now time.Time) error {
	if p == nil || p.ClientID == 0 || p.State == StateRemoved {
		return ErrNotYourSession
	}
	if (s.Status != StatusScheduled && s.Status != StatusOpen) || !now.Before(s.Start) {
		return ErrSessionStarted
	}
	policy := svc.ClientChanges()
	if !policy.Allowed {
		return ErrClientChangesOff
	}
	if s.Start.Sub(now) < policy.Notice {
		return ErrChangeTooLate
	}
	return nil
}

// clientPlace is the client's place in the session, checked for a change: ErrNotYourSession
// when they hold none (as for a session that does not exist, to the portal), then the
// refusals of ClientChangeable; alone also refuses a session others are booked in.
func (svc *Service) clientPlace(s *Session, ps []*Participant, clientID int64, alone bool) (*Participant, error) {
	i := slices.IndexFunc(ps, func(p *Participant) bool { return clientID != 0 && p.ClientID == clientID })
	if i < 0 {
		return nil, ErrNotYourSession
	}
	p := ps[i]
	if err := svc.ClientChangeable(s, p, svc.clock.Now()); err != nil {
		return nil, err
	}
	if alone && slices.ContainsFunc(ps, func(o *Participant) bool { return o.ClientID != clientID && o.State != StateRemoved }) {
		return nil, ErrSharedSession
	}
	return p, nil
}

// clientSession runs f on a session of the client's, under its lock; a session that does not
// exist is ErrNotYourSession, like one of someone else's.
func (svc *Service) clientSession(ctx context.Context, id string, f func(*Session, []*Participant) error) (*Session, error) {
	s, err := svc.withSession(ctx, "", id, f)
	if errors.Is(err, ErrNotFound) {
		return nil, ErrNotYourSession
	}
	return s, err
}

// CancelAsClient cancels one of the client's sessions, as a clinician's cancel does (the room,
// the lifecycle event, the reminders dropped and the cancellation notices sent), the client
// being the actor; the clinician is told in their control room.
func (svc *Service) CancelAsClient(ctx context.Context, clientID int64, id string) (*Session, error) {
	var place *Participant
	s, err := svc.clientSession(ctx, id, func(s *Session, ps []*Participant) error {
		p, err := svc.clientPlace(s, ps, clientID, true)
		if err != nil {
			return err
		}
		place = p
		return svc.cancelLocked(ctx, s, ps, ClientActor(clientID), map[string]string{"by": "client"})
	})
	if err != nil {
		return nil, err
	}
	if n, ok := svc.notify.(ClientChangeNotifier); ok {
		n.ClientCancelled(ctx, s, place)
	}
	zerolog.Ctx(ctx).Info().Str("session_id", s.ID).Msg("Session cancelled by its client")
	return s, nil
}

// RequestMove records the client's request to move one of their sessions to one of up to
// MaxMoveTimes preferred times, and tells the clinician. The session itself does not change.
func (svc *Service) RequestMove(ctx context.Context, clientID int64, id string, preferred []time.Time) (*MoveRequest, error) {
	store, ok := svc.store.(MoveRequestStore)
	if !ok {
		return nil, errors.New("this bridge's store keeps no move requests")
	}
	now := svc.clock.Now()
	if len(preferred) == 0 || len(preferred) > MaxMoveTimes {
		return nil, fmt.Errorf("%w: choose one to %d times", ErrInvalidSchedule, MaxMoveTimes)
	}
	times := make([]time.Time, 0, len(preferred))
	for _, t := range preferred {
		t = t.UTC().Truncate(time.Minute)
		if !t.After(now) || t.Sub(now) > MaxHorizon {
			return nil, fmt.Errorf("%w: each time must be in the next %d days", ErrInvalidSchedule, int(MaxHorizon.Hours()/24))
		}
		if !slices.ContainsFunc(times, t.Equal) {
			times = append(times, t)
		}
	}
	slices.SortFunc(times, func(a, b time.Time) int { return a.Compare(b) })
	var req *MoveRequest
	var place *Participant
	s, err := svc.clientSession(ctx, id, func(s *Session, ps []*Participant) error {
		p, err := svc.clientPlace(s, ps, clientID, false)
		if err != nil {
			return err
		}
		place = p
		req = &MoveRequest{SessionID: s.ID, ParticipantID: p.ID, ClientID: clientID, Preferred: times, Revision: s.Revision, CreatedAt: now}
		if err = store.PutMoveRequest(ctx, req); err != nil {
			return fmt.Errorf("storing the move request: %w", err)
		}
		svc.auditSession(ctx, s, AuditMoveRequested, ClientActor(clientID), map[string]string{"times": strconv.Itoa(len(times))})
		return nil
	})
	if err != nil {
		return nil, err
	}
	if n, ok := svc.notify.(ClientChangeNotifier); ok {
		n.MoveRequested(ctx, s, place, req)
	}
	return req, nil
}

// MoveRequests are the requests to move a session, for whoever shows it (the portal to its
// client, the panel to its clinician).
func (svc *Service) MoveRequests(ctx context.Context, sessionID string) ([]*MoveRequest, error) {
	store, ok := svc.store.(MoveRequestStore)
	if !ok {
		return nil, nil
	}
	return store.MoveRequests(ctx, sessionID)
}

// MoveToSlot moves one of the client's sessions into a free slot of its professional's: the
// slot is booked as a self-booking is (atomically: of two clients racing for it, one wins),
// with a type of the session's kind and length, and the old session is cancelled only once the
// new one is booked. client is how to book them (their record). It returns the new session.
func (svc *Service) MoveToSlot(ctx context.Context, client ParticipantRequest, clientID int64, id string, typeID int64, start time.Time) (*Session, error) {
	var moved *Session
	var place *Participant
	old, err := svc.clientSession(ctx, id, func(s *Session, ps []*Participant) error {
		p, err := svc.clientPlace(s, ps, clientID, true)
		if err != nil {
			return err
		}
		place = p
		sameKind := func(t SessionType) error {
			if t.Kind != s.Kind || t.Duration != s.End.Sub(s.Start) {
				return ErrMoveType
			}
			return nil
		}
		// The old session's lock is held while the new one is booked: nobody cancels or
		// moves it meanwhile, and it is cancelled only if the booking went through.
		moved, _, err = svc.bookSlot(ctx, client, clientID, s.Clinician, typeID, start, sameKind)
		if moved == nil {
			return err
		}
		if err != nil {
			zerolog.Ctx(ctx).Err(err).Str("session_id", moved.ID).Msg("The moved session was booked with a problem")
		}
		return svc.cancelLocked(ctx, s, ps, ClientActor(clientID), map[string]string{"by": "client", "moved_to": moved.ID})
	})
	if err != nil {
		if moved != nil { // booked, but the old one could not be cancelled: the clinician sorts it out
			zerolog.Ctx(ctx).Err(err).Str("session_id", id).Str("new_session_id", moved.ID).Msg("Failed to cancel a session its client moved")
			if n, ok := svc.notify.(ClientChangeNotifier); ok && old != nil {
				n.ClientMoved(ctx, old, moved, place)
			}
			return moved, nil
		}
		return nil, err
	}
	_ = svc.Audit(ctx, AuditEntry{Actor: ClientActor(clientID), Action: AuditClientMoved, SessionID: old.ID, Detail: map[string]string{"to": moved.ID}})
	if n, ok := svc.notify.(ClientChangeNotifier); ok {
		n.ClientMoved(ctx, old, moved, place)
	}
	zerolog.Ctx(ctx).Info().Str("session_id", old.ID).Str("new_session_id", moved.ID).Msg("Session moved by its client")
	return moved, nil
}
