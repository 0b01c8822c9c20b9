package database

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"go.mau.fi/util/dbutil"
)

// PortalSession is a client signed in to the portal, by the hash of their cookie's token.
type PortalSession struct {
	TokenHash string
	ClientID  int64
	// ProspectID is the prospect signed in, while ClientID is 0.
	ProspectID int64
	CreatedAt  time.Time
	LastSeen   time.Time
	// IdleExpiresAt moves with activity; ExpiresAt is fixed at sign-in.
	IdleExpiresAt time.Time
	ExpiresAt     time.Time
}

// PortalSessionQuery stores portal sessions.
type PortalSessionQuery struct {
	db *dbutil.Database
}

const (
	portalSessionColumns = `token_hash, client_id, created_at, last_seen, idle_expires_at, expires_at, prospect_id`
	insertPortalSession  = `INSERT INTO telehealth_portal_session (` + portalSessionColumns + `) VALUES ($1, $2, $3, $4, $5, $6, $7)`
	getPortalSession     = `SELECT ` + portalSessionColumns + ` FROM telehealth_portal_session WHERE token_hash=$1`
	touchPortalSession   = `UPDATE telehealth_portal_session SET last_seen=$2, idle_expires_at=$3 WHERE token_hash=$1`
	deletePortalSession  = `DELETE FROM telehealth_portal_session WHERE token_hash=$1`
	deleteClientSessions = `DELETE FROM telehealth_portal_session WHERE client_id=$1`
	prunePortalSessions  = `DELETE FROM telehealth_portal_session WHERE expires_at < $1 OR idle_expires_at < $1`
)

func scanPortalSession(row dbutil.Scannable) (*PortalSession, error) {
	var s PortalSession
	var created, seen, idle, expires int64
	err := row.Scan(&s.TokenHash, &s.ClientID, &created, &seen, &idle, &expires, &s.ProspectID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	s.CreatedAt, s.LastSeen = time.UnixMilli(created).UTC(), time.UnixMilli(seen).UTC()
	s.IdleExpiresAt, s.ExpiresAt = time.UnixMilli(idle).UTC(), time.UnixMilli(expires).UTC()
	return &s, nil
}

// Insert stores a new portal session.
func (q *PortalSessionQuery) Insert(ctx context.Context, s *PortalSession) error {
	_, err := q.db.Exec(ctx, insertPortalSession, s.TokenHash, s.ClientID, s.CreatedAt.UnixMilli(), s.LastSeen.UnixMilli(),
		s.IdleExpiresAt.UnixMilli(), s.ExpiresAt.UnixMilli(), s.ProspectID)
	return err
}

// Get returns the portal session with the token hash, or nil.
func (q *PortalSessionQuery) Get(ctx context.Context, hash string) (*PortalSession, error) {
	return scanPortalSession(q.db.QueryRow(ctx, getPortalSession, hash))
}

// Touch records activity and moves the idle expiry.
func (q *PortalSessionQuery) Touch(ctx context.Context, hash string, seen, idleExpires time.Time) error {
	_, err := q.db.Exec(ctx, touchPortalSession, hash, seen.UnixMilli(), idleExpires.UnixMilli())
	return err
}

// Delete ends one portal session.
func (q *PortalSessionQuery) Delete(ctx context.Context, hash string) error {
	_, err := q.db.Exec(ctx, deletePortalSession, hash)
	return err
}

// DeleteClient ends every portal session of the client ("sign out everywhere") and returns how many.
func (q *PortalSessionQuery) DeleteClient(ctx context.Context, clientID int64) (int64, error) {
	res, err := q.db.Exec(ctx, deleteClientSessions, clientID)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// Prune deletes expired portal sessions and returns how many.
func (q *PortalSessionQuery) Prune(ctx context.Context, now time.Time) (int64, error) {
	res, err := q.db.Exec(ctx, prunePortalSessions, now.UnixMilli())
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

const deleteOtherClientSessions = `DELETE FROM telehealth_portal_session WHERE client_id=$1 AND token_hash<>$2`

// DeleteOthers ends every portal session of the client but the one with keepHash (a password
// change signs the other devices out) and returns how many.
func (q *PortalSessionQuery) DeleteOthers(ctx context.Context, clientID int64, keepHash string) (int64, error) {
	res, err := q.db.Exec(ctx, deleteOtherClientSessions, clientID, keepHash)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

const promoteProspectSession = `UPDATE telehealth_portal_session SET client_id=$2 WHERE token_hash=$1 AND client_id=0`

// BecomeClient turns a prospect's portal session into the client record's: the clinic linked
// the prospect to it.
func (q *PortalSessionQuery) BecomeClient(ctx context.Context, hash string, clientID int64) error {
	_, err := q.db.Exec(ctx, promoteProspectSession, hash, clientID)
	return err
}
