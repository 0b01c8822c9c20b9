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

// TestPaymentStorage: the price list keeps archived services out of the offer; a payment
// round-trips and is found by participant, checkout, session and client; a replayed event ID
// is refused; the first customer of a client stays; insurance details are replaced.
func TestPaymentStorage(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.Database) {
		ctx := context.Background()
		store := db.Store()
		now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
		consult := &bridge.PricedService{Name: "Consultation", Duration: 45 * time.Minute, Price: 8000, Currency: "eur", UpdatedBy: "@admin:hs", UpdatedAt: now}
		old := &bridge.PricedService{Name: "Bilan", Duration: time.Hour, Price: 12000, Currency: "eur", Archived: true, UpdatedBy: "@admin:hs", UpdatedAt: now}
		for _, s := range []*bridge.PricedService{consult, old} {
			if err := store.PutPricedService(ctx, s); err != nil {
				t.Fatal(err)
			}
		}
		if list, err := store.PricedServices(ctx, false); err != nil || len(list) != 1 || list[0].Name != "Consultation" || list[0].Duration != 45*time.Minute {
			t.Errorf("offered services: %+v %v", list, err)
		}
		if list, err := store.PricedServices(ctx, true); err != nil || len(list) != 2 {
			t.Errorf("all services: %d %v", len(list), err)
		}
		consult.Price = 9000
		if err := store.PutPricedService(ctx, consult); err != nil {
			t.Fatal(err)
		}
		if got, err := store.GetPricedService(ctx, consult.ID); err != nil || got.Price != 9000 {
			t.Errorf("changed service: %+v %v", got, err)
		}
		if _, err := store.GetPricedService(ctx, 999); !errors.Is(err, bridge.ErrServiceNotFound) {
			t.Errorf("unknown service: %v", err)
		}

		pay := &bridge.Payment{SessionID: "S1", ParticipantID: 7, ClientID: 3, ServiceID: consult.ID, ServiceName: "Consultation",
			Amount: 9000, Currency: "eur", Status: bridge.PaymentDue, CreatedAt: now, UpdatedAt: now}
		if err := store.InsertPayment(ctx, pay); err != nil {
			t.Fatal(err)
		}
		if err := store.InsertPayment(ctx, &bridge.Payment{SessionID: "S1", ParticipantID: 7, ServiceName: "x", Currency: "eur", Status: bridge.PaymentDue, CreatedAt: now, UpdatedAt: now}); err == nil {
			t.Error("a participant got two payments")
		}
		pay.Status, pay.CheckoutID = bridge.PaymentPending, "cs_test_1"
		if err := store.UpdatePayment(ctx, pay); err != nil {
			t.Fatal(err)
		}
		if got, err := store.CheckoutPayment(ctx, "cs_test_1"); err != nil || got.ID != pay.ID || got.Status != bridge.PaymentPending {
			t.Errorf("by checkout: %+v %v", got, err)
		}
		if _, err := store.CheckoutPayment(ctx, ""); !errors.Is(err, bridge.ErrPaymentNotFound) {
			t.Errorf("an empty checkout ID found a payment: %v", err)
		}
		if list, err := store.PendingPayments(ctx); err != nil || len(list) != 1 {
			t.Errorf("pending: %d %v", len(list), err)
		}
		pay.Status, pay.PaidAt, pay.PaymentIntent, pay.ReceiptURL = bridge.PaymentPaid, now.Add(time.Minute), "pi_1", "https://pay.stripe.com/receipts/1"
		if err := store.UpdatePayment(ctx, pay); err != nil {
			t.Fatal(err)
		}
		got, err := store.ParticipantPayment(ctx, 7)
		if err != nil || got.Status != bridge.PaymentPaid || !got.PaidAt.Equal(now.Add(time.Minute)) || got.ReceiptURL == "" || got.PaymentIntent != "pi_1" {
			t.Errorf("paid: %+v %v", got, err)
		}
		if list, err := store.PendingPayments(ctx); err != nil || len(list) != 0 {
			t.Errorf("pending once paid: %d %v", len(list), err)
		}
		if list, err := store.ClientPayments(ctx, 3); err != nil || len(list) != 1 {
			t.Errorf("client's: %d %v", len(list), err)
		}
		if list, err := store.ClientPayments(ctx, 4); err != nil || len(list) != 0 {
			t.Errorf("another client's: %d %v", len(list), err)
		}
		if list, err := store.SessionPayments(ctx, "S1"); err != nil || len(list) != 1 {
			t.Errorf("session's: %d %v", len(list), err)
		}

		if fresh, err := store.MarkEventProcessed(ctx, "evt_1", now); err != nil || !fresh {
			t.Errorf("first event: %v %v", fresh, err)
		}
		if fresh, err := store.MarkEventProcessed(ctx, "evt_1", now); err != nil || fresh {
			t.Errorf("replayed event: %v %v", fresh, err)
		}

		if err := store.SetPaymentCustomer(ctx, 3, "cus_A"); err != nil {
			t.Fatal(err)
		}
		if err := store.SetPaymentCustomer(ctx, 3, "cus_B"); err != nil {
			t.Fatal(err)
		}
		if id, err := store.PaymentCustomer(ctx, 3); err != nil || id != "cus_A" {
			t.Errorf("customer: %q %v", id, err)
		}
		if id, err := store.PaymentCustomer(ctx, 4); err != nil || id != "" {
			t.Errorf("no customer: %q %v", id, err)
		}

		if ins, err := store.GetInsurance(ctx, 3); err != nil || ins != nil {
			t.Errorf("no insurance: %+v %v", ins, err)
		}
		for _, member := range []string{"A-1", "B-2"} {
			if err := store.PutInsurance(ctx, &bridge.Insurance{ClientID: 3, Insurer: "MGEN", MemberID: member, UpdatedAt: now}); err != nil {
				t.Fatal(err)
			}
		}
		if ins, err := store.GetInsurance(ctx, 3); err != nil || ins.MemberID != "B-2" || ins.Insurer != "MGEN" {
			t.Errorf("insurance: %+v %v", ins, err)
		}
	})
}
