package web

import (
	"context"
	"net/http"
	"strconv"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
)

// The clients' Messages threads, on the homeserver, read and written from two doors:
//   - the portal (/api/portal/messages): the signed-in client, in their own room only, which
//     is found from their sign-in, never from the request; they write as their ghost, or read
//     only when they have their own Matrix account (they answer from their Matrix app);
//   - the panel (/api/panel/clients/{id}/messages): a clinician who may see the record
//     (assigned to it, or who booked the client; an admin for every record), 404 otherwise.
//     The bridge cannot write as a clinician's own Matrix account: the bot relays what they
//     write, under their name, as the in-call chat does.
// Bodies are never logged or stored by the bridge; only the thread's counts are (the home's
// summary and the unread notice).

// Threads is the Matrix side of the Messages threads.
type Threads interface {
	// MessagesRoom returns the client's record with its Messages room, created the first time.
	MessagesRoom(ctx context.Context, clientID int64) (*bridge.Client, error)
	// ThreadHistory reads the room's messages, oldest first.
	ThreadHistory(ctx context.Context, roomID string) ([]*bridge.ChatMessage, error)
	// SendAsClient posts the client's message as their ghost.
	SendAsClient(ctx context.Context, c *bridge.Client, text string) error
	// RelayFromPanel posts a professional's message through the bot, under their name.
	RelayFromPanel(ctx context.Context, c *bridge.Client, professional, text string) error
	// MarkThreadRead sends the client's read receipt (their ghost's) up to the event.
	MarkThreadRead(ctx context.Context, c *bridge.Client, eventID string) error
}

// UseThreads connects the Messages threads' Matrix side.
func (srv *Server) UseThreads(t Threads) { srv.threads = t }

// MessagesChanged wakes the pages following a client's thread.
func (srv *Server) MessagesChanged(clientID int64) { srv.hub.bump(messagesFeed(clientID)) }

// messagesFeed is the hub's key for a client's thread.
func messagesFeed(clientID int64) string { return "messages/" + strconv.FormatInt(clientID, 10) }

// ThreadMessageView is one message of a thread. Senders are named (a professional by their
// display name, the client by their record's name on the panel), never by Matrix ID.
type ThreadMessageView struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// Mine: the viewer wrote it (the portal shows "You").
	Mine bool   `json:"mine"`
	Text string `json:"text"`
	At   int64  `json:"ts"`
}

// ThreadView is a thread as one viewer reads it, and the version to wait on for the next.
type ThreadView struct {
	Version  uint64              `json:"version"`
	Messages []ThreadMessageView `json:"messages"`
	// ReadOnly: the client has their own Matrix account and answers from their Matrix app.
	ReadOnly bool `json:"read_only,omitempty"`
	// Relayed: the viewer's messages are posted by the clinic's bot under their name (the panel).
	Relayed   bool `json:"relayed,omitempty"`
	MaxLength int  `json:"max_length"`
}

func (srv *Server) threadsReady() error {
	if srv.threads == nil {
		return errorf(http.StatusServiceUnavailable, "no_messages", "Messages are not available on this bridge.")
	}
	return nil
}

// threadView reads the client's room. mine tells the viewer's messages; clientName names the
// client's (the panel), and "" leaves them to the page ("You").
func (srv *Server) threadView(ctx context.Context, c *bridge.Client, version uint64, mine func(sender string) bool, clientName string) (*ThreadView, []*bridge.ChatMessage, error) {
	msgs, err := srv.threads.ThreadHistory(ctx, c.MessagesRoom)
	if err != nil {
		return nil, nil, err
	}
	if len(msgs) > chatHistoryMax {
		msgs = msgs[len(msgs)-chatHistoryMax:]
	}
	client := c.MatrixID
	if client == "" {
		client = c.Ghost
	}
	view := &ThreadView{Version: version, Messages: []ThreadMessageView{}, MaxLength: bridge.ChatMaxLength}
	for _, m := range msgs {
		name := clientName
		if m.Sender != client {
			if name = srv.clinicianName(ctx, m.Sender); name == "" {
				name = localpart(m.Sender)
			}
		}
		view.Messages = append(view.Messages, ThreadMessageView{ID: m.ID, Name: name, Mine: mine(m.Sender), Text: m.Text, At: m.At.UnixMilli()})
	}
	return view, msgs, nil
}

// portalMessages answers GET /api/portal/messages[?after=<version>][&seen=1]: the signed-in
// client's thread, at once or, with after, when it changes (a long poll). seen=1 (the page is
// in view) records that the client read it: their unread count ends, and the professionals see
// a read receipt.
func (srv *Server) portalMessages(_ http.ResponseWriter, r *http.Request, in *portalSignIn) (any, error) {
	if err := srv.threadsReady(); err != nil {
		return nil, err
	}
	ctx := r.Context()
	feed := messagesFeed(in.clientID)
	if after, err := strconv.ParseUint(r.URL.Query().Get("after"), 10, 64); err == nil {
		srv.hub.wait(ctx, feed, after)
		// A sign-in that ended during the wait reads nothing more.
		if _, err = srv.portalClient(r); err != nil {
			return nil, err
		}
	}
	version := srv.hub.version(feed)
	c, err := srv.threads.MessagesRoom(ctx, in.clientID)
	if err != nil {
		return nil, err
	}
	me := c.MatrixID
	if me == "" {
		me = c.Ghost
	}
	view, msgs, err := srv.threadView(ctx, c, version, func(sender string) bool { return sender == me }, "")
	if err != nil {
		return nil, err
	}
	view.ReadOnly = c.MatrixID != ""
	if r.URL.Query().Get("seen") == "1" {
		if err = srv.threadRead(ctx, c, msgs, me); err != nil {
			return nil, err
		}
	}
	return view, nil
}

// threadRead records that the client has read the thread: the unread count ends, and their
// ghost's read receipt goes on the latest message (after the answer: the homeserver is not on
// the page's path).
func (srv *Server) threadRead(ctx context.Context, c *bridge.Client, msgs []*bridge.ChatMessage, me string) error {
	th, err := srv.db.MessageThread.Get(ctx, c.ID)
	if err != nil {
		return err
	}
	if th.Unread == 0 {
		return nil
	}
	if err = srv.db.MessageThread.MarkRead(ctx, c.ID, srv.clock.Now()); err != nil {
		return err
	}
	if len(msgs) > 0 && msgs[len(msgs)-1].Sender != me {
		last := msgs[len(msgs)-1].ID
		go func() {
			if err := srv.threads.MarkThreadRead(context.WithoutCancel(ctx), c, last); err != nil {
				srv.log.Warn().Err(err).Int64("client_id", c.ID).Msg("Failed to send a client's read receipt")
			}
		}()
	}
	return nil
}

type messageRequest struct {
	Text string `json:"text"`
}

// readMessage checks a message's text and the sender's pace.
func (srv *Server) readMessage(r *http.Request, key string) (string, error) {
	var req messageRequest
	if err := decode(r, &req); err != nil {
		return "", err
	}
	text, err := bridge.ValidateChatText(req.Text)
	if err != nil {
		return "", errorf(http.StatusBadRequest, "bad_message", "%s", capitalize(err.Error()))
	}
	if !srv.chatLimit.allow(key) {
		return "", errorf(http.StatusTooManyRequests, "rate_limited", "You are sending messages too fast. Please wait a few seconds.")
	}
	srv.chatLimit.fail(key) // every message counts towards the burst
	return text, nil
}

// portalSendMessage answers POST /api/portal/messages {"text": ...}: the client's message, as
// their ghost, in their own room. A client with their own Matrix account answers from it.
func (srv *Server) portalSendMessage(_ http.ResponseWriter, r *http.Request, in *portalSignIn) (any, error) {
	if err := srv.threadsReady(); err != nil {
		return nil, err
	}
	text, err := srv.readMessage(r, "messages client "+strconv.FormatInt(in.clientID, 10))
	if err != nil {
		return nil, err
	}
	c, err := srv.threads.MessagesRoom(r.Context(), in.clientID)
	if err != nil {
		return nil, err
	}
	if c.MatrixID != "" {
		return nil, errorf(http.StatusConflict, "read_only", "Answer from your Matrix app.")
	}
	if err = srv.threads.SendAsClient(r.Context(), c, text); err != nil {
		return nil, err
	}
	return map[string]any{}, nil
}

// panelThreadClient is the record of /api/panel/clients/{id}/messages with its room, when the
// clinician may see the record (ErrClientNotFound, a 404, otherwise).
func (srv *Server) panelThreadClient(r *http.Request, clinician string) (*bridge.Client, error) {
	if err := srv.threadsReady(); err != nil {
		return nil, err
	}
	id, err := clientID(r)
	if err != nil {
		return nil, err
	}
	if _, err = srv.svc.Client(r.Context(), clinician, id); err != nil {
		return nil, err
	}
	return srv.threads.MessagesRoom(r.Context(), id)
}

// panelMessages answers GET /api/panel/clients/{id}/messages[?after=<version>]: the client's
// thread for a clinician who may see the record; the first read (without after) is recorded in
// the audit trail as participant_data_viewed, view "messages".
func (srv *Server) panelMessages(r *http.Request, clinician string) (any, error) {
	c, err := srv.panelThreadClient(r, clinician)
	if err != nil {
		return nil, err
	}
	feed := messagesFeed(c.ID)
	if after, err := strconv.ParseUint(r.URL.Query().Get("after"), 10, 64); err == nil {
		srv.waitPanel(r, feed, after)
		// The record may have been taken away from the clinician meanwhile.
		if _, err = srv.svc.Client(r.Context(), clinician, c.ID); err != nil {
			return nil, err
		}
	} else {
		_ = srv.svc.Audit(r.Context(), bridge.AuditEntry{Actor: clinician, Action: bridge.AuditParticipantDataViewed,
			Subject: bridge.ClientSubject(c.ID), Detail: map[string]string{"view": "messages"}})
	}
	version := srv.hub.version(feed)
	view, _, err := srv.threadView(r.Context(), c, version, func(sender string) bool { return sender == clinician }, c.Name())
	if err != nil {
		return nil, err
	}
	view.Relayed = true
	return view, nil
}

// panelSendMessage answers POST /api/panel/clients/{id}/messages {"text": ...}: the bot relays
// the clinician's message under their name.
func (srv *Server) panelSendMessage(r *http.Request, clinician string) (any, error) {
	c, err := srv.panelThreadClient(r, clinician)
	if err != nil {
		return nil, err
	}
	text, err := srv.readMessage(r, "messages panel "+clinician)
	if err != nil {
		return nil, err
	}
	if err = srv.threads.RelayFromPanel(r.Context(), c, clinician, text); err != nil {
		return nil, err
	}
	return map[string]any{}, nil
}
