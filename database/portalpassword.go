package database

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"go.mau.fi/util/dbutil"
)

// PortalPasswordQuery stores clients' password hashes (argon2id, PHC string format).
type PortalPasswordQuery struct {
	db *dbutil.Database
}

const (
	setPortalPassword = `INSERT INTO telehealth_portal_password (client_id, hash, updated_at) VALUES ($1, $2, $3)
		ON CONFLICT (client_id) DO UPDATE SET hash=excluded.hash, updated_at=excluded.updated_at`
	getPortalPassword    = `SELECT hash FROM telehealth_portal_password WHERE client_id=$1`
	deletePortalPassword = `DELETE FROM telehealth_portal_password WHERE client_id=$1`
)

// Set stores or replaces the client's password hash.
func (q *PortalPasswordQuery) Set(ctx context.Context, clientID int64, hash string, at time.Time) error {
	_, err := q.db.Exec(ctx, setPortalPassword, clientID, hash, at.UnixMilli())
	return err
}

// Get returns the client's password hash, or "" if they have none.
func (q *PortalPasswordQuery) Get(ctx context.Context, clientID int64) (string, error) {
	var hash string
	err := q.db.QueryRow(ctx, getPortalPassword, clientID).Scan(&hash)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return hash, err
}

// Delete removes the client's password.
func (q *PortalPasswordQuery) Delete(ctx context.Context, clientID int64) error {
	_, err := q.db.Exec(ctx, deletePortalPassword, clientID)
	return err
}
