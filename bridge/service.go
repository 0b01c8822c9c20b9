package bridge

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"
)

// Service runs sessions: scheduling, the join window, the lobby and the end. Every change to
// a session happens under that session's lock, so Matrix events, commands, web requests and
// timed jobs on one session are applied one at a time.
type Service struct {
	store   Store
	clock   Clock
	window  Window
	isAdmin func(userID string) bool
	// Bot is the bridge's Matrix user: the actor of what the bridge does by itself.
	bot string

	audit    Audit
	clients  ClientStore
	rooms    Rooms
	notify   Notifier
	plan     Planner
	calls    Calls
	watchers []Watcher
	// phone holds telephone sessions' call attempts (service_phone.go).
	phone phoneCalls
	// texter carries clinicians' own text messages (the outbox).
	texter Texter

	locks keyedLocks

	// early holds the sessions whose clinician is connected to the call before the window
	// opened (trying the call out): the session goes live when the window opens, not before.
	earlyMu sync.Mutex
	early   map[string]bool

	// Lifecycle events leave through one goroutine, in the order they happened, so that the
	// Matrix write is not on the path of the change itself: a guest's page moves into the call
	// as soon as the join is stored, not one homeserver round trip later.
	emitMu    sync.Mutex
	emissions chan emission
	emitDone  chan struct{}
}

type emission struct {
	ctx context.Context
	s   Session
	e   Lifecycle
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
}

// New makes a Service. Connect the transports with Use before it runs.
func New(opts Options) *Service {
	if opts.Window == (Window{}) {
		opts.Window = DefaultWindow
	}
	if opts.IsAdmin == nil {
		opts.IsAdmin = func(string) bool { return false }
	}
	return &Service{store: opts.Store, clock: opts.Clock, window: opts.Window, isAdmin: opts.IsAdmin, bot: opts.Bot, audit: opts.Audit, clients: opts.Clients}
}

// Use connects the transports. Calls and Planner may be nil.
func (svc *Service) Use(rooms Rooms, notify Notifier, plan Planner, calls Calls) {
	svc.rooms, svc.notify, svc.plan, svc.calls = rooms, notify, plan, calls
	svc.emitMu.Lock()
	defer svc.emitMu.Unlock()
	if svc.emissions == nil {
		svc.emissions, svc.emitDone = make(chan emission, 256), make(chan struct{})
		go svc.sendEmissions(svc.emissions)
	}
}

// Close sends the lifecycle events still queued; later ones are sent by their callers.
func (svc *Service) Close() {
	svc.emitMu.Lock()
	queue := svc.emissions
	svc.emissions = nil
	svc.emitMu.Unlock()
	if queue != nil {
		close(queue)
		<-svc.emitDone
	}
}

// sendEmissions sends the queue's events in order; it gets the queue itself because Close sets
// the field to nil while it runs.
func (svc *Service) sendEmissions(queue <-chan emission) {
	defer close(svc.emitDone)
	for em := range queue {
		svc.sendEmission(em)
	}
}

func (svc *Service) sendEmission(em emission) {
	if err := svc.rooms.Emit(em.ctx, &em.s, em.e); err != nil {
		zerolog.Ctx(em.ctx).Err(err).Str("session_id", em.s.ID).Str("action", string(em.e.Action)).Msg("Failed to emit a lifecycle event")
	}
}

// Watch adds a watcher of lobby changes. Call it before the service runs.
func (svc *Service) Watch(w Watcher) { svc.watchers = append(svc.watchers, w) }

// Window is the join window the service applies.
func (svc *Service) Window() Window { return svc.window }

// Now is the service's clock.
func (svc *Service) Now() time.Time { return svc.clock.Now() }

// ScheduleRequest describes a new session.
type ScheduleRequest struct {
	Clinician    string
	Start, End   time.Time
	TimeZone     string
	Kind         Kind
	Policy       Policy
	Participants []ParticipantRequest
}

// ParticipantRequest describes a participant to book.
type ParticipantRequest struct {
	Name     string
	MatrixID string
	Email    string
	// Phone is international (+33...), or national in PhoneRegion (an ISO country code).
	Phone       string
	PhoneRegion string
	Locale      string
	TimeZone    string
	Invite      InviteMode
	// ClientID books a known client record (0: someone new): blanks are filled from it.
	ClientID int64
}

// Schedule books a session: it is stored, its room is created with the clinician invited,
// and its window switches are planned. Bad input is refused before anything is stored.
func (svc *Service) Schedule(ctx context.Context, req ScheduleRequest) (*Session, error) {
	now := svc.clock.Now()
	if err := ValidateSchedule(req.Start, req.End, req.TimeZone, now); err != nil {
		return nil, err
	}
	if req.Kind == "" {
		req.Kind = KindVideo
	}
	if req.Kind != KindVideo && req.Kind != KindPhone {
		return nil, fmt.Errorf("%w: the kind must be video or phone", ErrInvalidSchedule)
	}
	if req.Policy == "" {
		req.Policy = PolicyManual
	}
	if req.Policy != PolicyManual && req.Policy != PolicyAutoAdmit {
		return nil, fmt.Errorf("%w: the admission must be manual or auto", ErrInvalidSchedule)
	}
	if len(req.Participants) == 0 {
		return nil, fmt.Errorf("%w: book at least one participant", ErrInvalidSchedule)
	}
	s := &Session{
		ID: svc.newSessionID(ctx), Clinician: req.Clinician,
		Start: req.Start.UTC(), End: req.End.UTC(), TimeZone: req.TimeZone,
		Kind: req.Kind, Policy: req.Policy, Status: StatusScheduled,
		CreatedAt: now, UpdatedAt: now,
	}
	var participants []*Participant
	for i, pr := range req.Participants {
		pr, err := svc.FromClient(ctx, req.Clinician, pr)
		if err != nil {
			return nil, fmt.Errorf("participant %d: %w", i+1, err)
		}
		p, err := NewParticipant(pr, req.TimeZone)
		if err != nil {
			return nil, fmt.Errorf("participant %d: %w", i+1, err)
		}
		if req.Kind == KindPhone && p.Phone == "" {
			return nil, fmt.Errorf("%w: participant %d: a telephone session needs their phone number", ErrInvalidSchedule, i+1)
		}
		p.SessionID, p.Number, p.State, p.UpdatedAt, p.ClientID = s.ID, i+1, StateBooked, now, pr.ClientID
		participants = append(participants, p)
	}
	if err := svc.recordClients(ctx, req.Clinician, participants); err != nil {
		return nil, err
	}
	unlock := svc.locks.lock(s.ID)
	defer unlock()
	if err := svc.store.InsertSession(ctx, s, participants); err != nil {
		return nil, fmt.Errorf("storing the session: %w", err)
	}
	if err := svc.ensureRoom(ctx, s); err != nil {
		return s, err
	}
	for _, w := range svc.watchers {
		w.LobbyChanged(s, participants)
	}
	svc.emit(ctx, s, Lifecycle{Action: LifeScheduled, Actor: req.Clinician})
	svc.auditSession(ctx, s, AuditSchedule, req.Clinician, map[string]string{"participants": strconv.Itoa(len(participants))})
	svc.replan(ctx, s)
	zerolog.Ctx(ctx).Info().Str("session_id", s.ID).Stringer("start", s.Start).Msg("Session scheduled")
	return s, nil
}

// EnsureRoom creates the room of a session that has none (its creation failed earlier).
func (svc *Service) EnsureRoom(ctx context.Context, id string) error {
	_, err := svc.withSession(ctx, "", id, func(s *Session, ps []*Participant) error {
		if s.Over() {
			return nil
		}
		if err := svc.ensureRoom(ctx, s); err != nil {
			return err
		}
		svc.replan(ctx, s)
		return nil
	})
	return err
}

// ActiveSessions are the sessions that are neither ended nor cancelled.
func (svc *Service) ActiveSessions(ctx context.Context) ([]*Session, error) {
	return svc.store.ActiveSessions(ctx)
}

// newSessionID returns an ID no session has yet.
func (svc *Service) newSessionID(ctx context.Context) string {
	for {
		id := NewSessionID()
		// Anything but "taken" (free, or a database error the insert will report) ends the search.
		if _, err := svc.store.GetSession(ctx, id); err != nil {
			return id
		}
	}
}

// ensureRoom creates the session's room if it has none yet (a failure is retried at start-up).
func (svc *Service) ensureRoom(ctx context.Context, s *Session) error {
	if s.RoomID != "" {
		return nil
	}
	roomID, err := svc.rooms.CreateRoom(ctx, s)
	if err != nil {
		return fmt.Errorf("creating the session's room: %w", err)
	}
	s.RoomID = roomID
	if err = svc.store.UpdateSession(ctx, s); err != nil {
		return fmt.Errorf("storing the session's room: %w", err)
	}
	return nil
}

// Reschedule moves a session. If its lobby closes because of the move, those waiting go back
// to booked and are told the new time.
func (svc *Service) Reschedule(ctx context.Context, actor, id string, start, end time.Time, zone string) (*Session, error) {
	return svc.withSession(ctx, actor, id, func(s *Session, ps []*Participant) error {
		now := svc.clock.Now()
		wasOpen := s.Status == StatusOpen
		if err := s.Reschedule(start, end, zone, now, svc.window); err != nil {
			return err
		}
		if err := svc.store.UpdateSession(ctx, s); err != nil {
			return err
		}
		if wasOpen && s.Status == StatusScheduled {
			reason := "The session moved to " + FormatTime(s.Start, s.Location())
			for _, p := range ps {
				if p.Active() {
					svc.kick(ctx, s, p, reason)
					svc.applyAndLog(ctx, s, p, ActReset, svc.bot)
				}
			}
			svc.setLobbyOpen(ctx, s, false)
		} else if !wasOpen && s.Status == StatusOpen {
			svc.setLobbyOpen(ctx, s, true)
		}
		svc.publish(ctx, s)
		svc.emit(ctx, s, Lifecycle{Action: LifeRescheduled, Actor: actor})
		svc.auditSession(ctx, s, AuditReschedule, actor, nil)
		svc.replan(ctx, s)
		return nil
	})
}

// Cancel calls a session off: everyone waiting or let in is told and taken out.
func (svc *Service) Cancel(ctx context.Context, actor, id string) (*Session, error) {
	return svc.withSession(ctx, actor, id, func(s *Session, ps []*Participant) error {
		if err := s.Cancel(svc.clock.Now()); err != nil {
			return err
		}
		if err := svc.store.UpdateSession(ctx, s); err != nil {
			return err
		}
		svc.clearRoom(ctx, s, ps, "The session was cancelled")
		svc.emit(ctx, s, Lifecycle{Action: LifeCancelled, Actor: actor})
		svc.auditSession(ctx, s, AuditCancel, actor, nil)
		svc.replan(ctx, s)
		return nil
	})
}

// End ends the session for all: every participant is taken out with the reason "The session
// has ended", their calls close, and the lobby closes. The clinician stays in the room.
func (svc *Service) End(ctx context.Context, actor, id string) (*Session, error) {
	return svc.withSession(ctx, actor, id, func(s *Session, ps []*Participant) error {
		if err := s.Finish(svc.clock.Now()); err != nil {
			return err
		}
		if err := svc.store.UpdateSession(ctx, s); err != nil {
			return err
		}
		svc.clearRoom(ctx, s, ps, "The session has ended")
		svc.emit(ctx, s, Lifecycle{Action: LifeEnded, Actor: actor})
		svc.auditSession(ctx, s, AuditEnd, actor, nil)
		svc.replan(ctx, s)
		return nil
	})
}

// clearRoom takes every active participant out of a session that is over.
func (svc *Service) clearRoom(ctx context.Context, s *Session, ps []*Participant, reason string) {
	svc.setLobbyOpen(ctx, s, false)
	for _, p := range ps {
		if p.Active() {
			svc.kick(ctx, s, p, reason)
		}
		svc.applyAndLog(ctx, s, p, ActEnd, svc.bot)
	}
	if svc.calls != nil {
		svc.calls.EndCalls(s.ID)
	}
	svc.publish(ctx, s)
}

// Start marks the clinician present: the session is live and, with automatic admission, those
// waiting are let in.
func (svc *Service) Start(ctx context.Context, actor, id string) (*Session, error) {
	return svc.withSession(ctx, actor, id, func(s *Session, ps []*Participant) error {
		wasLive, wasPresent := s.Status == StatusLive, s.ClinicianPresent
		if err := s.Begin(svc.clock.Now(), svc.window); err != nil {
			return err
		}
		if wasLive && wasPresent {
			return nil
		}
		if err := svc.store.UpdateSession(ctx, s); err != nil {
			return err
		}
		svc.publish(ctx, s)
		if !wasLive {
			svc.emit(ctx, s, Lifecycle{Action: LifeStarted, Actor: actor})
		}
		svc.auditSession(ctx, s, AuditStart, actor, nil)
		if s.Policy == PolicyAutoAdmit {
			for _, p := range ps {
				if p.State == StateWaiting {
					svc.admit(ctx, s, p, svc.bot)
				}
			}
		}
		return nil
	})
}

// ErrUnknownAction is a host action the bridge does not know.
var ErrUnknownAction = errors.New("unknown action")

// HostAction runs one of the clinician's Attendees Access Panel actions by name, as the web
// panel, the call page and the call's signalling send them: admit, deny, remove, send-back,
// admit-all, message, start, end, cancel, ban.
func (svc *Service) HostAction(ctx context.Context, actor, id, action, participant, text string) error {
	var err error
	switch action {
	case "admit":
		_, err = svc.Admit(ctx, actor, id, participant)
	case "deny":
		_, err = svc.Deny(ctx, actor, id, participant)
	case "remove":
		_, err = svc.Remove(ctx, actor, id, participant)
	case "send-back", "send_back":
		_, err = svc.SendBack(ctx, actor, id, participant)
	case "ban":
		_, err = svc.Ban(ctx, actor, id, participant)
	case "admit-all", "admit_all":
		_, err = svc.AdmitAll(ctx, actor, id)
	case "message":
		_, err = svc.PostLobbyMessage(ctx, actor, id, text)
	case "start":
		_, err = svc.Start(ctx, actor, id)
	case "end":
		_, err = svc.End(ctx, actor, id)
	case "cancel":
		_, err = svc.Cancel(ctx, actor, id)
	default:
		return fmt.Errorf("%w %q", ErrUnknownAction, action)
	}
	return err
}

// ErrBeforeWindow is the clinician connecting to the call before the session's window opened:
// they may try the call out; the session goes live when the window opens, if they are still in.
var ErrBeforeWindow = errors.New("the clinician is in the call before the waiting room opens")

// ClinicianConnected records that the clinician connected to the call: the session is live
// and they are present (Start). Before the window opens the session stays as it is, nobody
// can enter, and it returns ErrBeforeWindow; if they are still connected when the window
// opens, the session goes live then (OpenWindow).
func (svc *Service) ClinicianConnected(ctx context.Context, actor, id string) error {
	_, err := svc.Start(ctx, actor, id)
	if errors.Is(err, ErrLobbyClosed) {
		svc.earlyMu.Lock()
		if svc.early == nil {
			svc.early = map[string]bool{}
		}
		svc.early[id] = true
		svc.earlyMu.Unlock()
		return fmt.Errorf("%w: %w", ErrBeforeWindow, err)
	}
	return err
}

// ClinicianAway records that the clinician left the call: with automatic admission,
// participants wait again until they are back. The session stays live.
func (svc *Service) ClinicianAway(ctx context.Context, id string) error {
	svc.earlyMu.Lock()
	delete(svc.early, id)
	svc.earlyMu.Unlock()
	_, err := svc.withSession(ctx, "", id, func(s *Session, ps []*Participant) error {
		if !s.ClinicianPresent {
			return nil
		}
		s.ClinicianLeft(svc.clock.Now())
		if err := svc.store.UpdateSession(ctx, s); err != nil {
			return err
		}
		svc.publish(ctx, s)
		return nil
	})
	return err
}

// Admit lets a participant in.
func (svc *Service) Admit(ctx context.Context, actor, id, ref string) (*Participant, error) {
	return svc.onParticipant(ctx, actor, id, ref, func(s *Session, p *Participant) error {
		if p.MatrixID == "" {
			return fmt.Errorf("%w: %s has not joined from Matrix or their link yet", ErrInvalidTransition, p.DisplayName())
		}
		return svc.admit(ctx, s, p, actor)
	})
}

// AdmitAll lets in everyone waiting and returns them.
func (svc *Service) AdmitAll(ctx context.Context, actor, id string) ([]*Participant, error) {
	var admitted []*Participant
	_, err := svc.withSession(ctx, actor, id, func(s *Session, ps []*Participant) error {
		for _, p := range ps {
			if p.State == StateWaiting {
				if err := svc.admit(ctx, s, p, actor); err != nil {
					return err
				}
				admitted = append(admitted, p)
			}
		}
		return nil
	})
	return admitted, err
}

// Deny refuses a participant from the waiting room.
func (svc *Service) Deny(ctx context.Context, actor, id, ref string) (*Participant, error) {
	return svc.onParticipant(ctx, actor, id, ref, func(s *Session, p *Participant) error {
		if p.State != StateWaiting && p.State != StateAdmitted {
			return fmt.Errorf("%w: %s is not waiting", ErrInvalidTransition, p.DisplayName())
		}
		return svc.takeOut(ctx, s, p, ActDeny, actor, "The clinician did not admit you to this session")
	})
}

// Remove takes a participant out of the session.
func (svc *Service) Remove(ctx context.Context, actor, id, ref string) (*Participant, error) {
	return svc.onParticipant(ctx, actor, id, ref, func(s *Session, p *Participant) error {
		if !p.Active() {
			return fmt.Errorf("%w: %s is not in the session", ErrInvalidTransition, p.DisplayName())
		}
		return svc.takeOut(ctx, s, p, ActRemove, actor, "The clinician removed you from this session")
	})
}

// SendBack takes a participant out of the session; they may knock and wait again.
func (svc *Service) SendBack(ctx context.Context, actor, id, ref string) (*Participant, error) {
	return svc.onParticipant(ctx, actor, id, ref, func(s *Session, p *Participant) error {
		if p.State != StateInSession && p.State != StateAdmitted {
			return fmt.Errorf("%w: %s is not in the session", ErrInvalidTransition, p.DisplayName())
		}
		return svc.takeOut(ctx, s, p, ActSendBack, actor, "The clinician sent you back to the waiting room")
	})
}

// Ban removes a participant and bans their account from the room, for abuse.
func (svc *Service) Ban(ctx context.Context, actor, id, ref string) (*Participant, error) {
	return svc.onParticipant(ctx, actor, id, ref, func(s *Session, p *Participant) error {
		if p.MatrixID == "" {
			return fmt.Errorf("%w: %s has no Matrix account to ban", ErrInvalidTransition, p.DisplayName())
		}
		if err := svc.rooms.Ban(ctx, s.RoomID, p.MatrixID, "Removed by the clinician"); err != nil {
			return fmt.Errorf("banning %s: %w", p.DisplayName(), err)
		}
		svc.hangup(s, p)
		return svc.record(ctx, s, p, ActBan, actor)
	})
}

// PostLobbyMessage stores the clinician's message to those waiting; the waiting pages show it.
func (svc *Service) PostLobbyMessage(ctx context.Context, actor, id, text string) (*Session, error) {
	text = strings.TrimSpace(text)
	if text == "" {
		return nil, errors.New("the message is empty")
	}
	if len([]rune(text)) > 500 {
		return nil, errors.New("the message is longer than 500 characters")
	}
	return svc.withSession(ctx, actor, id, func(s *Session, ps []*Participant) error {
		if s.Over() {
			return fmt.Errorf("%w: the session is %s", ErrSessionOver, s.Status)
		}
		s.LobbyMessage, s.UpdatedAt = text, svc.clock.Now()
		if err := svc.store.UpdateSession(ctx, s); err != nil {
			return err
		}
		svc.emit(ctx, s, Lifecycle{Action: LifeMessage, Actor: actor, Reason: text})
		return nil
	})
}

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

// withSession loads a session and its participants under the session's lock, checks that the
// actor may act on it (an empty actor is the bridge itself) and runs f.
func (svc *Service) withSession(ctx context.Context, actor, id string, f func(*Session, []*Participant) error) (*Session, error) {
	unlock := svc.locks.lock(id)
	defer unlock()
	s, err := svc.store.GetSession(ctx, id)
	if err != nil {
		return nil, err
	}
	if actor != "" && actor != s.Clinician && actor != svc.bot && !svc.isAdmin(actor) {
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

// fingerprint sums up what watchers care about, to tell whether an operation changed it.
func fingerprint(s *Session, ps []*Participant) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s|%d|%d|%t|%s|%d|%s", s.Status, s.Start.UnixMilli(), s.End.UnixMilli(), s.ClinicianPresent, s.LobbyMessage, s.Revision, s.RoomID)
	for _, p := range ps {
		fmt.Fprintf(&b, "|%d:%s:%s:%s", p.Number, p.State, p.KnockName, p.MatrixID)
	}
	return b.String()
}

func (svc *Service) onParticipant(ctx context.Context, actor, id, ref string, f func(*Session, *Participant) error) (*Participant, error) {
	var found *Participant
	_, err := svc.withSession(ctx, actor, id, func(s *Session, ps []*Participant) error {
		p, err := FindParticipant(ps, ref)
		if err != nil {
			return err
		}
		found = p
		return f(s, p)
	})
	return found, err
}

// FindParticipant finds a participant by number ("2" or "#2"), Matrix ID, or the start of
// their name. With no reference, it is the only one waiting.
func FindParticipant(ps []*Participant, ref string) (*Participant, error) {
	ref = strings.TrimSpace(ref)
	if ref == "" {
		var waiting []*Participant
		for _, p := range ps {
			if p.State == StateWaiting {
				waiting = append(waiting, p)
			}
		}
		if len(waiting) == 1 {
			return waiting[0], nil
		}
		if len(ps) == 1 {
			return ps[0], nil
		}
		return nil, fmt.Errorf("%w: say which participant (their number)", ErrParticipantUnkn)
	}
	if n, err := strconv.Atoi(strings.TrimPrefix(ref, "#")); err == nil {
		for _, p := range ps {
			if p.Number == n {
				return p, nil
			}
		}
		return nil, fmt.Errorf("%w: there is no participant %d", ErrParticipantUnkn, n)
	}
	for _, p := range ps {
		if p.MatrixID != "" && p.MatrixID == ref {
			return p, nil
		}
	}
	var matches []*Participant
	lower := strings.ToLower(ref)
	for _, p := range ps {
		if strings.HasPrefix(strings.ToLower(p.DisplayName()), lower) || strings.HasPrefix(strings.ToLower(p.Name), lower) {
			matches = append(matches, p)
		}
	}
	switch len(matches) {
	case 1:
		return matches[0], nil
	case 0:
		return nil, ErrParticipantUnkn
	}
	return nil, fmt.Errorf("%w: several participants match; use their number", ErrParticipantUnkn)
}

// admit invites a participant, records who let them in and tells integrators.
func (svc *Service) admit(ctx context.Context, s *Session, p *Participant, actor string) error {
	if p.State == StateAdmitted || p.State == StateInSession {
		return nil
	}
	check := *p
	if _, err := check.Apply(ActAdmit, s, svc.clock.Now(), svc.window); err != nil {
		return err
	}
	if err := svc.rooms.Invite(ctx, s.RoomID, p.MatrixID); err != nil {
		return fmt.Errorf("inviting %s: %w", p.DisplayName(), err)
	}
	return svc.record(ctx, s, p, ActAdmit, actor)
}

// takeOut kicks a participant and records why.
func (svc *Service) takeOut(ctx context.Context, s *Session, p *Participant, a Action, actor, reason string) error {
	check := *p
	if _, err := check.Apply(a, s, svc.clock.Now(), svc.window); err != nil {
		return err
	}
	// The state is stored before the kick so that the kick's echo finds it done.
	if err := svc.record(ctx, s, p, a, actor); err != nil {
		return err
	}
	svc.kick(ctx, s, p, reason)
	return nil
}

// record applies an action, stores it, logs it and emits its lifecycle event.
func (svc *Service) record(ctx context.Context, s *Session, p *Participant, a Action, actor string) error {
	now := svc.clock.Now()
	changed, err := p.Apply(a, s, now, svc.window)
	if err != nil {
		return err
	}
	if !changed {
		return nil
	}
	if a == ActAdmit {
		p.AdmittedBy, p.AdmittedAt = actor, now
	}
	if err = svc.store.UpdateParticipant(ctx, p); err != nil {
		return fmt.Errorf("storing %s's state: %w", p.DisplayName(), err)
	}
	if err = svc.store.LogLobby(ctx, LobbyEntry{SessionID: s.ID, ParticipantID: p.ID, Action: a, Actor: actor, At: now}); err != nil {
		zerolog.Ctx(ctx).Err(err).Msg("Failed to log a lobby action")
	}
	svc.auditParticipant(ctx, s, p, a, actor)
	zerolog.Ctx(ctx).Info().Str("session_id", s.ID).Int("participant", p.Number).Str("action", string(a)).
		Str("actor", actor).Str("state", string(p.State)).Msg("Lobby changed")
	if life, ok := lifecycleFor[a]; ok {
		svc.emit(ctx, s, Lifecycle{Action: life, Participant: p, Actor: actor, At: now})
	}
	if a == ActRemove || a == ActBan || a == ActSendBack || a == ActDeny || a == ActLeave {
		svc.hangup(s, p)
	}
	return nil
}

// applyAndLog records an action the bridge takes on its own, ignoring impossible ones.
func (svc *Service) applyAndLog(ctx context.Context, s *Session, p *Participant, a Action, actor string) {
	if err := svc.record(ctx, s, p, a, actor); err != nil && !errors.Is(err, ErrInvalidTransition) {
		zerolog.Ctx(ctx).Err(err).Int("participant", p.Number).Str("action", string(a)).Msg("Failed to update a participant")
	}
}

func (svc *Service) kick(ctx context.Context, s *Session, p *Participant, reason string) {
	if p.MatrixID == "" || s.RoomID == "" {
		return
	}
	svc.kickTelling(ctx, s, p, reason, svc.rooms.Kick(ctx, s.RoomID, p.MatrixID, reason))
}

// kickTelling handles the outcome of kicking a participant: a kick that may not have reached
// them is said in the clinician's control room, so that they reach the participant another way.
func (svc *Service) kickTelling(ctx context.Context, s *Session, p *Participant, reason string, err error) {
	if err == nil {
		return
	}
	if !errors.Is(err, ErrNotTold) {
		zerolog.Ctx(ctx).Err(err).Str("session_id", s.ID).Int("participant", p.Number).Msg("Failed to take a participant out of the room")
	}
	if svc.notify != nil {
		svc.notify.Unreached(ctx, s, p, reason, err)
	}
}

func (svc *Service) hangup(s *Session, p *Participant) {
	if svc.calls != nil && p.MatrixID != "" {
		svc.calls.Hangup(s.ID, p.MatrixID)
	}
}

func (svc *Service) setLobbyOpen(ctx context.Context, s *Session, open bool) {
	if s.RoomID == "" {
		return
	}
	if err := svc.rooms.SetLobbyOpen(ctx, s, open); err != nil {
		zerolog.Ctx(ctx).Err(err).Str("session_id", s.ID).Bool("open", open).Msg("Failed to switch the join rule")
	}
}

func (svc *Service) publish(ctx context.Context, s *Session) {
	if s.RoomID == "" {
		return
	}
	if err := svc.rooms.PublishSession(ctx, s); err != nil {
		zerolog.Ctx(ctx).Err(err).Str("session_id", s.ID).Msg("Failed to publish the session state")
	}
}

// emit queues a lifecycle event for the session's room. It is called under the session's lock,
// so each session's events queue in the order they happened. Copies are queued: the caller
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
	em := emission{ctx: context.WithoutCancel(ctx), s: *s, e: e}
	svc.emitMu.Lock()
	defer svc.emitMu.Unlock()
	if svc.emissions == nil { // closed (or never started): send it ourselves
		svc.sendEmission(em)
		return
	}
	svc.emissions <- em // a full queue makes the caller wait rather than lose an event
}

func (svc *Service) replan(ctx context.Context, s *Session) {
	if svc.plan == nil {
		return
	}
	if err := svc.plan.Plan(ctx, s); err != nil {
		zerolog.Ctx(ctx).Err(err).Str("session_id", s.ID).Msg("Failed to plan the session's timed work")
	}
}

// AttachMatrixID gives a participant the Matrix user who will knock for them (a web-link
// guest's ghost). A participant who has one already keeps it.
func (svc *Service) AttachMatrixID(ctx context.Context, id string, participantID int64, matrixID string) error {
	_, err := svc.withSession(ctx, "", id, func(s *Session, ps []*Participant) error {
		for _, p := range ps {
			if p.ID != participantID {
				continue
			}
			if p.MatrixID == matrixID {
				return nil
			}
			if p.MatrixID != "" {
				return fmt.Errorf("%w: participant %d already has %s", ErrInvalidTransition, p.Number, p.MatrixID)
			}
			p.MatrixID, p.UpdatedAt = matrixID, svc.clock.Now()
			return svc.store.UpdateParticipant(ctx, p)
		}
		return ErrParticipantUnkn
	})
	return err
}

// Session returns a session by ID, whoever asks (for lookups, not for acting on it).
func (svc *Service) Session(ctx context.Context, id string) (*Session, error) {
	return svc.store.GetSession(ctx, id)
}

// SessionByRoom returns the session of a Matrix room, or ErrNotFound.
func (svc *Service) SessionByRoom(ctx context.Context, roomID string) (*Session, error) {
	return svc.store.GetSessionByRoom(ctx, roomID)
}

// Lobby returns a session and its participants, for the clinician.
func (svc *Service) Lobby(ctx context.Context, actor, id string) (*Session, []*Participant, error) {
	var participants []*Participant
	s, err := svc.withSession(ctx, actor, id, func(s *Session, ps []*Participant) error {
		participants = ps
		return nil
	})
	return s, participants, err
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

// keyedLocks is one mutex per session ID, created on demand and dropped when unused.
type keyedLocks struct {
	mu    sync.Mutex
	locks map[string]*keyedLock
}

type keyedLock struct {
	sync.Mutex
	users int
}

func (k *keyedLocks) lock(key string) (unlock func()) {
	k.mu.Lock()
	if k.locks == nil {
		k.locks = make(map[string]*keyedLock)
	}
	l := k.locks[key]
	if l == nil {
		l = &keyedLock{}
		k.locks[key] = l
	}
	l.users++
	k.mu.Unlock()
	l.Lock()
	return func() {
		l.Unlock()
		k.mu.Lock()
		if l.users--; l.users == 0 {
			delete(k.locks, key)
		}
		k.mu.Unlock()
	}
}
