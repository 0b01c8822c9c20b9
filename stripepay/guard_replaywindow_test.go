package stripepay_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"github.com/telehealth-bridge/telehealth-bridge/internal/stripetest"
	"github.com/telehealth-bridge/telehealth-bridge/stripepay"
)

// TestWebhookReplayWindowOnTheBridgesClock: the replay window is the bridge's own check too,
// on its clock, both ways. stripe-go refuses a signature older than the tolerance by the wall
// clock only, and never one from the future: a webhook signed an hour ahead (a captured one
// replayed from a skewed signer) and one that is old by the bridge's clock are refused
// (docs/security.md, "A captured webhook replayed"). Checked to fail with the bridge's check
// removed (make mutate: stripepay-webhook-replay-window).
func TestWebhookReplayWindowOnTheBridgesClock(t *testing.T) {
	fake := stripetest.New(t)
	now := time.Now()
	p := stripepay.New(stripepay.Config{SecretKey: "sk_test_bridge", WebhookSecret: fake.WebhookSecret, APIURL: fake.URL,
		Now: func() time.Time { return now }})
	ctx := context.Background()
	co, err := p.CreateCheckout(ctx, bridge.CheckoutRequest{PaymentID: 7, Amount: 5000, Currency: "eur", Description: "x",
		SuccessURL: "https://c.example/ok", CancelURL: "https://c.example/no", IdempotencyKey: "k7"})
	if err != nil {
		t.Fatal(err)
	}
	ev, err := fake.Pay(co.ID, "4242424242424242")
	if err != nil {
		t.Fatal(err)
	}
	if _, got, err := p.Webhook(ctx, ev, fake.Sign(ev, now)); err != nil || got == nil || !got.Paid {
		t.Fatalf("a webhook signed now: %+v %v", got, err)
	}
	if _, _, err := p.Webhook(ctx, ev, fake.Sign(ev, now.Add(time.Hour))); !errors.Is(err, stripepay.ErrBadSignature) {
		t.Errorf("a webhook signed an hour ahead: %v, want ErrBadSignature", err)
	}
	// Signed now by the wall clock (stripe-go takes it), but 10 minutes old by the bridge's.
	now = now.Add(stripepay.Tolerance + 5*time.Minute)
	if _, _, err := p.Webhook(ctx, ev, fake.Sign(ev, time.Now())); !errors.Is(err, stripepay.ErrBadSignature) {
		t.Errorf("a webhook older than the window by the bridge's clock: %v, want ErrBadSignature", err)
	}
}
