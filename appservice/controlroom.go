package appservice

import (
	"context"
	"errors"
	"fmt"
	"html"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/jonboulle/clockwork"
	"github.com/rs/zerolog"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
)

var _ bridge.Notifier = (*Connector)(nil)

// NoticeInterval is the least time between two lobby notices about one session: knocks that
// arrive meanwhile are gathered into the next notice.
const NoticeInterval = 10 * time.Second

// controlRoom returns the user's control room (their direct room with the bot), checked to hold
// only the bot and them, since what the bot posts there (links, names) is for them alone. A
// room someone else is in or invited to, or that they left, is replaced by a new one.
func (c *Connector) controlRoom(ctx context.Context, user id.UserID) (id.RoomID, error) {
	c.controlMu.Lock()
	defer c.controlMu.Unlock()
	roomID, err := c.db.ControlRoom.Get(ctx, user.String())
	if err != nil {
		return "", fmt.Errorf("looking up the control room: %w", err)
	}
	if roomID != "" {
		private, err := c.onlyBotAnd(ctx, id.RoomID(roomID), user)
		if err != nil {
			return "", fmt.Errorf("checking who is in the control room: %w", err)
		}
		if private {
			return id.RoomID(roomID), nil
		}
		zerolog.Ctx(ctx).Warn().Str("control_room", roomID).Msg("The control room is not private any more; making a new one")
	}
	resp, err := c.bot.CreateRoom(ctx, &mautrix.ReqCreateRoom{
		Preset:   "trusted_private_chat",
		IsDirect: true,
		Invite:   []id.UserID{user},
		Name:     c.cfg.AppService.Bot.Displayname,
		Topic:    "Your telehealth sessions: notices, your links, and commands. Send !help.",
		InitialState: []*event.Event{
			// "invited": what the bot posts before the user accepts the invite (a link) is
			// theirs to read; nobody invited later reads anything from before.
			{Type: event.StateHistoryVisibility, Content: event.Content{Parsed: &event.HistoryVisibilityEventContent{HistoryVisibility: event.HistoryVisibilityInvited}}},
		},
	})
	if err != nil {
		return "", fmt.Errorf("creating the control room: %w", err)
	}
	if err = c.db.ControlRoom.Set(ctx, user.String(), resp.RoomID.String(), time.Now()); err != nil {
		return "", fmt.Errorf("storing the control room: %w", err)
	}
	return resp.RoomID, nil
}

// onlyBotAnd reports whether the user is in the room (joined or invited) with nobody but the
// bot, as the homeserver has it now. A room the bot is no longer in is not private either.
func (c *Connector) onlyBotAnd(ctx context.Context, room id.RoomID, user id.UserID) (bool, error) {
	resp, err := c.bot.Members(ctx, room)
	if forbidden(err) {
		return false, nil
	} else if err != nil {
		return false, err
	}
	userIn, botIn := false, false
	for _, evt := range resp.Chunk {
		m := parseMember(evt)
		if m.membership != event.MembershipJoin && m.membership != event.MembershipInvite {
			continue
		}
		switch m.target {
		case user:
			userIn = true
		case c.bot.UserID:
			botIn = m.membership == event.MembershipJoin
		default:
			return false, nil
		}
	}
	return userIn && botIn, nil
}

// adoptControlRoom makes a direct room a clinician or participant opened with the bot their
// control room. Who is in it is checked whenever the bot posts there.
func (c *Connector) adoptControlRoom(ctx context.Context, user id.UserID, roomID id.RoomID) {
	c.controlMu.Lock()
	defer c.controlMu.Unlock()
	if err := c.db.ControlRoom.Set(ctx, user.String(), roomID.String(), time.Now()); err != nil {
		zerolog.Ctx(ctx).Err(err).Msg("Failed to store a control room")
	}
}

// notice is a message from the bot: plain text for every client, HTML with escaped user data.
type notice struct {
	plain strings.Builder
	html  strings.Builder
}

// text adds text written by the bridge.
func (n *notice) text(s string) *notice {
	n.plain.WriteString(s)
	n.html.WriteString(html.EscapeString(s))
	return n
}

// user adds text a user wrote (a name, a message): escaped, so it shows as text, never markup.
// Its own directional controls are dropped and it is isolated (FSI … PDI) from the bridge's
// text around it, so a right-to-left override in a name cannot reverse the command after it;
// line breaks become spaces, so a name cannot start a line that looks like the bridge's.
func (n *notice) user(s string) *notice {
	var b strings.Builder
	b.WriteRune('\u2068') // FIRST STRONG ISOLATE: the name's direction is its own
	for _, r := range s {
		switch {
		case r >= '\u202A' && r <= '\u202E', r >= '\u2066' && r <= '\u2069':
			// Embeddings, overrides and isolates: an unbalanced one would reach past the name.
		case r == '\n' || r == '\r' || r == '\u2028' || r == '\u2029' || unicode.IsControl(r):
			b.WriteByte(' ')
		default:
			b.WriteRune(r)
		}
	}
	b.WriteRune('\u2069') // POP DIRECTIONAL ISOLATE
	n.plain.WriteString(b.String())
	n.html.WriteString("<b>" + html.EscapeString(b.String()) + "</b>")
	return n
}

// code adds a command to type.
func (n *notice) code(s string) *notice {
	n.plain.WriteString(s)
	n.html.WriteString("<code>" + html.EscapeString(s) + "</code>")
	return n
}

func (n *notice) line() *notice {
	n.plain.WriteString("\n")
	n.html.WriteString("<br>")
	return n
}

func (n *notice) content() *event.MessageEventContent {
	return &event.MessageEventContent{
		MsgType: event.MsgNotice, Body: n.plain.String(),
		Format: event.FormatHTML, FormattedBody: n.html.String(),
		Mentions: &event.Mentions{},
	}
}

func (c *Connector) send(ctx context.Context, roomID id.RoomID, n *notice) error {
	_, err := c.bot.SendMessageEvent(ctx, roomID, event.EventMessage, n.content())
	return err
}

// Waiting tells the clinician, in their control room, who is waiting and how to let them in.
// At most one notice per session every NoticeInterval: knocks in between are gathered into the
// next notice, which lists whoever is still waiting when it is sent.
func (c *Connector) Waiting(ctx context.Context, s *bridge.Session, waiting []*bridge.Participant) {
	if len(waiting) == 0 {
		return
	}
	c.throttle.offer(s.ID, func(sessionID string) {
		ctx := c.log.WithContext(context.Background())
		s, ps, err := c.svc.Lobby(ctx, "", sessionID)
		if err != nil {
			c.log.Err(err).Str("session_id", sessionID).Msg("Failed to load the lobby for a notice")
			return
		}
		var still []*bridge.Participant
		for _, p := range ps {
			if p.State == bridge.StateWaiting {
				still = append(still, p)
			}
		}
		if len(still) == 0 {
			return
		}
		if err = c.sendWaitingNotice(ctx, s, still); err != nil {
			c.log.Err(err).Str("session_id", sessionID).Msg("Failed to tell the clinician who is waiting")
		}
	})
}

// Unreached tells the clinician, in their control room, that a participant's decline (or
// removal) may not have reached them, so that they reach the participant another way. It
// names the participant by number and name, as the waiting notice does; the reason quoted is
// the bridge's own text.
func (c *Connector) Unreached(ctx context.Context, s *bridge.Session, p *bridge.Participant, reason string, err error) {
	room, roomErr := c.controlRoom(ctx, id.UserID(s.Clinician))
	if roomErr != nil {
		zerolog.Ctx(ctx).Err(roomErr).Msg("Failed to find a control room to say a participant was not told")
		return
	}
	n := (&notice{}).text(fmt.Sprintf("Session %s: ", s.ID)).user(p.DisplayName()).text(fmt.Sprintf(" (participant %d) ", p.Number))
	if errors.Is(err, bridge.ErrNotTold) {
		n.text("is out of the room, but their Matrix client will not show it: this homeserver cannot " +
			"refuse a request to join in a way clients see. They were not told: “" + reason + "”. " +
			"Please tell them another way.")
	} else {
		n.text("could not be taken out of the room (" + err.Error() + "), so they were not told: “" + reason + "”. " +
			"Their client may still show them waiting; please tell them another way.")
	}
	if err := c.send(ctx, room, n); err != nil {
		zerolog.Ctx(ctx).Err(err).Msg("Failed to say a participant was not told")
	}
}

func (c *Connector) sendWaitingNotice(ctx context.Context, s *bridge.Session, waiting []*bridge.Participant) error {
	room, err := c.controlRoom(ctx, id.UserID(s.Clinician))
	if err != nil {
		return err
	}
	n := &notice{}
	if len(waiting) == 1 {
		n.user(waiting[0].DisplayName()).text(" is waiting")
	} else {
		n.text(fmt.Sprintf("%d people are waiting", len(waiting)))
	}
	n.text(fmt.Sprintf(" for session %s (%s).", s.ID, bridge.FormatTime(s.Start, s.Location()))).line()
	for _, p := range waiting {
		n.text(fmt.Sprintf("%d · ", p.Number)).user(p.DisplayName()).text(" — ").
			code(fmt.Sprintf("!admit %s %d", s.ID, p.Number)).text(" or ").
			code(fmt.Sprintf("!deny %s %d", s.ID, p.Number)).line()
	}
	if len(waiting) > 1 {
		n.text("All at once: ").code("!admit-all " + s.ID).line()
	}
	n.text("You can also accept the request to join in the session's room.")
	return c.send(ctx, room, n)
}

// noticeThrottle sends at most one notice per session per interval.
type noticeThrottle struct {
	clock    clockwork.Clock
	interval time.Duration

	mu       sync.Mutex
	sessions map[string]*throttled
	closed   bool
	timers   map[clockwork.Timer]struct{}
	running  sync.WaitGroup // sends in flight, waited for by close
}

type throttled struct {
	lastSent time.Time
	pending  bool
}

// offer asks for a notice about a session: now, or at the end of the interval if one was sent
// less than an interval ago (once, however many offers arrive meanwhile).
func (t *noticeThrottle) offer(sessionID string, send func(sessionID string)) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.sessions == nil {
		t.sessions = make(map[string]*throttled)
	}
	st := t.sessions[sessionID]
	if st == nil {
		st = &throttled{}
		t.sessions[sessionID] = st
	}
	if st.pending || t.closed {
		return
	}
	now := t.clock.Now()
	if wait := st.lastSent.Add(t.interval).Sub(now); !st.lastSent.IsZero() && wait > 0 {
		st.pending = true
		if t.timers == nil {
			t.timers = make(map[clockwork.Timer]struct{})
		}
		var timer clockwork.Timer
		timer = t.clock.AfterFunc(wait, func() {
			t.mu.Lock()
			delete(t.timers, timer)
			if t.closed {
				t.mu.Unlock()
				return
			}
			st.pending, st.lastSent = false, t.clock.Now()
			t.running.Add(1)
			t.mu.Unlock()
			defer t.running.Done()
			send(sessionID)
		})
		t.timers[timer] = struct{}{}
		return
	}
	st.lastSent = now
	t.running.Add(1)
	go func() {
		defer t.running.Done()
		send(sessionID)
	}()
}

// close drops the notices still planned and waits for those being sent, so that none is sent
// by a bridge that has stopped.
func (t *noticeThrottle) close() {
	t.mu.Lock()
	t.closed = true
	for timer := range t.timers {
		timer.Stop()
	}
	t.timers = nil
	t.mu.Unlock()
	t.running.Wait()
}
