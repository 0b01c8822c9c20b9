package metrics

import (
	"context"
	"maps"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(prometheus.BuildFQName(Namespace, "", name), help, labels, nil)
}

// The metrics read at each scrape: from the database (what it holds is the truth, whichever
// instance changed it) and from the SFU.
var (
	sessionsDesc     = desc("sessions", "Sessions in the database, by status.", "status")
	waitingDesc      = desc("lobby_waiting", "People in waiting rooms of sessions not over.")
	longestWaitDesc  = desc("lobby_longest_wait_seconds", "How long the person waiting longest has been waiting (0 when nobody waits).")
	outboxDueDesc    = desc("outbox_due", "Pending notifications already due, by channel.", "channel")
	outboxOldestDesc = desc("outbox_oldest_due_seconds", "How long the oldest pending notification has been due (0 when none is).")
	callsDesc        = desc("sfu_calls", "Calls with at least one connection on the SFU (connection checks included).")
	peersDesc        = desc("sfu_peers", "Open call connections on the SFU.")
	tracksDesc       = desc("sfu_tracks", "Tracks published in calls on the SFU.")
	turnDesc         = desc("turn_allocations", "TURN relay allocations held.")
	droppedDesc      = desc("sfu_packets_dropped_total", "Packets lost before forwarding, by reason.", "reason")
	packetsInDesc    = desc("sfu_packets_received_total", "RTP packets the SFU received from publishers.")
	bytesInDesc      = desc("sfu_bytes_received_total", "RTP bytes the SFU received from publishers.")
	packetsOutDesc   = desc("sfu_packets_sent_total", "RTP packets the SFU forwarded to subscribers.")
	bytesOutDesc     = desc("sfu_bytes_sent_total", "RTP bytes the SFU forwarded to subscribers.")
	nacksDesc        = desc("sfu_nacks_total", "NACKs (retransmission requests) the SFU received from subscribers.")
	plisDesc         = desc("sfu_plis_total", "Keyframe requests (PLI) the SFU sent to publishers.")
	overflowDesc     = desc("sfu_send_queue_overflows_total", "Call connections closed because their send queue was full.")
	stuckDesc        = desc("sfu_stuck_connections_total", "Call connections closed because they kept shedding incoming packets (their reader stopped keeping up).")
	directFailDesc   = desc("sfu_direct_socket_failures_total", "Call connections whose own socket on the ICE UDP port could not be opened: their packets go through the shared socket.")
)

// age is how long ago t was, 0 for a zero t.
func age(now, t time.Time) float64 {
	if t.IsZero() {
		return 0
	}
	return nonNegative(now.Sub(t))
}

// scrape collects the metrics read at scrape time.
type scrape struct{ m *Metrics }

func (s *scrape) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{sessionsDesc, waitingDesc, longestWaitDesc, outboxDueDesc, outboxOldestDesc, callsDesc, peersDesc,
		tracksDesc, turnDesc, droppedDesc, packetsInDesc, bytesInDesc, packetsOutDesc, bytesOutDesc, nacksDesc, plisDesc, overflowDesc, stuckDesc, directFailDesc} {
		ch <- d
	}
}

func (s *scrape) Collect(ch chan<- prometheus.Metric) {
	opts := s.m.opts
	ctx, cancel := context.WithTimeout(context.Background(), opts.ScrapeTimeout)
	defer cancel()
	if opts.Store != nil {
		if counts, err := opts.Store.SessionsByStatus(ctx); err != nil {
			ch <- prometheus.NewInvalidMetric(sessionsDesc, err)
		} else {
			for _, status := range slices.Sorted(maps.Keys(counts)) {
				ch <- prometheus.MustNewConstMetric(sessionsDesc, prometheus.GaugeValue, float64(counts[status]), status)
			}
		}
		now := opts.Now()
		if n, since, err := opts.Store.ParticipantsWaiting(ctx); err != nil {
			ch <- prometheus.NewInvalidMetric(waitingDesc, err)
		} else {
			ch <- prometheus.MustNewConstMetric(waitingDesc, prometheus.GaugeValue, float64(n))
			ch <- prometheus.MustNewConstMetric(longestWaitDesc, prometheus.GaugeValue, age(now, since))
		}
		if due, oldest, err := opts.Store.OutboxDue(ctx, now); err != nil {
			ch <- prometheus.NewInvalidMetric(outboxDueDesc, err)
		} else {
			for _, channel := range slices.Sorted(maps.Keys(due)) {
				ch <- prometheus.MustNewConstMetric(outboxDueDesc, prometheus.GaugeValue, float64(due[channel]), channel)
			}
			ch <- prometheus.MustNewConstMetric(outboxOldestDesc, prometheus.GaugeValue, age(now, oldest))
		}
	}
	if opts.SFU == nil {
		return
	}
	st := opts.SFU.Stats()
	gauge := func(d *prometheus.Desc, v int) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, float64(v))
	}
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	gauge(callsDesc, st.Calls)
	gauge(peersDesc, st.Peers)
	gauge(tracksDesc, st.Tracks)
	gauge(turnDesc, st.TURNAllocations)
	for _, reason := range slices.Sorted(maps.Keys(st.Dropped)) {
		counter(droppedDesc, st.Dropped[reason], reason)
	}
	if f := st.Forwarding; f != nil {
		counter(packetsInDesc, f.PacketsIn)
		counter(bytesInDesc, f.BytesIn)
		counter(packetsOutDesc, f.PacketsOut)
		counter(bytesOutDesc, f.BytesOut)
		counter(nacksDesc, f.NACKs)
		counter(plisDesc, f.PLIs)
		counter(overflowDesc, f.SendQueueOverflows)
		counter(stuckDesc, f.StuckConnections)
		counter(directFailDesc, f.DirectSocketFailures)
	}
}
