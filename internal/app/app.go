// Package app wires the bridge together from its configuration: database, session domain,
// Matrix side, scheduler and, as they arrive, the SFU and the web pages. cmd/telehealth-bridge
// and the demo both run it.
package app

import (
	"context"
	"fmt"
	"net"
	"strconv"

	"github.com/go-co-op/gocron/v2"
	"github.com/jonboulle/clockwork"
	"github.com/rs/zerolog"
	"go.mau.fi/util/dbutil"

	"github.com/telehealth-bridge/telehealth-bridge/appservice"
	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"github.com/telehealth-bridge/telehealth-bridge/config"
	"github.com/telehealth-bridge/telehealth-bridge/database"
	"github.com/telehealth-bridge/telehealth-bridge/internal/metrics"
	"github.com/telehealth-bridge/telehealth-bridge/media"
	"github.com/telehealth-bridge/telehealth-bridge/media/livekit"
	"github.com/telehealth-bridge/telehealth-bridge/scheduler"
	"github.com/telehealth-bridge/telehealth-bridge/stripepay"
	"github.com/telehealth-bridge/telehealth-bridge/web"
)

// App is a running bridge.
// The client records are the portal sign-in's directory.
var _ web.ClientDirectory = (*database.ClientQuery)(nil)

// The client records also say which portals the clinic closed.
var _ web.PortalGate = (*database.ClientQuery)(nil)

type App struct {
	Config    *config.Config
	Log       zerolog.Logger
	Clock     clockwork.Clock
	DB        *database.Database
	Sessions  *bridge.Service
	Matrix    *appservice.Connector
	Scheduler *scheduler.Scheduler
	Notifier  *scheduler.Notifier
	Web       *web.Server
	Calls     *media.Server
	// LiveKit is the LiveKit backend (media.backend: livekit), nil with the embedded SFU only.
	LiveKit *livekit.Backend
	Metrics *metrics.Metrics
}

// Options change how the bridge runs, for tests.
type Options struct {
	// Clock is the bridge's time; the real clock if nil.
	Clock clockwork.Clock
	// Version and Commit are the running build's, for the metrics.
	Version, Commit string
}

// New opens the database and prepares every part; nothing is served yet.
func New(ctx context.Context, cfg *config.Config, log zerolog.Logger, opts Options) (*App, error) {
	if err := cfg.CheckTokens(); err != nil {
		return nil, err
	}
	clock := opts.Clock
	if clock == nil {
		clock = clockwork.NewRealClock()
	}
	db, err := database.Open(ctx, database.Config{
		Type:         cfg.Database.Type,
		URI:          cfg.Database.URI,
		MaxOpenConns: cfg.Database.MaxOpenConns,
		MaxIdleConns: cfg.Database.MaxIdleConns,
	}, log.With().Str("component", "database").Logger())
	if err != nil {
		return nil, err
	}
	window := bridge.Window{OpensBefore: cfg.Lobby.OpensBefore, ClosesAfter: cfg.Lobby.ClosesAfter}
	if problems := cfg.TelephoneProblems(); len(problems) > 0 {
		log.Warn().Strs("missing", problems).Msg("Telephone sessions: the bridge cannot place calls; clinicians call their clients from their own phones")
	}
	matrix, err := appservice.New(cfg, db, log, clock, window)
	if err != nil {
		_ = db.Close()
		return nil, err
	}
	meters := newMetrics(db, clock, opts, log)
	matrix.Middleware = meters.MatrixTransactions
	matrix.KnockTimer = meters.KnockHandled
	notifier, sms, err := newNotifier(cfg, db, countedOutbox{db.Outbox, meters}, clock, window, log)
	if err != nil {
		_ = db.Close()
		return nil, err
	}
	var cronOpts []gocron.SchedulerOption
	if db.Dialect == dbutil.Postgres {
		// Several instances may share PostgreSQL: only the one holding the lock runs jobs.
		cronOpts = append(cronOpts, gocron.WithDistributedElector(scheduler.NewElector(db.RawDB, scheduler.ElectorKey, notifier.Elected)))
	}
	sched, err := scheduler.New(clock, window, log, cronOpts...)
	if err != nil {
		_ = db.Close()
		return nil, err
	}
	sched.Notify(notifier)
	sched.PruneWith(db)
	sessions := bridge.New(bridge.Options{
		Store: db.Store(), Clock: clock, Window: window, Bot: matrix.Bot().String(),
		IsAdmin: cfg.IsAdmin,
		Audit:   db.Audit,
		Clients: db.Store(),
		// What clients may change in their sessions from the portal.
		ClientChanges: &bridge.ClientChangePolicy{Allowed: cfg.Portal.ClientCancel, Notice: cfg.Portal.CancelNotice},
		Forms:         db.Store(),
		Documents:     db.Store(),
	})
	sessions.UseClinicians(cfg.IsClinician) // they see the prospects
	sfu, err := media.New(media.Config{
		ListenIP: cfg.Media.ListenIP, UDPPort: cfg.Media.UDPPort, PublicIP: cfg.Media.PublicIP,
		CredentialTTL: cfg.Media.CredentialTTL,
		Signalling:    media.SignallingConfig{AnswerTimeout: cfg.Media.Signalling.AnswerTimeout, MessageRate: cfg.Media.Signalling.MessageRate},
		TURN: media.TURNConfig{
			Enabled: cfg.Media.TURN.Enabled, ListenIP: cfg.Media.TURN.ListenIP, PublicIP: cfg.Media.TURN.PublicIP,
			UDPPort: cfg.Media.TURN.UDPPort, TCPPort: cfg.Media.TURN.TCPPort, Realm: cfg.Media.TURN.Realm,
			Secret: cfg.Media.TURN.Secret, TTL: cfg.Media.TURN.TTL, SessionGrace: cfg.Media.TURN.SessionGrace,
		},
	}, []byte(cfg.Media.CredentialSecret), clock, log)
	if err != nil {
		_ = db.Close()
		return nil, err
	}
	// With LiveKit, removal and the end act on both: the embedded SFU still serves the call
	// page, and LiveKit serves Element Call (and the page once it speaks LiveKit).
	var endCalls bridge.Calls = sfu
	var lk *livekit.Backend
	if cfg.Media.Backend == config.MediaLiveKit {
		lk, err = livekit.New(livekit.Config{URL: cfg.Media.LiveKit.URL, APIKey: cfg.Media.LiveKit.APIKey, APISecret: cfg.Media.LiveKit.APISecret},
			log.With().Str("component", "livekit").Logger())
		if err != nil {
			_ = sfu.Close()
			_ = db.Close()
			return nil, fmt.Errorf("setting up the LiveKit backend: %w", err)
		}
		lk.UseRooms(sessionRooms{sessions})
		endCalls = allCalls{sfu, lk}
		log.Info().Str("url", cfg.Media.LiveKit.URL).Msg("Calls go through LiveKit too; the bridge is its token service")
	}
	sessions.Use(matrix, matrix, sched, endCalls)
	matrix.SetService(sessions)
	callGlue := calls{sfu: sfu, svc: sessions, window: window, log: log.With().Str("component", "calls").Logger(), isGhost: matrix.IsGhost}
	lobbyClock := newLobbyTimes(meters, clock)
	stats := sfuStats{sfu: sfu, lk: lk}
	if addr, ok := sfu.UDPAddr().(*net.UDPAddr); ok {
		stats.drops = &metrics.UDPDrops{Port: addr.Port}
	}
	meters.UseSFU(stats)
	presence := lobbyClock.presence(callGlue.presence)
	var merged *presenceMerge
	if lk != nil {
		// Presence comes from both backends: passed on when it changes overall.
		merged = newPresenceMerge(presence)
		presence = merged.fromSFU
	}
	sfu.SetHooks(media.Hooks{Admitted: callGlue.admitted, Waiting: callGlue.waiting, Host: callGlue, Lobby: callGlue.lobby, Presence: presence})
	sessions.Watch(callGlue)
	sessions.Watch(lobbyClock)
	sched.Use(sessions, db.Store())
	pages := web.New(web.Config{
		PublicURL:      cfg.Web.PublicURL,
		Listen:         net.JoinHostPort(cfg.Web.Hostname, strconv.Itoa(int(cfg.Web.Port))),
		SigningKey:     []byte(cfg.Web.SigningKey),
		LinkGrace:      cfg.Web.LinkGrace,
		PanelIdle:      cfg.Web.PanelIdle,
		IsClinician:    cfg.IsClinician,
		TrustedProxies: cfg.Web.TrustedProxyPrefixes(),
		ElementOrigins: cfg.Web.ElementOrigins,
		ClinicName:     cfg.Notify.ClinicName,
		ClinicPhone:    cfg.Notify.ClinicPhone,
		ClinicTimeZone: cfg.Notify.ClinicTimeZone,
		PortalIdle:     cfg.Portal.Idle,
		PortalMaxAge:   cfg.Portal.MaxAge,

		EnrolOnFirstBooking: cfg.Portal.EnrolOnFirstBooking,
		PortalSignUp:        cfg.Portal.SignUp,
		Middleware:          meters.HTTP,
		DocumentMaxSize:     cfg.Documents.MaxSize,
	}, db, sessions, clock, log)
	pages.KnockTimer = meters.KnockHandled
	pages.Use(matrix, callGlue, sfu, appservice.NewOpenIDVerifier(cfg.Homeserver.Address, cfg.Homeserver.Domain,
		net.JoinHostPort(cfg.Web.Hostname, strconv.Itoa(int(cfg.Web.Port))),
		net.JoinHostPort(cfg.AppService.Hostname, strconv.Itoa(int(cfg.AppService.Port)))))
	if lk != nil {
		pages.UseLiveKit(lk)
		// Web guests' call pages shown in Element Call: their ghost's call.member while
		// connected, naming the bridge's token service as the focus.
		lk.UseMemberships(matrix, cfg.Web.PublicURL+"/livekit/jwt")
		// The LiveKit server's webhooks (its webhook.urls): whoever connects without being
		// let in is taken out; the others' presence (the clinician's starts the session and
		// drives automatic admission) joins the SFU's.
		lk.UseAdmission(callGlue.admittedInRoom) // a hang-up leaves alone someone let back in
		pages.Mount("/livekit/webhook", lk.WebhookHandler(livekit.WebhookHooks{
			Admitted: callGlue.admittedInRoom,
			Presence: func(roomID, userID, identity string, present bool) {
				s, err := sessions.SessionByRoom(context.Background(), roomID)
				if err != nil {
					log.Err(err).Msg("Failed to find the session of a LiveKit room")
					return
				}
				merged.fromLiveKit(s.ID, userID, identity, userID == s.Clinician, present)
			},
		}))
	}
	matrix.SetWebLinks(pages)
	pages.UseChat(matrix) // the in-call chat: the session room's thread on the call pages
	matrix.SetChatWatcher(pages)
	// The clients' Messages threads: the portal's and the panel's, their rooms following the
	// records, and the unread notice.
	pages.UseThreads(matrix)
	pages.UseDocuments(matrix) // files shared in the Messages rooms, and the clinic's templates
	matrix.SetMessagesWatcher(pages)
	sessions.UseMessagesRooms(matrix)
	notifier.UseMessageNotices(db.MessageThread, db.Store(), cfg.Web.PublicURL+"/portal#messages", cfg.Portal.MessageNoticeAfter)
	pages.UseNames(matrix)
	pages.UseAvatars(matrix) // professionals' pictures in the portal
	notifier.Use(pages, clinicDesk{Connector: matrix, panel: pages})
	notifier.UseMatrix(matrix)
	// Reminders follow the clients' choices in the portal's Settings.
	notifier.UseReminderPreferences(clientReminders{db})
	pages.UsePortal(db.Client, notifier.PortalCodes()) // the client portal's sign-in, on the client records
	// The panel's "Enable the portal" and first bookings send the enrolment on the same channels.
	pages.UseEnrolment(notifier.PortalCodes())
	sessions.WatchBookings(pages)
	if sms != nil {
		pages.Mount("/sms/", sms.Webhooks(notifier, cfg.Web.PublicURL))
	}
	sessions.WatchCalls(callDesk{matrix, pages})
	sessions.UseTexter(notifier)
	sessions.UseFormNotifier(notifier)
	sessions.UseFormRoom(matrix)          // submitted forms' summaries and events, in the client's Messages room
	sessions.UsePaymentNotifier(notifier) // "something to complete before your session", with the session page's link
	if err := usePayments(cfg, db, sessions, pages); err != nil {
		_ = db.Close()
		return nil, err
	}
	if len(cfg.TelephoneProblems()) == 0 {
		voice, err := scheduler.NewVoice(scheduler.VoiceConfig{
			AccountSID: cfg.Notify.SMS.AccountSID, AuthToken: cfg.Notify.SMS.AuthToken, CallerID: cfg.Notify.ClinicPhone,
			PublicURL: cfg.Web.PublicURL, APIURL: cfg.Notify.SMS.APIURL, RingTimeout: cfg.Telephone.RingTimeout,
			Language: cfg.Telephone.Language,
		}, log)
		if err != nil {
			_ = db.Close()
			return nil, err
		}
		sessions.UseTelephone(voice, func(userID string) string { return cfg.Telephone.Clinicians[userID] })
		pages.Mount("/voice/", voice.Webhooks(sessions))
	}
	return &App{Config: cfg, Log: log, Clock: clock, DB: db, Sessions: sessions, Matrix: matrix, Scheduler: sched,
		Notifier: notifier, Web: pages, Calls: sfu, LiveKit: lk, Metrics: meters}, nil
}

// Start connects to the homeserver, plans the sessions' timed work, catches up with what
// happened in their rooms while the bridge was down, and starts serving.
func (a *App) Start(ctx context.Context) error {
	if a.Config.Metrics.Enabled {
		if err := a.Metrics.Start(a.Config.Metrics.Listen); err != nil {
			return err
		}
	}
	if err := a.Matrix.Start(ctx); err != nil {
		return fmt.Errorf("starting the Matrix side: %w", err)
	}
	if err := a.Scheduler.Start(ctx); err != nil {
		return fmt.Errorf("starting the scheduler: %w", err)
	}
	if err := a.Matrix.Reconcile(ctx); err != nil {
		return fmt.Errorf("reconciling sessions with their rooms: %w", err)
	}
	// Checkouts paid or expired while the bridge was down (their webhook missed) are applied.
	if err := a.Sessions.ReconcilePayments(ctx); err != nil {
		zerolog.Ctx(ctx).Err(err).Msg("Failed to reconcile some payments with Stripe; they are asked again at the next start or Pay")
	}
	// Forms submitted while the homeserver could not take their notices get them now.
	if n, err := a.Sessions.SendPendingFormNotices(ctx); err != nil {
		zerolog.Ctx(ctx).Err(err).Int("left", n).Msg("Failed to post the waiting notices of submitted forms")
	}
	return a.Web.Start()
}

// Stop stops serving, lets running handlers finish and closes the database.
func (a *App) Stop(ctx context.Context) {
	a.Metrics.Stop(ctx)
	a.Web.Stop(ctx)
	_ = a.Calls.Close()
	if a.LiveKit != nil {
		_ = a.LiveKit.Close() // removals under way finish first
	}
	_ = a.Scheduler.Stop()
	a.Sessions.Close() // the lifecycle events still queued go out before the Matrix side stops
	a.Matrix.Stop(ctx)
	_ = a.DB.Close()
}

// usePayments connects payment before the session: the price list and payments always (the
// clinic's own billing marks them paid), Stripe Checkout and its webhook when configured.
func usePayments(cfg *config.Config, db *database.Database, sessions *bridge.Service, pages *web.Server) error {
	always, never, before, err := cfg.Payments.RefundBefore()
	if err != nil {
		return fmt.Errorf("payments.refund: %w", err)
	}
	opts := bridge.PaymentOptions{Store: db.Store(), BlockAdmission: cfg.Payments.BlockAdmission}
	if !never {
		opts.Refund = bridge.RefundPolicy{Always: always, Before: before}
	}
	if cfg.Payments.Provider == "stripe" {
		provider := stripepay.New(stripepay.Config{SecretKey: cfg.Payments.Stripe.SecretKey, WebhookSecret: cfg.Payments.Stripe.WebhookSecret,
			APIURL: cfg.Payments.Stripe.APIURL})
		opts.Provider = provider
		pages.UseStripe(provider)
	}
	sessions.UsePayments(opts)
	return nil
}
