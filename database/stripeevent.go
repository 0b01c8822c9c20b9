package database

import (
	"context"
	"time"

	"go.mau.fi/util/dbutil"
)

// StripeEventQuery records the Stripe webhook events processed (telehealth_stripe_event), so
// that a replayed event is refused.
type StripeEventQuery struct {
	db *dbutil.Database
}

const markStripeEventQuery = `INSERT INTO telehealth_stripe_event (event_id, received_at) VALUES ($1, $2) ON CONFLICT (event_id) DO NOTHING`

// Mark records an event; false if it was recorded before.
func (q *StripeEventQuery) Mark(ctx context.Context, eventID string, at time.Time) (bool, error) {
	res, err := q.db.Exec(ctx, markStripeEventQuery, eventID, at.UnixMilli())
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}
