package appservice_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/telehealth-bridge/telehealth-bridge/appservice"
	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"github.com/telehealth-bridge/telehealth-bridge/internal/bridgetest"
)

// TestPaymentInTheControlRoom: !lobby says who has not paid (never the service or amount);
// !admit answers that payment is missing and how to admit anyway; another clinician's
// mark_paid is refused; the session's clinician's mark_paid (the clinic's own billing) makes
// !lobby say paid and !admit let the client in.
func TestPaymentInTheControlRoom(t *testing.T) {
	l := newLobby(t, "sqlite")
	ctx := context.Background()
	store := l.env.App.DB.Store()
	service := &bridge.PricedService{Name: "Bilan initial", Duration: time.Hour, Price: 12000, Currency: "eur", UpdatedBy: "@admin:x", UpdatedAt: l.clock.Now()}
	if err := store.PutPricedService(ctx, service); err != nil {
		t.Fatal(err)
	}
	client := l.env.User(t, "jane")
	s, err := l.env.App.Sessions.Schedule(ctx, bridge.ScheduleRequest{
		Clinician: l.clinician.UserID.String(), Start: time.Date(2026, 11, 24, 14, 0, 0, 0, time.UTC),
		End: time.Date(2026, 11, 24, 14, 50, 0, 0, time.UTC), TimeZone: "Europe/Paris",
		Participants: []bridge.ParticipantRequest{{Name: "Jane", MatrixID: client.UserID.String()}},
		Payment:      &bridge.RequirePayment{ServiceID: service.ID},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err = l.clinician.JoinRoomByID(ctx, id.RoomID(s.RoomID)); err != nil {
		t.Fatal(err)
	}
	l.openWindow(s)
	if err = knock(t, client, s.RoomID, "Jane"); err != nil {
		t.Fatal(err)
	}
	l.waitState(s, 1, bridge.StateWaiting)
	l.command("!lobby "+s.ID, "waiting · not paid")
	l.command("!admit "+s.ID+" 1", "!admit "+s.ID+" 1 anyway")
	if got := l.waitState(s, 1, bridge.StateWaiting); got.State != bridge.StateWaiting {
		t.Fatalf("admitted without payment: %s", got.State)
	}
	for _, e := range bridgetest.Messages(t, l.clinician, l.control) {
		if body := e.Content.AsMessage().Body; strings.Contains(body, "Bilan") || strings.Contains(body, "120") {
			t.Errorf("the control room was told the service or amount: %q", body)
		}
	}

	other := l.env.User(t, "dr.other")
	otherControl := roomWithBot(t, l.env, other)
	refused, err := other.SendMessageEvent(ctx, otherControl, appservice.CommandEventType, &appservice.CommandContent{Action: "mark_paid", Session: s.ID, Participant: "1"})
	if err != nil {
		t.Fatal(err)
	}
	bridgetest.WaitMessage(t, other, otherControl, wait, "the refused mark_paid", func(evt *event.Event) bool {
		var r appservice.ResultContent
		_ = json.Unmarshal(evt.Content.VeryRaw, &r)
		return evt.Type.Type == appservice.ResultEventType.Type && r.Command == refused.EventID.String() && !r.OK && strings.Contains(r.Error, "not your session")
	})
	if pay, _ := l.env.App.Sessions.ParticipantPayment(ctx, l.participant(s, 1).ID); pay.Status != bridge.PaymentDue {
		t.Fatalf("another clinician's mark_paid changed it: %s", pay.Status)
	}

	marked, err := l.clinician.SendMessageEvent(ctx, id.RoomID(s.RoomID), appservice.CommandEventType, &appservice.CommandContent{Action: "mark_paid", Participant: "1", Reference: "INV-2026-17"})
	if err != nil {
		t.Fatal(err)
	}
	bridgetest.WaitMessage(t, l.clinician, id.RoomID(s.RoomID), wait, "the mark_paid result", func(evt *event.Event) bool {
		var r appservice.ResultContent
		_ = json.Unmarshal(evt.Content.VeryRaw, &r)
		return evt.Type.Type == appservice.ResultEventType.Type && r.Command == marked.EventID.String() && r.OK
	})
	if !l.env.Audited(t, l.clinician.UserID.String(), bridge.AuditPaymentPaid, s.ID, map[string]string{"reference": "INV-2026-17"}) {
		t.Error("mark_paid is not in the audit trail")
	}
	l.command("!lobby "+s.ID, "waiting · paid")
	l.command("!admit "+s.ID+" 1", "is let in")
	l.waitMembership(s, client.UserID, event.MembershipInvite)

	// An integrator books with payment required through a command event.
	booked, err := l.clinician.SendMessageEvent(ctx, l.control, appservice.CommandEventType, &appservice.CommandContent{Action: "schedule",
		Start: "2026-11-25T14:00:00Z", End: "2026-11-25T14:50:00Z", TimeZone: "Europe/Paris", PaymentServiceID: service.ID, PaymentAmount: 9900,
		Participants: []appservice.CommandParticipant{{Name: "J. D.", Invite: "none"}}})
	if err != nil {
		t.Fatal(err)
	}
	var newSession string
	bridgetest.WaitMessage(t, l.clinician, l.control, wait, "the schedule result", func(evt *event.Event) bool {
		var r appservice.ResultContent
		_ = json.Unmarshal(evt.Content.VeryRaw, &r)
		newSession = r.SessionID
		return evt.Type.Type == appservice.ResultEventType.Type && r.Command == booked.EventID.String() && r.OK
	})
	pays, err := l.env.App.Sessions.SessionPayments(ctx, l.clinician.UserID.String(), newSession)
	if err != nil || len(pays) != 1 {
		t.Fatalf("payments of the booked session: %v %v", pays, err)
	}
	for _, p := range pays {
		if p.Amount != 9900 || p.Status != bridge.PaymentDue {
			t.Errorf("booked payment: %+v", p)
		}
	}
}
