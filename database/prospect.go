package database

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"go.mau.fi/util/dbutil"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
)

// ProspectQuery stores the people who signed up on the portal by themselves
// (telehealth_prospect).
type ProspectQuery struct {
	db *dbutil.Database
}

const (
	prospectColumns = `id, name, contact_kind, contact, locale, time_zone, status, client_id, created_at, updated_at`
	insertProspect  = `INSERT INTO telehealth_prospect (name, contact_kind, contact, locale, time_zone, status, client_id,
		created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`
	getProspect              = `SELECT ` + prospectColumns + ` FROM telehealth_prospect WHERE id=$1`
	waitingProspectByContact = `SELECT ` + prospectColumns + ` FROM telehealth_prospect WHERE contact=$1 AND status='waiting'
		ORDER BY id LIMIT 1`
	waitingProspects = `SELECT ` + prospectColumns + ` FROM telehealth_prospect WHERE status='waiting'
		ORDER BY created_at, id LIMIT $1`
	// closeProspect changes only a prospect still waiting: of two clinicians acting at once,
	// one wins and the other is told the prospect is gone.
	closeProspect = `UPDATE telehealth_prospect SET status=$2, client_id=$3, updated_at=$4 WHERE id=$1 AND status='waiting'`
)

func scanProspect(row dbutil.Scannable) (*bridge.Prospect, error) {
	var p bridge.Prospect
	var kind, contact, status string
	var created, updated int64
	err := row.Scan(&p.ID, &p.Name, &kind, &contact, &p.Locale, &p.TimeZone, &status, &p.ClientID, &created, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, bridge.ErrProspectNotFound
	} else if err != nil {
		return nil, err
	}
	if kind == "email" {
		p.Contact.Email = contact
	} else {
		p.Contact.Phone = contact
	}
	p.Status = bridge.ProspectStatus(status)
	p.CreatedAt, p.UpdatedAt = time.UnixMilli(created).UTC(), time.UnixMilli(updated).UTC()
	return &p, nil
}

// Insert stores a new prospect and sets its ID.
func (q *ProspectQuery) Insert(ctx context.Context, p *bridge.Prospect) error {
	kind := "phone"
	if p.Contact.Email != "" {
		kind = "email"
	}
	err := q.db.QueryRow(ctx, insertProspect, p.Name, kind, p.Contact.String(), p.Locale, p.TimeZone, string(p.Status),
		p.ClientID, p.CreatedAt.UnixMilli(), p.UpdatedAt.UnixMilli()).Scan(&p.ID)
	if err != nil {
		return fmt.Errorf("inserting a prospect: %w", err)
	}
	return nil
}

// Get returns the prospect, or bridge.ErrProspectNotFound.
func (q *ProspectQuery) Get(ctx context.Context, id int64) (*bridge.Prospect, error) {
	p, err := scanProspect(q.db.QueryRow(ctx, getProspect, id))
	if err != nil && !errors.Is(err, bridge.ErrProspectNotFound) {
		return nil, fmt.Errorf("reading prospect %d: %w", id, err)
	}
	return p, err
}

// WaitingByContact is the waiting prospect with the contact, or nil.
func (q *ProspectQuery) WaitingByContact(ctx context.Context, contact string) (*bridge.Prospect, error) {
	p, err := scanProspect(q.db.QueryRow(ctx, waitingProspectByContact, contact))
	if errors.Is(err, bridge.ErrProspectNotFound) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("finding a waiting prospect by contact: %w", err)
	}
	return p, nil
}

// Waiting are the waiting prospects, oldest first, at most limit.
func (q *ProspectQuery) Waiting(ctx context.Context, limit int) ([]*bridge.Prospect, error) {
	rows, err := q.db.Query(ctx, waitingProspects, limit)
	if err != nil {
		return nil, fmt.Errorf("listing waiting prospects: %w", err)
	}
	ps, err := dbutil.NewRowIterWithError(rows, scanProspect, nil).AsList()
	if err != nil {
		return nil, fmt.Errorf("listing waiting prospects: %w", err)
	}
	return ps, nil
}

// Close moves a waiting prospect to status; bridge.ErrProspectNotFound if it was not waiting.
func (q *ProspectQuery) Close(ctx context.Context, id int64, status bridge.ProspectStatus, clientID int64, at time.Time) error {
	res, err := q.db.Exec(ctx, closeProspect, id, string(status), clientID, at.UnixMilli())
	if err != nil {
		return fmt.Errorf("closing prospect %d: %w", id, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("closing prospect %d: %w", id, err)
	} else if n == 0 {
		return bridge.ErrProspectNotFound
	}
	return nil
}

var _ bridge.ProspectStore = (*Store)(nil)

func (s *Store) InsertProspect(ctx context.Context, p *bridge.Prospect) error {
	return s.db.Prospect.Insert(ctx, p)
}

func (s *Store) GetProspect(ctx context.Context, id int64) (*bridge.Prospect, error) {
	return s.db.Prospect.Get(ctx, id)
}

func (s *Store) WaitingProspectByContact(ctx context.Context, contact string) (*bridge.Prospect, error) {
	return s.db.Prospect.WaitingByContact(ctx, contact)
}

func (s *Store) WaitingProspects(ctx context.Context, limit int) ([]*bridge.Prospect, error) {
	return s.db.Prospect.Waiting(ctx, limit)
}

func (s *Store) CloseProspect(ctx context.Context, id int64, status bridge.ProspectStatus, clientID int64, at time.Time) error {
	return s.db.Prospect.Close(ctx, id, status, clientID, at)
}

// ClientsWithContact are the client records holding the contact (at most two: more than one
// is already too many for the prospect's purpose).
func (s *Store) ClientsWithContact(ctx context.Context, contact string) ([]int64, error) {
	return s.db.Client.ByContact(ctx, contact)
}
