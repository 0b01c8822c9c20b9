package bridge

// The join window: the lobby opens before the start (the homeserver then accepts knocks) and
// closes after the end.

import (
	"context"
	"fmt"

	"github.com/rs/zerolog"
)

// OpenWindow opens the session's lobby (the scheduler calls it when the window opens).
func (svc *Service) OpenWindow(ctx context.Context, id string) error {
	_, err := svc.withSession(ctx, "", id, func(s *Session, ps []*Participant) error {
		if s.Over() || !s.InWindow(svc.clock.Now(), svc.window) {
			return nil // moved or over since it was planned; the plan follows the session
		}
		wasOpen := s.Status != StatusScheduled
		// The status is stored before the join rule changes, so that a knock the homeserver
		// accepts right after the switch finds the lobby open.
		if err := s.OpenWindow(svc.clock.Now()); err != nil {
			return err
		}
		if err := svc.store.UpdateSession(ctx, s); err != nil {
			return err
		}
		svc.setLobbyOpen(ctx, s, true)
		if !wasOpen {
			svc.publish(ctx, s)
			svc.emit(ctx, s, Lifecycle{Action: LifeWindowOpen, Actor: svc.bot})
		}
		return nil
	})
	if err != nil {
		return err
	}
	// A clinician who opened the call early and is still in it starts the session now.
	svc.earlyMu.Lock()
	early := svc.early[id]
	delete(svc.early, id)
	svc.earlyMu.Unlock()
	if early {
		s, err := svc.store.GetSession(ctx, id)
		if err != nil {
			return err
		}
		if _, err = svc.Start(ctx, s.Clinician, id); err != nil {
			return fmt.Errorf("starting the session the clinician was already in: %w", err)
		}
	}
	return nil
}

// CloseWindow closes the lobby after the session. A session that never went live ends; a live
// one goes on until the clinician ends it, but nobody new can knock.
func (svc *Service) CloseWindow(ctx context.Context, id string) error {
	_, err := svc.withSession(ctx, "", id, func(s *Session, ps []*Participant) error {
		if s.Over() || svc.clock.Now().Before(s.Closes(svc.window)) {
			return nil
		}
		svc.setLobbyOpen(ctx, s, false)
		if s.Status == StatusLive {
			return nil
		}
		if err := s.Finish(svc.clock.Now()); err != nil {
			return err
		}
		if err := svc.store.UpdateSession(ctx, s); err != nil {
			return err
		}
		svc.clearRoom(ctx, s, ps, "The session has ended")
		svc.emit(ctx, s, Lifecycle{Action: LifeWindowClose, Actor: svc.bot})
		svc.auditSession(ctx, s, AuditEnd, svc.bot, map[string]string{"reason": "window_closed"})
		return nil
	})
	return err
}

func (svc *Service) setLobbyOpen(ctx context.Context, s *Session, open bool) {
	if s.RoomID == "" {
		return
	}
	if err := svc.rooms.SetLobbyOpen(ctx, s, open); err != nil {
		zerolog.Ctx(ctx).Err(err).Str("session_id", s.ID).Bool("open", open).Msg("Failed to switch the join rule")
	}
}
