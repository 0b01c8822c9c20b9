package appservice_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"github.com/telehealth-bridge/telehealth-bridge/internal/bridgetest"
)

// TestDocumentIndex: in Jane's Messages room, Dr Martin's m.file (from his Matrix client,
// standing for Element) is indexed once, as shared by him, with its size and the type sniffed
// from its bytes (he said image/png; it is a PDF); a file Jane's ghost posts, and a text
// message, are not documents. Downloading through the bridge gives the bytes back; the limit
// refuses a larger file.
func TestDocumentIndex(t *testing.T) {
	l := newLobby(t, "sqlite")
	ctx := context.Background()
	martin := l.clinician.UserID
	c, err := l.env.App.Sessions.CreateClient(ctx, martin.String(), bridge.ClientRequest{DisplayName: "Jane Doe",
		Emails: []string{"jane@example.org"}, Professionals: []string{martin.String()}})
	if err != nil {
		t.Fatal(err)
	}
	if c, err = l.env.App.Matrix.MessagesRoom(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	room := id.RoomID(c.MessagesRoom)
	if _, err = l.clinician.JoinRoomByID(ctx, room); err != nil {
		t.Fatal(err)
	}
	pdf := []byte("%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n")
	up, err := l.clinician.UploadBytesWithName(ctx, pdf, "image/png", "letter.pdf")
	if err != nil {
		t.Fatal(err)
	}
	file := &event.MessageEventContent{MsgType: event.MsgFile, Body: "letter.pdf", FileName: "letter.pdf", URL: up.ContentURI.CUString(),
		Info: &event.FileInfo{MimeType: "image/png", Size: len(pdf)}}
	sent, err := l.clinician.SendMessageEvent(ctx, room, event.EventMessage, file)
	if err != nil {
		t.Fatal(err)
	}
	// Jane's ghost posts a file too, and Dr Martin a text: neither is a document.
	ghost := l.env.App.Matrix.AS.Intent(id.UserID(c.Ghost))
	own, err := ghost.SendMessageEvent(ctx, room, event.EventMessage, file)
	if err != nil {
		t.Fatal(err)
	}
	text, err := l.clinician.SendText(ctx, room, "see the letter")
	if err != nil {
		t.Fatal(err)
	}
	var docs []*bridge.Document
	bridgetest.Eventually(t, 20*time.Second, "the letter indexed", func() bool {
		docs, err = l.env.App.Sessions.ClientDocuments(ctx, c.ID)
		return err == nil && len(docs) > 0
	})
	bridgetest.Eventually(t, 20*time.Second, "Jane's file and the text handled", func() bool {
		a, _ := l.env.App.DB.HandledEvent.IsHandled(ctx, own.EventID.String())
		b, _ := l.env.App.DB.HandledEvent.IsHandled(ctx, text.EventID.String())
		return a && b
	})
	if docs, _ = l.env.App.Sessions.ClientDocuments(ctx, c.ID); len(docs) != 1 {
		t.Fatalf("documents: %+v", docs)
	}
	d := docs[0]
	if d.EventID != sent.EventID.String() || d.SharedBy != martin.String() || d.ContentType != "application/pdf" || d.Size != int64(len(pdf)) ||
		d.FileName != "letter.pdf" || !strings.HasPrefix(d.MXC, "mxc://") || d.RoomID != room.String() {
		t.Errorf("the indexed letter: %+v", d)
	}
	data, err := l.env.App.Matrix.DownloadDocument(ctx, d.MXC, 1<<20)
	if err != nil || string(data) != string(pdf) {
		t.Errorf("downloading through the bridge: %q %v", data, err)
	}
	if _, err = l.env.App.Matrix.DownloadDocument(ctx, d.MXC, 10); err == nil {
		t.Error("a file over the limit was downloaded")
	}
}

// TestLobbyAcknowledgements: !lobby says, for a session whose package asks for it, who has and
// has not acknowledged the documents, with no document's title.
func TestLobbyAcknowledgements(t *testing.T) {
	l := newLobby(t, "sqlite")
	ctx := context.Background()
	dr := l.clinician.UserID.String()
	s := l.schedule(`2026-11-24 15:00 Europe/Paris "Jane Doe" sms +33612345678`)
	consent := &bridge.DocumentTemplate{Title: bridge.Text{"en": "Secret consent title"}, FileName: "c.pdf", MXC: "mxc://localhost/c", SHA256: "c0ffee", NeedsAck: true}
	if err := l.env.App.Sessions.CreateTemplate(ctx, dr, consent); err != nil {
		t.Fatal(err)
	}
	if err := l.env.App.Sessions.SetSessionPackage(ctx, dr, s.ID, []int64{consent.ID}); err != nil {
		t.Fatal(err)
	}
	l.command("!lobby "+s.ID, "documents not acknowledged (0 of 1)")
	if _, err := l.env.App.Sessions.Acknowledge(ctx, s, l.participant(s, 1), consent.ID, "Jane Doe", true); err != nil {
		t.Fatal(err)
	}
	l.command("!lobby "+s.ID, "booked · documents acknowledged")
	resp, err := l.clinician.Messages(ctx, l.control, "", "", mautrix.DirectionBackward, nil, 20)
	if err != nil {
		t.Fatal(err)
	}
	for _, evt := range resp.Chunk {
		if strings.Contains(string(evt.Content.VeryRaw), "Secret consent") {
			t.Errorf("a document's title in the control room: %s", evt.Content.VeryRaw)
		}
	}
}

// TestClientFilesAreNotSharedDocuments: a picture of an insurance card posted for the client
// (PostClientFile, as their ghost) and a file the bot posts with the document-kind marker, even
// naming a professional in the relay, are never indexed as shared documents.
func TestClientFilesAreNotSharedDocuments(t *testing.T) {
	l := newLobby(t, "sqlite")
	ctx := context.Background()
	martin := l.clinician.UserID
	c, err := l.env.App.Sessions.CreateClient(ctx, martin.String(), bridge.ClientRequest{DisplayName: "Jane Doe",
		Emails: []string{"jane@example.org"}, Professionals: []string{martin.String()}})
	if err != nil {
		t.Fatal(err)
	}
	if c, err = l.env.App.Matrix.MessagesRoom(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR card")
	cardEvent, mxc, err := l.env.App.Matrix.PostClientFile(ctx, c, bridge.DocumentInsuranceCard, "insurance-card-front.png", "image/png", png)
	if err != nil || !strings.HasPrefix(mxc, "mxc://") {
		t.Fatalf("posting the card: %q %v", mxc, err)
	}
	marked := map[string]any{"msgtype": "m.image", "body": "x.png", "url": mxc, "org.telehealthbridge.document_kind": "insurance_card",
		"org.telehealthbridge.chat": map[string]string{"sender": martin.String()}}
	relayed, err := l.env.App.Matrix.AS.BotIntent().SendMessageEvent(ctx, id.RoomID(c.MessagesRoom), event.EventMessage, marked)
	if err != nil {
		t.Fatal(err)
	}
	bridgetest.Eventually(t, 20*time.Second, "both files handled", func() bool {
		a, _ := l.env.App.DB.HandledEvent.IsHandled(ctx, cardEvent)
		b, _ := l.env.App.DB.HandledEvent.IsHandled(ctx, relayed.EventID.String())
		return a && b
	})
	if docs, err := l.env.App.Sessions.ClientDocuments(ctx, c.ID); err != nil || len(docs) != 0 {
		t.Errorf("the client's files indexed as shared documents: %+v %v", docs, err)
	}
	var n int
	if err := l.env.App.DB.QueryRow(ctx, "SELECT COUNT(*) FROM telehealth_document").Scan(&n); err != nil || n != 0 {
		t.Errorf("%d rows indexed by the Matrix side (%v)", n, err)
	}
	// The card is in the room, posted by her ghost.
	evt, err := l.env.App.Matrix.AS.BotIntent().GetEvent(ctx, id.RoomID(c.MessagesRoom), id.EventID(cardEvent))
	if err != nil || evt.Sender != id.UserID(c.Ghost) {
		t.Errorf("the card's event: %+v %v", evt, err)
	}
}

// TestLobbyForms: !lobby says, for a session whose package gave forms, who has and has not sent
// them, with no form's title and no answer.
func TestLobbyForms(t *testing.T) {
	l := newLobby(t, "sqlite")
	ctx := context.Background()
	svc := l.env.App.Sessions
	dr := l.clinician.UserID.String()
	s := l.schedule(`2026-11-24 15:00 Europe/Paris "Jane Doe" sms +33612345678`)
	gad7, err := svc.FindForm(ctx, dr, "GAD-7")
	if err != nil {
		t.Fatal(err)
	}
	if err = svc.SetSessionForms(ctx, dr, s.ID, []int64{gad7.ID}); err != nil {
		t.Fatal(err)
	}
	l.command("!lobby "+s.ID, "booked · forms not done (0 of 1)")
	jane := l.participant(s, 1)
	todo, err := svc.TodoForms(ctx, jane.ClientID)
	if err != nil || len(todo) != 1 {
		t.Fatalf("Jane's to-do list: %+v %v", todo, err)
	}
	answers := bridge.Answers{}
	for i := 1; i <= 7; i++ {
		answers[fmt.Sprintf("q%d", i)] = json.RawMessage(`"1"`)
	}
	if _, _, err = svc.SaveFormAnswers(ctx, jane.ClientID, todo[0].Assignment.ID, answers, "en", true); err != nil {
		t.Fatal(err)
	}
	l.command("!lobby "+s.ID, "booked · forms done")
	resp, err := l.clinician.Messages(ctx, l.control, "", "", mautrix.DirectionBackward, nil, 20)
	if err != nil {
		t.Fatal(err)
	}
	for _, evt := range resp.Chunk {
		if raw := string(evt.Content.VeryRaw); strings.Contains(raw, "GAD") || strings.Contains(raw, "Several days") {
			t.Errorf("the control room names the form or an answer: %s", raw)
		}
	}
}
