package database

import (
	"context"
	"database/sql"
	"errors"

	"go.mau.fi/util/dbutil"
)

// PaymentCustomerQuery stores the provider's customer of each client record
// (telehealth_payment_customer).
type PaymentCustomerQuery struct {
	db *dbutil.Database
}

const (
	getPaymentCustomerQuery = `SELECT customer_id FROM telehealth_payment_customer WHERE client_id=$1`
	// The first customer stored stays: two checkouts racing keep one customer.
	putPaymentCustomerQuery = `INSERT INTO telehealth_payment_customer (client_id, customer_id) VALUES ($1, $2) ON CONFLICT (client_id) DO NOTHING`
)

// Get is the client's customer ID, or "".
func (q *PaymentCustomerQuery) Get(ctx context.Context, clientID int64) (string, error) {
	var id string
	err := q.db.QueryRow(ctx, getPaymentCustomerQuery, clientID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return id, err
}

// Put records the client's customer ID unless one is recorded already.
func (q *PaymentCustomerQuery) Put(ctx context.Context, clientID int64, customerID string) error {
	_, err := q.db.Exec(ctx, putPaymentCustomerQuery, clientID, customerID)
	return err
}
