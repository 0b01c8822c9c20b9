package bridge

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/telehealth-bridge/telehealth-bridge/internal/keyed"
)

// Service runs sessions: scheduling, the join window, the lobby and the end. Every change to
// a session happens under that session's lock, so Matrix events, commands, web requests and
// timed jobs on one session are applied one at a time.
type Service struct {
	store   Store
	clock   Clock
	window  Window
	isAdmin func(userID string) bool
	// isClinician says who the clinic's clinicians are (prospect.go); nobody if nil.
	isClinician func(userID string) bool
	// Bot is the bridge's Matrix user: the actor of what the bridge does by itself.
	bot string

	audit   Audit
	clients ClientStore
	// changes is what clients may change from the portal (ClientChanges).
	changes  *ClientChangePolicy
	rooms    Rooms
	notify   Notifier
	plan     Planner
	calls    Calls
	watchers []Watcher
	bookings []BookingWatcher
	// phone holds telephone sessions' call attempts (service_phone.go).
	phone phoneCalls
	// texter carries clinicians' own text messages (the outbox).
	texter Texter
	// messages keeps the clients' Messages rooms in line with their records.
	messages MessagesRooms
	// forms holds the forms journey's store and room (forms.go).
	forms formState
	// payments holds the payment journey's store, provider and policy (payments.go).
	payments paymentState
	// documents keeps the documents' index, templates and packages (documents.go).
	documents DocumentStore

	locks keyed.Locks[string]
	// later holds, per session, the homeserver calls its lock's holder left for when the lock
	// is released (afterUnlock).
	laterMu sync.Mutex
	later   map[string][]func() error
	// lastWrites is, per session, the end of the latest batch of such calls (closed when it
	// has run): each batch waits for the one before, so that the homeserver gets a session's
	// writes in the order the lock's holders stored their changes (laterMu).
	lastWrites map[string]chan struct{}

	// early holds the sessions whose clinician is connected to the call before the window
	// opened (trying the call out): the session goes live when the window opens, not before.
	earlyMu sync.Mutex
	early   map[string]bool

	// Lifecycle events leave through one sender, each session's in the order they happened,
	// so that the Matrix write is not on the path of the change itself: a guest's page moves
	// into the call as soon as the join is stored, not one homeserver round trip later
	// (emitter.go).
	emitter emitter
}

// Options configure a Service.
type Options struct {
	Store  Store
	Clock  Clock
	Window Window
	// IsAdmin says whether a user may act on every clinician's sessions.
	IsAdmin func(userID string) bool
	// Bot is the bridge's own Matrix user ID.
	Bot string
	// Audit is the audit trail the service appends its decisions to; none if nil.
	Audit Audit
	// Clients keeps the clinic's client records; bookings make none if nil.
	Clients ClientStore
	// ClientChanges is what clients may change from the portal; DefaultClientChanges if nil.
	ClientChanges *ClientChangePolicy
	// Forms keeps forms, their assignments and responses; forms are unavailable if nil.
	Forms FormStore
	// Documents keeps shared documents, templates and packages; unavailable if nil.
	Documents DocumentStore
}

// New makes a Service. Connect the transports with Use before it runs.
func New(opts Options) *Service {
	if opts.Window == (Window{}) {
		opts.Window = DefaultWindow
	}
	if opts.IsAdmin == nil {
		opts.IsAdmin = func(string) bool { return false }
	}
	return &Service{store: opts.Store, clock: opts.Clock, window: opts.Window, isAdmin: opts.IsAdmin, bot: opts.Bot, audit: opts.Audit, clients: opts.Clients,
		changes: opts.ClientChanges, forms: formState{store: opts.Forms}, documents: opts.Documents}
}

// Use connects the transports. Calls and Planner may be nil.
func (svc *Service) Use(rooms Rooms, notify Notifier, plan Planner, calls Calls) {
	svc.rooms, svc.notify, svc.plan, svc.calls = rooms, notify, plan, calls
	svc.emitter.start(svc.sendEmission)
}

// Close sends the lifecycle events still queued; later ones are sent by their callers.
func (svc *Service) Close() { svc.emitter.close() }

// PendingLifecycleEvents counts the lifecycle events queued for the rooms and not sent yet.
func (svc *Service) PendingLifecycleEvents() int { return svc.emitter.pending() }

// Watch adds a watcher of lobby changes. Call it before the service runs.
func (svc *Service) Watch(w Watcher) { svc.watchers = append(svc.watchers, w) }

// WatchBookings adds a booking watcher (before the service runs).
func (svc *Service) WatchBookings(w BookingWatcher) { svc.bookings = append(svc.bookings, w) }

// Window is the join window the service applies.
func (svc *Service) Window() Window { return svc.window }

// Now is the service's clock.
func (svc *Service) Now() time.Time { return svc.clock.Now() }

// withSession loads a session and its participants under the session's lock, checks that the
// actor may act on it (an empty actor is the bridge itself) and runs f. The homeserver calls f
// leaves for later (afterUnlock) run once the lock is released, in order, after the session's
// earlier ones have run; their errors join f's. A homeserver slow to answer (an invite takes seconds in a morning rush) then never
// holds up the session's other changes.
func (svc *Service) withSession(ctx context.Context, actor, id string, f func(*Session, []*Participant) error) (*Session, error) {
	unlock := svc.locks.Lock(id)
	s, err := svc.underLock(ctx, actor, id, f)
	later, prev, done := svc.takeLater(id)
	unlock()
	if len(later) == 0 {
		return s, err
	}
	// An admission's invite must not overtake the kick of a send-back stored after it (the
	// invite would then leave the participant invited, their next knock refused).
	if prev != nil {
		<-prev
	}
	defer svc.writesDone(id, done)
	for _, call := range later {
		if laterErr := call(); laterErr != nil {
			err = errors.Join(err, laterErr)
		}
	}
	return s, err
}

// mayAct says whether actor may read or change the session: its clinician, the bot, an admin,
// or the bridge itself (no actor: a change the bridge makes, or a caller that checked).
func (svc *Service) mayAct(actor string, s *Session) bool {
	return actor == "" || actor == s.Clinician || actor == svc.bot || svc.isAdmin(actor)
}

func (svc *Service) underLock(ctx context.Context, actor, id string, f func(*Session, []*Participant) error) (*Session, error) {
	s, err := svc.store.GetSession(ctx, id)
	if err != nil {
		return nil, err
	}
	if !svc.mayAct(actor, s) {
		return nil, ErrNotYourSession
	}
	ps, err := svc.store.Participants(ctx, s.ID)
	if err != nil {
		return nil, fmt.Errorf("loading participants: %w", err)
	}
	before := fingerprint(s, ps)
	err = f(s, ps)
	if len(svc.watchers) > 0 && fingerprint(s, ps) != before {
		for _, w := range svc.watchers {
			w.LobbyChanged(s, ps)
		}
	}
	return s, err
}

// afterUnlock leaves a homeserver call for when the session's lock is released. Only the
// lock's holder calls it, so a session's list is that holder's.
func (svc *Service) afterUnlock(sessionID string, call func() error) {
	svc.laterMu.Lock()
	defer svc.laterMu.Unlock()
	if svc.later == nil {
		svc.later = map[string][]func() error{}
	}
	svc.later[sessionID] = append(svc.later[sessionID], call)
}

// takeLater takes the calls left for after the lock (called under it), with the end of the
// previous batch to wait for and this batch's own end; none when there are no calls.
func (svc *Service) takeLater(sessionID string) (later []func() error, prev, done chan struct{}) {
	svc.laterMu.Lock()
	defer svc.laterMu.Unlock()
	later = svc.later[sessionID]
	delete(svc.later, sessionID)
	if len(later) == 0 {
		return nil, nil, nil
	}
	if svc.lastWrites == nil {
		svc.lastWrites = map[string]chan struct{}{}
	}
	prev, done = svc.lastWrites[sessionID], make(chan struct{})
	svc.lastWrites[sessionID] = done
	return later, prev, done
}

// writesDone ends a batch of a session's homeserver calls.
func (svc *Service) writesDone(sessionID string, done chan struct{}) {
	svc.laterMu.Lock()
	defer svc.laterMu.Unlock()
	close(done)
	if svc.lastWrites[sessionID] == done {
		delete(svc.lastWrites, sessionID)
	}
}

// fingerprint sums up what watchers care about, to tell whether an operation changed it.
func fingerprint(s *Session, ps []*Participant) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s|%d|%d|%t|%s|%d|%s", s.Status, s.Start.UnixMilli(), s.End.UnixMilli(), s.ClinicianPresent, s.LobbyMessage, s.Revision, s.RoomID)
	for _, p := range ps {
		fmt.Fprintf(&b, "|%d:%s:%s:%s", p.Number, p.State, p.KnockName, p.MatrixID)
	}
	return b.String()
}

func (svc *Service) publish(ctx context.Context, s *Session) {
	if s.RoomID == "" {
		return
	}
	if err := svc.rooms.PublishSession(ctx, s); err != nil {
		zerolog.Ctx(ctx).Err(err).Str("session_id", s.ID).Msg("Failed to publish the session state")
	}
}

// emit queues a lifecycle event for the session's room and returns at once. It is called under
// the session's lock, so each session's events queue in the order they happened. Copies are queued: the caller
// goes on changing its session and participant.
func (svc *Service) emit(ctx context.Context, s *Session, e Lifecycle) {
	if s.RoomID == "" {
		return
	}
	if e.At.IsZero() {
		e.At = svc.clock.Now()
	}
	if e.Participant != nil {
		p := *e.Participant
		e.Participant = &p
	}
	em := emission{ctx: context.WithoutCancel(ctx), s: *s, e: e, gate: emitGate(ctx)}
	if !svc.emitter.queue(em) { // closed (or never started): send it ourselves
		svc.sendEmission(em)
	}
}

func (svc *Service) replan(ctx context.Context, s *Session) {
	if svc.plan == nil {
		return
	}
	if err := svc.plan.Plan(ctx, s); err != nil {
		zerolog.Ctx(ctx).Err(err).Str("session_id", s.ID).Msg("Failed to plan the session's timed work")
	}
}

// Session returns a session by ID, whoever asks (for lookups, not for acting on it).
func (svc *Service) Session(ctx context.Context, id string) (*Session, error) {
	return svc.store.GetSession(ctx, id)
}

// SessionByRoom returns the session of a Matrix room, or ErrNotFound.
func (svc *Service) SessionByRoom(ctx context.Context, roomID string) (*Session, error) {
	return svc.store.GetSessionByRoom(ctx, roomID)
}

// Lobby returns a session and its participants, for the clinician. It reads without the
// session's lock: a read never waits behind a change in flight (an admission waiting on the
// homeserver's invite), and sees each participant as last stored.
func (svc *Service) Lobby(ctx context.Context, actor, id string) (*Session, []*Participant, error) {
	s, err := svc.store.GetSession(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	if !svc.mayAct(actor, s) {
		return nil, nil, ErrNotYourSession
	}
	ps, err := svc.store.Participants(ctx, s.ID)
	if err != nil {
		return nil, nil, fmt.Errorf("loading participants: %w", err)
	}
	return s, ps, nil
}

// Sessions lists a clinician's upcoming and ongoing sessions, next first.
func (svc *Service) Sessions(ctx context.Context, clinician string) ([]*Session, error) {
	sessions, err := svc.store.ClinicianSessions(ctx, clinician, svc.clock.Now())
	if err != nil {
		return nil, err
	}
	slices.SortStableFunc(sessions, func(a, b *Session) int { return a.Start.Compare(b.Start) })
	return sessions, nil
}
