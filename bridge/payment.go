package bridge

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Payment before the session: the clinic's priced services, what each participant owes and
// where their payment is. The bridge never sees card data: a provider (Stripe Checkout) takes
// the card, and the clinic's own billing may mark a payment paid instead.

// PricedService is a service the clinic sells, from its price list.
type PricedService struct {
	ID       int64
	Name     string
	Duration time.Duration
	// Price is in the currency's minor unit (cents).
	Price int64
	// Currency is the ISO 4217 code in lower case ("eur").
	Currency string
	// Archived services are kept for the payments that name them but offered no more.
	Archived  bool
	UpdatedBy string
	UpdatedAt time.Time
}

// PaymentStatus is where a participant's payment is.
type PaymentStatus string

const (
	// PaymentDue: owed, nothing started.
	PaymentDue PaymentStatus = "due"
	// PaymentPending: a checkout is open at the provider.
	PaymentPending PaymentStatus = "pending"
	PaymentPaid    PaymentStatus = "paid"
	// PaymentRefunded: paid, then refunded when the session was cancelled.
	PaymentRefunded PaymentStatus = "refunded"
	// PaymentWaived: the clinician let it go.
	PaymentWaived PaymentStatus = "waived"
)

// Settled reports whether nothing is owed any more.
func (s PaymentStatus) Settled() bool {
	return s == PaymentPaid || s == PaymentWaived || s == PaymentRefunded
}

// Payment is what one participant of a session owes before joining.
type Payment struct {
	ID            int64
	SessionID     string
	ParticipantID int64
	// ClientID is the participant's client record (0 without one).
	ClientID    int64
	ServiceID   int64
	ServiceName string
	Amount      int64
	Currency    string
	Status      PaymentStatus
	// CheckoutID, PaymentIntent and CustomerID are the provider's references.
	CheckoutID    string
	PaymentIntent string
	CustomerID    string
	// ReceiptURL is the provider's receipt page, once paid.
	ReceiptURL string
	// MarkedBy is who marked it paid or waived it by hand (a Matrix user ID), or "".
	MarkedBy  string
	CreatedAt time.Time
	UpdatedAt time.Time
	PaidAt    time.Time
}

// CurrencyDigits is how many digits a currency's minor unit has (ISO 4217): an amount in minor
// units is whole yen for JPY, cents for EUR, fils for KWD. Stripe counts amounts the same way.
func CurrencyDigits(currency string) int {
	switch strings.ToUpper(currency) {
	case "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI", "VND", "VUV", "XAF", "XOF", "XPF":
		return 0
	case "BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND":
		return 3
	}
	return 2
}

// FormatAmount writes an amount in minor units as the clinic's screens show it: "80.00 EUR",
// "8000 JPY", "12.500 KWD".
func FormatAmount(amount int64, currency string) string {
	sign := ""
	if amount < 0 {
		sign, amount = "-", -amount
	}
	code := strings.ToUpper(currency)
	digits := CurrencyDigits(code)
	if digits == 0 {
		return fmt.Sprintf("%s%d %s", sign, amount, code)
	}
	unit := int64(1)
	for range digits {
		unit *= 10
	}
	return fmt.Sprintf("%s%d.%0*d %s", sign, amount/unit, digits, amount%unit, code)
}

// Insurance is a client's insurance details, as they gave them.
type Insurance struct {
	ClientID  int64
	Insurer   string
	MemberID  string
	UpdatedAt time.Time
}

var (
	ErrPaymentNotFound = errors.New("no such payment")
	ErrServiceNotFound = errors.New("no such service")
	ErrInvalidPayment  = errors.New("invalid payment")
	// ErrPaymentDue is admitting a participant who has not paid: the clinician confirms
	// ("Admit without payment?") by admitting anyway.
	ErrPaymentDue = errors.New("payment is missing")
	// ErrPaymentBlocked is admitting a participant who has not paid where the clinic refuses it
	// (payments.block_admission).
	ErrPaymentBlocked = errors.New("payment is missing and this clinic does not admit without payment")
	// ErrNoPaymentProvider is paying online where the clinic has no provider.
	ErrNoPaymentProvider = errors.New("online payment is not set up")
	// ErrEventReplayed is a provider's event that was processed already.
	ErrEventReplayed = errors.New("the event was processed already")
)

// PaymentStore keeps priced services, payments, provider customers and insurance details.
type PaymentStore interface {
	// PricedServices are the services, by name; archived ones too if all.
	PricedServices(ctx context.Context, all bool) ([]*PricedService, error)
	// GetPricedService returns ErrServiceNotFound when there is none.
	GetPricedService(ctx context.Context, id int64) (*PricedService, error)
	// PutPricedService inserts (ID 0, setting it) or updates a service.
	PutPricedService(ctx context.Context, s *PricedService) error

	// InsertPayment stores a new payment and sets its ID.
	InsertPayment(ctx context.Context, p *Payment) error
	// UpdatePayment stores a payment's status and references.
	UpdatePayment(ctx context.Context, p *Payment) error
	// GetPayment, ParticipantPayment and CheckoutPayment return ErrPaymentNotFound when there
	// is none.
	GetPayment(ctx context.Context, id int64) (*Payment, error)
	ParticipantPayment(ctx context.Context, participantID int64) (*Payment, error)
	CheckoutPayment(ctx context.Context, checkoutID string) (*Payment, error)
	SessionPayments(ctx context.Context, sessionID string) ([]*Payment, error)
	// ClientPayments are a client's payments, latest first.
	ClientPayments(ctx context.Context, clientID int64) ([]*Payment, error)
	// PendingPayments are the payments whose checkout is open at the provider.
	PendingPayments(ctx context.Context) ([]*Payment, error)

	// PaymentCustomer is the provider's customer of a client record, or "".
	PaymentCustomer(ctx context.Context, clientID int64) (string, error)
	SetPaymentCustomer(ctx context.Context, clientID int64, customerID string) error
	// MarkEventProcessed records a provider event's ID; false if it was recorded already.
	MarkEventProcessed(ctx context.Context, eventID string, at time.Time) (bool, error)

	// GetInsurance returns nil and no error when the client gave none.
	GetInsurance(ctx context.Context, clientID int64) (*Insurance, error)
	PutInsurance(ctx context.Context, ins *Insurance) error
}

// CheckoutState is where a provider's checkout is.
type CheckoutState string

const (
	CheckoutOpen     CheckoutState = "open"
	CheckoutComplete CheckoutState = "complete"
	CheckoutExpired  CheckoutState = "expired"
)

// Checkout is a provider's hosted payment page for one payment.
type Checkout struct {
	ID  string
	URL string
	// Reference is the payment's ID as the bridge gave it.
	Reference string
	State     CheckoutState
	// Paid: the money is captured (a complete checkout may await a delayed method).
	Paid          bool
	PaymentIntent string
	CustomerID    string
	ReceiptURL    string
}

// CheckoutRequest opens a checkout for a payment.
type CheckoutRequest struct {
	PaymentID   int64
	Amount      int64
	Currency    string
	Description string
	// CustomerID lets the provider save the payment mode for the client ("" for none).
	CustomerID string
	SuccessURL string
	CancelURL  string
	// IdempotencyKey makes a retried request open the same checkout.
	IdempotencyKey string
}

// PaymentProvider is the payment processor as the bridge needs it. Every call that creates
// something takes an idempotency key, so a retry never charges or refunds twice.
type PaymentProvider interface {
	CreateCheckout(ctx context.Context, req CheckoutRequest) (*Checkout, error)
	GetCheckout(ctx context.Context, id string) (*Checkout, error)
	Refund(ctx context.Context, paymentIntent, idempotencyKey string) error
	// CreateCustomer makes the provider's customer of a client record.
	CreateCustomer(ctx context.Context, clientID int64, idempotencyKey string) (string, error)
	// PaymentMode describes the customer's saved payment mode ("Visa ending 4242"), or "".
	PaymentMode(ctx context.Context, customerID string) (string, error)
}

// PaymentNotifier tells a participant that they have something to complete before the session
// (a payment), with their session page's link; never the service or the amount.
type PaymentNotifier interface {
	QueuePaymentNotice(ctx context.Context, s *Session, p *Participant) error
}

// RefundPolicy is what cancelling a paid session refunds.
type RefundPolicy struct {
	// Always refunds in full; else Before > 0 refunds when cancelled at least Before ahead of
	// the start; else nothing.
	Always bool
	Before time.Duration
}

// PaymentOptions configure payments.
type PaymentOptions struct {
	Store PaymentStore
	// Provider is nil where the clinic has no online payment.
	Provider       PaymentProvider
	BlockAdmission bool
	Refund         RefundPolicy
}

// RequirePayment asks at booking for a payment before joining: a service of the price list,
// and the amount when it differs from the service's price (0: the price).
type RequirePayment struct {
	ServiceID int64
	Amount    int64
}

// Refundable reports whether the policy refunds a session cancelled at now.
func (r RefundPolicy) Refundable(start, now time.Time) bool {
	if r.Always {
		return true
	}
	return r.Before > 0 && !now.After(start.Add(-r.Before))
}
