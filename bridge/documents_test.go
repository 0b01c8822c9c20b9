package bridge_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"github.com/telehealth-bridge/telehealth-bridge/database"
	"github.com/telehealth-bridge/telehealth-bridge/internal/dbtest"
)

// TestDocumentsJourney: a document of Ana's is hers alone (Ben's ID reads none), a clinician
// who may not see her record reads nothing, and every view is audited by ID; a template needs an
// English title; a session's package is set by its clinician or an admin only; an
// acknowledgement needs the tick and a name, records the file's SHA-256 and Ana's record, keeps
// the first, and the lobby's status follows; a template that asks none cannot be acknowledged.
func TestDocumentsJourney(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.Database) {
		ctx := context.Background()
		const dr, other, admin = "@dr:hs", "@other:hs", "@admin:hs"
		clock := clockwork.NewFakeClockAt(time.Date(2026, 11, 24, 13, 0, 0, 0, time.UTC))
		audit := &auditLog{}
		svc := bridge.New(bridge.Options{Store: db.Store(), Clock: clock, Bot: "@bot:hs", Audit: audit, Clients: db.Store(), Documents: db.Store(),
			IsAdmin: func(u string) bool { return u == admin }})
		ana, err := svc.CreateClient(ctx, dr, bridge.ClientRequest{DisplayName: "Ana Lopez", Locale: "fr", TimeZone: "Europe/Paris"})
		if err != nil {
			t.Fatal(err)
		}
		ben, err := svc.CreateClient(ctx, other, bridge.ClientRequest{DisplayName: "Ben Roux", Locale: "en", TimeZone: "Europe/Paris"})
		if err != nil {
			t.Fatal(err)
		}
		d := &bridge.Document{EventID: "$ev1", RoomID: "!r:hs", ClientID: ana.ID, SharedBy: dr, FileName: "plan.pdf", MXC: "mxc://hs/a", Size: 10, ContentType: "application/pdf"}
		if created, err := svc.IndexDocument(ctx, d); err != nil || !created || !d.SharedAt.Equal(clock.Now()) {
			t.Fatalf("indexing: %v %v %+v", created, err, d)
		}
		if created, err := svc.IndexDocument(ctx, &bridge.Document{EventID: "$ev1", RoomID: "!r:hs", ClientID: ana.ID, SharedBy: dr, FileName: "x", MXC: "mxc://hs/a"}); err != nil || created {
			t.Errorf("the same event again: %v %v", created, err)
		}
		if n := len(audit.find(bridge.AuditDocumentShared, bridge.ClientSubject(ana.ID))); n != 1 {
			t.Errorf("%d document_shared entries", n)
		}
		if _, err := svc.ClientDocument(ctx, ben.ID, d.ID); !errors.Is(err, bridge.ErrDocumentNotFound) {
			t.Errorf("Ben reading Ana's document: %v", err)
		}
		for _, who := range []string{other, ""} {
			if _, err := svc.RecordDocuments(ctx, who, ana.ID); !errors.Is(err, bridge.ErrClientNotFound) {
				t.Errorf("%q listing Ana's documents: %v", who, err)
			}
			if _, err := svc.RecordDocument(ctx, who, ana.ID, d.ID); !errors.Is(err, bridge.ErrClientNotFound) {
				t.Errorf("%q opening Ana's document: %v", who, err)
			}
		}
		if _, err := svc.RecordDocument(ctx, other, ben.ID, d.ID); !errors.Is(err, bridge.ErrDocumentNotFound) {
			t.Errorf("Ana's document under Ben's record: %v", err)
		}
		if _, err := svc.RecordDocument(ctx, admin, ana.ID, d.ID); err != nil {
			t.Errorf("an admin opening it: %v", err)
		}
		viewed := audit.find(bridge.AuditDocumentViewed, bridge.ClientSubject(ana.ID))
		if len(viewed) != 1 || viewed[0].Actor != admin || viewed[0].Detail["document"] != fmt.Sprint(d.ID) {
			t.Errorf("document_viewed: %+v", viewed)
		}
		for _, e := range audit.entries {
			for _, v := range e.Detail {
				if v == "plan.pdf" {
					t.Errorf("a file name in the audit trail: %+v", e)
				}
			}
		}

		if err := svc.CreateTemplate(ctx, dr, &bridge.DocumentTemplate{Title: bridge.Text{"fr": "Seulement"}, MXC: "mxc://hs/t", SHA256: "aa"}); !errors.Is(err, bridge.ErrBadTemplate) {
			t.Errorf("a template without an English title: %v", err)
		}
		consent := &bridge.DocumentTemplate{Title: bridge.Text{"en": " Consent ", "fr": "Consentement", "de": "ignored"}, FileName: "c.pdf", MXC: "mxc://hs/c", SHA256: "c0ffee", NeedsAck: true}
		info := &bridge.DocumentTemplate{Title: bridge.Text{"en": "What to expect"}, FileName: "w.pdf", MXC: "mxc://hs/w", SHA256: "beef"}
		for _, tp := range []*bridge.DocumentTemplate{consent, info} {
			if err := svc.CreateTemplate(ctx, dr, tp); err != nil {
				t.Fatal(err)
			}
		}
		if consent.Title["en"] != "Consent" || consent.Title["de"] != "" {
			t.Errorf("the title kept: %+v", consent.Title)
		}
		for _, tp := range []*bridge.DocumentTemplate{consent, info} {
			if n := len(audit.find(bridge.AuditDocumentTemplateCreated, bridge.TemplateSubject(tp.ID))); n != 1 {
				t.Errorf("template %d's creation audited %d times, want once", tp.ID, n)
			}
		}

		start := clock.Now().Add(24 * time.Hour)
		s := &bridge.Session{ID: "docs01", Clinician: dr, Start: start, End: start.Add(50 * time.Minute), TimeZone: "Europe/Paris",
			Kind: bridge.KindVideo, Status: bridge.StatusScheduled, Policy: bridge.PolicyManual, CreatedAt: clock.Now(), UpdatedAt: clock.Now()}
		p := &bridge.Participant{Number: 1, Name: "Ana Lopez", MatrixID: "@ana:hs", Locale: "fr", TimeZone: "Europe/Paris", Invite: bridge.InviteNone,
			State: bridge.StateBooked, UpdatedAt: clock.Now(), ClientID: ana.ID}
		if err := db.Store().InsertSession(ctx, s, []*bridge.Participant{p}); err != nil {
			t.Fatal(err)
		}
		if err := svc.SetSessionPackage(ctx, other, s.ID, []int64{consent.ID}); !errors.Is(err, bridge.ErrNotYourSession) {
			t.Errorf("another clinician setting the package: %v", err)
		}
		if err := svc.SetSessionPackage(ctx, dr, s.ID, []int64{consent.ID, 99999}); !errors.Is(err, bridge.ErrDocumentNotFound) {
			t.Errorf("a package with an unknown template: %v", err)
		}
		if err := svc.SetSessionPackage(ctx, dr, s.ID, []int64{info.ID, consent.ID, consent.ID}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := svc.SessionAckStatus(ctx, other, s.ID); !errors.Is(err, bridge.ErrNotYourSession) {
			t.Errorf("another clinician reading the acknowledgements: %v", err)
		}
		_, st, err := svc.SessionAckStatus(ctx, dr, s.ID)
		if err != nil || len(st) != 1 || len(st[0].Missing) != 1 || st[0].Missing[0] != consent.ID {
			t.Fatalf("before: %+v %v", st, err)
		}
		if _, err := svc.Acknowledge(ctx, s, p, consent.ID, "Ana Lopez", false); !errors.Is(err, bridge.ErrBadAcknowledgement) {
			t.Errorf("without the tick: %v", err)
		}
		if _, err := svc.Acknowledge(ctx, s, p, consent.ID, " x ", true); !errors.Is(err, bridge.ErrBadAcknowledgement) {
			t.Errorf("without a name: %v", err)
		}
		if _, err := svc.Acknowledge(ctx, s, p, info.ID, "Ana Lopez", true); !errors.Is(err, bridge.ErrNoAckNeeded) {
			t.Errorf("a template that asks none: %v", err)
		}
		a, err := svc.Acknowledge(ctx, s, p, consent.ID, "  Ana   Lopez ", true)
		if err != nil || a.TypedName != "Ana Lopez" || a.SHA256 != "c0ffee" || a.ClientID != ana.ID || !a.At.Equal(clock.Now()) {
			t.Fatalf("the acknowledgement: %+v %v", a, err)
		}
		clock.Advance(time.Hour)
		if _, err := svc.Acknowledge(ctx, s, p, consent.ID, "Someone Else", true); err != nil {
			t.Fatal(err)
		}
		items, err := svc.ParticipantPackage(ctx, s, p)
		if err != nil || len(items) != 2 || items[0].Template.ID != consent.ID || items[0].Ack == nil || items[0].Ack.TypedName != "Ana Lopez" || items[1].Ack != nil {
			t.Errorf("Ana's package: %+v %v", items, err)
		}
		if _, st, _ = svc.SessionAckStatus(ctx, dr, s.ID); len(st) != 1 || len(st[0].Missing) != 0 || len(st[0].Acked) != 1 {
			t.Errorf("after: %+v", st)
		}
		if _, err := svc.PackageTemplate(ctx, &bridge.Session{ID: "other1"}, consent.ID); !errors.Is(err, bridge.ErrDocumentNotFound) {
			t.Errorf("a template outside a session's package: %v", err)
		}
	})
}
