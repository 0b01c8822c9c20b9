package database

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"go.mau.fi/util/dbutil"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
)

// InsuranceQuery stores clients' insurance details (telehealth_insurance).
type InsuranceQuery struct {
	db *dbutil.Database
}

const (
	getInsuranceQuery = `SELECT client_id, insurer, member_id, updated_at FROM telehealth_insurance WHERE client_id=$1`
	putInsuranceQuery = `INSERT INTO telehealth_insurance (client_id, insurer, member_id, updated_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (client_id) DO UPDATE SET insurer=excluded.insurer, member_id=excluded.member_id, updated_at=excluded.updated_at`
)

// Get returns the client's details, or nil.
func (q *InsuranceQuery) Get(ctx context.Context, clientID int64) (*bridge.Insurance, error) {
	var ins bridge.Insurance
	var updated int64
	err := q.db.QueryRow(ctx, getInsuranceQuery, clientID).Scan(&ins.ClientID, &ins.Insurer, &ins.MemberID, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	ins.UpdatedAt = time.UnixMilli(updated).UTC()
	return &ins, nil
}

// Put stores the client's details.
func (q *InsuranceQuery) Put(ctx context.Context, ins *bridge.Insurance) error {
	_, err := q.db.Exec(ctx, putInsuranceQuery, ins.ClientID, ins.Insurer, ins.MemberID, ins.UpdatedAt.UnixMilli())
	return err
}
