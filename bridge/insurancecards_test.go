package bridge_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"github.com/telehealth-bridge/telehealth-bridge/database"
	"github.com/telehealth-bridge/telehealth-bridge/internal/dbtest"
)

// TestInsuranceCardsAreTheClients: a picture of an insurance card is stored with its kind and
// the client as its author; it is listed among the client's cards, never among the documents
// professionals shared, and the same event delivered again by the homeserver keeps its kind.
func TestInsuranceCardsAreTheClients(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.Database) {
		ctx := context.Background()
		const dr, other = "@dr:hs", "@other:hs"
		clock := clockwork.NewFakeClockAt(time.Date(2026, 12, 3, 13, 0, 0, 0, time.UTC))
		svc := bridge.New(bridge.Options{Store: db.Store(), Clock: clock, Bot: "@bot:hs", Audit: &auditLog{}, Clients: db.Store(), Documents: db.Store()})
		ana, err := svc.CreateClient(ctx, dr, bridge.ClientRequest{DisplayName: "Ana Lopez", Locale: "fr", TimeZone: "Europe/Paris"})
		if err != nil {
			t.Fatal(err)
		}
		shared := &bridge.Document{EventID: "$plan", RoomID: "!r:hs", ClientID: ana.ID, SharedBy: dr, FileName: "plan.pdf", MXC: "mxc://hs/a", Size: 10, ContentType: "application/pdf"}
		if _, err = svc.IndexDocument(ctx, shared); err != nil {
			t.Fatal(err)
		}
		clock.Advance(time.Minute)
		card := &bridge.Document{EventID: "$card", RoomID: "!r:hs", FileName: "insurance-card-front.png", MXC: "mxc://hs/b", Size: 20, ContentType: "image/png"}
		if err = svc.AddInsuranceCard(ctx, ana.ID, card); err != nil {
			t.Fatal(err)
		}
		// The homeserver's delivery of the same event changes nothing.
		if created, err := svc.IndexDocument(ctx, &bridge.Document{EventID: "$card", RoomID: "!r:hs", ClientID: ana.ID, SharedBy: "@ghost:hs", FileName: "x", MXC: "mxc://hs/b"}); err != nil || created {
			t.Errorf("the card's event again: %v %v", created, err)
		}
		docs, err := svc.ClientDocuments(ctx, ana.ID)
		if err != nil || len(docs) != 1 || docs[0].ID != shared.ID || docs[0].Kind != "" {
			t.Errorf("Ana's shared documents: %v %+v", err, docs)
		}
		cards, err := svc.InsuranceCards(ctx, ana.ID)
		if err != nil || len(cards) != 1 || cards[0].ID != card.ID || cards[0].Kind != bridge.DocumentInsuranceCard || cards[0].SharedBy != bridge.ClientActor(ana.ID) {
			t.Errorf("Ana's cards: %v %+v", err, cards)
		}
		// Her clinician sees both on the record; another clinician nothing.
		if all, err := svc.RecordDocuments(ctx, dr, ana.ID); err != nil || len(all) != 2 || all[0].Kind != bridge.DocumentInsuranceCard {
			t.Errorf("the record's documents: %v %+v", err, all)
		}
		if _, err := svc.RecordDocument(ctx, other, ana.ID, card.ID); !errors.Is(err, bridge.ErrClientNotFound) {
			t.Errorf("another clinician opening Ana's card: %v", err)
		}
	})
}
