package app

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/rs/zerolog"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"github.com/telehealth-bridge/telehealth-bridge/database"
	"github.com/telehealth-bridge/telehealth-bridge/internal/metrics"
	"github.com/telehealth-bridge/telehealth-bridge/media"
	"github.com/telehealth-bridge/telehealth-bridge/media/livekit"
	"github.com/telehealth-bridge/telehealth-bridge/scheduler"
)

// The metrics read the database, the SFU, the lobby's changes and the outbox's outcomes
// through the adapters below; none of those parts knows about Prometheus.

var (
	_ metrics.Store    = metricsStore{}
	_ metrics.SFU      = sfuStats{}
	_ bridge.Watcher   = (*lobbyTimes)(nil)
	_ scheduler.Outbox = countedOutbox{}
)

func newMetrics(db *database.Database, clock clockwork.Clock, opts Options, log zerolog.Logger) *metrics.Metrics {
	return metrics.New(metrics.Options{
		Store: metricsStore{db}, Now: clock.Now, Version: opts.Version, Commit: opts.Commit, Log: log,
	})
}

// metricsStore counts sessions, waiting people and due notifications in the database.
type metricsStore struct{ db *database.Database }

var (
	allStatuses = []bridge.Status{bridge.StatusScheduled, bridge.StatusOpen, bridge.StatusLive, bridge.StatusEnded, bridge.StatusCancelled}
	allChannels = []bridge.Channel{bridge.ChannelSMS, bridge.ChannelEmail, bridge.ChannelMatrix}
)

func (s metricsStore) SessionsByStatus(ctx context.Context) (map[string]int, error) {
	counts, err := s.db.Session.CountByStatus(ctx)
	if err != nil {
		return nil, err
	}
	out := map[string]int{}
	for _, st := range allStatuses {
		out[string(st)] = counts[st]
	}
	return out, nil
}

func (s metricsStore) ParticipantsWaiting(ctx context.Context) (int, time.Time, error) {
	return s.db.Participant.Waiting(ctx)
}

func (s metricsStore) OutboxDue(ctx context.Context, now time.Time) (map[string]int, time.Time, error) {
	due, oldest, err := s.db.Outbox.DueByChannel(ctx, now)
	if err != nil {
		return nil, time.Time{}, err
	}
	out := map[string]int{}
	for _, ch := range allChannels {
		out[string(ch)] = due[ch]
	}
	return out, oldest, nil
}

// sfuStats is the SFU's snapshot, with the kernel's drops on its shared UDP port.
// sfuStats reports the embedded SFU and, with the LiveKit backend, the calls LiveKit's
// webhooks report (LiveKit counts its packets itself: docs/operations.md).
type sfuStats struct {
	sfu *media.Server
	lk  *livekit.Backend
	// drops reads the kernel's drops on the SFU's UDP port; nil if it has none.
	drops *metrics.UDPDrops
}

func (s sfuStats) Stats() metrics.SFUStats {
	st := s.sfu.Stats()
	out := metrics.SFUStats{Calls: st.Calls, Peers: st.Peers, Tracks: st.Tracks, TURNAllocations: st.TURNAllocations,
		Dropped: st.Dropped, Forwarding: &metrics.Forwarding{
			PacketsIn: st.PacketsIn, BytesIn: st.BytesIn, PacketsOut: st.PacketsOut, BytesOut: st.BytesOut,
			NACKs: st.NACKs, PLIs: st.PLIs, SendQueueOverflows: st.SendQueueOverflows, StuckConnections: st.StuckConnections,
			DirectSocketFailures: st.DirectSocketFailures,
		}}
	if s.lk != nil {
		lk := s.lk.Stats()
		out.Calls, out.Peers, out.Tracks = out.Calls+lk.Calls, out.Peers+lk.Peers, out.Tracks+lk.Tracks
	}
	if s.drops != nil {
		if drops, ok := s.drops.Read(); ok {
			out.Dropped["socket_buffer"] = drops
		}
	}
	return out
}

// lobbyTimes times the lobby from its changes: knock to admission, and admission to the
// participant's call connection. It keeps participants' database IDs and user IDs in memory
// only while it waits for their next step; none becomes a label.
type lobbyTimes struct {
	m     *metrics.Metrics
	clock clockwork.Clock

	mu sync.Mutex
	// knocked: participant ID -> when they started waiting.
	knocked map[int64]time.Time
	// admitted: session ID and user ID -> when they were let in, until their call connects.
	admitted map[[2]string]time.Time
	// seen: participant ID -> the admission already timed, so that later changes (or a
	// reconnection) do not time it again.
	seen map[int64]time.Time
}

func newLobbyTimes(m *metrics.Metrics, clock clockwork.Clock) *lobbyTimes {
	return &lobbyTimes{m: m, clock: clock, knocked: map[int64]time.Time{}, admitted: map[[2]string]time.Time{}, seen: map[int64]time.Time{}}
}

// LobbyChanged sees each participant's state after a change of the session.
func (l *lobbyTimes) LobbyChanged(s *bridge.Session, ps []*bridge.Participant) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, p := range ps {
		key := [2]string{s.ID, p.MatrixID}
		switch {
		case s.Over():
			l.forget(p.ID, key)
		case p.State == bridge.StateWaiting:
			if _, ok := l.knocked[p.ID]; !ok {
				l.knocked[p.ID] = p.UpdatedAt // the knock's time, as the lobby recorded it
			}
			delete(l.admitted, key)
			delete(l.seen, p.ID)
		case p.State == bridge.StateAdmitted || p.State == bridge.StateInSession:
			if p.AdmittedAt.IsZero() || l.seen[p.ID].Equal(p.AdmittedAt) {
				continue
			}
			l.seen[p.ID] = p.AdmittedAt
			// A knock let in by the same operation (auto-admission) was not seen waiting: it
			// waited for nobody and is not timed.
			if since, ok := l.knocked[p.ID]; ok {
				l.m.KnockToAdmit(p.AdmittedAt.Sub(since))
				delete(l.knocked, p.ID)
			}
			if p.MatrixID != "" {
				l.admitted[key] = p.AdmittedAt
			}
		default:
			l.forget(p.ID, key)
		}
	}
}

func (l *lobbyTimes) forget(participant int64, key [2]string) {
	delete(l.knocked, participant)
	delete(l.admitted, key)
	delete(l.seen, participant)
}

// presence wraps the SFU's presence hook: a participant's call connecting ends the wait that
// started with their admission.
func (l *lobbyTimes) presence(next func(sessionID, userID string, host, present bool)) func(sessionID, userID string, host, present bool) {
	return func(sessionID, userID string, host, present bool) {
		if present && !host {
			key := [2]string{sessionID, userID}
			l.mu.Lock()
			at, ok := l.admitted[key]
			delete(l.admitted, key)
			l.mu.Unlock()
			if ok {
				l.m.AdmitToCall(l.clock.Since(at))
			}
		}
		next(sessionID, userID, host, present)
	}
}

// countedOutbox is the outbox as the notifier uses it, counting what it claims and the
// outcomes it records.
type countedOutbox struct {
	scheduler.Outbox
	m *metrics.Metrics
}

func (o countedOutbox) ClaimDue(ctx context.Context, now time.Time, limit int) ([]*bridge.Notification, error) {
	ns, err := o.Outbox.ClaimDue(ctx, now, limit)
	for _, n := range ns {
		o.m.NotificationTaken(string(n.Channel), now.Sub(n.Due))
	}
	return ns, err
}

func (o countedOutbox) Update(ctx context.Context, n *bridge.Notification) error {
	if err := o.Outbox.Update(ctx, n); err != nil {
		return err
	}
	switch n.Status {
	case bridge.NotificationSent:
		o.m.NotificationDone(string(n.Channel), metrics.Sent, "")
	case bridge.NotificationFailed:
		o.m.NotificationDone(string(n.Channel), metrics.Failed, failureCode(n.LastError))
	case bridge.NotificationSkipped:
		o.m.NotificationDone(string(n.Channel), metrics.Skipped, skipCode(n.LastError))
	}
	return nil
}

// skipCode and failureCode turn the outbox's reasons, written for the clinician, into the
// fixed codes of the metrics' reason label (docs/operations.md). A provider's own text may
// quote the number or the address: it never becomes a label.
func skipCode(reason string) string {
	switch {
	case strings.Contains(reason, "opted out"):
		return "opted_out"
	case strings.Contains(reason, "quiet hours"):
		return "quiet_hours"
	case strings.Contains(reason, "has not configured"):
		return "channel_not_configured"
	case strings.Contains(reason, "has no "):
		return "no_contact"
	}
	return "other"
}

func failureCode(reason string) string {
	switch {
	case strings.HasPrefix(reason, "the carrier reported"):
		return "undelivered"
	case strings.HasPrefix(reason, "not delivered"):
		return "expired"
	case strings.HasPrefix(reason, "the session"):
		return "session_over"
	}
	return "provider"
}
