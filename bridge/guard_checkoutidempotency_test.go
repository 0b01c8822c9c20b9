package bridge_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"github.com/telehealth-bridge/telehealth-bridge/database"
	"github.com/telehealth-bridge/telehealth-bridge/internal/dbtest"
)

// lossyPayments loses the next payment update once armed: the bridge's database failing
// between the provider opening a checkout and the bridge storing it.
type lossyPayments struct {
	bridge.PaymentStore
	armed atomic.Bool
}

func (s *lossyPayments) UpdatePayment(ctx context.Context, p *bridge.Payment) error {
	if s.armed.CompareAndSwap(true, false) {
		return errors.New("the database went away")
	}
	return s.PaymentStore.UpdatePayment(ctx, p)
}

// TestCheckoutRetryOpensTheSameCheckout: "Paying or charging twice". A checkout the provider
// opened but the bridge failed to store is not lost: the client's retry (Pay again) sends the
// same idempotency key, and the provider answers with the same Checkout Session rather than a
// second one the client could also pay.
func TestCheckoutRetryOpensTheSameCheckout(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.Database) {
		f := newPayFixture(t, db, false, bridge.RefundPolicy{})
		store := &lossyPayments{PaymentStore: db.Store()}
		f.svc.UsePayments(bridge.PaymentOptions{Store: store, Provider: f.provider})
		_, p := f.book(t, 6500)
		store.armed.Store(true)
		if _, err := f.svc.StartCheckout(f.ctx, p.ID, "https://clinic.example/ok", "https://clinic.example/back"); err == nil {
			t.Fatal("the checkout was stored though the database failed")
		}
		first := f.fake.Requests()
		url, err := f.svc.StartCheckout(f.ctx, p.ID, "https://clinic.example/ok", "https://clinic.example/back")
		if err != nil {
			t.Fatalf("retrying the checkout: %v", err)
		}
		created := 0
		for _, r := range f.fake.Requests() {
			if r == "POST /v1/checkout/sessions" {
				created++
			}
		}
		if created != 2 || len(first) == 0 {
			t.Fatalf("checkout requests %v: want the first and the retry", f.fake.Requests())
		}
		again, err := f.svc.StartCheckout(f.ctx, p.ID, "https://clinic.example/ok", "https://clinic.example/back")
		if err != nil || again != url {
			t.Fatalf("a third Pay opened %q (%v), want the stored %q", again, err, url)
		}
		if f.fake.Sessions() != 1 {
			t.Errorf("the provider holds %d Checkout Sessions for one payment, want 1", f.fake.Sessions())
		}
	})
}
