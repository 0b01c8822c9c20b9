package database

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"go.mau.fi/util/dbutil"
)

// WebSession is a signed-in web visitor, by the hash of their token.
type WebSession struct {
	TokenHash string
	// Kind is "login" or "join" (one-time links), "panel" or "call".
	Kind      string
	UserID    string
	SessionID string
	CreatedAt time.Time
	ExpiresAt time.Time
	LastSeen  time.Time
}

// WebSessionQuery stores web sessions.
type WebSessionQuery struct {
	db *dbutil.Database
}

const (
	webSessionColumns = `token_hash, kind, user_id, session_id, created_at, expires_at, last_seen`
	insertWebSession  = `INSERT INTO telehealth_web_session (` + webSessionColumns + `) VALUES ($1, $2, $3, $4, $5, $6, $7)`
	getWebSession     = `SELECT ` + webSessionColumns + ` FROM telehealth_web_session WHERE token_hash=$1`
	touchWebSession   = `UPDATE telehealth_web_session SET last_seen=$2, expires_at=$3 WHERE token_hash=$1`
	// Taking a one-time link deletes it in the same statement, so two uses race to one winner.
	takeWebSession   = `DELETE FROM telehealth_web_session WHERE token_hash=$1 AND kind=$2 RETURNING ` + webSessionColumns
	deleteWebSession = `DELETE FROM telehealth_web_session WHERE token_hash=$1`
	pruneWebSessions = `DELETE FROM telehealth_web_session WHERE expires_at < $1`
)

func scanWebSession(row dbutil.Scannable) (*WebSession, error) {
	var s WebSession
	var created, expires, seen int64
	err := row.Scan(&s.TokenHash, &s.Kind, &s.UserID, &s.SessionID, &created, &expires, &seen)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	s.CreatedAt, s.ExpiresAt, s.LastSeen = time.UnixMilli(created).UTC(), time.UnixMilli(expires).UTC(), time.UnixMilli(seen).UTC()
	return &s, nil
}

// Insert stores a new web session.
func (q *WebSessionQuery) Insert(ctx context.Context, s *WebSession) error {
	_, err := q.db.Exec(ctx, insertWebSession, s.TokenHash, s.Kind, s.UserID, s.SessionID,
		s.CreatedAt.UnixMilli(), s.ExpiresAt.UnixMilli(), s.LastSeen.UnixMilli())
	return err
}

// Get returns the web session with the token hash, or nil.
func (q *WebSessionQuery) Get(ctx context.Context, hash string) (*WebSession, error) {
	return scanWebSession(q.db.QueryRow(ctx, getWebSession, hash))
}

// Touch records activity and moves the expiry.
func (q *WebSessionQuery) Touch(ctx context.Context, hash string, seen, expires time.Time) error {
	_, err := q.db.Exec(ctx, touchWebSession, hash, seen.UnixMilli(), expires.UnixMilli())
	return err
}

// Take returns a one-time web session of the given kind and deletes it, or nil if there is
// none (never issued, or already used).
func (q *WebSessionQuery) Take(ctx context.Context, hash, kind string) (*WebSession, error) {
	return scanWebSession(q.db.QueryRow(ctx, takeWebSession, hash, kind))
}

// Delete ends a web session.
func (q *WebSessionQuery) Delete(ctx context.Context, hash string) error {
	_, err := q.db.Exec(ctx, deleteWebSession, hash)
	return err
}

// Prune deletes expired web sessions and returns how many.
func (q *WebSessionQuery) Prune(ctx context.Context, now time.Time) (int64, error) {
	res, err := q.db.Exec(ctx, pruneWebSessions, now.UnixMilli())
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
