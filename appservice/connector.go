// Package appservice is the bridge's Matrix side: it serves the homeserver's transactions,
// checks the connection at start-up, handles each event once and in order per room, and runs
// the bot's commands. It is built on mautrix's plain appservice package.
package appservice

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/rs/zerolog"
	"go.mau.fi/util/dbutil"
	"maunium.net/go/mautrix"
	mxas "maunium.net/go/mautrix/appservice"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
	"maunium.net/go/mautrix/sqlstatestore"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"github.com/telehealth-bridge/telehealth-bridge/config"
	"github.com/telehealth-bridge/telehealth-bridge/database"
	"github.com/telehealth-bridge/telehealth-bridge/internal/keyed"
)

// Connector connects the bridge to the homeserver.
type Connector struct {
	cfg *config.Config
	log zerolog.Logger
	db  *database.Database

	// AS is mautrix's appservice: the transaction endpoint, intents and the state store.
	AS  *mxas.AppService
	bot *mxas.IntentAPI

	// RegistrationChecked says that the registration file was found and matches the config,
	// which narrows down what a refused as_token means.
	RegistrationChecked bool
	// Middleware, if set, wraps the homeserver's listener (the metrics' timing). Set it
	// before Start.
	Middleware func(http.Handler) http.Handler
	// KnockTimer, if set, hears how long a knock event took from the homeserver's transaction
	// to the waiting state stored (stage "matrix_stored"). Set it before Start.
	KnockTimer func(stage string, d time.Duration)
	// StartupTimeout bounds how long Start waits for the homeserver. Zero means one minute.
	StartupTimeout time.Duration

	svc       *bridge.Service
	links     WebLinks
	clock     clockwork.Clock
	window    bridge.Window
	commands  *commandProcessor
	queue     *dispatcher
	replies   *roomLimiter
	probes    probeSet
	published publishedState
	throttle  noticeThrottle
	controlMu sync.Mutex
	// chatWatcher hears of new messages in session rooms (the call pages' chat).
	chatWatcher ChatWatcher
	// messagesWatcher hears of new messages in the clients' Messages rooms; clientLocks make
	// one room and one ghost per client.
	messagesWatcher MessagesWatcher
	clientLocks     keyed.Locks[int64]
	// guests are the web participants' ghosts made ready ahead of their knocks; joins make one
	// join per admission; noKnock remembers that the homeserver has no /knock; ownKnocks are
	// the knocks the bridge applied itself, whose echoes change nothing (ghosts.go).
	guests    guestGhosts
	joins     ghostJoins
	joinCount atomic.Int64
	noKnock   atomic.Bool
	ownKnocks sync.Map

	server   *http.Server
	listener net.Listener
	ready    atomic.Bool
	stopOnce sync.Once
	stop     chan struct{}
	loopDone chan struct{}
}

var _ mxas.QueryHandler = (*Connector)(nil)

// New prepares the Matrix side. Nothing touches the network until Start. The clock is the
// bridge's (a fake one in tests); the window is the sessions' join window.
func New(cfg *config.Config, db *database.Database, log zerolog.Logger, clock clockwork.Clock, window bridge.Window) (*Connector, error) {
	stateDB := db.Child("telehealth_mx_version", sqlstatestore.UpgradeTable, dbutil.ZeroLogger(log.With().Str("db_section", "matrix_state").Logger()))
	as, err := mxas.CreateFull(mxas.CreateOpts{
		Registration:     cfg.Registration(),
		HomeserverDomain: cfg.Homeserver.Domain,
		HomeserverURL:    cfg.Homeserver.Address,
		HostConfig:       mxas.HostConfig{Hostname: cfg.AppService.Hostname, Port: cfg.AppService.Port},
		StateStore:       sqlstatestore.NewSQLStateStore(stateDB, dbutil.ZeroLogger(log), true),
	})
	if err != nil {
		return nil, fmt.Errorf("creating appservice: %w", err)
	}
	as.Log = log.With().Str("component", "matrix").Logger()
	as.UserAgent = "telehealth-bridge"
	as.HTTPClient.Transport = newRoomWrites(as.HTTPClient.Transport)
	c := &Connector{
		cfg:      cfg,
		log:      log.With().Str("component", "matrix").Logger(),
		db:       db,
		AS:       as,
		clock:    clock,
		window:   window,
		throttle: noticeThrottle{clock: clock, interval: NoticeInterval},
		replies:  newRoomLimiter(replyBurst, replyRate),
		stop:     make(chan struct{}),
		loopDone: make(chan struct{}),
	}
	as.QueryHandler = c
	c.bot = as.BotIntent()
	c.commands = newCommandProcessor(c)
	c.queue = newDispatcher(c.handleEvent)
	dropLog := c.log.Sample(&zerolog.BurstSampler{Burst: 5, Period: time.Minute})
	c.queue.dropped = func(evt *event.Event) {
		dropLog.Warn().Stringer("room_id", evt.RoomID).Stringer("sender", evt.Sender).
			Msg("Dropped an event from a flooded room")
	}
	return c, nil
}

// SetService connects the session domain, which calls back into the connector as its Rooms
// and Notifier.
func (c *Connector) SetService(svc *bridge.Service) { c.svc = svc }

// WebLinks makes one-time links to the bridge's web pages for the bot to send.
type WebLinks interface {
	// LoginLink signs a clinician in to the web panel.
	LoginLink(ctx context.Context, clinician string) (string, error)
	// JoinLink opens a session's call page for a Matrix user.
	JoinLink(ctx context.Context, userID, sessionID string) (string, error)
	// WidgetURL is the call page's address as a widget of a session's room.
	WidgetURL(sessionID string) string
}

// SetWebLinks connects the web pages.
func (c *Connector) SetWebLinks(links WebLinks) { c.links = links }

// Bot is the bot's user ID.
func (c *Connector) Bot() id.UserID { return c.bot.UserID }

// Start listens for the homeserver, checks the connection both ways, registers the bot and
// starts handling events. It fails with a message saying what to fix.
func (c *Connector) Start(ctx context.Context) error {
	if err := c.AS.StateStore.(*sqlstatestore.SQLStateStore).Upgrade(ctx); err != nil {
		return fmt.Errorf("upgrading the Matrix state store: %w", err)
	}
	// Listen before anything can cause the homeserver to send events: Dendrite blocks all later
	// deliveries while one is failing.
	addr := c.AS.Host.Address()
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listening for the homeserver on %s (appservice.hostname and appservice.port): %w", addr, err)
	}
	c.listener = l
	// Timeouts so that nothing (the homeserver, or anyone who reaches the port) holds a
	// connection open: a transaction is read within a minute, idle connections close.
	handler := c.handler()
	if c.Middleware != nil {
		handler = c.Middleware(handler)
	}
	c.server = &http.Server{
		Handler: handler, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute,
		WriteTimeout: time.Minute, IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 64 << 10,
	}
	go func() {
		if err := c.server.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			c.log.Error().Err(err).Msg("Appservice listener failed")
		}
	}()
	go c.readEvents()

	timeout := c.StartupTimeout
	if timeout == 0 {
		timeout = time.Minute
	}
	checkCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err = c.checkConnection(checkCtx); err != nil {
		return err
	}
	if err = c.bot.EnsureRegistered(ctx); err != nil {
		return fmt.Errorf("registering the bot %s: %w", c.bot.UserID, err)
	}
	c.setBotProfile(ctx)
	c.ready.Store(true)
	c.AS.Ready = true
	c.log.Info().Stringer("bot", c.bot.UserID).Msg("Connected to the homeserver")
	return nil
}

// Stop stops listening and waits for the handlers that are running.
func (c *Connector) Stop(ctx context.Context) {
	c.stopOnce.Do(func() {
		c.ready.Store(false)
		if c.server != nil {
			_ = c.server.Shutdown(ctx)
		}
		close(c.stop)
		if c.listener != nil {
			<-c.loopDone
		}
		c.queue.wait()
		c.throttle.close()
	})
}

// Ready reports whether the connector finished starting.
func (c *Connector) Ready() bool { return c.ready.Load() }

func (c *Connector) setBotProfile(ctx context.Context) {
	bot := c.cfg.AppService.Bot
	if bot.Displayname != "" {
		if err := c.bot.SetDisplayName(ctx, bot.Displayname); err != nil {
			c.log.Warn().Err(err).Msg("Failed to set the bot's display name")
		}
	}
	if bot.Avatar != "" {
		if uri, err := id.ParseContentURI(bot.Avatar); err != nil {
			c.log.Warn().Err(err).Msg("appservice.bot.avatar is not an mxc:// URI")
		} else if err = c.bot.SetAvatarURL(ctx, uri); err != nil {
			c.log.Warn().Err(err).Msg("Failed to set the bot's avatar")
		}
	}
}

// QueryAlias answers the homeserver's question about an alias in the bridge's namespace. The
// bridge owns no aliases; a question about a probe alias proves the homeserver reaches it.
func (c *Connector) QueryAlias(alias id.RoomAlias) bool {
	c.probes.seen(alias.String())
	return false
}

// QueryUser answers for users in the bridge's namespace: ghosts exist only once created.
func (c *Connector) QueryUser(id.UserID) bool { return false }

// readEvents moves events from mautrix's channel into the per-room queues.
func (c *Connector) readEvents() {
	defer close(c.loopDone)
	for {
		select {
		case evt := <-c.AS.Events:
			if evt.Mautrix.ReceivedAt.IsZero() {
				evt.Mautrix.ReceivedAt = time.Now() // for the knock's timing: real time, not the bridge's clock
			}
			c.queue.push(evt)
		case <-c.stop:
			return
		}
	}
}

// handleEvent handles one event, once: redelivered events are skipped.
func (c *Connector) handleEvent(evt *event.Event) {
	log := c.log.With().
		Stringer("event_id", evt.ID).
		Stringer("room_id", evt.RoomID).
		Str("event_type", evt.Type.Type).
		Logger()
	ctx := bridge.WithAuditVia(log.WithContext(context.Background()), "matrix")
	if evt.Type == event.EventMessage {
		// Every message, the bot's relays included, is news for the call pages' chat.
		c.chatMessageArrived(ctx, evt)
		// A client's Messages room: its messages are counted, once, and are never commands.
		if c.threadMessage(ctx, evt) {
			return
		}
	}
	// The bot's own events come back too; only its membership changes matter (an invite it
	// sent a guest's ghost is the guest's admission).
	if evt.Sender == c.bot.UserID && evt.Type != event.StateMember {
		return
	}
	// Handled events are remembered for a week (database.HandledEventRetention): an older one
	// delivered again could not be recognised, so it is dropped rather than acted on twice. The
	// state it changed is read from the homeserver at start anyway.
	if evt.Timestamp > 0 && time.Since(time.UnixMilli(evt.Timestamp)) > database.HandledEventRetention-time.Hour {
		log.Warn().Time("sent", time.UnixMilli(evt.Timestamp)).Msg("Dropping an event older than the handled-event memory")
		return
	}
	handled, err := c.db.HandledEvent.IsHandled(ctx, evt.ID.String())
	if err != nil {
		log.Err(err).Msg("Failed to check whether the event was handled; handling it")
	} else if handled {
		log.Debug().Msg("Skipping an event handled before")
		return
	}
	c.dispatch(ctx, evt)
	if err = c.db.HandledEvent.MarkHandled(ctx, evt.ID.String(), evt.RoomID.String(), time.Now()); err != nil {
		log.Err(err).Msg("Failed to record the event as handled")
	}
}

// dispatch routes an event by type. Messages and command events of the bridge's own users are
// never commands: a ghost speaks for a guest (their relayed SMS, for one), never for the clinic.
func (c *Connector) dispatch(ctx context.Context, evt *event.Event) {
	switch evt.Type.Type {
	case event.StateMember.Type:
		c.handleMember(ctx, evt)
	case event.EventMessage.Type:
		if !c.cfg.IsBridgeUser(evt.Sender.String()) {
			c.commands.process(ctx, evt)
		}
	case SessionEventType.Type:
		c.handleSessionState(ctx, evt)
	case CommandEventType.Type:
		if !c.cfg.IsBridgeUser(evt.Sender.String()) {
			c.handleCommandEvent(ctx, evt)
		}
	}
}

// noRetries makes a homeserver call fail at once instead of retrying, for start-up checks.
func noRetries(ctx context.Context) context.Context { return mautrix.WithMaxRetries(ctx, 0) }
