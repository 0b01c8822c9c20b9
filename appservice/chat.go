package appservice

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
)

// The in-call chat's Matrix side. A web guest speaks as their ghost; anyone else on a call page
// (the clinician, a Matrix participant) is a real Matrix user the bridge cannot speak as, so the
// bot relays them, naming them in the body for Matrix clients and in chatRelayKey for the pages.
// The history is read back from the homeserver (as the bot, which sees the whole room): the
// bridge keeps no message bodies.

// chatRelayKey is the content key of a message the bot relayed from a call page: who wrote it
// and their text without the name. Only the bot's own messages are read for it.
const chatRelayKey = "org.telehealthbridge.chat"

type chatRelay struct {
	Sender string `json:"sender"`
	Text   string `json:"text"`
}

const (
	// chatPage is how many events one /messages request asks for.
	chatPage = 100
	// chatMaxPages bounds the history read for one request: a session's chat is short; a room
	// flooded past this shows its latest part.
	chatMaxPages = 10
)

// ChatWatcher hears that a session's chat has a new message (the call pages' long polls).
type ChatWatcher interface {
	ChatChanged(sessionID string)
}

// SetChatWatcher connects the call pages.
func (c *Connector) SetChatWatcher(w ChatWatcher) { c.chatWatcher = w }

// ChatSend posts a message of the session's chat for someone on a call page: a guest as their
// ghost, anyone else relayed by the bot under their name. Every message is plain m.text, never
// HTML, so nothing a person types becomes markup in anyone's client.
func (c *Connector) ChatSend(ctx context.Context, s *bridge.Session, sender, text string) error {
	room := id.RoomID(s.RoomID)
	if c.IsGhost(sender) {
		content := &event.MessageEventContent{MsgType: event.MsgText, Body: text, Mentions: &event.Mentions{}}
		if err := sendPrivately(ctx, c.AS.Intent(id.UserID(sender)).Client, room, content); err != nil {
			return fmt.Errorf("sending a guest's chat message: %w", err)
		}
		return nil
	}
	name, err := c.ClinicianName(ctx, sender)
	if err != nil {
		return err
	}
	content := map[string]any{
		"msgtype": event.MsgText, "body": name + ": " + text, "m.mentions": map[string]any{},
		chatRelayKey: chatRelay{Sender: sender, Text: text},
	}
	if err := sendPrivately(ctx, c.bot.Client, room, content); err != nil {
		return fmt.Errorf("relaying a chat message from the call page: %w", err)
	}
	return nil
}

// sendPrivately sends an m.room.message whose content stays out of the logs: mautrix logs
// request bodies with each request at debug level, and with a failed request at error level.
func sendPrivately(ctx context.Context, cli *mautrix.Client, room id.RoomID, content any) error {
	url := cli.BuildClientURL("v3", "rooms", room, "send", event.EventMessage.Type, cli.TxnID())
	_, err := cli.MakeFullRequest(ctx, mautrix.FullRequest{
		Method: http.MethodPut, URL: url, RequestJSON: content, ResponseJSON: &mautrix.RespSendEvent{}, SensitiveContent: true,
	})
	return err
}

// ChatHistory reads the session room's chat from the homeserver, newest first, with the
// membership changes that decide who may read what (bridge.VisibleChat).
func (c *Connector) ChatHistory(ctx context.Context, s *bridge.Session) ([]bridge.RoomEvent, error) {
	room := id.RoomID(s.RoomID)
	filter := &mautrix.FilterPart{Types: []event.Type{event.EventMessage, event.StateMember}}
	var out []bridge.RoomEvent
	// Names as the room last knew them: the newest member event of each user comes first.
	names := map[string]string{}
	var pending []*bridge.ChatMessage
	from := ""
	for page := 0; page < chatMaxPages; page++ {
		resp, err := c.bot.Messages(ctx, room, from, "", mautrix.DirectionBackward, filter, chatPage)
		if err != nil {
			return nil, fmt.Errorf("reading the session room's messages: %w", err)
		}
		for _, evt := range resp.Chunk {
			if re, ok := c.chatEvent(evt, names); ok {
				out = append(out, re)
				if re.Message != nil {
					pending = append(pending, re.Message)
				}
			}
		}
		if resp.End == "" || len(resp.Chunk) == 0 {
			break
		}
		from = resp.End
	}
	for _, m := range pending {
		if m.SenderName == "" {
			m.SenderName = names[m.Sender]
		}
	}
	return out, nil
}

// chatEvent reads one timeline event, from its own JSON. Messages are the text, emote and
// notice msgtypes of the room's members; edits and redacted events are left out; the bot's
// messages count only when it relayed someone's (its notices are the bridge speaking).
func (c *Connector) chatEvent(evt *event.Event, names map[string]string) (bridge.RoomEvent, bool) {
	if evt.Type == event.StateMember {
		m := parseMember(evt)
		var content event.MemberEventContent
		_ = json.Unmarshal(evt.Content.VeryRaw, &content)
		if _, seen := names[m.target.String()]; !seen && content.Displayname != "" {
			names[m.target.String()] = content.Displayname
		}
		return bridge.RoomEvent{Member: m.target.String(), Membership: string(m.membership), Prev: string(m.prev)}, true
	}
	var content struct {
		MsgType   string          `json:"msgtype"`
		Body      string          `json:"body"`
		RelatesTo json.RawMessage `json:"m.relates_to"`
		Relay     *chatRelay      `json:"org.telehealthbridge.chat"`
	}
	if err := json.Unmarshal(evt.Content.VeryRaw, &content); err != nil || content.Body == "" {
		return bridge.RoomEvent{}, false
	}
	var rel struct {
		RelType string `json:"rel_type"`
	}
	if len(content.RelatesTo) > 0 && json.Unmarshal(content.RelatesTo, &rel) == nil && rel.RelType == string(event.RelReplace) {
		return bridge.RoomEvent{}, false
	}
	msg := &bridge.ChatMessage{ID: evt.ID.String(), Sender: evt.Sender.String(), Text: content.Body, At: time.UnixMilli(evt.Timestamp)}
	switch event.MessageType(content.MsgType) {
	case event.MsgText:
		msg.Kind = bridge.ChatText
	case event.MsgEmote:
		msg.Kind = bridge.ChatEmote
	case event.MsgNotice:
		msg.Kind = bridge.ChatNotice
	default:
		return bridge.RoomEvent{}, false
	}
	if evt.Sender == c.bot.UserID {
		if content.Relay == nil || content.Relay.Sender == "" || msg.Kind != bridge.ChatText {
			return bridge.RoomEvent{}, false
		}
		msg.Sender, msg.Text = content.Relay.Sender, content.Relay.Text
	}
	return bridge.RoomEvent{Message: msg}, true
}

// chatMessageArrived tells the call pages that a session room has a new message.
func (c *Connector) chatMessageArrived(ctx context.Context, evt *event.Event) {
	if c.chatWatcher == nil {
		return
	}
	s, err := c.svc.SessionByRoom(ctx, evt.RoomID.String())
	if err != nil {
		return
	}
	c.whenInHistory(ctx, evt, func() { c.chatWatcher.ChatChanged(s.ID) })
}

// whenInHistory calls tell once the homeserver's history shows the event (or after 5 seconds):
// events reach the bridge before some homeservers (Dendrite) serve them from /messages, and a
// page woken too early would read the old history and wait.
func (c *Connector) whenInHistory(ctx context.Context, evt *event.Event, tell func()) {
	go func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		filter := &mautrix.FilterPart{Types: []event.Type{event.EventMessage}}
		for delay := 20 * time.Millisecond; ; delay = min(2*delay, 500*time.Millisecond) {
			resp, err := c.bot.Messages(ctx, evt.RoomID, "", "", mautrix.DirectionBackward, filter, 20)
			if err == nil && containsEvent(resp.Chunk, evt.ID) {
				break
			}
			select {
			case <-ctx.Done():
				zerolog.Ctx(ctx).Debug().Msg("A message is not in the room's history yet; telling the pages anyway")
				tell()
				return
			case <-time.After(delay):
			}
		}
		tell()
	}()
}

func containsEvent(events []*event.Event, eventID id.EventID) bool {
	for _, e := range events {
		if e.ID == eventID {
			return true
		}
	}
	return false
}
