package database

import (
	"context"
	"time"

	"go.mau.fi/util/dbutil"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
)

// SessionTypeQuery stores the kinds of appointment professionals offer.
type SessionTypeQuery struct {
	db *dbutil.Database
}

const (
	clinicianTypesQuery = `SELECT id, name, duration, kind FROM telehealth_session_type WHERE clinician=$1 ORDER BY position, id`
	insertTypeQuery     = `INSERT INTO telehealth_session_type (clinician, position, name, duration, kind)
		VALUES ($1, $2, $3, $4, $5) RETURNING id`
	updateTypeQuery = `UPDATE telehealth_session_type SET position=$3, name=$4, duration=$5, kind=$6 WHERE id=$1 AND clinician=$2`
	deleteTypeQuery = `DELETE FROM telehealth_session_type WHERE id=$1 AND clinician=$2`
)

var typeRows = dbutil.ConvertRowFn[bridge.SessionType](func(row dbutil.Scannable) (bridge.SessionType, error) {
	var t bridge.SessionType
	var minutes int
	var kind string
	err := row.Scan(&t.ID, &t.Name, &minutes, &kind)
	t.Duration, t.Kind = time.Duration(minutes)*time.Minute, bridge.Kind(kind)
	return t, err
})

// ForClinician returns a professional's session types in their order.
func (q *SessionTypeQuery) ForClinician(ctx context.Context, clinician string) ([]bridge.SessionType, error) {
	return typeRows.NewRowIter(q.db.Query(ctx, clinicianTypesQuery, clinician)).AsList()
}

// Insert stores a new type at a position and sets its ID.
func (q *SessionTypeQuery) Insert(ctx context.Context, clinician string, position int, t *bridge.SessionType) error {
	return q.db.QueryRow(ctx, insertTypeQuery, clinician, position, t.Name, int(t.Duration/time.Minute), string(t.Kind)).Scan(&t.ID)
}

// Update changes one of the professional's types; it reports false if the ID is not theirs.
func (q *SessionTypeQuery) Update(ctx context.Context, clinician string, position int, t *bridge.SessionType) (bool, error) {
	res, err := q.db.Exec(ctx, updateTypeQuery, t.ID, clinician, position, t.Name, int(t.Duration/time.Minute), string(t.Kind))
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// Delete removes one of the professional's types.
func (q *SessionTypeQuery) Delete(ctx context.Context, clinician string, id int64) error {
	_, err := q.db.Exec(ctx, deleteTypeQuery, id, clinician)
	return err
}
