package appservice

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/telehealth-bridge/telehealth-bridge/scheduler"
)

// The outbox's Matrix channel: confirmations, reminders, the waiting room's opening,
// reschedules and cancellations for participants booked with their own Matrix account, in a
// direct chat with the bot that holds only the two of them (their control room).
var _ scheduler.MatrixSender = (*Connector)(nil)

// OwnAccount reports whether a user ID is a person's own account: a valid ID outside the
// bridge's namespace (never the bot or a guest's ghost).
func (c *Connector) OwnAccount(userID string) bool {
	if _, _, err := id.UserID(userID).Parse(); err != nil {
		return false
	}
	return !c.cfg.IsBridgeUser(userID)
}

// RoomLink is the matrix.to link of a session room, through the bridge's homeserver: a room ID
// (not an alias, which session rooms do not have) needs a server to join through.
func (c *Connector) RoomLink(roomID string) string {
	if roomID == "" {
		return ""
	}
	return "https://matrix.to/#/" + url.PathEscape(roomID) + "?via=" + url.QueryEscape(c.cfg.Homeserver.Domain)
}

// SendDirect posts a notification in the user's direct chat with the bot, opening one if they
// have none, or if someone else is in theirs. It is an m.text, not a notice: clients do not
// notify of notices, and this message is for the person to see. A homeserver refusing the
// user for good (no such account, invites refused) is a permanent failure; anything else is
// retried by the outbox.
func (c *Connector) SendDirect(ctx context.Context, userID string, m scheduler.MatrixMessage) (string, error) {
	if !c.OwnAccount(userID) {
		return "", &scheduler.SendError{Permanent: true, Reason: "not a Matrix account the bridge writes to"}
	}
	room, err := c.controlRoom(ctx, id.UserID(userID))
	if err != nil {
		return "", matrixSendError("opening a direct chat", err)
	}
	resp, err := c.bot.SendMessageEvent(ctx, room, event.EventMessage, &event.MessageEventContent{
		MsgType: event.MsgText, Body: m.Text, Format: event.FormatHTML, FormattedBody: m.HTML,
		Mentions: &event.Mentions{},
	})
	if err != nil {
		return "", matrixSendError("posting in the direct chat", err)
	}
	return resp.EventID.String(), nil
}

// matrixSendError classifies a homeserver's refusal for the outbox: an unknown or refusing
// account is permanent (sending again fails the same way), the rest is temporary.
func matrixSendError(doing string, err error) error {
	var httpErr mautrix.HTTPError
	status := 0
	if errors.As(err, &httpErr) && httpErr.Response != nil {
		status = httpErr.Response.StatusCode
	}
	permanent := errors.Is(err, mautrix.MNotFound) || errors.Is(err, mautrix.MForbidden) ||
		errors.Is(err, mautrix.MInvalidParam) || status == http.StatusNotFound || status == http.StatusForbidden
	reason := "the homeserver did not accept the message"
	if permanent {
		reason = "the homeserver refused to reach this Matrix account"
	}
	return &scheduler.SendError{Permanent: permanent, Status: status, Reason: fmt.Sprintf("%s: %s (%v)", doing, reason, err)}
}
