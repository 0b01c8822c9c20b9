package appservice

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
)

var _ bridge.Rooms = (*Connector)(nil)

// RoomVersion is the version of session rooms: 10 has knocking and integer power levels.
const RoomVersion = id.RoomVersion("10")

// roomName is the session room's name: its ID and time only, never a client's name or a
// reason for the visit.
func roomName(s *bridge.Session) string {
	return fmt.Sprintf("Session %s · %s", s.ID, s.Start.In(s.Location()).Format("Mon 2 Jan 2006 15:04 MST"))
}

// CallMemberEventType is Element Call's call membership state event (MSC3401/MSC4143).
const CallMemberEventType = "org.matrix.msc3401.call.member"

// sessionPowerLevels: the clinician and the bot at 100, and inviting (admitting), kicking,
// banning and every state change need 100, except Element Call's call membership, which
// admitted members send. Homeservers default invites to 0.
func (c *Connector) sessionPowerLevels(clinician id.UserID) *event.PowerLevelsEventContent {
	hundred, fifty := 100, 50
	return &event.PowerLevelsEventContent{
		Users: map[id.UserID]int{c.bot.UserID: 100, clinician: 100},
		// state_default covers every other state event; these are listed for clarity, and the
		// bridge's timeline events are kept to the clinician and the bot so nobody forges them.
		Events: map[string]int{
			SessionEventType.Type:             100,
			LifecycleEventType.Type:           100,
			ResultEventType.Type:              100,
			CommandEventType.Type:             100,
			event.StatePowerLevels.Type:       100,
			event.StateJoinRules.Type:         100,
			event.StateHistoryVisibility.Type: 100,
			event.StateEncryption.Type:        100,
			event.StateTombstone.Type:         100,
			event.EventRedaction.Type:         fifty,
			// Element Call's MatrixRTC membership (MSC4143): members announce their call
			// devices. Only joined members send state, and participants join once let in.
			CallMemberEventType: 0,
		},
		StateDefaultPtr: &hundred,
		InvitePtr:       &hundred,
		KickPtr:         &hundred,
		BanPtr:          &hundred,
		RedactPtr:       &fifty,
	}
}

// CreateRoom creates a session's room: version 10, an opaque name, history visible to members
// from when they were invited, no guest access, the join rule at invite until the window opens,
// and the clinician invited.
//
// History from the invite, not the join: the clinician is invited with the room, so every
// lifecycle event (session_scheduled, window_opened, ...) reaches them, however late they
// join. A participant is invited when admitted, so they read the room only from their
// admission: not the chat or the lobby before it, and nothing while they knock or wait.
func (c *Connector) CreateRoom(ctx context.Context, s *bridge.Session) (string, error) {
	clinician := id.UserID(s.Clinician)
	content := sessionContent(s, c.window)
	initial := []*event.Event{
		{Type: event.StateHistoryVisibility, Content: event.Content{Parsed: &event.HistoryVisibilityEventContent{HistoryVisibility: event.HistoryVisibilityInvited}}},
		// The private_chat preset lets guests in on some homeservers (Dendrite).
		{Type: event.StateGuestAccess, Content: event.Content{Parsed: &event.GuestAccessEventContent{GuestAccess: event.GuestAccessForbidden}}},
		{Type: event.StateJoinRules, Content: event.Content{Parsed: &event.JoinRulesEventContent{JoinRule: event.JoinRuleInvite}}},
		{Type: SessionEventType, StateKey: ptr(""), Content: event.Content{Parsed: content}},
	}
	if c.links != nil {
		initial = append(initial, c.widgetEvents(s)...)
	}
	resp, err := c.bot.CreateRoom(ctx, &mautrix.ReqCreateRoom{
		Visibility:         "private",
		Name:               roomName(s),
		Preset:             "private_chat",
		RoomVersion:        RoomVersion,
		Invite:             []id.UserID{clinician},
		InitialState:       initial,
		PowerLevelOverride: c.sessionPowerLevels(clinician),
	})
	if err != nil {
		return "", fmt.Errorf("creating room: %w", err)
	}
	c.published.set(resp.RoomID, content)
	return resp.RoomID.String(), nil
}

// WidgetID is the state key of the call widget in session rooms.
const WidgetID = "telehealth_call"

// widgetEvents put the call page in the room as a widget (Element Web and Desktop), shown at
// the top. Element fills in the $-variables and adds the widget API's parameters.
func (c *Connector) widgetEvents(s *bridge.Session) []*event.Event {
	widget := map[string]any{
		"type": "m.custom", "id": WidgetID, "name": "Video session",
		"url":           c.links.WidgetURL(s.ID),
		"creatorUserId": c.bot.UserID, "waitForIframeLoad": true,
		"data": map[string]any{"title": "Video session"},
	}
	layout := map[string]any{"widgets": map[string]any{WidgetID: map[string]any{"container": "top", "index": 0, "width": 100, "height": 60}}}
	return []*event.Event{
		{Type: event.Type{Type: "im.vector.modular.widgets", Class: event.StateEventType}, StateKey: ptr(WidgetID), Content: event.Content{Raw: widget}},
		{Type: event.Type{Type: "io.element.widgets.layout", Class: event.StateEventType}, StateKey: ptr(""), Content: event.Content{Raw: layout}},
	}
}

// SetLobbyOpen switches the join rule: knock while the lobby is open, invite otherwise. It
// sends nothing if the room already has that rule.
func (c *Connector) SetLobbyOpen(ctx context.Context, s *bridge.Session, open bool) error {
	rule := event.JoinRuleInvite
	if open {
		rule = event.JoinRuleKnock
	}
	roomID := id.RoomID(s.RoomID)
	if current, err := c.AS.StateStore.GetJoinRules(ctx, roomID); err == nil && current != nil && current.JoinRule == rule {
		return nil
	}
	_, err := c.bot.SendStateEvent(ctx, roomID, event.StateJoinRules, "", &event.JoinRulesEventContent{JoinRule: rule})
	if err != nil {
		return fmt.Errorf("setting join rule %s: %w", rule, err)
	}
	// Record it at once: the state store otherwise learns it only when the event comes back.
	_ = c.AS.StateStore.SetJoinRules(ctx, roomID, &event.JoinRulesEventContent{JoinRule: rule})
	return nil
}

// Invite invites a user on the bot's behalf (an admission). Inviting someone already invited
// or joined is not an error. A guest's ghost joins at once, without waiting for the invite to
// come back from the homeserver: the guest is waiting for their call.
func (c *Connector) Invite(ctx context.Context, roomID, userID string) error {
	// A new admission: its ghost joins once more (joinGhost), whoever brings it in first, the
	// invite's echo or the goroutine below. Forgotten before the invite, which the echo follows.
	c.joins.forget(roomID, userID)
	_, err := c.bot.InviteUser(ctx, id.RoomID(roomID), &mautrix.ReqInviteUser{UserID: id.UserID(userID)})
	if err != nil && forbidden(err) {
		if m := c.currentMembership(ctx, roomID, userID); m == event.MembershipInvite || m == event.MembershipJoin {
			// Already in (a send-back's kick that did not reach the homeserver before the
			// guest knocked again and was let in): a ghost's join is then recorded by
			// joinGhost below, or the admitted guest would never be in the session.
			err = nil
		}
	}
	if err == nil && c.IsGhost(userID) {
		// Not under the caller's session lock: joining updates the session.
		go func() {
			joinCtx := c.log.WithContext(context.Background())
			if err := c.onGhostInvite(joinCtx, id.RoomID(roomID), id.UserID(userID)); err != nil {
				c.log.Warn().Err(err).Msg("Failed to bring a guest in")
			}
		}()
	}
	return err
}

// Kick takes a user out with a reason. The spec's /kick works on knocking users; Dendrite
// refuses it for them, so the bot then writes the leave membership itself, which its power
// level allows and the room's rules still check. Such a homeserver has no knocks in /sync
// either: a Matrix user's client never shows the decline, which the error then says
// (bridge.ErrNotTold). A guest's ghost needs no telling: the web page follows the lobby.
func (c *Connector) Kick(ctx context.Context, roomID, userID, reason string) error {
	_, err := c.bot.KickUser(ctx, id.RoomID(roomID), &mautrix.ReqKickUser{UserID: id.UserID(userID), Reason: reason})
	if err == nil || !forbidden(err) {
		return err
	}
	_, fallbackErr := c.bot.SendStateEvent(ctx, id.RoomID(roomID), event.StateMember, userID,
		&event.MemberEventContent{Membership: event.MembershipLeave, Reason: reason})
	if fallbackErr != nil {
		return fmt.Errorf("kicking: %w (and setting leave: %v)", err, fallbackErr)
	}
	if !c.IsGhost(userID) {
		return fmt.Errorf("declined with a leave membership after the homeserver refused the kick (%v): %w", err, bridge.ErrNotTold)
	}
	return nil
}

// Ban bans a user from the room.
func (c *Connector) Ban(ctx context.Context, roomID, userID, reason string) error {
	_, err := c.bot.BanUser(ctx, id.RoomID(roomID), &mautrix.ReqBanUser{UserID: id.UserID(userID), Reason: reason})
	return err
}

// PublishSession writes the session state event (and renames the room if it was moved).
func (c *Connector) PublishSession(ctx context.Context, s *bridge.Session) error {
	content := sessionContent(s, c.window)
	roomID := id.RoomID(s.RoomID)
	prev := c.published.get(roomID)
	if prev != nil && *prev == *content {
		return nil
	}
	if _, err := c.bot.SendStateEvent(ctx, roomID, SessionEventType, "", content); err != nil {
		return fmt.Errorf("publishing session state: %w", err)
	}
	if prev == nil || prev.Start != content.Start || prev.TimeZone != content.TimeZone {
		if _, err := c.bot.SetRoomName(ctx, roomID, roomName(s)); err != nil {
			return fmt.Errorf("renaming the room: %w", err)
		}
	}
	c.published.set(roomID, content)
	return nil
}

// Emit posts a lifecycle event into the session's room.
func (c *Connector) Emit(ctx context.Context, s *bridge.Session, e bridge.Lifecycle) error {
	_, err := c.bot.SendMessageEvent(ctx, id.RoomID(s.RoomID), LifecycleEventType, &LifecycleContent{
		SessionID: s.ID, Action: string(e.Action), Status: string(s.Status),
		Participant: participantContent(e.Participant), Actor: e.Actor, Reason: e.Reason, At: e.At.UnixMilli(),
	})
	return err
}

// currentMembership asks the homeserver for a user's membership in a room.
func (c *Connector) currentMembership(ctx context.Context, roomID, userID string) event.Membership {
	var content event.MemberEventContent
	if err := c.bot.StateEvent(ctx, id.RoomID(roomID), event.StateMember, userID, &content); err != nil {
		return event.MembershipLeave
	}
	return content.Membership
}

// Knock knocks on a room with a reason: the spec's /knock, or, where the homeserver lacks it
// (Dendrite), the knock membership event itself, which the homeserver checks against the join
// rule all the same. displayName goes into that event, as /knock would put it there.
func Knock(ctx context.Context, cli *mautrix.Client, roomID id.RoomID, reason, displayName string) error {
	_, err := knockOn(ctx, cli, roomID, reason, displayName, false)
	return err
}

// knockOn is Knock, skipping /knock when the homeserver is known not to have it. It returns
// the knock's event ID when the homeserver gives it (the membership event's; /knock does not).
func knockOn(ctx context.Context, cli *mautrix.Client, roomID id.RoomID, reason, displayName string, noKnock bool) (id.EventID, error) {
	if !noKnock {
		_, err := cli.KnockRoom(ctx, roomID.String(), &mautrix.ReqKnockRoom{Reason: reason})
		if err == nil || !notImplemented(err) {
			return "", err
		}
	}
	resp, err := cli.SendStateEvent(ctx, roomID, event.StateMember, cli.UserID.String(),
		&event.MemberEventContent{Membership: event.MembershipKnock, Reason: reason, Displayname: displayName})
	if err != nil {
		return "", err
	}
	return resp.EventID, nil
}

// knock knocks for a ghost, remembering once per process that the homeserver has no /knock
// (Dendrite answers 404): a rush of guests then costs one homeserver call each, not two.
func (c *Connector) knock(ctx context.Context, cli *mautrix.Client, roomID id.RoomID, reason, displayName string) (id.EventID, error) {
	if c.noKnock.Load() {
		return knockOn(ctx, cli, roomID, reason, displayName, true)
	}
	_, err := cli.KnockRoom(ctx, roomID.String(), &mautrix.ReqKnockRoom{Reason: reason})
	if err == nil || !notImplemented(err) {
		return "", err
	}
	c.noKnock.Store(true)
	return knockOn(ctx, cli, roomID, reason, displayName, true)
}

// forbidden is a 403, whatever the error code (Dendrite answers some with M_UNKNOWN).
func forbidden(err error) bool {
	var httpErr mautrix.HTTPError
	return errors.Is(err, mautrix.MForbidden) ||
		(errors.As(err, &httpErr) && httpErr.Response != nil && httpErr.Response.StatusCode == http.StatusForbidden)
}

func notImplemented(err error) bool {
	var httpErr mautrix.HTTPError
	return errors.Is(err, mautrix.MUnrecognized) ||
		(errors.As(err, &httpErr) && httpErr.Response != nil &&
			(httpErr.Response.StatusCode == http.StatusNotFound || httpErr.Response.StatusCode == http.StatusMethodNotAllowed))
}

// publishedState remembers the last session content published per room, to skip repeats.
type publishedState struct {
	mu    sync.Mutex
	rooms map[id.RoomID]SessionContent
}

func (p *publishedState) get(roomID id.RoomID) *SessionContent {
	p.mu.Lock()
	defer p.mu.Unlock()
	if c, ok := p.rooms[roomID]; ok {
		return &c
	}
	return nil
}

func (p *publishedState) set(roomID id.RoomID, c *SessionContent) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.rooms == nil {
		p.rooms = make(map[id.RoomID]SessionContent)
	}
	p.rooms[roomID] = *c
}

func (p *publishedState) forget(roomID id.RoomID) {
	p.mu.Lock()
	delete(p.rooms, roomID)
	p.mu.Unlock()
}

func ptr[T any](v T) *T { return &v }

// rawContent re-reads an event's content from its JSON into v.
func rawContent(evt *event.Event, v any) error {
	return json.Unmarshal(evt.Content.VeryRaw, v)
}
