package appservice

import (
	"context"
	"fmt"
	"net/http"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
)

// A submitted form reaches the client's Messages room twice: an m.notice for the clinicians
// (title and score, never an answer: the thread does not count notices as messages, so the
// client is not told of a "new message") and the org.telehealthbridge.form_response event with
// the answers for integrators (docs/events.md). Both are sent by the bot, with the request's
// content kept out of the logs.

var _ bridge.FormRoom = (*Connector)(nil)

// PostFormSummary posts a submitted form's summary in the client's Messages room, making the
// room if the client has none yet.
func (c *Connector) PostFormSummary(ctx context.Context, client *bridge.Client, summary bridge.FormSummary) error {
	room, err := c.formRoom(ctx, client)
	if err != nil {
		return err
	}
	content := map[string]any{"msgtype": event.MsgNotice, "body": summary.Notice(), "m.mentions": map[string]any{}}
	if err = sendPrivately(ctx, c.bot.Client, room, content); err != nil {
		return fmt.Errorf("posting the summary of form assignment %d: %w", summary.AssignmentID, err)
	}
	return nil
}

// EmitFormResponse sends the submitted answers as an org.telehealthbridge.form_response event
// in the client's Messages room.
func (c *Connector) EmitFormResponse(ctx context.Context, client *bridge.Client, ev bridge.FormResponseEvent) error {
	room, err := c.formRoom(ctx, client)
	if err != nil {
		return err
	}
	cli := c.bot.Client
	url := cli.BuildClientURL("v3", "rooms", room, "send", bridge.FormResponseEventType, cli.TxnID())
	_, err = cli.MakeFullRequest(ctx, mautrix.FullRequest{
		Method: http.MethodPut, URL: url, RequestJSON: ev, ResponseJSON: &mautrix.RespSendEvent{}, SensitiveContent: true,
	})
	if err != nil {
		return fmt.Errorf("sending the form response event of client %d: %w", client.ID, err)
	}
	return nil
}

func (c *Connector) formRoom(ctx context.Context, client *bridge.Client) (id.RoomID, error) {
	cl, err := c.MessagesRoom(ctx, client.ID)
	if err != nil {
		return "", fmt.Errorf("finding client %d's Messages room: %w", client.ID, err)
	}
	return id.RoomID(cl.MessagesRoom), nil
}
