package database

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"
	"time"

	"go.mau.fi/util/dbutil"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
)

// AuditRow is a stored audit entry with its place in the hash chain.
type AuditRow struct {
	ID        int64           `json:"id"`
	At        time.Time       `json:"at"`
	Actor     string          `json:"actor"`
	Action    string          `json:"action"`
	SessionID string          `json:"session_id,omitempty"`
	Subject   string          `json:"subject,omitempty"`
	Detail    json.RawMessage `json:"detail"`
	PrevHash  string          `json:"prev_hash"`
	Hash      string          `json:"hash"`
}

// AuditQuery appends to and reads the audit trail (telehealth_audit).
type AuditQuery struct {
	db *dbutil.Database
	// mu serialises this process's appends; across processes (PostgreSQL) an advisory lock
	// does, and SQLite's write transactions begin IMMEDIATE (one writer at a time).
	mu sync.Mutex
}

var _ bridge.Audit = (*AuditQuery)(nil)

// auditLockKey is the PostgreSQL advisory lock that serialises appends across instances
// ("audit" in ASCII).
const auditLockKey = 0x61756469740a

const (
	auditColumns     = `id, at, actor, action, session_id, subject, detail, prev_hash, hash`
	lastAuditQuery   = `SELECT id, hash FROM telehealth_audit ORDER BY id DESC LIMIT 1`
	insertAuditQuery = `INSERT INTO telehealth_audit (` + auditColumns + `) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`
	auditAfterQuery  = `SELECT ` + auditColumns + ` FROM telehealth_audit WHERE id > $1 ORDER BY id LIMIT $2`
	auditRangeQuery  = `SELECT ` + auditColumns + ` FROM telehealth_audit WHERE at >= $1 AND at < $2 AND id > $3 ORDER BY id LIMIT $4`
)

// auditPage is how many rows Verify and Export read at a time.
const auditPage = 1000

// Record appends an entry to the audit trail, chained to the last one.
func (q *AuditQuery) Record(ctx context.Context, e bridge.AuditEntry) error {
	_, err := q.Append(ctx, e)
	return err
}

// Append appends an entry and returns the stored row.
func (q *AuditQuery) Append(ctx context.Context, e bridge.AuditEntry) (*AuditRow, error) {
	detail, err := canonicalDetail(e.Detail)
	if err != nil {
		return nil, err
	}
	row := &AuditRow{At: time.UnixMilli(e.At.UnixMilli()).UTC(), Actor: e.Actor, Action: string(e.Action),
		SessionID: e.SessionID, Subject: e.Subject, Detail: detail}
	q.mu.Lock()
	defer q.mu.Unlock()
	err = q.db.DoTxn(ctx, nil, func(ctx context.Context) error {
		if q.db.Dialect == dbutil.Postgres {
			if _, err := q.db.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(auditLockKey)); err != nil {
				return fmt.Errorf("taking the audit lock: %w", err)
			}
		}
		var lastID int64
		var lastHash string
		if err := q.db.QueryRow(ctx, lastAuditQuery).Scan(&lastID, &lastHash); err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("reading the end of the audit chain: %w", err)
		}
		row.ID, row.PrevHash = lastID+1, lastHash
		row.Hash = row.computeHash()
		_, err := q.db.Exec(ctx, insertAuditQuery, row.ID, row.At.UnixMilli(), row.Actor, row.Action, row.SessionID,
			row.Subject, string(row.Detail), row.PrevHash, row.Hash)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("appending %s to the audit trail: %w", e.Action, err)
	}
	return row, nil
}

// canonicalDetail encodes the detail as JSON with sorted keys (what encoding/json does for a
// map), so that the same detail always hashes the same.
func canonicalDetail(detail map[string]string) (json.RawMessage, error) {
	if detail == nil {
		detail = map[string]string{}
	}
	data, err := json.Marshal(detail)
	if err != nil {
		return nil, fmt.Errorf("encoding audit detail: %w", err)
	}
	return data, nil
}

// computeHash is the SHA-256, in hex, of the previous row's hash and this row's fields, each a
// netstring (length:bytes,) so that no two different rows encode the same.
func (r *AuditRow) computeHash() string {
	h := sha256.New()
	for _, field := range []string{r.PrevHash, strconv.FormatInt(r.ID, 10), strconv.FormatInt(r.At.UnixMilli(), 10),
		r.Actor, r.Action, r.SessionID, r.Subject, string(r.Detail)} {
		_, _ = io.WriteString(h, strconv.Itoa(len(field)))
		_, _ = io.WriteString(h, ":")
		_, _ = io.WriteString(h, field)
		_, _ = io.WriteString(h, ",")
	}
	return hex.EncodeToString(h.Sum(nil))
}

func scanAuditRow(row dbutil.Scannable) (*AuditRow, error) {
	var r AuditRow
	var at int64
	var detail string
	if err := row.Scan(&r.ID, &at, &r.Actor, &r.Action, &r.SessionID, &r.Subject, &detail, &r.PrevHash, &r.Hash); err != nil {
		return nil, err
	}
	r.At, r.Detail = time.UnixMilli(at).UTC(), json.RawMessage(detail)
	return &r, nil
}

func (q *AuditQuery) rows(ctx context.Context, query string, args ...any) ([]*AuditRow, error) {
	rows, err := q.db.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*AuditRow
	for rows.Next() {
		r, err := scanAuditRow(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// AuditBreak is the first place where the audit chain does not hold.
type AuditBreak struct {
	// ID is the first row that is not what was appended (or the row after a gap).
	ID     int64
	Reason string
}

func (b *AuditBreak) Error() string {
	return fmt.Sprintf("audit row %d: %s", b.ID, b.Reason)
}

// Verify walks the whole chain and returns how many rows it checked and the first break, nil if
// the chain holds: a row whose content no longer matches its hash (edited), whose prev_hash is
// not the previous row's hash, or a missing ID (deleted). Rows removed from the end leave no
// trace in the chain itself: `audit verify --anchor` finds them from a row kept elsewhere.
func (q *AuditQuery) Verify(ctx context.Context) (int64, *AuditBreak, error) {
	var checked, lastID int64
	lastHash := ""
	for {
		page, err := q.rows(ctx, auditAfterQuery, lastID, auditPage)
		if err != nil {
			return checked, nil, fmt.Errorf("reading the audit trail after row %d: %w", lastID, err)
		}
		for _, r := range page {
			switch {
			case r.ID == lastID+2:
				return checked, &AuditBreak{ID: r.ID, Reason: fmt.Sprintf("row %d before it is missing (deleted)", lastID+1)}, nil
			case r.ID != lastID+1:
				return checked, &AuditBreak{ID: r.ID, Reason: fmt.Sprintf("rows %d to %d before it are missing (deleted)", lastID+1, r.ID-1)}, nil
			case r.PrevHash != lastHash:
				return checked, &AuditBreak{ID: r.ID, Reason: "its prev_hash is not the hash of the row before it"}, nil
			case r.computeHash() != r.Hash:
				return checked, &AuditBreak{ID: r.ID, Reason: "its content does not match its hash (the row was changed)"}, nil
			}
			lastID, lastHash = r.ID, r.Hash
			checked++
		}
		if len(page) < auditPage {
			return checked, nil, nil
		}
	}
}

// Row is the row with this ID, nil if there is none.
func (q *AuditQuery) Row(ctx context.Context, id int64) (*AuditRow, error) {
	rows, err := q.rows(ctx, auditAfterQuery, id-1, 1)
	if err != nil {
		return nil, fmt.Errorf("reading audit row %d: %w", id, err)
	}
	if len(rows) == 0 || rows[0].ID != id {
		return nil, nil
	}
	return rows[0], nil
}

// Export writes the rows with from <= at < to as JSON lines, oldest first, and returns how
// many it wrote.
func (q *AuditQuery) Export(ctx context.Context, from, to time.Time, w io.Writer) (int64, error) {
	enc := json.NewEncoder(w)
	var written, lastID int64
	for {
		page, err := q.rows(ctx, auditRangeQuery, from.UnixMilli(), to.UnixMilli(), lastID, auditPage)
		if err != nil {
			return written, fmt.Errorf("reading the audit trail: %w", err)
		}
		for _, r := range page {
			if err = enc.Encode(r); err != nil {
				return written, fmt.Errorf("writing the export: %w", err)
			}
			lastID = r.ID
			written++
		}
		if len(page) < auditPage {
			return written, nil
		}
	}
}
