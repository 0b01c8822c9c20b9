package database

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"go.mau.fi/util/dbutil"
)

// OptOutQuery is the SMS opt-out ledger: numbers that answered STOP get no SMS until START.
type OptOutQuery struct {
	db *dbutil.Database
}

const (
	optOutQuery = `INSERT INTO telehealth_sms_optout (phone, opted_out_at) VALUES ($1, $2)
		ON CONFLICT (phone) DO NOTHING`
	optInQuery      = `DELETE FROM telehealth_sms_optout WHERE phone=$1`
	isOptedOutQuery = `SELECT 1 FROM telehealth_sms_optout WHERE phone=$1`
)

// OptOut records that a phone number answered STOP.
func (q *OptOutQuery) OptOut(ctx context.Context, phone string, at time.Time) error {
	_, err := q.db.Exec(ctx, optOutQuery, phone, at.UnixMilli())
	return err
}

// OptIn forgets a STOP after the number answered START.
func (q *OptOutQuery) OptIn(ctx context.Context, phone string) error {
	_, err := q.db.Exec(ctx, optInQuery, phone)
	return err
}

// OptedOut reports whether a phone number asked for no more SMS.
func (q *OptOutQuery) OptedOut(ctx context.Context, phone string) (bool, error) {
	var one int
	err := q.db.QueryRow(ctx, isOptedOutQuery, phone).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}
