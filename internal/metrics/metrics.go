// Package metrics exposes what an operator watches of a running bridge as Prometheus metrics,
// on a listener of their own (metrics.listen), never on the public web server. Everything is
// registered on the bridge's own registry: no global collectors, so tests and a second bridge
// in one process do not share counts.
//
// Labels are bounded sets (a session status, a channel, a reason code, a route pattern):
// never a user, a session, a room or anything a person typed. docs/operations.md describes
// each metric.
package metrics

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"regexp"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/rs/zerolog"
)

// Namespace starts every metric name of the bridge.
const Namespace = "telehealth"

// Store counts what the database holds, at each scrape.
type Store interface {
	// SessionsByStatus counts the sessions of each status, every status present (0 for none).
	SessionsByStatus(ctx context.Context) (map[string]int, error)
	// ParticipantsWaiting counts the people in waiting rooms of sessions not over, and gives
	// when the one waiting longest started (zero when nobody waits).
	ParticipantsWaiting(ctx context.Context) (int, time.Time, error)
	// OutboxDue counts the pending notifications due at now per channel (every channel
	// present), and gives the due time of the oldest (zero when none is due).
	OutboxDue(ctx context.Context, now time.Time) (map[string]int, time.Time, error)
}

// SFU gives a snapshot of the media server, at each scrape.
type SFU interface {
	Stats() SFUStats
}

// SFUStats is what the SFU reports of itself.
type SFUStats struct {
	Calls, Peers, Tracks int
	TURNAllocations      int
	// Dropped counts packets lost before forwarding, by reason (e.g. "socket_buffer": the
	// kernel's receive buffer of the shared UDP port was full). Reasons nobody counts are absent.
	Dropped map[string]uint64
	// Forwarding is nil while the SFU does not count what it forwards: its metrics are then
	// not exported rather than exported as zeros.
	Forwarding *Forwarding
}

// Forwarding are the SFU's packet counters since it started.
type Forwarding struct {
	PacketsIn, BytesIn, PacketsOut, BytesOut uint64
	NACKs, PLIs                              uint64
	SendQueueOverflows                       uint64
	StuckConnections                         uint64
	DirectSocketFailures                     uint64
}

// Options are what the metrics read and how.
type Options struct {
	Store Store
	// SFU may be nil (no media server).
	SFU SFU
	// Now is the bridge's clock (a fake one in tests); time.Now if nil.
	Now func() time.Time
	// Version and Commit label telehealth_build_info.
	Version, Commit string
	// ScrapeTimeout bounds the database queries of one scrape; 5 seconds if zero.
	ScrapeTimeout time.Duration
	Log           zerolog.Logger
}

// Metrics is the bridge's registry and the instruments the other parts record into.
type Metrics struct {
	opts Options
	reg  *prometheus.Registry
	log  zerolog.Logger

	knockToAdmit prometheus.Histogram
	admitToCall  prometheus.Histogram
	outboxSent   *prometheus.CounterVec
	outboxFailed *prometheus.CounterVec
	outboxSkip   *prometheus.CounterVec
	outboxLag    *prometheus.HistogramVec
	matrixTxn    *prometheus.HistogramVec
	knockStages  *prometheus.HistogramVec
	httpDuration *prometheus.HistogramVec

	// collectors are what reg holds, for Names.
	collectors []prometheus.Collector

	server *http.Server
	addr   net.Addr
}

// New builds the registry with the bridge's metrics, the Go runtime's and the process's.
func New(opts Options) *Metrics {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.ScrapeTimeout == 0 {
		opts.ScrapeTimeout = 5 * time.Second
	}
	m := &Metrics{opts: opts, reg: prometheus.NewRegistry(), log: opts.Log.With().Str("component", "metrics").Logger()}
	m.knockToAdmit = prometheus.NewHistogram(prometheus.HistogramOpts{
		Namespace: Namespace, Name: "lobby_knock_to_admit_seconds",
		Help:    "Time from a participant's knock to their admission by the clinician.",
		Buckets: []float64{5, 15, 30, 60, 120, 300, 600, 900, 1800, 3600},
	})
	m.admitToCall = prometheus.NewHistogram(prometheus.HistogramOpts{
		Namespace: Namespace, Name: "lobby_admit_to_call_seconds",
		Help:    "Time from a participant's admission to their call connection being open on the SFU.",
		Buckets: []float64{0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300},
	})
	m.outboxSent = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "outbox_sent_total",
		Help: "Notifications the provider accepted, by channel.",
	}, []string{"channel"})
	m.outboxFailed = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "outbox_failed_total",
		Help: "Notifications given up on, by channel and reason code.",
	}, []string{"channel", "reason"})
	m.outboxSkip = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "outbox_skipped_total",
		Help: "Notifications not sent on purpose, by channel and reason code.",
	}, []string{"channel", "reason"})
	m.outboxLag = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: Namespace, Name: "outbox_lag_seconds",
		Help:    "Time from a notification's due time to the sender taking it, by channel.",
		Buckets: []float64{0.1, 0.5, 1, 5, 15, 30, 60, 300, 900, 3600},
	}, []string{"channel"})
	m.matrixTxn = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: Namespace, Name: "matrix_transaction_duration_seconds",
		Help:    "Time to handle a transaction the homeserver pushed, by status code class.",
		Buckets: prometheus.DefBuckets,
	}, []string{"code"})
	m.knockStages = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: Namespace, Name: "knock_handling_seconds",
		Help: "The bridge's own share of a knock, by stage: matrix_stored (a Matrix knock event taken from the homeserver's transaction to the waiting state stored), " +
			"web_stored (a guest's knock request received to the homeserver having taken the ghost's knock and the waiting state stored), web_answered (the same request to its answer).",
		Buckets: []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10},
	}, []string{"stage"})
	for _, stage := range KnockStages {
		m.knockStages.WithLabelValues(stage)
	}
	m.httpDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: Namespace, Name: "http_request_duration_seconds",
		Help:    "Time to answer a request of the public web server, by route pattern, method and status code class.",
		Buckets: []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60},
	}, []string{"route", "method", "code"})
	for _, ch := range []string{"sms", "email", "matrix"} {
		// Present from the start, so that rate() and alerts see a 0 before the first send.
		m.outboxSent.WithLabelValues(ch)
	}
	build := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: Namespace, Name: "build_info",
		Help: "Always 1; its labels are the running version and commit.",
	}, []string{"version", "commit"})
	build.WithLabelValues(opts.Version, opts.Commit).Set(1)
	m.collectors = []prometheus.Collector{
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		build, m.knockToAdmit, m.admitToCall, m.outboxSent, m.outboxFailed, m.outboxSkip, m.outboxLag,
		m.matrixTxn, m.knockStages, m.httpDuration, &scrape{m: m},
	}
	m.reg.MustRegister(m.collectors...)
	return m
}

// UseSFU connects the media server (before serving).
func (m *Metrics) UseSFU(sfu SFU) { m.opts.SFU = sfu }

// Names lists every metric the registry describes, exported now or once its source counts
// it (a histogram by its base name). The dashboard's test checks its queries against it.
func (m *Metrics) Names() []string {
	ch := make(chan *prometheus.Desc)
	go func() {
		for _, c := range m.collectors {
			c.Describe(ch)
		}
		close(ch)
	}()
	seen := map[string]bool{}
	for d := range ch {
		if name := descName.FindStringSubmatch(d.String()); name != nil {
			seen[name[1]] = true
		}
	}
	return slices.Sorted(maps.Keys(seen))
}

// descName reads a descriptor's name from its String form, the one place the library shows it.
var descName = regexp.MustCompile(`fqName: "([^"]+)"`)

// Registry is the bridge's registry (tests gather from it).
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the metrics in Prometheus' text format. A failed database count is reported
// as such, with the rest of the metrics still served.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		ErrorHandling: promhttp.ContinueOnError, ErrorLog: promLogger{m.log},
		MaxRequestsInFlight: 4, Timeout: 2 * m.opts.ScrapeTimeout,
	})
}

// Start serves /metrics on addr (metrics.listen) until Stop.
func (m *Metrics) Start(addr string) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listening for metrics on %s (metrics.listen): %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler())
	m.addr = l.Addr()
	m.server = &http.Server{
		Handler: mux, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 10 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 16 << 10,
	}
	go func() {
		if err := m.server.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			m.log.Err(err).Msg("Metrics listener failed")
		}
	}()
	m.log.Info().Str("address", l.Addr().String()).Msg("Serving metrics")
	return nil
}

// Addr is where Start listens (nil before).
func (m *Metrics) Addr() net.Addr { return m.addr }

// Stop stops the metrics listener, if it runs.
func (m *Metrics) Stop(ctx context.Context) {
	if m.server != nil {
		_ = m.server.Shutdown(ctx)
	}
}

// KnockToAdmit records how long someone waited before the clinician let them in.
func (m *Metrics) KnockToAdmit(d time.Duration) { m.knockToAdmit.Observe(nonNegative(d)) }

// KnockStages are the stages of telehealth_knock_handling_seconds.
var KnockStages = []string{"matrix_stored", "web_stored", "web_answered"}

// KnockHandled records how long the bridge took over one stage of a knock (KnockStages).
func (m *Metrics) KnockHandled(stage string, d time.Duration) {
	m.knockStages.WithLabelValues(stage).Observe(nonNegative(d))
}

// AdmitToCall records how long an admitted participant took to be connected to the call.
func (m *Metrics) AdmitToCall(d time.Duration) { m.admitToCall.Observe(nonNegative(d)) }

// Outcome is what became of a notification.
type Outcome string

const (
	Sent    Outcome = "sent"
	Failed  Outcome = "failed"
	Skipped Outcome = "skipped"
)

// NotificationDone counts a notification's outcome. reason is a code from a fixed set (see
// docs/operations.md), never a provider's text, which may quote the address.
func (m *Metrics) NotificationDone(channel string, outcome Outcome, reason string) {
	switch outcome {
	case Sent:
		m.outboxSent.WithLabelValues(channel).Inc()
	case Failed:
		m.outboxFailed.WithLabelValues(channel, reason).Inc()
	case Skipped:
		m.outboxSkip.WithLabelValues(channel, reason).Inc()
	}
}

// NotificationTaken records how late the sender took a notification after it fell due.
func (m *Metrics) NotificationTaken(channel string, lag time.Duration) {
	m.outboxLag.WithLabelValues(channel).Observe(nonNegative(lag))
}

func nonNegative(d time.Duration) float64 { return max(d, 0).Seconds() }

// promLogger passes promhttp's errors to zerolog.
type promLogger struct{ log zerolog.Logger }

func (l promLogger) Println(v ...any) { l.log.Warn().Msg(fmt.Sprint(v...)) }
