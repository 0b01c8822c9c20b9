package database

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"go.mau.fi/util/dbutil"
)

// PortalCode is a one-time code sent by email or SMS, or an enrolment link, by its keyed hashes.
type PortalCode struct {
	// Lookup finds the code: a keyed hash of the purpose and contact, or of a link's token.
	Lookup string
	// ClientID is 0 when the contact matched no client: the code exists so that the answers
	// look the same, but it signs no one in.
	ClientID  int64
	Purpose   string
	CodeHash  string
	Attempts  int
	CreatedAt time.Time
	ExpiresAt time.Time
}

// PortalCodeQuery stores one-time codes.
type PortalCodeQuery struct {
	db *dbutil.Database
}

const (
	portalCodeColumns = `lookup, client_id, purpose, code_hash, attempts, created_at, expires_at`
	// A new code replaces the contact's previous one for the purpose, attempts and all.
	putPortalCode = `INSERT INTO telehealth_portal_code (` + portalCodeColumns + `) VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (lookup) DO UPDATE SET client_id=excluded.client_id, purpose=excluded.purpose,
		code_hash=excluded.code_hash, attempts=excluded.attempts, created_at=excluded.created_at, expires_at=excluded.expires_at`
	getPortalCode = `SELECT ` + portalCodeColumns + ` FROM telehealth_portal_code WHERE lookup=$1`
	// A wrong guess counts in the same statement that reads the count, so parallel guesses
	// cannot all slip under the limit.
	failPortalCode   = `UPDATE telehealth_portal_code SET attempts=attempts+1 WHERE lookup=$1 RETURNING attempts`
	takePortalCode   = `DELETE FROM telehealth_portal_code WHERE lookup=$1 AND code_hash=$2 AND attempts < $3 RETURNING ` + portalCodeColumns
	deletePortalCode = `DELETE FROM telehealth_portal_code WHERE lookup=$1`
	prunePortalCodes = `DELETE FROM telehealth_portal_code WHERE expires_at < $1`
	voidPortalCodes  = `DELETE FROM telehealth_portal_code WHERE client_id=$1 AND purpose=$2`
)

func scanPortalCode(row dbutil.Scannable) (*PortalCode, error) {
	var c PortalCode
	var created, expires int64
	err := row.Scan(&c.Lookup, &c.ClientID, &c.Purpose, &c.CodeHash, &c.Attempts, &created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	c.CreatedAt, c.ExpiresAt = time.UnixMilli(created).UTC(), time.UnixMilli(expires).UTC()
	return &c, nil
}

// Put stores a code, replacing any other with the same lookup.
func (q *PortalCodeQuery) Put(ctx context.Context, c *PortalCode) error {
	_, err := q.db.Exec(ctx, putPortalCode, c.Lookup, c.ClientID, c.Purpose, c.CodeHash, c.Attempts,
		c.CreatedAt.UnixMilli(), c.ExpiresAt.UnixMilli())
	return err
}

// Get returns the code with the lookup, or nil.
func (q *PortalCodeQuery) Get(ctx context.Context, lookup string) (*PortalCode, error) {
	return scanPortalCode(q.db.QueryRow(ctx, getPortalCode, lookup))
}

// Fail counts a wrong guess and returns the attempts so far (0 if there is no such code).
func (q *PortalCodeQuery) Fail(ctx context.Context, lookup string) (int, error) {
	var n int
	err := q.db.QueryRow(ctx, failPortalCode, lookup).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return n, err
}

// Take returns the code if its hash matches and it had fewer than maxAttempts wrong guesses,
// and deletes it in the same statement, so a code works once even when two requests race;
// nil if it does not match, was used or is spent.
func (q *PortalCodeQuery) Take(ctx context.Context, lookup, codeHash string, maxAttempts int) (*PortalCode, error) {
	return scanPortalCode(q.db.QueryRow(ctx, takePortalCode, lookup, codeHash, maxAttempts))
}

// Delete removes a code.
func (q *PortalCodeQuery) Delete(ctx context.Context, lookup string) error {
	_, err := q.db.Exec(ctx, deletePortalCode, lookup)
	return err
}

// Prune deletes expired codes and returns how many.
func (q *PortalCodeQuery) Prune(ctx context.Context, now time.Time) (int64, error) {
	res, err := q.db.Exec(ctx, prunePortalCodes, now.UnixMilli())
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// Void deletes a client's unused codes or links of one purpose and returns how many: a new
// enrolment link replaces the old ones, and closing the portal voids them all.
func (q *PortalCodeQuery) Void(ctx context.Context, clientID int64, purpose string) (int64, error) {
	res, err := q.db.Exec(ctx, voidPortalCodes, clientID, purpose)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
