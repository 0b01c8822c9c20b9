package bridge

// The session's course once its lobby is open: the clinician starts it, admits, denies, removes,
// sends back or bans participants, talks to those waiting, and ends it.

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"
)

// End ends the session for all: every participant is taken out with the reason "The session
// has ended", their calls close, and the lobby closes. The clinician stays in the room.
func (svc *Service) End(ctx context.Context, actor, id string) (*Session, error) {
	return svc.withSession(ctx, actor, id, func(s *Session, ps []*Participant) error {
		if err := s.Finish(svc.clock.Now()); err != nil {
			return err
		}
		if err := svc.store.UpdateSession(ctx, s); err != nil {
			return err
		}
		svc.clearRoom(ctx, s, ps, "The session has ended")
		svc.emit(ctx, s, Lifecycle{Action: LifeEnded, Actor: actor})
		svc.auditSession(ctx, s, AuditEnd, actor, nil)
		svc.replan(ctx, s)
		return nil
	})
}

// clearRoom takes every active participant out of a session that is over.
func (svc *Service) clearRoom(ctx context.Context, s *Session, ps []*Participant, reason string) {
	svc.setLobbyOpen(ctx, s, false)
	for _, p := range ps {
		if p.Active() {
			svc.kick(ctx, s, p, reason)
		}
		svc.applyAndLog(ctx, s, p, ActEnd, svc.bot)
	}
	if svc.calls != nil {
		svc.calls.EndCalls(s.ID)
	}
	svc.publish(ctx, s)
}

// Start marks the clinician present: the session is live and, with automatic admission, those
// waiting are let in.
func (svc *Service) Start(ctx context.Context, actor, id string) (*Session, error) {
	return svc.withSession(ctx, actor, id, func(s *Session, ps []*Participant) error {
		wasLive, wasPresent := s.Status == StatusLive, s.ClinicianPresent
		if err := s.Begin(svc.clock.Now(), svc.window); err != nil {
			return err
		}
		if wasLive && wasPresent {
			return nil
		}
		if err := svc.store.UpdateSession(ctx, s); err != nil {
			return err
		}
		svc.publish(ctx, s)
		if !wasLive {
			svc.emit(ctx, s, Lifecycle{Action: LifeStarted, Actor: actor})
		}
		svc.auditSession(ctx, s, AuditStart, actor, nil)
		if s.Policy == PolicyAutoAdmit {
			for _, p := range ps {
				if p.State == StateWaiting {
					svc.admit(ctx, s, p, svc.bot)
				}
			}
		}
		return nil
	})
}

// ErrUnknownAction is a host action the bridge does not know.
var ErrUnknownAction = errors.New("unknown action")

// HostAction runs one of the clinician's Attendees Access Panel actions by name, as the web
// panel, the call page and the call's signalling send them: admit, deny, remove, send-back,
// admit-all, message, start, end, cancel, ban.
func (svc *Service) HostAction(ctx context.Context, actor, id, action, participant, text string) error {
	var err error
	switch action {
	case "admit":
		_, err = svc.Admit(ctx, actor, id, participant)
	case "admit-anyway", "admit_anyway":
		_, err = svc.AdmitAnyway(ctx, actor, id, participant)
	case "waive":
		_, err = svc.WaivePayment(ctx, actor, id, participant)
	case "deny":
		_, err = svc.Deny(ctx, actor, id, participant)
	case "remove":
		_, err = svc.Remove(ctx, actor, id, participant)
	case "send-back", "send_back":
		_, err = svc.SendBack(ctx, actor, id, participant)
	case "ban":
		_, err = svc.Ban(ctx, actor, id, participant)
	case "admit-all", "admit_all":
		_, err = svc.AdmitAll(ctx, actor, id)
	case "message":
		_, err = svc.PostLobbyMessage(ctx, actor, id, text)
	case "start":
		_, err = svc.Start(ctx, actor, id)
	case "end":
		_, err = svc.End(ctx, actor, id)
	case "cancel":
		_, err = svc.Cancel(ctx, actor, id)
	default:
		return fmt.Errorf("%w %q", ErrUnknownAction, action)
	}
	return err
}

// ErrBeforeWindow is the clinician connecting to the call before the session's window opened:
// they may try the call out; the session goes live when the window opens, if they are still in.
var ErrBeforeWindow = errors.New("the clinician is in the call before the waiting room opens")

// ClinicianConnected records that the clinician connected to the call: the session is live
// and they are present (Start). Before the window opens the session stays as it is, nobody
// can enter, and it returns ErrBeforeWindow; if they are still connected when the window
// opens, the session goes live then (OpenWindow).
func (svc *Service) ClinicianConnected(ctx context.Context, actor, id string) error {
	_, err := svc.Start(ctx, actor, id)
	if errors.Is(err, ErrLobbyClosed) {
		svc.earlyMu.Lock()
		if svc.early == nil {
			svc.early = map[string]bool{}
		}
		svc.early[id] = true
		svc.earlyMu.Unlock()
		return fmt.Errorf("%w: %w", ErrBeforeWindow, err)
	}
	return err
}

// ClinicianAway records that the clinician left the call: with automatic admission,
// participants wait again until they are back. The session stays live.
func (svc *Service) ClinicianAway(ctx context.Context, id string) error {
	svc.earlyMu.Lock()
	delete(svc.early, id)
	svc.earlyMu.Unlock()
	_, err := svc.withSession(ctx, "", id, func(s *Session, ps []*Participant) error {
		if !s.ClinicianPresent {
			return nil
		}
		s.ClinicianLeft(svc.clock.Now())
		if err := svc.store.UpdateSession(ctx, s); err != nil {
			return err
		}
		svc.publish(ctx, s)
		return nil
	})
	return err
}

// Admit lets a participant in.
func (svc *Service) Admit(ctx context.Context, actor, id, ref string) (*Participant, error) {
	return svc.onParticipant(ctx, actor, id, ref, func(s *Session, p *Participant) error {
		if p.MatrixID == "" {
			return fmt.Errorf("%w: %s has not joined from Matrix or their link yet", ErrInvalidTransition, p.DisplayName())
		}
		return svc.admit(ctx, s, p, actor)
	})
}

// AdmitAll lets in everyone waiting and returns them. Those who have not paid stay waiting:
// the error then names them (ErrPaymentDue or ErrPaymentBlocked), after the others are in.
func (svc *Service) AdmitAll(ctx context.Context, actor, id string) ([]*Participant, error) {
	var admitted []*Participant
	_, err := svc.withSession(ctx, actor, id, func(s *Session, ps []*Participant) error {
		var unpaid []error
		for _, p := range ps {
			if p.State == StateWaiting {
				if err := svc.admit(ctx, s, p, actor); errors.Is(err, ErrPaymentDue) || errors.Is(err, ErrPaymentBlocked) {
					unpaid = append(unpaid, err)
					continue
				} else if err != nil {
					return err
				}
				admitted = append(admitted, p)
			}
		}
		return errors.Join(unpaid...)
	})
	return admitted, err
}

// Deny refuses a participant from the waiting room.
func (svc *Service) Deny(ctx context.Context, actor, id, ref string) (*Participant, error) {
	return svc.onParticipant(ctx, actor, id, ref, func(s *Session, p *Participant) error {
		if p.State != StateWaiting && p.State != StateAdmitted {
			return fmt.Errorf("%w: %s is not waiting", ErrInvalidTransition, p.DisplayName())
		}
		return svc.takeOut(ctx, s, p, ActDeny, actor, "The clinician did not admit you to this session")
	})
}

// Remove takes a participant out of the session.
func (svc *Service) Remove(ctx context.Context, actor, id, ref string) (*Participant, error) {
	return svc.onParticipant(ctx, actor, id, ref, func(s *Session, p *Participant) error {
		if !p.Active() {
			return fmt.Errorf("%w: %s is not in the session", ErrInvalidTransition, p.DisplayName())
		}
		return svc.takeOut(ctx, s, p, ActRemove, actor, "The clinician removed you from this session")
	})
}

// SendBack takes a participant out of the session; they may knock and wait again.
func (svc *Service) SendBack(ctx context.Context, actor, id, ref string) (*Participant, error) {
	return svc.onParticipant(ctx, actor, id, ref, func(s *Session, p *Participant) error {
		if p.State != StateInSession && p.State != StateAdmitted {
			return fmt.Errorf("%w: %s is not in the session", ErrInvalidTransition, p.DisplayName())
		}
		return svc.takeOut(ctx, s, p, ActSendBack, actor, "The clinician sent you back to the waiting room")
	})
}

// Ban removes a participant and bans their account from the room, for abuse.
func (svc *Service) Ban(ctx context.Context, actor, id, ref string) (*Participant, error) {
	return svc.onParticipant(ctx, actor, id, ref, func(s *Session, p *Participant) error {
		if p.MatrixID == "" {
			return fmt.Errorf("%w: %s has no Matrix account to ban", ErrInvalidTransition, p.DisplayName())
		}
		if err := svc.rooms.Ban(ctx, s.RoomID, p.MatrixID, "Removed by the clinician"); err != nil {
			return fmt.Errorf("banning %s: %w", p.DisplayName(), err)
		}
		svc.hangup(s, p)
		return svc.record(ctx, s, p, ActBan, actor)
	})
}

// PostLobbyMessage stores the clinician's message to those waiting; the waiting pages show it.
func (svc *Service) PostLobbyMessage(ctx context.Context, actor, id, text string) (*Session, error) {
	text = strings.TrimSpace(text)
	if text == "" {
		return nil, errors.New("the message is empty")
	}
	if len([]rune(text)) > 500 {
		return nil, errors.New("the message is longer than 500 characters")
	}
	return svc.withSession(ctx, actor, id, func(s *Session, ps []*Participant) error {
		if s.Over() {
			return fmt.Errorf("%w: the session is %s", ErrSessionOver, s.Status)
		}
		s.LobbyMessage, s.UpdatedAt = text, svc.clock.Now()
		if err := svc.store.UpdateSession(ctx, s); err != nil {
			return err
		}
		svc.emit(ctx, s, Lifecycle{Action: LifeMessage, Actor: actor, Reason: text})
		return nil
	})
}

func (svc *Service) onParticipant(ctx context.Context, actor, id, ref string, f func(*Session, *Participant) error) (*Participant, error) {
	var found *Participant
	_, err := svc.withSession(ctx, actor, id, func(s *Session, ps []*Participant) error {
		p, err := FindParticipant(ps, ref)
		if err != nil {
			return err
		}
		found = p
		return f(s, p)
	})
	return found, err
}

// FindParticipant finds a participant by number ("2" or "#2"), Matrix ID, or the start of
// their name. With no reference, it is the only one waiting.
func FindParticipant(ps []*Participant, ref string) (*Participant, error) {
	ref = strings.TrimSpace(ref)
	if ref == "" {
		var waiting []*Participant
		for _, p := range ps {
			if p.State == StateWaiting {
				waiting = append(waiting, p)
			}
		}
		if len(waiting) == 1 {
			return waiting[0], nil
		}
		if len(ps) == 1 {
			return ps[0], nil
		}
		return nil, fmt.Errorf("%w: say which participant (their number)", ErrParticipantUnkn)
	}
	if n, err := strconv.Atoi(strings.TrimPrefix(ref, "#")); err == nil {
		for _, p := range ps {
			if p.Number == n {
				return p, nil
			}
		}
		return nil, fmt.Errorf("%w: there is no participant %d", ErrParticipantUnkn, n)
	}
	for _, p := range ps {
		if p.MatrixID != "" && p.MatrixID == ref {
			return p, nil
		}
	}
	var matches []*Participant
	lower := strings.ToLower(ref)
	for _, p := range ps {
		if strings.HasPrefix(strings.ToLower(p.DisplayName()), lower) || strings.HasPrefix(strings.ToLower(p.Name), lower) {
			matches = append(matches, p)
		}
	}
	switch len(matches) {
	case 1:
		return matches[0], nil
	case 0:
		return nil, ErrParticipantUnkn
	}
	return nil, fmt.Errorf("%w: several participants match; use their number", ErrParticipantUnkn)
}

// admit invites a participant, records who let them in and tells integrators. A participant
// who has not paid is not admitted (ErrPaymentDue or ErrPaymentBlocked): see AdmitAnyway.
func (svc *Service) admit(ctx context.Context, s *Session, p *Participant, actor string) error {
	if p.State == StateAdmitted || p.State == StateInSession {
		return nil
	}
	if err := svc.admissionPaid(ctx, s, p, actor, false); err != nil {
		return err
	}
	return svc.admitUnchecked(ctx, s, p, actor)
}

// admitUnchecked is admit once payment is settled or the clinician confirmed.
func (svc *Service) admitUnchecked(ctx context.Context, s *Session, p *Participant, actor string) error {
	if p.State == StateAdmitted || p.State == StateInSession {
		return nil
	}
	check := *p
	if _, err := check.Apply(ActAdmit, s, svc.clock.Now(), svc.window); err != nil {
		return err
	}
	// The admission is stored first and the homeserver's invite goes out once the session's
	// lock is released: its echo then finds it done, and the session's other changes and
	// reads do not wait on the homeserver. An invite that fails puts the participant back.
	// Its lifecycle event waits for the invite: the person admitted reads the room from it.
	was, invited := p.State, make(chan struct{})
	if err := svc.record(withEmitGate(ctx, invited), s, p, ActAdmit, actor); err != nil {
		close(invited)
		return err
	}
	who, name := *p, p.DisplayName()
	svc.afterUnlock(s.ID, func() error {
		defer close(invited)
		if err := svc.rooms.Invite(ctx, s.RoomID, who.MatrixID); err != nil {
			svc.undoAdmit(ctx, s.ID, &who, was)
			return fmt.Errorf("inviting %s: %w", name, err)
		}
		return nil
	})
	return nil
}

// undoAdmit puts a participant whose invite failed back where they were, unless something
// moved them on since (they joined, the clinician took them out).
func (svc *Service) undoAdmit(ctx context.Context, id string, admitted *Participant, was LobbyState) {
	_, err := svc.withSession(ctx, "", id, func(s *Session, ps []*Participant) error {
		for _, p := range ps {
			if p.ID != admitted.ID || p.State != StateAdmitted || p.AdmittedAt.UnixMilli() != admitted.AdmittedAt.UnixMilli() {
				continue
			}
			now := svc.clock.Now()
			p.State, p.UpdatedAt, p.AdmittedBy, p.AdmittedAt = was, now, "", time.Time{}
			if err := svc.store.UpdateParticipant(ctx, p); err != nil {
				return fmt.Errorf("storing %s's state: %w", p.DisplayName(), err)
			}
			svc.hangup(s, p)
			zerolog.Ctx(ctx).Info().Str("session_id", s.ID).Int("participant", p.Number).Str("state", string(p.State)).
				Msg("The invite failed; the participant is back where they were")
			if life, ok := lifecycleFor[ActKnock]; ok && was == StateWaiting {
				svc.emit(ctx, s, Lifecycle{Action: life, Participant: p, Actor: svc.bot, Reason: "the invite failed", At: now})
			}
		}
		return nil
	})
	if err != nil {
		zerolog.Ctx(ctx).Err(err).Msg("Failed to undo an admission whose invite failed")
	}
}

// takeOut kicks a participant and records why.
func (svc *Service) takeOut(ctx context.Context, s *Session, p *Participant, a Action, actor, reason string) error {
	check := *p
	if _, err := check.Apply(a, s, svc.clock.Now(), svc.window); err != nil {
		return err
	}
	// The state is stored before the kick so that the kick's echo finds it done; the kick
	// goes out once the session's lock is released.
	if err := svc.record(ctx, s, p, a, actor); err != nil {
		return err
	}
	session, who := *s, *p
	svc.afterUnlock(s.ID, func() error {
		svc.kick(ctx, &session, &who, reason)
		return nil
	})
	return nil
}

// record applies an action, stores it, logs it and emits its lifecycle event.
func (svc *Service) record(ctx context.Context, s *Session, p *Participant, a Action, actor string) error {
	now := svc.clock.Now()
	changed, err := p.Apply(a, s, now, svc.window)
	if err != nil {
		return err
	}
	if !changed {
		return nil
	}
	if a == ActAdmit {
		p.AdmittedBy, p.AdmittedAt = actor, now
	}
	if err = svc.store.UpdateParticipant(ctx, p); err != nil {
		return fmt.Errorf("storing %s's state: %w", p.DisplayName(), err)
	}
	if err = svc.store.LogLobby(ctx, LobbyEntry{SessionID: s.ID, ParticipantID: p.ID, Action: a, Actor: actor, At: now}); err != nil {
		zerolog.Ctx(ctx).Err(err).Msg("Failed to log a lobby action")
	}
	svc.auditParticipant(ctx, s, p, a, actor)
	zerolog.Ctx(ctx).Info().Str("session_id", s.ID).Int("participant", p.Number).Str("action", string(a)).
		Str("actor", actor).Str("state", string(p.State)).Msg("Lobby changed")
	if life, ok := lifecycleFor[a]; ok {
		svc.emit(ctx, s, Lifecycle{Action: life, Participant: p, Actor: actor, At: now})
	}
	if a == ActRemove || a == ActBan || a == ActSendBack || a == ActDeny || a == ActLeave {
		svc.hangup(s, p)
	}
	if (a == ActAdmit || a == ActJoin) && (p.State == StateAdmitted || p.State == StateInSession) && svc.calls != nil {
		// Their page connected while they waited: the call starts without waiting for the
		// page to hear it was let in (the SFU asks whether they may be in: Calls.LetIn).
		svc.calls.LetIn(s.ID, p.MatrixID)
	}
	return nil
}

// applyAndLog records an action the bridge takes on its own, ignoring impossible ones.
func (svc *Service) applyAndLog(ctx context.Context, s *Session, p *Participant, a Action, actor string) {
	if err := svc.record(ctx, s, p, a, actor); err != nil && !errors.Is(err, ErrInvalidTransition) {
		zerolog.Ctx(ctx).Err(err).Int("participant", p.Number).Str("action", string(a)).Msg("Failed to update a participant")
	}
}

func (svc *Service) kick(ctx context.Context, s *Session, p *Participant, reason string) {
	if p.MatrixID == "" || s.RoomID == "" {
		return
	}
	svc.kickTelling(ctx, s, p, reason, svc.rooms.Kick(ctx, s.RoomID, p.MatrixID, reason))
}

// kickTelling handles the outcome of kicking a participant: a kick that may not have reached
// them is said in the clinician's control room, so that they reach the participant another way.
func (svc *Service) kickTelling(ctx context.Context, s *Session, p *Participant, reason string, err error) {
	if err == nil {
		return
	}
	if !errors.Is(err, ErrNotTold) {
		zerolog.Ctx(ctx).Err(err).Str("session_id", s.ID).Int("participant", p.Number).Msg("Failed to take a participant out of the room")
	}
	if svc.notify != nil {
		svc.notify.Unreached(ctx, s, p, reason, err)
	}
}

func (svc *Service) hangup(s *Session, p *Participant) {
	if svc.calls != nil && p.MatrixID != "" {
		svc.calls.Hangup(s.ID, p.MatrixID)
	}
}
