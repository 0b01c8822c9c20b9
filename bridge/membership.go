package bridge

import (
	"context"
	"errors"
	"fmt"

	"github.com/rs/zerolog"
)

// Membership values, as in Matrix.
const (
	MemberKnock  = "knock"
	MemberInvite = "invite"
	MemberJoin   = "join"
	MemberLeave  = "leave"
	MemberBan    = "ban"
)

// Membership is a change of someone's membership in a session's room: the lobby's input.
// Any Matrix client can cause one: a knock from the participant, an invite from the clinician's
// Element, a kick from an integrator.
type Membership struct {
	RoomID string
	// Target is whose membership changed; Sender is who changed it.
	Target, Sender string
	Membership     string
	// Prev is the membership before, when known.
	Prev string
	// Reason is the event's reason: for a knock, the name the participant confirmed.
	Reason string
}

// Declined reasons, shown to the person whose knock the bridge turns down.
const (
	ReasonNotBooked = "You are not booked on this session. Please use the link from your invitation or contact your clinic."
	ReasonRemoved   = "You were removed from this session by the clinician."
)

// OnMembership applies a membership change in a session room. Changes the bridge caused itself
// come back here too; they find the state already recorded and change nothing. It returns
// ErrNotFound for a room that is not a session's.
func (svc *Service) OnMembership(ctx context.Context, m Membership) error {
	s, err := svc.store.GetSessionByRoom(ctx, m.RoomID)
	if err != nil {
		return err
	}
	if m.Target == svc.bot {
		return nil
	}
	_, err = svc.withSession(ctx, "", s.ID, func(s *Session, ps []*Participant) error {
		return svc.applyMembership(ctx, s, ps, m)
	})
	return err
}

func (svc *Service) applyMembership(ctx context.Context, s *Session, ps []*Participant, m Membership) error {
	log := zerolog.Ctx(ctx).With().Str("session_id", s.ID).Str("membership", m.Membership).Logger()
	if m.Target == s.Clinician {
		return svc.onClinician(ctx, s, m)
	}
	var p *Participant
	for _, candidate := range ps {
		if candidate.MatrixID != "" && candidate.MatrixID == m.Target {
			p = candidate
			break
		}
	}
	if p == nil {
		if m.Membership == MemberKnock {
			log.Info().Msg("Declining a knock from someone not booked on the session")
			// Nobody the clinician knows: a decline they may not see is not worth a notice.
			if err := svc.rooms.Kick(ctx, s.RoomID, m.Target, ReasonNotBooked); !errors.Is(err, ErrNotTold) {
				return err
			}
		}
		return nil
	}
	log = log.With().Int("participant", p.Number).Logger()

	var err error
	switch m.Membership {
	case MemberKnock:
		return svc.onKnock(ctx, s, ps, p, m.Reason)
	case MemberInvite:
		if m.Sender == svc.bot {
			// The echo of the bridge's own invite, whose admission was stored before it. One
			// that comes back after the participant was sent back or denied must not let them
			// in again.
			log.Debug().Msg("The bridge's own invite came back")
			return nil
		}
		err = svc.record(ctx, s, p, ActAdmit, m.Sender)
	case MemberJoin:
		err = svc.record(ctx, s, p, ActJoin, m.Target)
	case MemberBan:
		err = svc.record(ctx, s, p, ActBan, m.Sender)
	case MemberLeave:
		switch {
		case m.Sender == m.Target || m.Sender == "":
			err = svc.record(ctx, s, p, ActLeave, m.Target)
		case m.Sender == svc.bot:
			// The echo of the bridge's own kick, whose action was stored before the kick.
			// A kick sent after the lock is released may land after the guest knocked again
			// (a send-back, then a new knock): it must not turn the new knock into a denial.
			log.Debug().Msg("The bridge's own kick came back")
			return nil
		case p.State == StateWaiting || p.State == StateAdmitted || m.Prev == MemberKnock:
			err = svc.record(ctx, s, p, ActDeny, m.Sender)
		default:
			err = svc.record(ctx, s, p, ActRemove, m.Sender)
		}
	}
	if errors.Is(err, ErrInvalidTransition) || errors.Is(err, ErrSessionOver) {
		// The echo of something the bridge did, or a change that means nothing for the lobby.
		log.Debug().Err(err).Msg("Membership change left the lobby as it was")
		return nil
	}
	return err
}

// onKnock puts a booked participant in the waiting room, or declines the knock with the reason.
func (svc *Service) onKnock(ctx context.Context, s *Session, ps []*Participant, p *Participant, reason string) error {
	now := svc.clock.Now()
	check := *p
	if _, err := check.Apply(ActKnock, s, now, svc.window); err != nil {
		why := ReasonRemoved
		if !errors.Is(err, ErrInvalidTransition) {
			why = "The session's waiting room is not open: " + err.Error()
		}
		if p.State == StateAdmitted || p.State == StateInSession {
			return nil // a knock cannot follow an invite in Matrix; nothing to undo
		}
		svc.kickTelling(ctx, s, p, why, svc.rooms.Kick(ctx, s.RoomID, p.MatrixID, why))
		return nil
	}
	if name, err := ValidateName(reason); err == nil {
		p.KnockName = name
	}
	if err := svc.record(ctx, s, p, ActKnock, p.MatrixID); err != nil {
		return err
	}
	if s.Policy == PolicyAutoAdmit && s.ClinicianPresent {
		// One who has not paid waits for the clinician instead.
		err := svc.admit(ctx, s, p, svc.bot)
		if !errors.Is(err, ErrPaymentDue) && !errors.Is(err, ErrPaymentBlocked) {
			return err
		}
	}
	if svc.notify != nil {
		var waiting []*Participant
		for _, q := range ps {
			if q.State == StateWaiting {
				waiting = append(waiting, q)
			}
		}
		svc.notify.Waiting(ctx, s, waiting)
	}
	return nil
}

// onClinician keeps the clinician able to enter their own session: if they leave while it is
// not over, the bot invites them back at once. Leaving also means they are no longer present.
func (svc *Service) onClinician(ctx context.Context, s *Session, m Membership) error {
	if m.Membership != MemberLeave || m.Sender != m.Target {
		return nil
	}
	if s.ClinicianPresent {
		s.ClinicianLeft(svc.clock.Now())
		if err := svc.store.UpdateSession(ctx, s); err != nil {
			return err
		}
		svc.publish(ctx, s)
	}
	if s.Over() || m.Prev == MemberInvite {
		return nil // declining our invite is an answer, not a reason to ask again
	}
	if err := svc.rooms.Invite(ctx, s.RoomID, s.Clinician); err != nil {
		return fmt.Errorf("inviting the clinician back: %w", err)
	}
	return nil
}

// Reconcile brings a session's lobby in line with its room's members, as the homeserver has
// them now: what happened while the bridge was down (a knock, a join, a leave) is applied as
// if it had been delivered. members maps each user to their member state.
func (svc *Service) Reconcile(ctx context.Context, id string, members map[string]Membership) error {
	_, err := svc.withSession(ctx, "", id, func(s *Session, ps []*Participant) error {
		if s.Over() {
			return nil
		}
		booked := map[string]*Participant{}
		for _, p := range ps {
			if p.MatrixID != "" {
				booked[p.MatrixID] = p
			}
		}
		for user, m := range members {
			if user == svc.bot {
				continue
			}
			p, isParticipant := booked[user]
			current := map[LobbyState]string{
				StateWaiting: MemberKnock, StateAdmitted: MemberInvite, StateInSession: MemberJoin,
			}
			if isParticipant && current[p.State] == m.Membership {
				continue // already as the room says
			}
			if isParticipant && m.Membership == MemberLeave && !p.Active() {
				continue
			}
			if !isParticipant && user != s.Clinician && m.Membership != MemberKnock {
				continue
			}
			if err := svc.applyMembership(ctx, s, ps, m); err != nil {
				zerolog.Ctx(ctx).Err(err).Str("session_id", s.ID).Msg("Failed to reconcile a member")
			}
		}
		// Participants the room has no member event for have not arrived: nothing to do, unless
		// the lobby thinks they are in, in which case they left.
		for user, p := range booked {
			if _, ok := members[user]; !ok && p.Active() {
				svc.applyAndLog(ctx, s, p, ActLeave, user)
			}
		}
		return nil
	})
	return err
}
