// Package scheduler runs the bridge's timed work with gocron: each session's join window
// switches (the room's join rule goes to knock when the lobby opens and back to invite after
// the session), and the notification outbox (confirmations and reminders by SMS and email).
// Window switches are rebuilt from the database on start, and a switch that was due while the
// bridge was down runs at once. Notifications are rows of the outbox, so they survive restarts
// by themselves; one job sends what is due, on one instance only (see Elector).
package scheduler

import (
	"context"
	"errors"
	"fmt"
	"sync"
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
	// ActiveSessionsStartingBefore are the sessions not ended or cancelled that start before t.
	ActiveSessionsStartingBefore(ctx context.Context, t time.Time) ([]*bridge.Session, error)
}

// Pruner deletes rows the bridge no longer needs (the database).
type Pruner interface {
	Prune(ctx context.Context, now time.Time) (int64, error)
}

// pruneEvery is how often the pruner runs, and once at start.
const pruneEvery = time.Hour

// Scheduler plans timed work per session.
type Scheduler struct {
	cron     gocron.Scheduler
	clock    clockwork.Clock
	window   bridge.Window
	log      zerolog.Logger
	switcher WindowSwitcher
	sessions Sessions
	notifier *Notifier
	pruner   Pruner

	mu sync.Mutex
	// planned are the sessions whose window switches are gocron jobs now.
	planned map[string]bool
}

// planAhead is how far ahead window switches are planned as gocron jobs; a job every
// planEvery plans the ones that come within reach, so a clinic with months of bookings keeps
// few timers. The job also brings in sessions another bridge instance scheduled (only the
// elected instance runs jobs).
const (
	planAhead = 48 * time.Hour
	planEvery = time.Minute
)

var _ bridge.Planner = (*Scheduler)(nil)

// New creates a scheduler on the given clock (a fake one in tests).
func New(clock clockwork.Clock, window bridge.Window, log zerolog.Logger, opts ...gocron.SchedulerOption) (*Scheduler, error) {
	opts = append([]gocron.SchedulerOption{gocron.WithClock(clock), gocron.WithLocation(time.UTC)}, opts...)
	cron, err := gocron.NewScheduler(opts...)
	if err != nil {
		return nil, fmt.Errorf("creating the scheduler: %w", err)
	}
	return &Scheduler{cron: cron, clock: clock, window: window, log: log.With().Str("component", "scheduler").Logger(),
		planned: make(map[string]bool)}, nil
}

// Use connects what the jobs act on.
func (s *Scheduler) Use(switcher WindowSwitcher, sessions Sessions) {
	s.switcher, s.sessions = switcher, sessions
}

// Notify adds the notification outbox: Plan plans its rows and a job sends them.
func (s *Scheduler) Notify(nt *Notifier) { s.notifier = nt }

// PruneWith adds an hourly job that deletes what the bridge no longer needs.
func (s *Scheduler) PruneWith(p Pruner) { s.pruner = p }

// Start plans the window switches of the active sessions from the database and starts running
// jobs.
func (s *Scheduler) Start(ctx context.Context) error {
	n, err := s.planWindows(ctx, false)
	if err != nil {
		return err
	}
	if _, err = s.cron.NewJob(gocron.DurationJob(planEvery), gocron.NewTask(func(ctx context.Context) {
		if _, err := s.planWindows(ctx, true); err != nil {
			s.log.Err(err).Msg("Planning the next window switches failed")
		}
	}), gocron.WithName("plan-windows"), gocron.WithSingletonMode(gocron.LimitModeReschedule)); err != nil {
		return fmt.Errorf("planning the window planner: %w", err)
	}
	if s.notifier != nil {
		poll := s.notifier.cfg.Poll
		if _, err = s.cron.NewJob(gocron.DurationJob(poll), gocron.NewTask(func(ctx context.Context) {
			if err := s.notifier.SendDue(ctx); err != nil && ctx.Err() == nil {
				s.log.Err(err).Msg("Sending due notifications failed")
			}
			if err := s.notifier.SendMessageNotices(ctx); err != nil && ctx.Err() == nil {
				s.log.Err(err).Msg("Sending the unread notices failed")
			}
		}), gocron.WithName("send-notifications"), gocron.WithSingletonMode(gocron.LimitModeReschedule),
			gocron.WithStartAt(gocron.WithStartImmediately())); err != nil {
			return fmt.Errorf("planning the notification sender: %w", err)
		}
	}
	if s.pruner != nil {
		if _, err = s.cron.NewJob(gocron.DurationJob(pruneEvery), gocron.NewTask(func(ctx context.Context) {
			n, err := s.pruner.Prune(ctx, s.clock.Now())
			if err != nil && ctx.Err() == nil {
				s.log.Err(err).Msg("Pruning old rows failed")
			} else if n > 0 {
				s.log.Debug().Int64("rows", n).Msg("Pruned old rows")
			}
		}), gocron.WithName("prune"), gocron.WithSingletonMode(gocron.LimitModeReschedule),
			gocron.WithStartAt(gocron.WithStartImmediately())); err != nil {
			return fmt.Errorf("planning the pruner: %w", err)
		}
	}
	s.cron.Start()
	s.log.Info().Int("sessions", n).Msg("Scheduler started")
	return nil
}

// planWindows plans the window switches of every active session that opens within planAhead;
// onlyNew leaves the sessions already planned alone.
func (s *Scheduler) planWindows(ctx context.Context, onlyNew bool) (int, error) {
	active, err := s.sessions.ActiveSessionsStartingBefore(ctx, s.clock.Now().Add(planAhead+s.window.OpensBefore))
	if err != nil {
		return 0, fmt.Errorf("loading sessions to plan: %w", err)
	}
	for _, sess := range active {
		s.mu.Lock()
		skip := onlyNew && s.planned[sess.ID]
		s.mu.Unlock()
		if skip {
			continue
		}
		if err = s.planWindow(sess); err != nil {
			return 0, err
		}
	}
	return len(active), nil
}

// Stop stops running jobs and waits for the ones running.
func (s *Scheduler) Stop() error {
	return s.cron.Shutdown()
}

func sessionTag(id string) string { return "session:" + id }

// Plan re-plans the session's timed work after a change: its notifications and its window
// switches.
func (s *Scheduler) Plan(ctx context.Context, sess *bridge.Session) error {
	if s.notifier != nil {
		if err := s.notifier.Plan(ctx, sess); err != nil {
			return err
		}
	}
	return s.planWindow(sess)
}

// planWindow replaces the session's planned window switches with ones that follow its current
// schedule: nothing for a session that is over or opens beyond planAhead; the opening and the
// closing otherwise. The switches are idempotent, so an opening re-asserts the join rule after
// a crash.
func (s *Scheduler) planWindow(sess *bridge.Session) error {
	tag := sessionTag(sess.ID)
	s.cron.RemoveByTags(tag)
	skip := sess.Over() || sess.Opens(s.window).After(s.clock.Now().Add(planAhead))
	s.mu.Lock()
	if skip {
		delete(s.planned, sess.ID)
	} else {
		s.planned[sess.ID] = true
	}
	s.mu.Unlock()
	if skip {
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
//
// A job that fires before its instant (the wall clock stepped back after its timer was armed,
// or the timer ran ahead of the clock) plans itself again for the time left instead of running:
// the domain ignores an opening outside the window, and nothing else would run the switch again
// before a restart, so an early run would leave the lobby shut for the whole session. Planning
// again rather than running within a tolerance keeps the domain's window the only rule (a
// client never finds the lobby open before the time they were given) and covers an early run
// of any size.
func (s *Scheduler) at(tag, name string, when time.Time, f func(ctx context.Context) error) error {
	start := gocron.OneTimeJobStartDateTime(when)
	if !when.After(s.clock.Now()) {
		start = gocron.OneTimeJobStartImmediately()
	}
	log := s.log.With().Str("job", name).Str("tag", tag).Logger()
	_, err := s.cron.NewJob(gocron.OneTimeJob(start), gocron.NewTask(func() {
		if early := when.Sub(s.clock.Now()); early > 0 {
			log.Warn().Dur("early_by", early).Msg("Timed job fired early; planning it again for its time")
			if err := s.at(tag, name, when, f); err != nil {
				log.Err(err).Msg("Planning an early job again failed")
			}
			return
		}
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
