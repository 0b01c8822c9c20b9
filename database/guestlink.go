package database

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"go.mau.fi/util/dbutil"
)

// GuestLink is a participant's link to their session, by the hash of its token.
type GuestLink struct {
	TokenHash     string
	SessionID     string
	ParticipantID int64
	// Generation is raised each time the participant gets a new link.
	Generation int
	CreatedAt  time.Time
	ExpiresAt  time.Time
	RevokedAt  time.Time
}

// GuestLinkQuery stores guest links.
type GuestLinkQuery struct {
	db *dbutil.Database
}

const (
	guestLinkColumns = `token_hash, session_id, participant_id, generation, created_at, expires_at, revoked_at`
	upsertGuestLink  = `INSERT INTO telehealth_guest_link (` + guestLinkColumns + `) VALUES ($1, $2, $3, $4, $5, $6, NULL)
		ON CONFLICT (participant_id) DO UPDATE SET token_hash=excluded.token_hash, generation=excluded.generation,
		created_at=excluded.created_at, expires_at=excluded.expires_at, revoked_at=NULL`
	getGuestLinkByHash        = `SELECT ` + guestLinkColumns + ` FROM telehealth_guest_link WHERE token_hash=$1`
	getGuestLinkByParticipant = `SELECT ` + guestLinkColumns + ` FROM telehealth_guest_link WHERE participant_id=$1`
	revokeGuestLink           = `UPDATE telehealth_guest_link SET revoked_at=$2 WHERE participant_id=$1 AND revoked_at IS NULL`
)

func scanGuestLink(row dbutil.Scannable) (*GuestLink, error) {
	var l GuestLink
	var created, expires int64
	var revoked sql.NullInt64
	err := row.Scan(&l.TokenHash, &l.SessionID, &l.ParticipantID, &l.Generation, &created, &expires, &revoked)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	l.CreatedAt, l.ExpiresAt = time.UnixMilli(created).UTC(), time.UnixMilli(expires).UTC()
	if revoked.Valid {
		l.RevokedAt = time.UnixMilli(revoked.Int64).UTC()
	}
	return &l, nil
}

// Put stores the participant's link, replacing (and so revoking) any earlier one.
func (q *GuestLinkQuery) Put(ctx context.Context, l *GuestLink) error {
	_, err := q.db.Exec(ctx, upsertGuestLink, l.TokenHash, l.SessionID, l.ParticipantID, l.Generation, l.CreatedAt.UnixMilli(), l.ExpiresAt.UnixMilli())
	return err
}

// ByHash returns the link with the token hash, or nil.
func (q *GuestLinkQuery) ByHash(ctx context.Context, hash string) (*GuestLink, error) {
	return scanGuestLink(q.db.QueryRow(ctx, getGuestLinkByHash, hash))
}

// ByParticipant returns the participant's link, or nil.
func (q *GuestLinkQuery) ByParticipant(ctx context.Context, participantID int64) (*GuestLink, error) {
	return scanGuestLink(q.db.QueryRow(ctx, getGuestLinkByParticipant, participantID))
}

// Revoke makes the participant's link useless.
func (q *GuestLinkQuery) Revoke(ctx context.Context, participantID int64, at time.Time) error {
	_, err := q.db.Exec(ctx, revokeGuestLink, participantID, at.UnixMilli())
	return err
}
