package bridge

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/rs/zerolog"
)

// Telephone places telephone sessions' calls (Twilio Voice).
type Telephone interface {
	// Ring rings the clinician's own phone for the attempt and returns the provider's ID of that
	// call. Once the clinician accepts, the provider asks for the client's number
	// (Service.AcceptCall) and calls it.
	Ring(ctx context.Context, a *CallAttempt, clinicianPhone string) (string, error)
}

// CallWatcher hears how each call attempt goes: the control room and the panel. It must not
// block for long.
type CallWatcher interface {
	CallChanged(ctx context.Context, s *Session, a *CallAttempt)
}

// phoneCalls are the call attempts of the running bridge. They live in memory: an attempt
// lasts minutes, and after a restart the clinician simply calls again.
type phoneCalls struct {
	mu       sync.Mutex
	byID     map[string]*CallAttempt
	bySess   map[string]*CallAttempt
	phone    Telephone
	phoneOf  func(userID string) string
	watchers []CallWatcher
}

// staleAttempt is how long an attempt without news blocks a new one (a lost callback).
const staleAttempt = 15 * time.Minute

// UseTelephone connects the provider that places calls and says where clinicians' own phones
// come from. Without it, telephone sessions are dialled by the clinicians themselves.
func (svc *Service) UseTelephone(t Telephone, phoneOf func(userID string) string) {
	svc.phone.phone, svc.phone.phoneOf = t, phoneOf
}

// WatchCalls adds a watcher of call attempts. Call it before the service runs.
func (svc *Service) WatchCalls(w CallWatcher) { svc.phone.watchers = append(svc.phone.watchers, w) }

// PlaceCall rings the clinician's own phone, then (once they accept) the participant's, for a
// telephone session. Only the session's own clinician may: it is their phone that rings.
func (svc *Service) PlaceCall(ctx context.Context, actor, id, ref string) (*CallAttempt, error) {
	pc := &svc.phone
	var placed CallAttempt
	s, err := svc.withSession(ctx, actor, id, func(s *Session, ps []*Participant) error {
		now := svc.clock.Now()
		switch {
		case actor != s.Clinician:
			return ErrNotYourSession
		case s.Kind != KindPhone:
			return ErrNotTelephone
		case s.Over():
			return fmt.Errorf("%w: the session is %s", ErrSessionOver, s.Status)
		case pc.phone == nil:
			return ErrCallsOff
		}
		mine := ""
		if pc.phoneOf != nil {
			mine = pc.phoneOf(actor)
		}
		if mine == "" {
			return ErrNoPhoneOnFile
		}
		if s.Status == StatusScheduled && !s.InWindow(now, svc.window) {
			return fmt.Errorf("%w: you can call from %s", ErrLobbyClosed, s.Opens(svc.window).In(s.Location()).Format("15:04 MST"))
		}
		p, err := FindParticipant(ps, ref)
		if err != nil {
			return err
		}
		if p.Phone == "" {
			return fmt.Errorf("%w: %s has no phone number on the booking", ErrInvalidTransition, p.DisplayName())
		}
		pc.mu.Lock()
		if last := pc.bySess[s.ID]; last != nil && last.Active() && now.Sub(last.UpdatedAt) < staleAttempt {
			pc.mu.Unlock()
			return ErrCallInProgress
		}
		a := NewCallAttempt(s, p, actor, now)
		if pc.byID == nil {
			pc.byID, pc.bySess = map[string]*CallAttempt{}, map[string]*CallAttempt{}
		}
		if last := pc.bySess[s.ID]; last != nil {
			// Only the latest attempt of a session is followed: a late report about an older
			// one is ErrNotFound, and the map does not grow with every try.
			delete(pc.byID, last.ID)
		}
		// Known before the provider is asked: its first callback may come before its answer.
		pc.byID[a.ID], pc.bySess[s.ID] = a, a
		pc.mu.Unlock()
		providerID, err := pc.phone.Ring(ctx, a, mine)
		pc.mu.Lock()
		if err != nil {
			a.State, a.Problem, a.ProblemCode, a.UpdatedAt = CallFailed, "The call could not be placed: "+err.Error(), "not_placed", svc.clock.Now()
		} else {
			a.ProviderID = providerID
		}
		placed = *a
		pc.mu.Unlock()
		svc.auditSession(ctx, s, AuditPhoneCall, actor, map[string]string{"participant": strconv.Itoa(p.Number), "call": a.ID})
		if err != nil {
			return fmt.Errorf("%w: %s", ErrCallNotPlaced, err.Error())
		}
		return nil
	})
	if placed.ID != "" {
		svc.callChanged(ctx, s, &placed)
	}
	if err != nil {
		return nil, err
	}
	return &placed, nil
}

// AcceptCall records that the clinician accepted to be connected and returns the client's
// number to dial. An unknown, ended or already accepted attempt gives ErrNotFound.
func (svc *Service) AcceptCall(ctx context.Context, attemptID string) (string, error) {
	pc := &svc.phone
	pc.mu.Lock()
	a := pc.byID[attemptID]
	var copied CallAttempt
	accepted := a != nil && a.Accept(svc.clock.Now())
	if accepted {
		copied = *a
	}
	pc.mu.Unlock()
	if !accepted {
		return "", ErrNotFound
	}
	s, ps, err := svc.Lobby(ctx, "", copied.SessionID)
	if err != nil {
		return "", err
	}
	for _, p := range ps {
		if p.Number == copied.Participant && p.Phone != "" && !s.Over() {
			svc.callChanged(ctx, s, &copied)
			return p.Phone, nil
		}
	}
	return "", ErrParticipantUnkn
}

// CallReport applies a provider's report on one leg of an attempt: the client answering makes
// the session live, the connected call's end ends it. Unknown attempts give ErrNotFound.
func (svc *Service) CallReport(ctx context.Context, attemptID string, leg CallLeg, st CallStatus) error {
	pc := &svc.phone
	pc.mu.Lock()
	a := pc.byID[attemptID]
	if a == nil {
		pc.mu.Unlock()
		return ErrNotFound
	}
	changed := a.Apply(leg, st, svc.clock.Now())
	copied := *a
	pc.mu.Unlock()
	if !changed {
		return nil
	}
	log := zerolog.Ctx(ctx).With().Str("session_id", copied.SessionID).Str("call", copied.ID).Str("state", string(copied.State)).Logger()
	log.Info().Str("leg", string(leg)).Str("status", string(st)).Msg("Telephone call changed")
	ctx = WithAuditVia(ctx, "telephone")
	var s *Session
	var err error
	switch copied.State {
	case CallConnected:
		s, err = svc.Start(ctx, copied.Clinician, copied.SessionID)
	case CallEnded:
		s, err = svc.End(ctx, copied.Clinician, copied.SessionID)
	default:
		s, err = svc.Session(ctx, copied.SessionID)
	}
	if err != nil {
		log.Err(err).Msg("Failed to move the session with its call")
		if s == nil {
			if s, err = svc.Session(ctx, copied.SessionID); err != nil {
				return err
			}
		}
	}
	svc.callChanged(ctx, s, &copied)
	return nil
}

// LatestCall is the session's latest call attempt, or nil.
func (svc *Service) LatestCall(sessionID string) *CallAttempt {
	pc := &svc.phone
	pc.mu.Lock()
	defer pc.mu.Unlock()
	if a := pc.bySess[sessionID]; a != nil {
		copied := *a
		return &copied
	}
	return nil
}

// CanPlaceCalls reports whether the bridge places calls, and whether this clinician has a
// phone to ring.
func (svc *Service) CanPlaceCalls(clinician string) bool {
	pc := &svc.phone
	return pc.phone != nil && pc.phoneOf != nil && pc.phoneOf(clinician) != ""
}

func (svc *Service) callChanged(ctx context.Context, s *Session, a *CallAttempt) {
	for _, w := range svc.phone.watchers {
		w.CallChanged(ctx, s, a)
	}
}

// UseTexter connects the outbox that carries clinicians' own text messages.
func (svc *Service) UseTexter(t Texter) { svc.texter = t }

// TextParticipant queues a clinician's own text message to a participant's phone. Only the
// session's own clinician may, while the session is not over; the text is checked (not empty,
// at most MaxTextLength characters, nothing invisible) and never logged.
func (svc *Service) TextParticipant(ctx context.Context, actor, id, ref, text string) (*Participant, error) {
	text = strings.TrimSpace(text)
	switch n := utf8.RuneCountInString(text); {
	case n == 0:
		return nil, fmt.Errorf("%w: the message is empty", ErrInvalidTransition)
	case n > MaxTextLength:
		return nil, fmt.Errorf("%w: the message has %d characters; at most %d", ErrInvalidTransition, n, MaxTextLength)
	}
	if err := visibleText(text); err != nil {
		return nil, fmt.Errorf("%w: %s", ErrInvalidTransition, strings.Replace(err.Error(), "the name", "the message", 1))
	}
	var to *Participant
	_, err := svc.withSession(ctx, actor, id, func(s *Session, ps []*Participant) error {
		switch {
		case actor != s.Clinician:
			return ErrNotYourSession
		case s.Over():
			return fmt.Errorf("%w: the session is %s", ErrSessionOver, s.Status)
		case svc.texter == nil:
			return fmt.Errorf("%w: this bridge sends no text messages", ErrInvalidTransition)
		}
		p, err := findWithPhone(ps, ref)
		if err != nil {
			return err
		}
		if err = svc.texter.QueueText(ctx, s, p, text); err != nil {
			return err
		}
		to = p
		svc.auditSession(ctx, s, AuditTextSent, actor, map[string]string{"participant": strconv.Itoa(p.Number)})
		return nil
	})
	return to, err
}

// findWithPhone is FindParticipant, defaulting to the only participant with a phone number.
func findWithPhone(ps []*Participant, ref string) (*Participant, error) {
	if strings.TrimSpace(ref) == "" {
		var withPhone []*Participant
		for _, p := range ps {
			if p.Phone != "" {
				withPhone = append(withPhone, p)
			}
		}
		if len(withPhone) == 1 {
			return withPhone[0], nil
		}
	}
	p, err := FindParticipant(ps, ref)
	if err != nil {
		return nil, err
	}
	if p.Phone == "" {
		return nil, fmt.Errorf("%w: %s has no phone number on the booking", ErrInvalidTransition, p.DisplayName())
	}
	return p, nil
}
