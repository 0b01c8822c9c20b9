// Package stripepay is the bridge's payment provider on Stripe Checkout (stripe-go): it opens
// and reads Checkout Sessions, refunds, makes a Customer per client record so that Checkout
// can save a payment mode, and checks the webhook's signature. It holds no card data; the
// secret key and webhook secret are never logged.
package stripepay

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/stripe/stripe-go/v82"
	"github.com/stripe/stripe-go/v82/webhook"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
)

// Tolerance is how old a webhook's signed timestamp may be: an older one is a replay.
const Tolerance = 5 * time.Minute

// Config is the clinic's Stripe account.
type Config struct {
	SecretKey     string
	WebhookSecret string
	// APIURL replaces https://api.stripe.com (tests).
	APIURL string
	// HTTPClient is the client of the API calls; one with a 30 s timeout if nil.
	HTTPClient *http.Client
	// Now is the clock of the webhook's replay window; time.Now if nil.
	Now func() time.Time
}

// Provider is Stripe as a bridge.PaymentProvider.
type Provider struct {
	client        *stripe.Client
	webhookSecret string
	now           func() time.Time
}

var _ bridge.PaymentProvider = (*Provider)(nil)

// New connects to Stripe. Network errors and Stripe's 5xx are retried twice by stripe-go.
func New(cfg Config) *Provider {
	httpClient := cfg.HTTPClient
	if httpClient == nil {
		httpClient = &http.Client{Timeout: 30 * time.Second}
	}
	backendCfg := &stripe.BackendConfig{
		HTTPClient:        httpClient,
		MaxNetworkRetries: stripe.Int64(2),
		LeveledLogger:     &stripe.LeveledLogger{Level: stripe.LevelNull},
	}
	if cfg.APIURL != "" {
		backendCfg.URL = stripe.String(strings.TrimSuffix(cfg.APIURL, "/"))
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	client := stripe.NewClient(cfg.SecretKey, stripe.WithBackends(stripe.NewBackendsWithConfig(backendCfg)))
	return &Provider{client: client, webhookSecret: cfg.WebhookSecret, now: now}
}

// CreateCheckout opens a Checkout Session for one payment, in payment mode, saving the
// payment mode on the client's Customer when there is one.
func (p *Provider) CreateCheckout(ctx context.Context, req bridge.CheckoutRequest) (*bridge.Checkout, error) {
	params := &stripe.CheckoutSessionCreateParams{
		Mode:              stripe.String(string(stripe.CheckoutSessionModePayment)),
		ClientReferenceID: stripe.String(strconv.FormatInt(req.PaymentID, 10)),
		SuccessURL:        stripe.String(req.SuccessURL),
		CancelURL:         stripe.String(req.CancelURL),
		LineItems: []*stripe.CheckoutSessionCreateLineItemParams{{
			Quantity: stripe.Int64(1),
			PriceData: &stripe.CheckoutSessionCreateLineItemPriceDataParams{
				Currency:    stripe.String(req.Currency),
				UnitAmount:  stripe.Int64(req.Amount),
				ProductData: &stripe.CheckoutSessionCreateLineItemPriceDataProductDataParams{Name: stripe.String(req.Description)},
			},
		}},
	}
	params.AddMetadata("payment_id", strconv.FormatInt(req.PaymentID, 10))
	if req.CustomerID != "" {
		params.Customer = stripe.String(req.CustomerID)
		params.PaymentIntentData = &stripe.CheckoutSessionCreatePaymentIntentDataParams{
			SetupFutureUsage: stripe.String(string(stripe.PaymentIntentSetupFutureUsageOnSession)),
		}
	}
	params.SetIdempotencyKey(req.IdempotencyKey)
	cs, err := p.client.V1CheckoutSessions.Create(ctx, params)
	if err != nil {
		return nil, fmt.Errorf("creating the Checkout Session: %w", describe(err))
	}
	return checkoutOf(cs), nil
}

// GetCheckout reads a Checkout Session, with its payment's receipt.
func (p *Provider) GetCheckout(ctx context.Context, id string) (*bridge.Checkout, error) {
	params := &stripe.CheckoutSessionRetrieveParams{}
	params.AddExpand("payment_intent.latest_charge")
	cs, err := p.client.V1CheckoutSessions.Retrieve(ctx, id, params)
	if err != nil {
		return nil, fmt.Errorf("reading the Checkout Session: %w", describe(err))
	}
	return checkoutOf(cs), nil
}

func checkoutOf(cs *stripe.CheckoutSession) *bridge.Checkout {
	co := &bridge.Checkout{ID: cs.ID, URL: cs.URL, Reference: cs.ClientReferenceID, State: bridge.CheckoutOpen}
	switch cs.Status {
	case stripe.CheckoutSessionStatusComplete:
		co.State = bridge.CheckoutComplete
	case stripe.CheckoutSessionStatusExpired:
		co.State = bridge.CheckoutExpired
	}
	co.Paid = cs.Status == stripe.CheckoutSessionStatusComplete && cs.PaymentStatus == stripe.CheckoutSessionPaymentStatusPaid
	if cs.PaymentIntent != nil {
		co.PaymentIntent = cs.PaymentIntent.ID
		if cs.PaymentIntent.LatestCharge != nil {
			co.ReceiptURL = cs.PaymentIntent.LatestCharge.ReceiptURL
		}
	}
	if cs.Customer != nil {
		co.CustomerID = cs.Customer.ID
	}
	return co
}

// Refund refunds a payment in full.
func (p *Provider) Refund(ctx context.Context, paymentIntent, idempotencyKey string) error {
	params := &stripe.RefundCreateParams{PaymentIntent: stripe.String(paymentIntent)}
	params.SetIdempotencyKey(idempotencyKey)
	if _, err := p.client.V1Refunds.Create(ctx, params); err != nil {
		return fmt.Errorf("refunding: %w", describe(err))
	}
	return nil
}

// CreateCustomer makes a client record's Customer. It carries the record's ID only: no name,
// no contact (Checkout asks for the email it needs).
func (p *Provider) CreateCustomer(ctx context.Context, clientID int64, idempotencyKey string) (string, error) {
	params := &stripe.CustomerCreateParams{}
	params.AddMetadata("client_id", strconv.FormatInt(clientID, 10))
	params.SetIdempotencyKey(idempotencyKey)
	c, err := p.client.V1Customers.Create(ctx, params)
	if err != nil {
		return "", fmt.Errorf("creating the Customer: %w", describe(err))
	}
	return c.ID, nil
}

// PaymentMode describes the customer's first saved card ("Visa ending 4242"), or "".
func (p *Provider) PaymentMode(ctx context.Context, customerID string) (string, error) {
	params := &stripe.CustomerListPaymentMethodsParams{Customer: stripe.String(customerID)}
	params.Limit = stripe.Int64(1)
	for pm, err := range p.client.V1Customers.ListPaymentMethods(ctx, params) {
		if err != nil {
			return "", fmt.Errorf("listing the saved payment modes: %w", describe(err))
		}
		if pm.Card != nil {
			brand := string(pm.Card.Brand)
			if brand != "" {
				brand = strings.ToUpper(brand[:1]) + brand[1:]
			}
			return strings.TrimSpace(brand + " ending " + pm.Card.Last4), nil
		}
		return string(pm.Type), nil
	}
	return "", nil
}

// ErrBadSignature is a webhook that Stripe did not sign with the clinic's secret, or signed
// too long ago (a replay).
var ErrBadSignature = errors.New("the webhook's signature is not valid")

// Webhook checks a webhook's signature (within Tolerance) and, for a Checkout Session event,
// reads the session from Stripe: the state applied is Stripe's answer, not the payload's. co is
// nil for other events.
func (p *Provider) Webhook(ctx context.Context, payload []byte, header string) (eventID string, co *bridge.Checkout, err error) {
	ev, err := webhook.ConstructEventWithOptions(payload, header, p.webhookSecret, webhook.ConstructEventOptions{
		Tolerance: Tolerance, IgnoreAPIVersionMismatch: true,
	})
	if err != nil {
		return "", nil, fmt.Errorf("%w: %w", ErrBadSignature, err)
	}
	if ts, ok := signedAt(header); !ok || p.now().Sub(ts) > Tolerance || ts.Sub(p.now()) > Tolerance {
		return "", nil, fmt.Errorf("%w: outside the replay window", ErrBadSignature)
	}
	if !strings.HasPrefix(string(ev.Type), "checkout.session.") {
		return ev.ID, nil, nil
	}
	id, _ := ev.Data.Object["id"].(string)
	if id == "" {
		return ev.ID, nil, fmt.Errorf("the event names no Checkout Session")
	}
	co, err = p.GetCheckout(ctx, id)
	return ev.ID, co, err
}

// signedAt is the header's t= timestamp; stripe-go checks it against the wall clock, this
// checks it against the provider's clock too (tests move it).
func signedAt(header string) (time.Time, bool) {
	for _, part := range strings.Split(header, ",") {
		if v, ok := strings.CutPrefix(part, "t="); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			return time.Unix(n, 0), err == nil
		}
	}
	return time.Time{}, false
}

// describe keeps what Stripe said (its code and message) and nothing of the request.
func describe(err error) error {
	var se *stripe.Error
	if errors.As(err, &se) {
		if se.Code != "" {
			return fmt.Errorf("stripe %d %s: %s", se.HTTPStatusCode, se.Code, se.Msg)
		}
		return fmt.Errorf("stripe %d: %s", se.HTTPStatusCode, se.Msg)
	}
	return err
}
