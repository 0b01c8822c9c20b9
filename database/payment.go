package database

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"go.mau.fi/util/dbutil"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
)

// PaymentQuery stores what participants owe and where their payments are (telehealth_payment).
type PaymentQuery struct {
	db *dbutil.Database
}

const (
	paymentColumns = `id, session_id, participant_id, client_id, service_id, service_name, amount, currency, status,
		checkout_id, payment_intent, customer_id, receipt_url, marked_by, created_at, updated_at, paid_at`
	insertPaymentQuery = `INSERT INTO telehealth_payment (session_id, participant_id, client_id, service_id, service_name, amount,
		currency, status, checkout_id, payment_intent, customer_id, receipt_url, marked_by, created_at, updated_at, paid_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) RETURNING id`
	updatePaymentQuery = `UPDATE telehealth_payment SET status=$2, checkout_id=$3, payment_intent=$4, customer_id=$5, receipt_url=$6,
		marked_by=$7, updated_at=$8, paid_at=$9 WHERE id=$1`
	getPaymentQuery         = `SELECT ` + paymentColumns + ` FROM telehealth_payment WHERE id=$1`
	participantPaymentQuery = `SELECT ` + paymentColumns + ` FROM telehealth_payment WHERE participant_id=$1`
	checkoutPaymentQuery    = `SELECT ` + paymentColumns + ` FROM telehealth_payment WHERE checkout_id=$1 AND checkout_id <> ''`
	sessionPaymentsQuery    = `SELECT ` + paymentColumns + ` FROM telehealth_payment WHERE session_id=$1 ORDER BY participant_id`
	clientPaymentsQuery     = `SELECT ` + paymentColumns + ` FROM telehealth_payment WHERE client_id=$1 ORDER BY created_at DESC, id DESC`
	pendingPaymentsQuery    = `SELECT ` + paymentColumns + ` FROM telehealth_payment WHERE status='pending' ORDER BY id`
)

func scanPayment(row dbutil.Scannable) (*bridge.Payment, error) {
	var p bridge.Payment
	var status string
	var created, updated, paid int64
	err := row.Scan(&p.ID, &p.SessionID, &p.ParticipantID, &p.ClientID, &p.ServiceID, &p.ServiceName, &p.Amount, &p.Currency, &status,
		&p.CheckoutID, &p.PaymentIntent, &p.CustomerID, &p.ReceiptURL, &p.MarkedBy, &created, &updated, &paid)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, bridge.ErrPaymentNotFound
	} else if err != nil {
		return nil, err
	}
	p.Status = bridge.PaymentStatus(status)
	p.CreatedAt, p.UpdatedAt, p.PaidAt = time.UnixMilli(created).UTC(), time.UnixMilli(updated).UTC(), unixOrZero(paid)
	return &p, nil
}

var paymentRows = dbutil.ConvertRowFn[*bridge.Payment](scanPayment)

// Insert stores a new payment and sets its ID.
func (q *PaymentQuery) Insert(ctx context.Context, p *bridge.Payment) error {
	return q.db.QueryRow(ctx, insertPaymentQuery, p.SessionID, p.ParticipantID, p.ClientID, p.ServiceID, p.ServiceName, p.Amount,
		p.Currency, string(p.Status), p.CheckoutID, p.PaymentIntent, p.CustomerID, p.ReceiptURL, p.MarkedBy,
		p.CreatedAt.UnixMilli(), p.UpdatedAt.UnixMilli(), msOrZero(p.PaidAt)).Scan(&p.ID)
}

// Update stores a payment's status and references.
func (q *PaymentQuery) Update(ctx context.Context, p *bridge.Payment) error {
	_, err := q.db.Exec(ctx, updatePaymentQuery, p.ID, string(p.Status), p.CheckoutID, p.PaymentIntent, p.CustomerID, p.ReceiptURL,
		p.MarkedBy, p.UpdatedAt.UnixMilli(), msOrZero(p.PaidAt))
	return err
}

// Get returns a payment, or bridge.ErrPaymentNotFound.
func (q *PaymentQuery) Get(ctx context.Context, id int64) (*bridge.Payment, error) {
	return scanPayment(q.db.QueryRow(ctx, getPaymentQuery, id))
}

// ForParticipant returns a participant's payment, or bridge.ErrPaymentNotFound.
func (q *PaymentQuery) ForParticipant(ctx context.Context, participantID int64) (*bridge.Payment, error) {
	return scanPayment(q.db.QueryRow(ctx, participantPaymentQuery, participantID))
}

// ForCheckout returns the payment of a provider's checkout, or bridge.ErrPaymentNotFound.
func (q *PaymentQuery) ForCheckout(ctx context.Context, checkoutID string) (*bridge.Payment, error) {
	return scanPayment(q.db.QueryRow(ctx, checkoutPaymentQuery, checkoutID))
}

// ForSession are a session's payments.
func (q *PaymentQuery) ForSession(ctx context.Context, sessionID string) ([]*bridge.Payment, error) {
	return paymentRows.NewRowIter(q.db.Query(ctx, sessionPaymentsQuery, sessionID)).AsList()
}

// ForClient are a client's payments, latest first.
func (q *PaymentQuery) ForClient(ctx context.Context, clientID int64) ([]*bridge.Payment, error) {
	return paymentRows.NewRowIter(q.db.Query(ctx, clientPaymentsQuery, clientID)).AsList()
}

// Pending are the payments whose checkout is open.
func (q *PaymentQuery) Pending(ctx context.Context) ([]*bridge.Payment, error) {
	return paymentRows.NewRowIter(q.db.Query(ctx, pendingPaymentsQuery)).AsList()
}
