package scheduler

import (
	"context"
	"fmt"
	"slices"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
)

var _ Inbound = (*Notifier)(nil)

// OptOut records a STOP: no SMS goes to the number until it answers START.
func (nt *Notifier) OptOut(ctx context.Context, phone string) error {
	if err := nt.optOuts.OptOut(ctx, phone, nt.clock.Now()); err != nil {
		return fmt.Errorf("recording an SMS opt-out: %w", err)
	}
	nt.log.Info().Msg("A number opted out of SMS")
	return nil
}

// OptIn records a START.
func (nt *Notifier) OptIn(ctx context.Context, phone string) error {
	if err := nt.optOuts.OptIn(ctx, phone); err != nil {
		return fmt.Errorf("recording an SMS opt-in: %w", err)
	}
	nt.log.Info().Msg("A number opted in to SMS again")
	return nil
}

// Reply carries a participant's SMS into the room of their current or next session, where the
// clinician reads it. A number booked on no upcoming session is ignored (and logged, without
// the text).
func (nt *Notifier) Reply(ctx context.Context, phone, body string) error {
	s, p, err := nt.sessionOf(ctx, phone)
	if err != nil {
		return err
	} else if s == nil {
		nt.log.Info().Msg("SMS from a number with no upcoming session ignored")
		return nil
	}
	if nt.clinicians == nil {
		return fmt.Errorf("no Matrix side to relay SMS replies to")
	}
	if err = nt.clinicians.RelaySMS(ctx, s.ID, p.ID, body); err != nil {
		return fmt.Errorf("relaying an SMS reply to session %s: %w", s.ID, err)
	}
	return nil
}

// sessionOf finds the session an SMS from phone is about: the ongoing one, else the next.
func (nt *Notifier) sessionOf(ctx context.Context, phone string) (*bridge.Session, *bridge.Participant, error) {
	ps, err := nt.bookings.ByContact(ctx, "", phone)
	if err != nil {
		return nil, nil, fmt.Errorf("finding who sent an SMS: %w", err)
	}
	now := nt.clock.Now()
	var best *bridge.Session
	var who *bridge.Participant
	for _, p := range ps {
		s, err := nt.bookings.GetSession(ctx, p.SessionID)
		if err != nil {
			continue
		}
		if s.Over() || !now.Before(s.Closes(nt.cfg.Window)) {
			continue
		}
		if best == nil || s.Start.Before(best.Start) {
			best, who = s, p
		}
	}
	return best, who, nil
}

// failedStatuses are the provider's delivery statuses that mean the message did not arrive.
var failedStatuses = []string{"failed", "undelivered"}

// Status records what the provider learnt of a message after accepting it: one that the
// carrier could not deliver becomes failed, and the clinician hears why.
func (nt *Notifier) Status(ctx context.Context, providerID, status, errorCode string) error {
	if !slices.Contains(failedStatuses, status) {
		return nil
	}
	n, err := nt.outbox.ByProviderID(ctx, providerID)
	if err != nil {
		return fmt.Errorf("finding the notification of a status callback: %w", err)
	} else if n == nil || n.Status == bridge.NotificationFailed {
		return nil
	}
	n.Status, n.UpdatedAt = bridge.NotificationFailed, nt.clock.Now()
	n.LastError = "the carrier reported the SMS " + status
	if errorCode != "" {
		n.LastError += " (error " + errorCode + ")"
	}
	if err = nt.outbox.Update(ctx, n); err != nil {
		return fmt.Errorf("recording a failed delivery: %w", err)
	}
	nt.log.Warn().Int64("notification", n.ID).Str("provider_id", providerID).Str("status", status).Msg("SMS not delivered")
	if s, p, err := nt.booking(ctx, n); err == nil && nt.clinicians != nil {
		nt.clinicians.NotificationProblem(ctx, s, p, n)
	}
	return nil
}
