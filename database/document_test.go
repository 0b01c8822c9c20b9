package database_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"github.com/telehealth-bridge/telehealth-bridge/database"
	"github.com/telehealth-bridge/telehealth-bridge/internal/dbtest"
)

// TestDocumentStorage: a shared document is indexed once per event (a delivery again keeps the
// first row), a client's list is newest first and holds only theirs; templates round-trip with
// both titles; a session's package is replaced as a whole; an acknowledgement keeps the first.
func TestDocumentStorage(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.Database) {
		ctx := context.Background()
		store := db.Store()
		now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
		var clients []*bridge.Client
		for _, name := range []string{"Ana", "Ben"} {
			c := &bridge.Client{DisplayName: name, Locale: "en", TimeZone: "UTC", Reminders: bridge.RemindNone, CreatedAt: now, UpdatedAt: now}
			if err := store.InsertClient(ctx, c); err != nil {
				t.Fatal(err)
			}
			clients = append(clients, c)
		}
		ana, ben := clients[0], clients[1]
		doc := func(ev string, client int64, at time.Time) *bridge.Document {
			return &bridge.Document{EventID: ev, RoomID: "!room:hs", ClientID: client, SharedBy: "@dr:hs", FileName: ev + ".pdf",
				MXC: "mxc://hs/" + ev, Size: 1234, ContentType: "application/pdf", SharedAt: at}
		}
		first := doc("$one", ana.ID, now)
		if created, err := store.InsertDocument(ctx, first); err != nil || !created || first.ID == 0 {
			t.Fatalf("first insert: %v %v %+v", created, err, first)
		}
		again := doc("$one", ana.ID, now.Add(time.Hour))
		again.FileName = "changed.pdf"
		if created, err := store.InsertDocument(ctx, again); err != nil || created || again.ID != first.ID || again.FileName != "$one.pdf" {
			t.Errorf("the same event again: created %v err %v, %+v", created, err, again)
		}
		for _, d := range []*bridge.Document{doc("$two", ana.ID, now.Add(2*time.Hour)), doc("$bens", ben.ID, now.Add(3*time.Hour))} {
			if _, err := store.InsertDocument(ctx, d); err != nil {
				t.Fatal(err)
			}
		}
		list, err := store.ClientDocuments(ctx, ana.ID)
		if err != nil || len(list) != 2 || list[0].EventID != "$two" || list[1].EventID != "$one" {
			t.Fatalf("Ana's documents: %v %+v", err, list)
		}
		if got, err := store.GetDocument(ctx, first.ID); err != nil || got.MXC != "mxc://hs/$one" || got.Size != 1234 || !got.SharedAt.Equal(now) || got.ClientID != ana.ID {
			t.Errorf("get: %+v %v", got, err)
		}
		if _, err := store.GetDocument(ctx, 999999); !errors.Is(err, bridge.ErrDocumentNotFound) {
			t.Errorf("an unknown document: %v", err)
		}

		consent := &bridge.DocumentTemplate{Title: bridge.Text{"en": "Consent", "fr": "Consentement"}, FileName: "consent.pdf", MXC: "mxc://hs/c",
			Size: 10, ContentType: "application/pdf", SHA256: "ab12", NeedsAck: true, CreatedBy: "@dr:hs", CreatedAt: now}
		expect := &bridge.DocumentTemplate{Title: bridge.Text{"en": "What to expect"}, FileName: "x.txt", MXC: "mxc://hs/x",
			Size: 5, ContentType: "text/plain; charset=utf-8", SHA256: "cd34", CreatedBy: "@dr:hs", CreatedAt: now}
		for _, tpl := range []*bridge.DocumentTemplate{consent, expect} {
			if err := store.InsertTemplate(ctx, tpl); err != nil {
				t.Fatal(err)
			}
		}
		if got, err := store.GetTemplate(ctx, consent.ID); err != nil || got.Title.In("fr") != "Consentement" || !got.NeedsAck || got.SHA256 != "ab12" {
			t.Errorf("template: %+v %v", got, err)
		}
		if all, err := store.Templates(ctx); err != nil || len(all) != 2 {
			t.Errorf("templates: %v %d", err, len(all))
		}

		s, ps := sampleSession("docs01", now.Add(24*time.Hour))
		ps[0].ClientID = ana.ID
		if err := store.InsertSession(ctx, s, ps[:1]); err != nil {
			t.Fatal(err)
		}
		if err := store.SetSessionPackage(ctx, s.ID, []int64{consent.ID, expect.ID}); err != nil {
			t.Fatal(err)
		}
		if err := store.SetSessionPackage(ctx, s.ID, []int64{consent.ID}); err != nil {
			t.Fatal(err)
		}
		if pkg, err := store.SessionPackage(ctx, s.ID); err != nil || len(pkg) != 1 || pkg[0].ID != consent.ID {
			t.Errorf("package after replacing it: %v %+v", err, pkg)
		}
		ack := &bridge.DocumentAck{SessionID: s.ID, ParticipantID: ps[0].ID, TemplateID: consent.ID, ClientID: ana.ID, TypedName: "Ana Example", SHA256: "ab12", At: now}
		if err := store.PutAck(ctx, ack); err != nil {
			t.Fatal(err)
		}
		later := *ack
		later.TypedName, later.At = "Someone Else", now.Add(time.Hour)
		if err := store.PutAck(ctx, &later); err != nil {
			t.Fatal(err)
		}
		if acks, err := store.SessionAcks(ctx, s.ID); err != nil || len(acks) != 1 || acks[0].TypedName != "Ana Example" || !acks[0].At.Equal(now) || acks[0].ClientID != ana.ID {
			t.Errorf("acknowledgements: %v %+v", err, acks)
		}
	})
}
