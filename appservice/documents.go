package appservice

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"github.com/telehealth-bridge/telehealth-bridge/internal/doctype"
)

// Documents shared in the clients' Messages rooms. A professional's m.file or m.image event
// there (from Element, or the bot's post of a panel upload under the professional's name) is
// indexed once per event, dated by the bridge's clock as the thread's counts are: where the file is, its name and size, and its type sniffed from its
// first bytes, never the sender's. The file stays in the homeserver's media repository; the
// bridge downloads it with the bot's token when the portal or the panel serves it, after the
// web side has checked who may. Files from the client are not indexed here: the one file the
// portal takes, a picture of an insurance card (PostClientFile), is indexed by the web side
// with its kind.

// fileContent is the part of an m.file or m.image event the index needs.
type fileContent struct {
	MsgType  string     `json:"msgtype"`
	Body     string     `json:"body"`
	FileName string     `json:"filename"`
	URL      string     `json:"url"`
	Relay    *chatRelay `json:"org.telehealthbridge.chat"`
	// Kind marks a file the client uploaded from the portal (documentKindKey): the web side
	// indexes it with its kind; it is never a professional's shared document.
	Kind string `json:"org.telehealthbridge.document_kind"`
	Info struct {
		Size int64 `json:"size"`
	} `json:"info"`
}

// documentEvent indexes a file posted in a client's Messages room by a professional. It is
// called once per event (threadMessage's handled-event check).
func (c *Connector) documentEvent(ctx context.Context, evt *event.Event, cl *bridge.Client) {
	var content fileContent
	if err := json.Unmarshal(evt.Content.VeryRaw, &content); err != nil {
		return
	}
	if content.MsgType != string(event.MsgFile) && content.MsgType != string(event.MsgImage) {
		return
	}
	log := zerolog.Ctx(ctx).With().Int64("client_id", cl.ID).Logger()
	sender := evt.Sender.String()
	switch {
	case evt.Sender == identity(cl), content.Kind != "":
		return // the client's own files are not shared documents
	case evt.Sender == c.bot.UserID:
		if content.Relay == nil || content.Relay.Sender == "" {
			return
		}
		sender = content.Relay.Sender
	}
	uri, err := id.ParseContentURI(content.URL)
	if err != nil || uri.IsEmpty() {
		// An encrypted file (no url): the bridge cannot read it, and the rooms are not encrypted.
		log.Warn().Msg("A file in a Messages room has no plain media URI; not indexed")
		return
	}
	name := content.FileName
	if name == "" {
		name = content.Body
	}
	head, size, err := c.mediaHead(ctx, uri)
	if err != nil {
		log.Err(err).Msg("Failed to read a shared document's first bytes; indexed from its name")
		size = content.Info.Size
	}
	ctype, _ := doctype.Sniff(name, head)
	d := &bridge.Document{EventID: evt.ID.String(), RoomID: evt.RoomID.String(), ClientID: cl.ID, SharedBy: sender, FileName: name,
		MXC: uri.String(), Size: size, ContentType: ctype}
	if _, err = c.svc.IndexDocument(ctx, d); err != nil {
		log.Err(err).Msg("Failed to index a shared document")
		return
	}
	log.Debug().Int64("document_id", d.ID).Msg("Indexed a shared document")
}

// mediaHead reads a media file's first bytes (to sniff its type) and its length.
func (c *Connector) mediaHead(ctx context.Context, uri id.ContentURI) ([]byte, int64, error) {
	resp, err := c.bot.Download(ctx, uri)
	if err != nil {
		return nil, 0, fmt.Errorf("downloading a document: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, 0, fmt.Errorf("downloading a document: the homeserver answered %d", resp.StatusCode)
	}
	head := make([]byte, doctype.SniffLen)
	n, err := io.ReadFull(resp.Body, head)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return nil, 0, fmt.Errorf("reading a document: %w", err)
	}
	size := resp.ContentLength
	if size < 0 || n < doctype.SniffLen {
		rest, _ := io.Copy(io.Discard, resp.Body)
		size = int64(n) + rest
	}
	return head[:n], size, nil
}

// ErrTooLarge: a file is larger than documents.max_size.
var ErrTooLarge = fmt.Errorf("the file is larger than the clinic allows")

// DownloadDocument reads a file of the media repository, as the bot, up to limit bytes
// (ErrTooLarge beyond).
func (c *Connector) DownloadDocument(ctx context.Context, mxc string, limit int64) ([]byte, error) {
	uri, err := id.ParseContentURI(mxc)
	if err != nil {
		return nil, fmt.Errorf("reading a document's address: %w", err)
	}
	resp, err := c.bot.Download(ctx, uri)
	if err != nil {
		return nil, fmt.Errorf("downloading a document: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("downloading a document: the homeserver answered %d", resp.StatusCode)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("reading a document: %w", err)
	}
	if int64(len(data)) > limit {
		return nil, ErrTooLarge
	}
	return data, nil
}

// UploadDocument puts a file in the homeserver's media repository, as the bot, and returns
// its mxc:// URI; contentType is the sniffed one. The name is not sent with the upload: it
// would be in the request's URL, which the client library logs; the event and the bridge's
// own answers carry it.
func (c *Connector) UploadDocument(ctx context.Context, _, contentType string, data []byte) (string, error) {
	resp, err := c.bot.UploadMedia(ctx, mautrix.ReqUploadMedia{ContentBytes: data, ContentType: contentType})
	if err != nil {
		return "", fmt.Errorf("uploading a document to the homeserver: %w", err)
	}
	return resp.ContentURI.String(), nil
}

// ShareDocument posts a file the professional uploaded in the panel in the client's Messages
// room: the bot uploads it and posts it (m.image for a picture, m.file otherwise), named as
// the professional's in the body for Matrix clients and in chatRelayKey for the bridge. It
// returns the event's ID and the file's URI.
func (c *Connector) ShareDocument(ctx context.Context, cl *bridge.Client, professional, name, contentType string, data []byte) (string, string, error) {
	if cl.MessagesRoom == "" {
		return "", "", fmt.Errorf("client %d has no Messages room", cl.ID)
	}
	who, err := c.ClinicianName(ctx, professional)
	if err != nil {
		return "", "", err
	}
	mxc, err := c.UploadDocument(ctx, name, contentType, data)
	if err != nil {
		return "", "", err
	}
	msgtype := event.MsgFile
	if doctype.IsImage(contentType) {
		msgtype = event.MsgImage
	}
	content := map[string]any{
		"msgtype": msgtype, "body": name, "filename": name, "url": mxc, "m.mentions": map[string]any{},
		"info":       map[string]any{"size": len(data), "mimetype": contentType},
		chatRelayKey: chatRelay{Sender: professional},
	}
	// The body of a Matrix client's line names who shared it; the file's name stays out of the
	// request log (SensitiveContent).
	content["body"] = who + ": " + name
	cli := c.bot.Client
	var resp mautrix.RespSendEvent
	url := cli.BuildClientURL("v3", "rooms", id.RoomID(cl.MessagesRoom), "send", event.EventMessage.Type, cli.TxnID())
	if _, err = cli.MakeFullRequest(ctx, mautrix.FullRequest{
		Method: http.MethodPut, URL: url, RequestJSON: content, ResponseJSON: &resp, SensitiveContent: true,
	}); err != nil {
		return "", "", fmt.Errorf("posting a document in client %d's Messages room: %w", cl.ID, err)
	}
	return resp.EventID.String(), mxc, nil
}

// documentKindKey marks, in an m.image event, a file the client uploaded from the portal.
const documentKindKey = "org.telehealthbridge.document_kind"

// PostClientFile posts a picture the client uploaded from their portal (an insurance card) in
// their Messages room: the bot uploads it; the client's ghost posts it, or, for a client with
// their own Matrix account (the bridge cannot speak for them), the bot with the relay marker
// naming the client. kind goes in documentKindKey. It returns the event's ID and the file's URI.
func (c *Connector) PostClientFile(ctx context.Context, cl *bridge.Client, kind, name, contentType string, data []byte) (string, string, error) {
	if cl.MessagesRoom == "" {
		return "", "", fmt.Errorf("client %d has no Messages room", cl.ID)
	}
	mxc, err := c.UploadDocument(ctx, name, contentType, data)
	if err != nil {
		return "", "", err
	}
	msgtype := event.MsgFile
	if doctype.IsImage(contentType) {
		msgtype = event.MsgImage
	}
	content := map[string]any{
		"msgtype": msgtype, "body": name, "filename": name, "url": mxc, "m.mentions": map[string]any{},
		"info": map[string]any{"size": len(data), "mimetype": contentType}, documentKindKey: kind,
	}
	cli := c.bot.Client
	if cl.MatrixID == "" && cl.Ghost != "" {
		cli = c.AS.Intent(id.UserID(cl.Ghost)).Client
	} else {
		content[chatRelayKey] = chatRelay{Sender: bridge.ClientActor(cl.ID)}
	}
	var resp mautrix.RespSendEvent
	url := cli.BuildClientURL("v3", "rooms", id.RoomID(cl.MessagesRoom), "send", event.EventMessage.Type, cli.TxnID())
	if _, err = cli.MakeFullRequest(ctx, mautrix.FullRequest{
		Method: http.MethodPut, URL: url, RequestJSON: content, ResponseJSON: &resp, SensitiveContent: true,
	}); err != nil {
		return "", "", fmt.Errorf("posting a client's file in client %d's Messages room: %w", cl.ID, err)
	}
	return resp.EventID.String(), mxc, nil
}
