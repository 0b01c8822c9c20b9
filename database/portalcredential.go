package database

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"go.mau.fi/util/dbutil"
)

// PortalCredential is a client's passkey: a WebAuthn credential and what the bridge must keep
// of it to check a sign-in.
type PortalCredential struct {
	// CredentialID and PublicKey are base64url (no padding), as WebAuthn encodes them.
	CredentialID string
	ClientID     int64
	PublicKey    string
	AAGUID       string
	SignCount    uint32
	// Transports are the authenticator's ("internal", "hybrid", "usb"...), a hint for the browser.
	Transports     []string
	BackupEligible bool
	BackupState    bool
	CreatedAt      time.Time
	// LastUsedAt is zero until the first sign-in with it.
	LastUsedAt time.Time
}

// PortalCredentialQuery stores passkeys.
type PortalCredentialQuery struct {
	db *dbutil.Database
}

const (
	portalCredentialColumns = `credential_id, client_id, public_key, aaguid, sign_count, transports, backup_eligible,
		backup_state, created_at, last_used_at`
	insertPortalCredential = `INSERT INTO telehealth_portal_credential (` + portalCredentialColumns + `)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`
	getPortalCredential      = `SELECT ` + portalCredentialColumns + ` FROM telehealth_portal_credential WHERE credential_id=$1`
	clientPortalCredentials  = `SELECT ` + portalCredentialColumns + ` FROM telehealth_portal_credential WHERE client_id=$1 ORDER BY created_at, credential_id`
	usePortalCredential      = `UPDATE telehealth_portal_credential SET sign_count=$2, backup_state=$3, last_used_at=$4 WHERE credential_id=$1`
	deletePortalCredential   = `DELETE FROM telehealth_portal_credential WHERE credential_id=$1 AND client_id=$2`
	countPortalCredentialsOf = `SELECT COUNT(*) FROM telehealth_portal_credential WHERE client_id=$1`
)

func scanPortalCredential(row dbutil.Scannable) (*PortalCredential, error) {
	var c PortalCredential
	var transports string
	var count, created, used int64
	err := row.Scan(&c.CredentialID, &c.ClientID, &c.PublicKey, &c.AAGUID, &count, &transports, &c.BackupEligible,
		&c.BackupState, &created, &used)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	c.SignCount = uint32(count)
	c.Transports = splitList(transports)
	c.CreatedAt = time.UnixMilli(created).UTC()
	if used != 0 {
		c.LastUsedAt = time.UnixMilli(used).UTC()
	}
	return &c, nil
}

// Insert stores a new passkey. A credential ID already stored (for this client or another) is
// an error: an authenticator's credential belongs to one account.
func (q *PortalCredentialQuery) Insert(ctx context.Context, c *PortalCredential) error {
	_, err := q.db.Exec(ctx, insertPortalCredential, c.CredentialID, c.ClientID, c.PublicKey, c.AAGUID,
		int64(c.SignCount), joinList(c.Transports), c.BackupEligible, c.BackupState, c.CreatedAt.UnixMilli(), unixMilliOrZero(c.LastUsedAt))
	return err
}

// Get returns the passkey with the credential ID, or nil.
func (q *PortalCredentialQuery) Get(ctx context.Context, credentialID string) (*PortalCredential, error) {
	return scanPortalCredential(q.db.QueryRow(ctx, getPortalCredential, credentialID))
}

// ByClient returns a client's passkeys, oldest first.
func (q *PortalCredentialQuery) ByClient(ctx context.Context, clientID int64) ([]*PortalCredential, error) {
	rows, err := q.db.Query(ctx, clientPortalCredentials, clientID)
	return dbutil.ConvertRowFn[*PortalCredential](scanPortalCredential).NewRowIter(rows, err).AsList()
}

// Used records a sign-in with the passkey: its new counter and backup state.
func (q *PortalCredentialQuery) Used(ctx context.Context, credentialID string, signCount uint32, backupState bool, at time.Time) error {
	_, err := q.db.Exec(ctx, usePortalCredential, credentialID, int64(signCount), backupState, at.UnixMilli())
	return err
}

// Delete removes one of the client's passkeys; another client's is left alone.
func (q *PortalCredentialQuery) Delete(ctx context.Context, clientID int64, credentialID string) (bool, error) {
	res, err := q.db.Exec(ctx, deletePortalCredential, credentialID, clientID)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// Count returns how many passkeys the client has.
func (q *PortalCredentialQuery) Count(ctx context.Context, clientID int64) (int, error) {
	var n int
	err := q.db.QueryRow(ctx, countPortalCredentialsOf, clientID).Scan(&n)
	return n, err
}

func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

func joinList(l []string) string { return strings.Join(l, ",") }

func unixMilliOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}
