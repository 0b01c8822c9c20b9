package database

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"slices"
	"time"

	"go.mau.fi/util/dbutil"

	"github.com/telehealth-bridge/telehealth-bridge/scheduler"
)

// OutboxQuery stores planned notifications.
type OutboxQuery struct {
	db *dbutil.Database
}

var _ scheduler.Outbox = (*OutboxQuery)(nil)

const (
	outboxColumns = `id, session_id, participant_id, kind, channel, due_at, status, attempts, revision,
		provider_id, last_error, created_at, updated_at, body`
	insertOutboxQuery = `INSERT INTO telehealth_outbox (session_id, participant_id, kind, channel, due_at, status,
		attempts, revision, provider_id, last_error, created_at, updated_at, body)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id`
	updateOutboxQuery = `UPDATE telehealth_outbox SET due_at=$2, status=$3, attempts=$4, revision=$5, provider_id=$6,
		last_error=$7, updated_at=$8, body=$9 WHERE id=$1`
	sessionOutboxQuery = `SELECT ` + outboxColumns + ` FROM telehealth_outbox WHERE session_id=$1 ORDER BY due_at, id`
	// claimDue takes the next due rows for this sender. On PostgreSQL the inner select adds
	// FOR UPDATE SKIP LOCKED, so that a second instance (during a leader change) passes over
	// rows another one holds; SQLite has one writer.
	claimDueQuery = `UPDATE telehealth_outbox SET status='sending', attempts=attempts+1, updated_at=$2
		WHERE id IN (SELECT id FROM telehealth_outbox WHERE status='pending' AND due_at <= $1
			ORDER BY due_at, id LIMIT $3%s)
		RETURNING ` + outboxColumns
	releaseSendingQuery = `UPDATE telehealth_outbox SET status='pending', updated_at=$1 WHERE status='sending'`
	nextDueQuery        = `SELECT MIN(due_at) FROM telehealth_outbox WHERE status='pending'`
	byProviderQuery     = `SELECT ` + outboxColumns + ` FROM telehealth_outbox WHERE provider_id=$1`
)

func scanNotification(row dbutil.Scannable) (*bridge.Notification, error) {
	var n bridge.Notification
	var kind, channel, status string
	var due, created, updated int64
	err := row.Scan(&n.ID, &n.SessionID, &n.ParticipantID, &kind, &channel, &due, &status, &n.Attempts, &n.Revision,
		&n.ProviderID, &n.LastError, &created, &updated, &n.Body)
	if err != nil {
		return nil, err
	}
	n.Kind, n.Channel, n.Status = bridge.NoticeKind(kind), bridge.Channel(channel), bridge.NotificationStatus(status)
	n.Due, n.CreatedAt, n.UpdatedAt = time.UnixMilli(due).UTC(), time.UnixMilli(created).UTC(), time.UnixMilli(updated).UTC()
	return &n, nil
}

var notificationRows = dbutil.ConvertRowFn[*bridge.Notification](scanNotification)

// Insert adds planned notifications.
func (q *OutboxQuery) Insert(ctx context.Context, ns ...*bridge.Notification) error {
	return q.db.DoTxn(ctx, nil, func(ctx context.Context) error {
		for _, n := range ns {
			err := q.db.QueryRow(ctx, insertOutboxQuery, n.SessionID, n.ParticipantID, string(n.Kind), string(n.Channel),
				n.Due.UnixMilli(), string(n.Status), n.Attempts, n.Revision, n.ProviderID, n.LastError,
				n.CreatedAt.UnixMilli(), n.UpdatedAt.UnixMilli(), n.Body).Scan(&n.ID)
			if err != nil {
				return err
			}
		}
		return nil
	})
}

// Update saves a notification's schedule and outcome.
func (q *OutboxQuery) Update(ctx context.Context, n *bridge.Notification) error {
	_, err := q.db.Exec(ctx, updateOutboxQuery, n.ID, n.Due.UnixMilli(), string(n.Status), n.Attempts, n.Revision,
		n.ProviderID, n.LastError, n.UpdatedAt.UnixMilli(), n.Body)
	return err
}

// ForSession returns every notification of a session, in due order.
func (q *OutboxQuery) ForSession(ctx context.Context, sessionID string) ([]*bridge.Notification, error) {
	return notificationRows.NewRowIter(q.db.Query(ctx, sessionOutboxQuery, sessionID)).AsList()
}

// ClaimDue marks up to limit rows due at now as being sent and returns them.
func (q *OutboxQuery) ClaimDue(ctx context.Context, now time.Time, limit int) ([]*bridge.Notification, error) {
	lock := ""
	if q.db.Dialect == dbutil.Postgres {
		lock = " FOR UPDATE SKIP LOCKED"
	}
	query := fmt.Sprintf(claimDueQuery, lock)
	rows, err := notificationRows.NewRowIter(q.db.Query(ctx, query, now.UnixMilli(), now.UnixMilli(), limit)).AsList()
	// RETURNING keeps no order: the sender goes in due order.
	slices.SortFunc(rows, func(a, b *bridge.Notification) int {
		return cmp.Or(a.Due.Compare(b.Due), cmp.Compare(a.ID, b.ID))
	})
	return rows, err
}

// ReleaseSending puts rows a previous sender left in flight back in line. Only the one sender
// (the elected instance) calls it, when it starts sending.
func (q *OutboxQuery) ReleaseSending(ctx context.Context, now time.Time) (int64, error) {
	res, err := q.db.Exec(ctx, releaseSendingQuery, now.UnixMilli())
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// NextDue is the earliest due instant of a pending row; false when none is pending.
func (q *OutboxQuery) NextDue(ctx context.Context) (time.Time, bool, error) {
	var due sql.NullInt64
	if err := q.db.QueryRow(ctx, nextDueQuery).Scan(&due); err != nil {
		return time.Time{}, false, err
	}
	return time.UnixMilli(due.Int64).UTC(), due.Valid, nil
}

// ByProviderID finds the notification a provider's status callback is about.
func (q *OutboxQuery) ByProviderID(ctx context.Context, providerID string) (*bridge.Notification, error) {
	n, err := scanNotification(q.db.QueryRow(ctx, byProviderQuery, providerID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return n, err
}

const dueByChannelQuery = `SELECT channel, COUNT(*), MIN(due_at) FROM telehealth_outbox
	WHERE status='pending' AND due_at <= $1 GROUP BY channel`

// DueByChannel counts the pending notifications due at now per channel (channels with none
// are absent) and gives the oldest one's due time (zero when none is due), for the metrics.
func (q *OutboxQuery) DueByChannel(ctx context.Context, now time.Time) (map[bridge.Channel]int, time.Time, error) {
	rows, err := q.db.Query(ctx, dueByChannelQuery, now.UnixMilli())
	if err != nil {
		return nil, time.Time{}, err
	}
	defer rows.Close()
	out := map[bridge.Channel]int{}
	var oldest time.Time
	for rows.Next() {
		var channel string
		var n int
		var due int64
		if err = rows.Scan(&channel, &n, &due); err != nil {
			return nil, time.Time{}, err
		}
		out[bridge.Channel(channel)] = n
		if t := time.UnixMilli(due).UTC(); oldest.IsZero() || t.Before(oldest) {
			oldest = t
		}
	}
	return out, oldest, rows.Err()
}
