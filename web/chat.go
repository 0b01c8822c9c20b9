package web

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
)

// Chat is the session room's thread, as the call pages need it.
type Chat interface {
	// ChatHistory reads the room's messages and membership changes, newest first.
	ChatHistory(ctx context.Context, s *bridge.Session) ([]bridge.RoomEvent, error)
	// ChatSend posts a message for someone on a call page (a guest as their ghost).
	ChatSend(ctx context.Context, s *bridge.Session, sender, text string) error
}

// UseChat connects the Matrix side of the in-call chat.
func (srv *Server) UseChat(chat Chat) { srv.chat = chat }

// ChatChanged wakes the call pages following a session's chat.
func (srv *Server) ChatChanged(sessionID string) { srv.hub.bump(chatFeed(sessionID)) }

// chatFeed is the hub's key for a session's chat (session IDs and user IDs never start with it).
func chatFeed(sessionID string) string { return "chat/" + sessionID }

// Chat limits: a burst of chatBurst messages, then the window must pass.
const (
	chatBurst  = 10
	chatWindow = 20 * time.Second
	// chatHistoryMax is how many of the latest messages a page gets.
	chatHistoryMax = 300
)

// ChatMessageView is one chat message on a call page. Senders are named, never identified by
// their Matrix ID (a guest's ghost is opaque, and guests need no one's address).
type ChatMessageView struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// Mine: the viewer wrote it. Host: the session's clinician did.
	Mine bool   `json:"mine"`
	Host bool   `json:"host"`
	Kind string `json:"kind"`
	Text string `json:"text"`
	At   int64  `json:"ts"`
}

// ChatView is the chat as one viewer may read it, and the version to wait on for the next.
type ChatView struct {
	Version   uint64            `json:"version"`
	Messages  []ChatMessageView `json:"messages"`
	MaxLength int               `json:"max_length"`
}

// chatViewer identifies a call page's visitor and checks that they may use the chat: the
// session's clinician, and participants in the session (joined members of its room), while the
// session is not over. Waiting, removed or left participants may not.
func (srv *Server) chatViewer(r *http.Request) (*viewer, error) {
	v, err := srv.viewerFrom(r)
	if err != nil {
		return nil, err
	}
	if srv.chat == nil {
		return nil, errorf(http.StatusServiceUnavailable, "no_chat", "Chat is not available on this bridge.")
	}
	return v, srv.mayChat(r.Context(), v)
}

// mayChat reads the viewer's state afresh (a long poll outlives a removal).
func (srv *Server) mayChat(ctx context.Context, v *viewer) error {
	s, ps, err := srv.svc.Lobby(ctx, "", v.session.ID)
	if err != nil {
		return err
	}
	v.session = s
	if s.Over() {
		return errorf(http.StatusConflict, "session_over", "This session is over.")
	}
	if v.host {
		return nil
	}
	if v.participant != nil {
		for _, p := range ps {
			if p.ID == v.participant.ID {
				v.participant = p
			}
		}
		if v.participant.State == bridge.StateInSession && v.participant.MatrixID != "" {
			return nil
		}
	}
	return errorf(http.StatusForbidden, "not_in_session", "The chat opens once the clinician has let you in.")
}

// callChat answers GET /api/call/chat?after=<version>: the messages the viewer may read (those
// sent while they were in the room; all of them for the clinician), at once, or with after,
// when the chat changes (a long poll, like the call state).
func (srv *Server) callChat(w http.ResponseWriter, r *http.Request) (any, error) {
	v, err := srv.chatViewer(r)
	if err != nil {
		return nil, err
	}
	feed := chatFeed(v.session.ID)
	if after, err := strconv.ParseUint(r.URL.Query().Get("after"), 10, 64); err == nil {
		srv.hub.wait(r.Context(), feed, after)
		if err = srv.mayChat(r.Context(), v); err != nil {
			return nil, err
		}
	}
	// The version is taken before reading, so a message that arrives meanwhile wakes the next poll.
	version := srv.hub.version(feed)
	events, err := srv.chat.ChatHistory(r.Context(), v.session)
	if err != nil {
		return nil, err
	}
	visible := bridge.VisibleChat(events, v.userID, v.host)
	if len(visible) > chatHistoryMax {
		visible = visible[len(visible)-chatHistoryMax:]
	}
	names, err := srv.chatNames(r.Context(), v.session)
	if err != nil {
		return nil, err
	}
	view := &ChatView{Version: version, Messages: []ChatMessageView{}, MaxLength: bridge.ChatMaxLength}
	for _, m := range visible {
		name := names[m.Sender]
		if name == "" {
			name = m.SenderName
		}
		if name == "" && !srv.guests.IsGhost(m.Sender) {
			name = localpart(m.Sender)
		}
		if name == "" {
			name = "Guest"
		}
		view.Messages = append(view.Messages, ChatMessageView{
			ID: m.ID, Name: name, Mine: m.Sender == v.userID, Host: m.Sender == v.session.Clinician,
			Kind: m.Kind, Text: m.Text, At: m.At.UnixMilli(),
		})
	}
	return view, nil
}

// chatNames are the names the bridge knows its participants by (the name a guest confirmed).
func (srv *Server) chatNames(ctx context.Context, s *bridge.Session) (map[string]string, error) {
	_, ps, err := srv.svc.Lobby(ctx, "", s.ID)
	if err != nil {
		return nil, err
	}
	names := map[string]string{}
	for _, p := range ps {
		if p.MatrixID != "" {
			names[p.MatrixID] = p.DisplayName()
		}
	}
	return names, nil
}

type chatRequest struct {
	Text string `json:"text"`
}

// callChatSend answers POST /api/call/chat {"text": ...}: the viewer's message goes to the
// session room. Bodies are never logged.
func (srv *Server) callChatSend(w http.ResponseWriter, r *http.Request) (any, error) {
	v, err := srv.chatViewer(r)
	if err != nil {
		return nil, err
	}
	var req chatRequest
	if err = decode(r, &req); err != nil {
		return nil, err
	}
	text, err := bridge.ValidateChatText(req.Text)
	if err != nil {
		return nil, errorf(http.StatusBadRequest, "bad_message", "%s", capitalize(err.Error()))
	}
	key := v.session.ID + " " + v.userID
	if !srv.chatLimit.allow(key) {
		return nil, errorf(http.StatusTooManyRequests, "rate_limited", "You are sending messages too fast. Please wait a few seconds.")
	}
	srv.chatLimit.fail(key) // every message counts towards the burst
	if err = srv.chat.ChatSend(r.Context(), v.session, v.userID, text); err != nil {
		return nil, err
	}
	return map[string]any{}, nil
}

// localpart is the name part of a Matrix user ID (@name:server).
func localpart(userID string) string {
	for i := 1; i < len(userID); i++ {
		if userID[i] == ':' {
			return userID[1:i]
		}
	}
	return userID
}
