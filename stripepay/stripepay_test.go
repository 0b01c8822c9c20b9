package stripepay_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"github.com/telehealth-bridge/telehealth-bridge/internal/stripetest"
	"github.com/telehealth-bridge/telehealth-bridge/stripepay"
)

func newProvider(t *testing.T) (*stripetest.Server, *stripepay.Provider) {
	fake := stripetest.New(t)
	return fake, stripepay.New(stripepay.Config{SecretKey: "sk_test_bridge", WebhookSecret: fake.WebhookSecret, APIURL: fake.URL})
}

// TestCheckoutRoundTrip: a checkout opened twice with one idempotency key is one session;
// paid on the page, it reads complete and paid with a receipt; the customer's saved card is
// described; a refund reaches Stripe once per key.
func TestCheckoutRoundTrip(t *testing.T) {
	fake, p := newProvider(t)
	ctx := context.Background()
	cus, err := p.CreateCustomer(ctx, 12, "telehealth-customer-12")
	if err != nil {
		t.Fatal(err)
	}
	if again, err := p.CreateCustomer(ctx, 12, "telehealth-customer-12"); err != nil || again != cus {
		t.Errorf("customer retried: %q %v, want %q", again, err, cus)
	}
	req := bridge.CheckoutRequest{PaymentID: 5, Amount: 8000, Currency: "eur", Description: "Consultation", CustomerID: cus,
		SuccessURL: "https://clinic.example/s/ok", CancelURL: "https://clinic.example/s/back", IdempotencyKey: "telehealth-checkout-5-first"}
	co, err := p.CreateCheckout(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if co.State != bridge.CheckoutOpen || co.Paid || !strings.HasPrefix(co.URL, fake.URL+"/pay/") || co.Reference != "5" {
		t.Errorf("opened: %+v", co)
	}
	if again, err := p.CreateCheckout(ctx, req); err != nil || again.ID != co.ID {
		t.Errorf("retried checkout: %+v %v, want %s", again, err, co.ID)
	}
	if mode, err := p.PaymentMode(ctx, cus); err != nil || mode != "" {
		t.Errorf("mode before paying: %q %v", mode, err)
	}
	if _, err := fake.Pay(co.ID, stripetest.DeclinedCard); err == nil {
		t.Error("the declined card paid")
	}
	if got, err := p.GetCheckout(ctx, co.ID); err != nil || got.Paid || got.State != bridge.CheckoutOpen {
		t.Errorf("after a declined card: %+v %v", got, err)
	}
	if _, err := fake.Pay(co.ID, "4242424242424242"); err != nil {
		t.Fatal(err)
	}
	got, err := p.GetCheckout(ctx, co.ID)
	if err != nil || !got.Paid || got.State != bridge.CheckoutComplete || got.PaymentIntent == "" || !strings.Contains(got.ReceiptURL, "/receipts/") || got.CustomerID != cus {
		t.Errorf("paid: %+v %v", got, err)
	}
	if mode, err := p.PaymentMode(ctx, cus); err != nil || mode != "Visa ending 4242" {
		t.Errorf("saved mode: %q %v", mode, err)
	}
	for range 2 {
		if err := p.Refund(ctx, got.PaymentIntent, "telehealth-refund-5"); err != nil {
			t.Fatal(err)
		}
	}
	if r := fake.Refunds(); len(r) != 1 || r[0] != got.PaymentIntent {
		t.Errorf("refunds at Stripe: %v", r)
	}
	if err := p.Refund(ctx, "pi_unknown", "telehealth-refund-6"); err == nil || !strings.Contains(err.Error(), "resource_missing") {
		t.Errorf("refunding an unknown payment: %v", err)
	}
}

// TestExpiredCheckout reads expired, and its page no longer takes a card.
func TestExpiredCheckout(t *testing.T) {
	fake, p := newProvider(t)
	ctx := context.Background()
	co, err := p.CreateCheckout(ctx, bridge.CheckoutRequest{PaymentID: 1, Amount: 100, Currency: "eur", Description: "x",
		SuccessURL: "https://c.example/ok", CancelURL: "https://c.example/no", IdempotencyKey: "k1"})
	if err != nil {
		t.Fatal(err)
	}
	fake.Expire(co.ID)
	if got, err := p.GetCheckout(ctx, co.ID); err != nil || got.State != bridge.CheckoutExpired || got.Paid {
		t.Errorf("expired: %+v %v", got, err)
	}
	if _, err := fake.Pay(co.ID, "4242424242424242"); err == nil {
		t.Error("an expired session was paid")
	}
}

// TestAPIDown: Stripe unreachable twice is retried through; down for longer is an error
// that says so; nothing is created twice by the retries.
func TestAPIDown(t *testing.T) {
	fake, p := newProvider(t)
	ctx := context.Background()
	fake.FailNext(2)
	if _, err := p.CreateCustomer(ctx, 1, "telehealth-customer-1"); err != nil {
		t.Fatalf("after two failures: %v", err)
	}
	if n := len(fake.Requests()); n != 3 {
		t.Errorf("%d requests, want 3 (two retries)", n)
	}
	fake.FailNext(10)
	_, err := p.GetCheckout(ctx, "cs_whatever")
	if err == nil || !strings.Contains(err.Error(), "reading the Checkout Session") {
		t.Errorf("Stripe down: %v", err)
	}
}

// TestWebhookSignature: a signed checkout event yields Stripe's own reading of the session; a
// forged signature, another secret, or a signature older than the tolerance is refused.
func TestWebhookSignature(t *testing.T) {
	fake, p := newProvider(t)
	ctx := context.Background()
	co, err := p.CreateCheckout(ctx, bridge.CheckoutRequest{PaymentID: 9, Amount: 5000, Currency: "eur", Description: "x",
		SuccessURL: "https://c.example/ok", CancelURL: "https://c.example/no", IdempotencyKey: "k9"})
	if err != nil {
		t.Fatal(err)
	}
	ev, err := fake.Pay(co.ID, "4242424242424242")
	if err != nil {
		t.Fatal(err)
	}
	id, got, err := p.Webhook(ctx, ev, fake.Sign(ev, time.Now()))
	if err != nil || !strings.HasPrefix(id, "evt_") || got == nil || got.ID != co.ID || !got.Paid || got.ReceiptURL == "" {
		t.Fatalf("signed event: %q %+v %v", id, got, err)
	}
	forged := strings.Replace(string(ev), `"paid"`, `"unpaid"`, 1)
	if _, _, err := p.Webhook(ctx, []byte(forged), fake.Sign(ev, time.Now())); !errors.Is(err, stripepay.ErrBadSignature) {
		t.Errorf("body changed after signing: %v", err)
	}
	other := stripetest.New(t)
	if _, _, err := p.Webhook(ctx, ev, other.Sign(ev, time.Now())); !errors.Is(err, stripepay.ErrBadSignature) {
		t.Errorf("another secret: %v", err)
	}
	if _, _, err := p.Webhook(ctx, ev, fake.Sign(ev, time.Now().Add(-stripepay.Tolerance-time.Minute))); !errors.Is(err, stripepay.ErrBadSignature) {
		t.Errorf("old signature: %v", err)
	}
	if _, _, err := p.Webhook(ctx, ev, ""); !errors.Is(err, stripepay.ErrBadSignature) {
		t.Errorf("no signature: %v", err)
	}
}
