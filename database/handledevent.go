package database

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"go.mau.fi/util/dbutil"
)

// HandledEventQuery records which Matrix events have been handled, so that an event the
// homeserver delivers twice is handled once.
type HandledEventQuery struct {
	db *dbutil.Database
}

const (
	isHandledQuery   = `SELECT 1 FROM telehealth_handled_event WHERE event_id=$1`
	markHandledQuery = `INSERT INTO telehealth_handled_event (event_id, room_id, handled_at) VALUES ($1, $2, $3) ON CONFLICT (event_id) DO NOTHING`
	pruneHandled     = `DELETE FROM telehealth_handled_event WHERE handled_at < $1`
)

// IsHandled reports whether the event has been handled before.
func (q *HandledEventQuery) IsHandled(ctx context.Context, eventID string) (bool, error) {
	var one int
	err := q.db.QueryRow(ctx, isHandledQuery, eventID).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// MarkHandled records the event as handled.
func (q *HandledEventQuery) MarkHandled(ctx context.Context, eventID, roomID string, at time.Time) error {
	_, err := q.db.Exec(ctx, markHandledQuery, eventID, roomID, at.UnixMilli())
	return err
}

// Prune forgets events handled before the given time: homeservers do not redeliver that late.
func (q *HandledEventQuery) Prune(ctx context.Context, before time.Time) (int64, error) {
	res, err := q.db.Exec(ctx, pruneHandled, before.UnixMilli())
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
