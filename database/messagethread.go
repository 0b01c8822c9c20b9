package database

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"go.mau.fi/util/dbutil"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
)

// MessageThreadQuery keeps the bookkeeping of the clients' Messages threads
// (telehealth_message_thread): counts and times, never a body or a sender.
type MessageThreadQuery struct {
	db *dbutil.Database
}

const (
	threadColumns  = `client_id, unread, last_at, unread_since, noticed, notice_not_before, read_at`
	getThreadQuery = `SELECT ` + threadColumns + ` FROM telehealth_message_thread WHERE client_id=$1`
	// A professional's message: one more unread; the first of a batch starts its wait for the
	// notice.
	professionalMessageQuery = `INSERT INTO telehealth_message_thread (client_id, unread, last_at, unread_since)
		VALUES ($1, 1, $2, $2)
		ON CONFLICT (client_id) DO UPDATE SET unread = telehealth_message_thread.unread + 1,
			last_at = CASE WHEN excluded.last_at > telehealth_message_thread.last_at THEN excluded.last_at ELSE telehealth_message_thread.last_at END,
			unread_since = CASE WHEN telehealth_message_thread.unread_since = 0 THEN excluded.unread_since ELSE telehealth_message_thread.unread_since END,
			noticed = CASE WHEN telehealth_message_thread.unread_since = 0 THEN false ELSE telehealth_message_thread.noticed END`
	// The client's own message, or their reading of the thread: all read.
	clientMessageQuery = `INSERT INTO telehealth_message_thread (client_id, last_at, read_at) VALUES ($1, $2, $3)
		ON CONFLICT (client_id) DO UPDATE SET unread = 0, unread_since = 0, noticed = false, notice_not_before = 0,
			last_at = CASE WHEN excluded.last_at > telehealth_message_thread.last_at THEN excluded.last_at ELSE telehealth_message_thread.last_at END,
			read_at = excluded.read_at`
	dueNoticesQuery = `SELECT ` + threadColumns + ` FROM telehealth_message_thread
		WHERE unread_since <> 0 AND noticed = false AND unread_since <= $1 AND notice_not_before <= $2
		ORDER BY unread_since LIMIT $3`
	claimNoticeQuery    = `UPDATE telehealth_message_thread SET noticed = true WHERE client_id=$1 AND unread_since=$2 AND noticed = false`
	releaseNoticeQuery  = `UPDATE telehealth_message_thread SET noticed = false, notice_not_before=$3 WHERE client_id=$1 AND unread_since=$2`
	postponeNoticeQuery = `UPDATE telehealth_message_thread SET notice_not_before=$3 WHERE client_id=$1 AND unread_since=$2 AND noticed = false`
)

func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func fromMS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v).UTC()
}

func scanThread(row dbutil.Scannable) (*bridge.MessageThread, error) {
	var t bridge.MessageThread
	var last, since, notBefore, read int64
	if err := row.Scan(&t.ClientID, &t.Unread, &last, &since, &t.Noticed, &notBefore, &read); err != nil {
		return nil, err
	}
	t.LastAt, t.UnreadSince, t.NoticeNotBefore, t.ReadAt = fromMS(last), fromMS(since), fromMS(notBefore), fromMS(read)
	return &t, nil
}

// Get is the client's thread; a client whose thread has had no message yet has an empty one.
func (q *MessageThreadQuery) Get(ctx context.Context, clientID int64) (*bridge.MessageThread, error) {
	t, err := scanThread(q.db.QueryRow(ctx, getThreadQuery, clientID))
	if errors.Is(err, sql.ErrNoRows) {
		return &bridge.MessageThread{ClientID: clientID}, nil
	}
	return t, err
}

// ProfessionalMessage counts a professional's message sent at at as unread.
func (q *MessageThreadQuery) ProfessionalMessage(ctx context.Context, clientID int64, at time.Time) error {
	_, err := q.db.Exec(ctx, professionalMessageQuery, clientID, ms(at))
	return err
}

// ClientMessage records the client's own message sent at at: they have read the thread.
func (q *MessageThreadQuery) ClientMessage(ctx context.Context, clientID int64, at time.Time) error {
	_, err := q.db.Exec(ctx, clientMessageQuery, clientID, ms(at), ms(at))
	return err
}

// MarkRead records that the client read the thread at at.
func (q *MessageThreadQuery) MarkRead(ctx context.Context, clientID int64, at time.Time) error {
	_, err := q.db.Exec(ctx, clientMessageQuery, clientID, 0, ms(at))
	return err
}

// DueNotices are the threads whose unread batch started at unreadBefore or earlier and whose
// notice has not gone and is not held past now, oldest first.
func (q *MessageThreadQuery) DueNotices(ctx context.Context, unreadBefore, now time.Time, limit int) ([]*bridge.MessageThread, error) {
	return dbutil.ConvertRowFn[*bridge.MessageThread](scanThread).
		NewRowIter(q.db.Query(ctx, dueNoticesQuery, ms(unreadBefore), ms(now), limit)).AsList()
}

// ClaimNotice marks the batch (by its UnreadSince) as noticed; false when the client read it
// meanwhile or another sender claimed it.
func (q *MessageThreadQuery) ClaimNotice(ctx context.Context, t *bridge.MessageThread) (bool, error) {
	res, err := q.db.Exec(ctx, claimNoticeQuery, t.ClientID, ms(t.UnreadSince))
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// ReleaseNotice puts a claimed notice back, to be tried again from notBefore.
func (q *MessageThreadQuery) ReleaseNotice(ctx context.Context, t *bridge.MessageThread, notBefore time.Time) error {
	_, err := q.db.Exec(ctx, releaseNoticeQuery, t.ClientID, ms(t.UnreadSince), ms(notBefore))
	return err
}

// PostponeNotice holds a notice back until notBefore (SMS quiet hours).
func (q *MessageThreadQuery) PostponeNotice(ctx context.Context, t *bridge.MessageThread, notBefore time.Time) error {
	_, err := q.db.Exec(ctx, postponeNoticeQuery, t.ClientID, ms(t.UnreadSince), ms(notBefore))
	return err
}
