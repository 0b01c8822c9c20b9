package bridge

// Booking a session and changing its time: scheduling, rescheduling, cancelling, and the room
// each session gets.

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/rs/zerolog"
)

// ScheduleRequest describes a new session.
type ScheduleRequest struct {
	Clinician    string
	Start, End   time.Time
	TimeZone     string
	Kind         Kind
	Policy       Policy
	Participants []ParticipantRequest
	// Payment, if set, makes each participant owe a service of the price list before joining.
	Payment *RequirePayment
}

// ParticipantRequest describes a participant to book.
type ParticipantRequest struct {
	Name     string
	MatrixID string
	Email    string
	// Phone is international (+33...), or national in PhoneRegion (an ISO country code).
	Phone       string
	PhoneRegion string
	Locale      string
	TimeZone    string
	Invite      InviteMode
	// ClientID books a known client record (0: someone new): blanks are filled from it.
	ClientID int64
}

// Schedule books a session: it is stored, its room is created with the clinician invited,
// and its window switches are planned. Bad input is refused before anything is stored.
func (svc *Service) Schedule(ctx context.Context, req ScheduleRequest) (*Session, error) {
	now := svc.clock.Now()
	if err := ValidateSchedule(req.Start, req.End, req.TimeZone, now); err != nil {
		return nil, err
	}
	if req.Kind == "" {
		req.Kind = KindVideo
	}
	if req.Kind != KindVideo && req.Kind != KindPhone {
		return nil, fmt.Errorf("%w: the kind must be video or phone", ErrInvalidSchedule)
	}
	if req.Policy == "" {
		req.Policy = PolicyManual
	}
	if req.Policy != PolicyManual && req.Policy != PolicyAutoAdmit {
		return nil, fmt.Errorf("%w: the admission must be manual or auto", ErrInvalidSchedule)
	}
	if len(req.Participants) == 0 {
		return nil, fmt.Errorf("%w: book at least one participant", ErrInvalidSchedule)
	}
	s := &Session{
		ID: svc.newSessionID(ctx), Clinician: req.Clinician,
		Start: req.Start.UTC(), End: req.End.UTC(), TimeZone: req.TimeZone,
		Kind: req.Kind, Policy: req.Policy, Status: StatusScheduled,
		CreatedAt: now, UpdatedAt: now,
	}
	var service *PricedService
	if req.Payment != nil {
		var err error
		if service, err = svc.checkRequirePayment(ctx, req.Payment); err != nil {
			return nil, err
		}
	}
	var participants []*Participant
	for i, pr := range req.Participants {
		pr, err := svc.FromClient(ctx, req.Clinician, pr)
		if err != nil {
			return nil, fmt.Errorf("participant %d: %w", i+1, err)
		}
		p, err := NewParticipant(pr, req.TimeZone)
		if err != nil {
			return nil, fmt.Errorf("participant %d: %w", i+1, err)
		}
		if req.Kind == KindPhone && p.Phone == "" {
			return nil, fmt.Errorf("%w: participant %d: a telephone session needs their phone number", ErrInvalidSchedule, i+1)
		}
		p.SessionID, p.Number, p.State, p.UpdatedAt, p.ClientID = s.ID, i+1, StateBooked, now, pr.ClientID
		participants = append(participants, p)
	}
	if err := svc.recordClients(ctx, req.Clinician, participants); err != nil {
		return nil, err
	}
	unlock := svc.locks.Lock(s.ID)
	defer unlock()
	if err := svc.store.InsertSession(ctx, s, participants); err != nil {
		return nil, fmt.Errorf("storing the session: %w", err)
	}
	if service != nil {
		if err := svc.addPayments(ctx, s, participants, req.Payment, service, req.Clinician); err != nil {
			return s, err
		}
	}
	if err := svc.ensureRoom(ctx, s); err != nil {
		return s, err
	}
	for _, w := range svc.watchers {
		w.LobbyChanged(s, participants)
	}
	svc.emit(ctx, s, Lifecycle{Action: LifeScheduled, Actor: req.Clinician})
	svc.auditSession(ctx, s, AuditSchedule, req.Clinician, map[string]string{"participants": strconv.Itoa(len(participants))})
	svc.replan(ctx, s)
	for _, w := range svc.bookings {
		w.Booked(ctx, s, participants)
	}
	if service != nil {
		svc.noticePayments(ctx, s, participants)
	}
	zerolog.Ctx(ctx).Info().Str("session_id", s.ID).Stringer("start", s.Start).Msg("Session scheduled")
	return s, nil
}

// EnsureRoom creates the room of a session that has none (its creation failed earlier).
func (svc *Service) EnsureRoom(ctx context.Context, id string) error {
	_, err := svc.withSession(ctx, "", id, func(s *Session, ps []*Participant) error {
		if s.Over() {
			return nil
		}
		if err := svc.ensureRoom(ctx, s); err != nil {
			return err
		}
		svc.replan(ctx, s)
		return nil
	})
	return err
}

// ActiveSessions are the sessions that are neither ended nor cancelled.
func (svc *Service) ActiveSessions(ctx context.Context) ([]*Session, error) {
	return svc.store.ActiveSessions(ctx)
}

// newSessionID returns an ID no session has yet.
func (svc *Service) newSessionID(ctx context.Context) string {
	for {
		id := NewSessionID()
		// Anything but "taken" (free, or a database error the insert will report) ends the search.
		if _, err := svc.store.GetSession(ctx, id); err != nil {
			return id
		}
	}
}

// ensureRoom creates the session's room if it has none yet (a failure is retried at start-up).
func (svc *Service) ensureRoom(ctx context.Context, s *Session) error {
	if s.RoomID != "" {
		return nil
	}
	roomID, err := svc.rooms.CreateRoom(ctx, s)
	if err != nil {
		return fmt.Errorf("creating the session's room: %w", err)
	}
	s.RoomID = roomID
	if err = svc.store.UpdateSession(ctx, s); err != nil {
		return fmt.Errorf("storing the session's room: %w", err)
	}
	return nil
}

// Reschedule moves a session. If its lobby closes because of the move, those waiting go back
// to booked and are told the new time.
func (svc *Service) Reschedule(ctx context.Context, actor, id string, start, end time.Time, zone string) (*Session, error) {
	return svc.withSession(ctx, actor, id, func(s *Session, ps []*Participant) error {
		now := svc.clock.Now()
		wasOpen := s.Status == StatusOpen
		if err := s.Reschedule(start, end, zone, now, svc.window); err != nil {
			return err
		}
		if err := svc.store.UpdateSession(ctx, s); err != nil {
			return err
		}
		if wasOpen && s.Status == StatusScheduled {
			reason := "The session moved to " + FormatTime(s.Start, s.Location())
			for _, p := range ps {
				if p.Active() {
					svc.kick(ctx, s, p, reason)
					svc.applyAndLog(ctx, s, p, ActReset, svc.bot)
				}
			}
			svc.setLobbyOpen(ctx, s, false)
		} else if !wasOpen && s.Status == StatusOpen {
			svc.setLobbyOpen(ctx, s, true)
		}
		svc.publish(ctx, s)
		svc.emit(ctx, s, Lifecycle{Action: LifeRescheduled, Actor: actor})
		svc.auditSession(ctx, s, AuditReschedule, actor, nil)
		svc.replan(ctx, s)
		return nil
	})
}

// Cancel calls a session off: everyone waiting or let in is told and taken out.
func (svc *Service) Cancel(ctx context.Context, actor, id string) (*Session, error) {
	return svc.withSession(ctx, actor, id, func(s *Session, ps []*Participant) error {
		return svc.cancelLocked(ctx, s, ps, actor, nil)
	})
}

// cancelLocked cancels a session whose lock the caller holds: the room is cleared, the
// lifecycle event says who, and the outbox drops the reminders and plans the cancellation
// notices.
func (svc *Service) cancelLocked(ctx context.Context, s *Session, ps []*Participant, actor string, detail map[string]string) error {
	if err := s.Cancel(svc.clock.Now()); err != nil {
		return err
	}
	if err := svc.store.UpdateSession(ctx, s); err != nil {
		return err
	}
	svc.clearRoom(ctx, s, ps, "The session was cancelled")
	svc.refundOnCancel(ctx, s)
	svc.emit(ctx, s, Lifecycle{Action: LifeCancelled, Actor: actor})
	svc.auditSession(ctx, s, AuditCancel, actor, detail)
	svc.replan(ctx, s)
	return nil
}

// AttachMatrixID gives a participant the Matrix user who will knock for them (a web-link
// guest's ghost). A participant who has one already keeps it.
func (svc *Service) AttachMatrixID(ctx context.Context, id string, participantID int64, matrixID string) error {
	_, err := svc.withSession(ctx, "", id, func(s *Session, ps []*Participant) error {
		for _, p := range ps {
			if p.ID != participantID {
				continue
			}
			if p.MatrixID == matrixID {
				return nil
			}
			if p.MatrixID != "" {
				return fmt.Errorf("%w: participant %d already has %s", ErrInvalidTransition, p.Number, p.MatrixID)
			}
			p.MatrixID, p.UpdatedAt = matrixID, svc.clock.Now()
			return svc.store.UpdateParticipant(ctx, p)
		}
		return ErrParticipantUnkn
	})
	return err
}
