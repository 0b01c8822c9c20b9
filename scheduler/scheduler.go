// Package scheduler runs the bridge's timed work with gocron: each session's join window
// switches (the room's join rule goes to knock when the lobby opens and back to invite after
// the session). Plans are rebuilt from the database on start, and a switch that was due while
// the bridge was down runs at once.
package scheduler

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/go-co-op/gocron/v2"
	"github.com/jonboulle/clockwork"
	"github.com/rs/zerolog"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
)

// WindowSwitcher opens and closes session lobbies (the session domain).
type WindowSwitcher interface {
	OpenWindow(ctx context.Context, id string) error
	CloseWindow(ctx context.Context, id string) error
}

// Sessions lists the sessions whose timed work must be planned.
type Sessions interface {
	ActiveSessions(ctx context.Context) ([]*bridge.Session, error)
}

// Scheduler plans timed work per session.
type Scheduler struct {
	cron     gocron.Scheduler
	clock    clockwork.Clock
	window   bridge.Window
	log      zerolog.Logger
	switcher WindowSwitcher
	sessions Sessions
}

var _ bridge.Planner = (*Scheduler)(nil)

// New creates a scheduler on the given clock (a fake one in tests).
func New(clock clockwork.Clock, window bridge.Window, log zerolog.Logger, opts ...gocron.SchedulerOption) (*Scheduler, error) {
	opts = append([]gocron.SchedulerOption{gocron.WithClock(clock), gocron.WithLocation(time.UTC)}, opts...)
	cron, err := gocron.NewScheduler(opts...)
	if err != nil {
		return nil, fmt.Errorf("creating the scheduler: %w", err)
	}
	return &Scheduler{cron: cron, clock: clock, window: window, log: log.With().Str("component", "scheduler").Logger()}, nil
}

// Use connects what the jobs act on.
func (s *Scheduler) Use(switcher WindowSwitcher, sessions Sessions) {
	s.switcher, s.sessions = switcher, sessions
}

// Start plans every active session from the database and starts running jobs.
func (s *Scheduler) Start(ctx context.Context) error {
	active, err := s.sessions.ActiveSessions(ctx)
	if err != nil {
		return fmt.Errorf("loading sessions to plan: %w", err)
	}
	for _, sess := range active {
		if err = s.Plan(ctx, sess); err != nil {
			return err
		}
	}
	s.cron.Start()
	s.log.Info().Int("sessions", len(active)).Msg("Scheduler started")
	return nil
}

// Stop stops running jobs and waits for the ones running.
func (s *Scheduler) Stop() error {
	return s.cron.Shutdown()
}

func sessionTag(id string) string { return "session:" + id }

// Plan replaces the session's planned window switches with ones that follow its current
// schedule: nothing for a session that is over; the opening while it is scheduled; the closing
// otherwise. The switches are idempotent, so an opening re-asserts the join rule after a crash.
func (s *Scheduler) Plan(ctx context.Context, sess *bridge.Session) error {
	tag := sessionTag(sess.ID)
	s.cron.RemoveByTags(tag)
	if sess.Over() {
		return nil
	}
	if err := s.at(tag, "open-window", sess.Opens(s.window), func(ctx context.Context) error {
		return s.switcher.OpenWindow(ctx, sess.ID)
	}); err != nil {
		return err
	}
	return s.at(tag, "close-window", sess.Closes(s.window), func(ctx context.Context) error {
		return s.switcher.CloseWindow(ctx, sess.ID)
	})
}

// at runs f once at the given instant, or at once if it is past.
func (s *Scheduler) at(tag, name string, when time.Time, f func(ctx context.Context) error) error {
	start := gocron.OneTimeJobStartDateTime(when)
	if !when.After(s.clock.Now()) {
		start = gocron.OneTimeJobStartImmediately()
	}
	log := s.log.With().Str("job", name).Str("tag", tag).Logger()
	_, err := s.cron.NewJob(gocron.OneTimeJob(start), gocron.NewTask(func() {
		ctx := log.WithContext(context.Background())
		if err := f(ctx); err != nil && !errors.Is(err, bridge.ErrNotFound) {
			log.Err(err).Msg("Timed job failed")
		}
	}), gocron.WithTags(tag), gocron.WithName(name+" "+tag))
	if err != nil {
		return fmt.Errorf("planning %s for %s: %w", name, tag, err)
	}
	return nil
}
