package database

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"go.mau.fi/util/dbutil"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
)

// SlotClaimQuery stores the slots clients booked themselves (see 07-availability.sql for how a
// claim stays atomic).
type SlotClaimQuery struct {
	db *dbutil.Database
}

const (
	// busyQuery is what takes a professional's time between $2 and $3: their sessions but the
	// cancelled ones, and the claims still being booked (claimed after $4).
	busyQuery = `SELECT start_ts, end_ts FROM telehealth_session
			WHERE clinician=$1 AND status<>'cancelled' AND start_ts<$3 AND end_ts>$2
		UNION ALL
		SELECT start_ts, end_ts FROM telehealth_slot_claim
			WHERE clinician=$1 AND session_id IS NULL AND claimed_at>$4 AND start_ts<$3 AND end_ts>$2`
	// dropDeadClaimsQuery frees the claims that no longer hold their slot: crashed bookings
	// (no session, claimed before $2) and cancelled sessions.
	dropDeadClaimsQuery = `DELETE FROM telehealth_slot_claim WHERE clinician=$1 AND (
		(session_id IS NULL AND claimed_at<=$2)
		OR session_id IN (SELECT id FROM telehealth_session WHERE clinician=$1 AND status='cancelled'))`
	insertClaimQuery = `INSERT INTO telehealth_slot_claim (clinician, start_ts, end_ts, type_id, client_id, claimed_at)
		VALUES ($1, $2, $3, $4, $5, $6)`
	claimBookedQuery  = `UPDATE telehealth_slot_claim SET session_id=$3 WHERE clinician=$1 AND start_ts=$2`
	releaseClaimQuery = `DELETE FROM telehealth_slot_claim WHERE clinician=$1 AND start_ts=$2 AND session_id IS NULL`
	claimSessionQuery = `SELECT COALESCE(session_id, ''), client_id FROM telehealth_slot_claim WHERE clinician=$1 AND start_ts=$2`
)

var intervalRows = dbutil.ConvertRowFn[bridge.Interval](func(row dbutil.Scannable) (bridge.Interval, error) {
	var start, end int64
	err := row.Scan(&start, &end)
	return bridge.Interval{Start: time.UnixMilli(start).UTC(), End: time.UnixMilli(end).UTC()}, err
})

// Busy returns the intervals that take the professional's time between from and to.
func (q *SlotClaimQuery) Busy(ctx context.Context, clinician string, from, to, now time.Time) ([]bridge.Interval, error) {
	return intervalRows.NewRowIter(q.db.Query(ctx, busyQuery, clinician, from.UnixMilli(), to.UnixMilli(),
		now.Add(-bridge.ClaimTimeout).UnixMilli())).AsList()
}

// DropDead deletes the professional's claims that no longer hold a slot.
func (q *SlotClaimQuery) DropDead(ctx context.Context, clinician string, now time.Time) error {
	_, err := q.db.Exec(ctx, dropDeadClaimsQuery, clinician, now.Add(-bridge.ClaimTimeout).UnixMilli())
	return err
}

// Insert stores a claim.
func (q *SlotClaimQuery) Insert(ctx context.Context, c *bridge.SlotClaim) error {
	_, err := q.db.Exec(ctx, insertClaimQuery, c.Clinician, c.Start.UnixMilli(), c.End.UnixMilli(), c.TypeID, c.ClientID, c.ClaimedAt.UnixMilli())
	return err
}

// Booked records the session a claim became.
func (q *SlotClaimQuery) Booked(ctx context.Context, c *bridge.SlotClaim, sessionID string) error {
	_, err := q.db.Exec(ctx, claimBookedQuery, c.Clinician, c.Start.UnixMilli(), sessionID)
	return err
}

// Release deletes a claim whose session was never stored.
func (q *SlotClaimQuery) Release(ctx context.Context, c *bridge.SlotClaim) error {
	_, err := q.db.Exec(ctx, releaseClaimQuery, c.Clinician, c.Start.UnixMilli())
	return err
}

// Session returns the session and client of the claim on a professional's slot ("" and 0 if
// none).
func (q *SlotClaimQuery) Session(ctx context.Context, clinician string, start time.Time) (string, int64, error) {
	var sessionID string
	var clientID int64
	err := q.db.QueryRow(ctx, claimSessionQuery, clinician, start.UnixMilli()).Scan(&sessionID, &clientID)
	if errors.Is(err, sql.ErrNoRows) {
		return "", 0, nil
	}
	return sessionID, clientID, err
}
