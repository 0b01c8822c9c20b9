package appservice

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
)

// The clients' Messages rooms. Each client has one direct room with the bot and their assigned
// professionals: the client speaks there as their ghost (or from their own Matrix account,
// which the bot invites), the professionals from Element, or from the panel, where the bot
// relays them under their name as it does for the in-call chat (the bridge cannot speak as a
// clinician's own account). The bot itself never writes there: no notice, no clinical content.
// History is visible from a member's join only, so a professional assigned later does not read
// what was said before them.

var _ bridge.MessagesRooms = (*Connector)(nil)

// MessagesWatcher hears that a client's thread has a new message (the portal's and the
// panel's long polls).
type MessagesWatcher interface {
	MessagesChanged(clientID int64)
}

// SetMessagesWatcher connects the web pages.
func (c *Connector) SetMessagesWatcher(w MessagesWatcher) { c.messagesWatcher = w }

// messagesRoomName is opaque: the record's number, never the client's name.
func messagesRoomName(clientID int64) string { return fmt.Sprintf("Messages · client %d", clientID) }

// identity is who speaks for the client in their room: their own account, else their ghost.
func identity(cl *bridge.Client) id.UserID {
	if cl.MatrixID != "" {
		return id.UserID(cl.MatrixID)
	}
	return id.UserID(cl.Ghost)
}

// messagesPowerLevels: the bot 100 (it alone invites and kicks), the professionals 50, the
// client 0 with m.room.message allowed at 0; any other event needs 50, state 100.
func (c *Connector) messagesPowerLevels(cl *bridge.Client) *event.PowerLevelsEventContent {
	hundred, fifty := 100, 50
	users := map[id.UserID]int{c.bot.UserID: 100}
	for _, pro := range cl.Professionals {
		users[id.UserID(pro)] = 50
	}
	return &event.PowerLevelsEventContent{
		Users: users,
		Events: map[string]int{
			event.EventMessage.Type:           0,
			event.EventRedaction.Type:         0, // one's own messages; others' need redact (50)
			event.StatePowerLevels.Type:       100,
			event.StateJoinRules.Type:         100,
			event.StateHistoryVisibility.Type: 100,
			event.StateEncryption.Type:        100,
			event.StateTombstone.Type:         100,
		},
		EventsDefault:   50,
		StateDefaultPtr: &hundred,
		InvitePtr:       &hundred,
		KickPtr:         &hundred,
		BanPtr:          &hundred,
		RedactPtr:       &fifty,
	}
}

// clientGhost gives a web client their one ghost, registered, the first time it is needed.
// created says it is new (it has no display name yet).
func (c *Connector) clientGhost(ctx context.Context, cl *bridge.Client) (ghost id.UserID, created bool, err error) {
	if cl.Ghost == "" {
		mine, err := c.db.Client.SetGhost(ctx, cl.ID, c.newClientGhostID().String())
		if err != nil {
			return "", false, fmt.Errorf("giving client %d a Matrix identity: %w", cl.ID, err)
		}
		cl.Ghost, created = mine, true
	}
	intent := c.AS.Intent(id.UserID(cl.Ghost))
	if err = intent.EnsureRegistered(ctx); err != nil {
		return "", false, fmt.Errorf("registering client %d's ghost: %w", cl.ID, err)
	}
	return id.UserID(cl.Ghost), created, nil
}

// MessagesRoom returns the client's Messages room, creating it (and the client's ghost) the
// first time. Two requests at once make one room.
func (c *Connector) MessagesRoom(ctx context.Context, clientID int64) (*bridge.Client, error) {
	unlock := c.clientLocks.Lock(clientID)
	defer unlock()
	cl, err := c.db.Client.Get(ctx, clientID)
	if err != nil {
		return nil, err
	}
	if cl.MessagesRoom != "" {
		return cl, nil
	}
	var newGhost bool
	if cl.MatrixID == "" {
		if _, newGhost, err = c.clientGhost(ctx, cl); err != nil {
			return nil, err
		}
		if newGhost {
			// The name the clinic knows them by, until they confirm one when they knock.
			if err = c.AS.Intent(id.UserID(cl.Ghost)).SetDisplayName(ctx, cl.Name()); err != nil {
				return nil, fmt.Errorf("naming client %d's ghost: %w", cl.ID, err)
			}
		}
	}
	who := identity(cl)
	invite := []id.UserID{who}
	for _, pro := range cl.Professionals {
		invite = append(invite, id.UserID(pro))
	}
	resp, err := c.bot.CreateRoom(ctx, &mautrix.ReqCreateRoom{
		Visibility:  "private",
		Name:        messagesRoomName(cl.ID),
		Preset:      "private_chat",
		IsDirect:    true,
		RoomVersion: RoomVersion,
		Invite:      invite,
		InitialState: []*event.Event{
			{Type: event.StateHistoryVisibility, Content: event.Content{Parsed: &event.HistoryVisibilityEventContent{HistoryVisibility: event.HistoryVisibilityJoined}}},
			{Type: event.StateGuestAccess, Content: event.Content{Parsed: &event.GuestAccessEventContent{GuestAccess: event.GuestAccessForbidden}}},
			{Type: event.StateJoinRules, Content: event.Content{Parsed: &event.JoinRulesEventContent{JoinRule: event.JoinRuleInvite}}},
		},
		PowerLevelOverride: c.messagesPowerLevels(cl),
	})
	if err != nil {
		return nil, fmt.Errorf("creating client %d's Messages room: %w", cl.ID, err)
	}
	room, err := c.db.Client.SetMessagesRoom(ctx, cl.ID, resp.RoomID.String())
	if err != nil {
		return nil, fmt.Errorf("storing client %d's Messages room: %w", cl.ID, err)
	}
	if room != resp.RoomID.String() {
		// Another instance made one first: this one is left empty.
		_, _ = c.bot.LeaveRoom(ctx, resp.RoomID)
	}
	cl.MessagesRoom = room
	if cl.MatrixID == "" {
		if _, err = c.AS.Intent(who).JoinRoomByID(ctx, id.RoomID(room)); err != nil {
			return nil, fmt.Errorf("joining client %d's ghost to their Messages room: %w", cl.ID, err)
		}
	}
	zerolog.Ctx(ctx).Info().Int64("client_id", cl.ID).Stringer("room_id", resp.RoomID).Msg("Created a client's Messages room")
	return cl, nil
}

// SyncMessagesRoom brings the client's room in line with the record (creating it if needed):
// the power levels name the assigned professionals; a newly assigned one is invited, one no
// longer assigned is taken out; the client is in (their ghost joined, their own account
// invited).
func (c *Connector) SyncMessagesRoom(ctx context.Context, record *bridge.Client) error {
	cl, err := c.MessagesRoom(ctx, record.ID)
	if err != nil {
		return err
	}
	unlock := c.clientLocks.Lock(cl.ID)
	defer unlock()
	room := id.RoomID(cl.MessagesRoom)
	if cl.MatrixID == "" {
		if _, _, err = c.clientGhost(ctx, cl); err != nil {
			return err
		}
	}
	members, err := c.bot.Members(ctx, room)
	if err != nil {
		return fmt.Errorf("reading client %d's Messages room members: %w", cl.ID, err)
	}
	now := map[id.UserID]event.Membership{}
	for _, evt := range members.Chunk {
		now[id.UserID(evt.GetStateKey())] = parseMember(evt).membership
	}
	in := func(u id.UserID) bool { return now[u] == event.MembershipJoin || now[u] == event.MembershipInvite }

	var current event.PowerLevelsEventContent
	if err = c.bot.StateEvent(ctx, room, event.StatePowerLevels, "", &current); err != nil {
		return fmt.Errorf("reading client %d's Messages room power levels: %w", cl.ID, err)
	}
	wanted := c.messagesPowerLevels(cl)
	if !samePowers(current.Users, wanted.Users) {
		current.Users = wanted.Users
		if _, err = c.bot.SendStateEvent(ctx, room, event.StatePowerLevels, "", &current); err != nil {
			return fmt.Errorf("setting client %d's Messages room power levels: %w", cl.ID, err)
		}
	}
	who := identity(cl)
	for _, pro := range cl.Professionals {
		if u := id.UserID(pro); !in(u) {
			if _, err = c.bot.InviteUser(ctx, room, &mautrix.ReqInviteUser{UserID: u}); err != nil {
				return fmt.Errorf("inviting a professional to client %d's Messages room: %w", cl.ID, err)
			}
		}
	}
	for u := range now {
		if u == c.bot.UserID || u == who || !in(u) || slices.Contains(cl.Professionals, u.String()) {
			continue
		}
		if _, err = c.bot.KickUser(ctx, room, &mautrix.ReqKickUser{UserID: u, Reason: "No longer assigned to this client"}); err != nil {
			return fmt.Errorf("taking someone no longer assigned out of client %d's Messages room: %w", cl.ID, err)
		}
	}
	if !in(who) {
		if _, err = c.bot.InviteUser(ctx, room, &mautrix.ReqInviteUser{UserID: who}); err != nil {
			return fmt.Errorf("inviting client %d to their Messages room: %w", cl.ID, err)
		}
	}
	if cl.MatrixID == "" && now[who] != event.MembershipJoin {
		if _, err = c.AS.Intent(who).JoinRoomByID(ctx, room); err != nil {
			return fmt.Errorf("joining client %d's ghost to their Messages room: %w", cl.ID, err)
		}
	}
	return nil
}

func samePowers(a, b map[id.UserID]int) bool {
	if len(a) != len(b) {
		return false
	}
	for u, v := range a {
		if w, ok := b[u]; !ok || w != v {
			return false
		}
	}
	return true
}

// ThreadHistory reads the Messages room from the homeserver (as the bot, a member from the
// start), oldest first: text messages of the client and the professionals, and the bot's
// relays of the panel's messages under the professional who wrote them.
func (c *Connector) ThreadHistory(ctx context.Context, roomID string) ([]*bridge.ChatMessage, error) {
	room := id.RoomID(roomID)
	filter := &mautrix.FilterPart{Types: []event.Type{event.EventMessage}}
	var out []*bridge.ChatMessage
	names := map[string]string{}
	from := ""
	for page := 0; page < chatMaxPages; page++ {
		resp, err := c.bot.Messages(ctx, room, from, "", mautrix.DirectionBackward, filter, chatPage)
		if err != nil {
			return nil, fmt.Errorf("reading a Messages room: %w", err)
		}
		for _, evt := range resp.Chunk {
			if re, ok := c.chatEvent(evt, names); ok && re.Message != nil && re.Message.Kind != bridge.ChatNotice {
				out = append(out, re.Message)
			}
		}
		if resp.End == "" || len(resp.Chunk) == 0 {
			break
		}
		from = resp.End
	}
	slices.Reverse(out)
	return out, nil
}

// SendAsClient posts the client's message in their room, as their ghost. A client with their
// own Matrix account answers from their Matrix app: the bridge cannot speak for them.
func (c *Connector) SendAsClient(ctx context.Context, cl *bridge.Client, text string) error {
	if cl.MatrixID != "" || cl.Ghost == "" || cl.MessagesRoom == "" {
		return fmt.Errorf("client %d has no ghost in a Messages room to speak as", cl.ID)
	}
	content := &event.MessageEventContent{MsgType: event.MsgText, Body: text, Mentions: &event.Mentions{}}
	if err := sendPrivately(ctx, c.AS.Intent(id.UserID(cl.Ghost)).Client, id.RoomID(cl.MessagesRoom), content); err != nil {
		return fmt.Errorf("sending a client's message: %w", err)
	}
	return nil
}

// RelayFromPanel posts a professional's message written in the panel: the bot relays it, named
// in the body for Matrix clients and in chatRelayKey for the pages, as the in-call chat does.
func (c *Connector) RelayFromPanel(ctx context.Context, cl *bridge.Client, professional, text string) error {
	name, err := c.ClinicianName(ctx, professional)
	if err != nil {
		return err
	}
	content := map[string]any{
		"msgtype": event.MsgText, "body": name + ": " + text, "m.mentions": map[string]any{},
		chatRelayKey: chatRelay{Sender: professional, Text: text},
	}
	if err := sendPrivately(ctx, c.bot.Client, id.RoomID(cl.MessagesRoom), content); err != nil {
		return fmt.Errorf("relaying a message from the panel: %w", err)
	}
	return nil
}

// MarkThreadRead sends a read receipt as the client's ghost for the latest message they saw,
// so that the professionals' Matrix clients show it read.
func (c *Connector) MarkThreadRead(ctx context.Context, cl *bridge.Client, eventID string) error {
	if cl.MatrixID != "" || cl.Ghost == "" || cl.MessagesRoom == "" || eventID == "" {
		return nil
	}
	if err := c.AS.Intent(id.UserID(cl.Ghost)).MarkRead(ctx, id.RoomID(cl.MessagesRoom), id.EventID(eventID)); err != nil {
		return fmt.Errorf("sending a read receipt for client %d: %w", cl.ID, err)
	}
	return nil
}

// threadMessage keeps the books of a message in a Messages room, once per event, and wakes the
// pages following the thread; it reports whether the room is a Messages room (whose messages
// are never commands). The bot's own events come here too: its relays of the panel are the
// professionals' messages.
func (c *Connector) threadMessage(ctx context.Context, evt *event.Event) bool {
	log := zerolog.Ctx(ctx)
	clientID, ok, err := c.db.Client.ByMessagesRoom(ctx, evt.RoomID.String())
	if err != nil {
		log.Err(err).Msg("Failed to check whether a room is a Messages room")
		return false
	} else if !ok {
		return false
	}
	if handled, err := c.db.HandledEvent.IsHandled(ctx, evt.ID.String()); err != nil {
		log.Err(err).Msg("Failed to check whether the event was handled; handling it")
	} else if handled {
		return true
	}
	cl, err := c.db.Client.Get(ctx, clientID)
	if err != nil {
		log.Err(err).Msg("Failed to read the client of a Messages room")
		return true
	}
	var content struct {
		MsgType string     `json:"msgtype"`
		Body    string     `json:"body"`
		Relay   *chatRelay `json:"org.telehealthbridge.chat"`
	}
	_ = json.Unmarshal(evt.Content.VeryRaw, &content)
	now := c.clock.Now()
	switch {
	case content.Body == "" || content.MsgType == string(event.MsgNotice):
	case evt.Sender == c.bot.UserID && content.Relay == nil:
		// The bot writes nothing of its own there.
	case evt.Sender == identity(cl):
		err = c.db.MessageThread.ClientMessage(ctx, cl.ID, now)
	default:
		err = c.db.MessageThread.ProfessionalMessage(ctx, cl.ID, now)
	}
	if err != nil {
		log.Err(err).Int64("client_id", cl.ID).Msg("Failed to count a message of a Messages thread")
	}
	// A professional's file is a document shared with the client.
	c.documentEvent(ctx, evt, cl)
	if err = c.db.HandledEvent.MarkHandled(ctx, evt.ID.String(), evt.RoomID.String(), time.Now()); err != nil {
		log.Err(err).Msg("Failed to record the event as handled")
	}
	if c.messagesWatcher != nil {
		c.whenInHistory(ctx, evt, func() { c.messagesWatcher.MessagesChanged(clientID) })
	}
	return true
}
