package database

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"go.mau.fi/util/dbutil"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
)

// SessionQuery stores sessions.
type SessionQuery struct {
	db *dbutil.Database
}

const (
	sessionColumns = `id, clinician, start_ts, end_ts, time_zone, kind, status, policy, room_id,
		clinician_present, revision, lobby_message, created_at, updated_at`
	insertSessionQuery = `INSERT INTO telehealth_session (` + sessionColumns + `)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`
	updateSessionQuery = `UPDATE telehealth_session SET clinician=$2, start_ts=$3, end_ts=$4, time_zone=$5,
		kind=$6, status=$7, policy=$8, room_id=$9, clinician_present=$10, revision=$11, lobby_message=$12,
		created_at=$13, updated_at=$14 WHERE id=$1`
	getSessionQuery       = `SELECT ` + sessionColumns + ` FROM telehealth_session WHERE id=$1`
	getSessionByRoomQuery = `SELECT ` + sessionColumns + ` FROM telehealth_session WHERE room_id=$1`
	activeSessionsQuery   = `SELECT ` + sessionColumns + ` FROM telehealth_session
		WHERE status NOT IN ('ended', 'cancelled') ORDER BY start_ts`
	startingBeforeQuery = `SELECT ` + sessionColumns + ` FROM telehealth_session
		WHERE status NOT IN ('ended', 'cancelled') AND start_ts < $1 ORDER BY start_ts`
	clinicianSessionsQuery = `SELECT ` + sessionColumns + ` FROM telehealth_session
		WHERE clinician=$1 AND status NOT IN ('ended', 'cancelled') AND end_ts > $2 ORDER BY start_ts`
)

func sessionArgs(s *bridge.Session) []any {
	return []any{
		s.ID, s.Clinician, s.Start.UnixMilli(), s.End.UnixMilli(), s.TimeZone, string(s.Kind), string(s.Status),
		string(s.Policy), dbutil.StrPtr(s.RoomID), s.ClinicianPresent, s.Revision, s.LobbyMessage,
		s.CreatedAt.UnixMilli(), s.UpdatedAt.UnixMilli(),
	}
}

func scanSession(row dbutil.Scannable) (*bridge.Session, error) {
	var s bridge.Session
	var start, end, created, updated int64
	var roomID sql.NullString
	var kind, status, policy string
	err := row.Scan(&s.ID, &s.Clinician, &start, &end, &s.TimeZone, &kind, &status, &policy, &roomID,
		&s.ClinicianPresent, &s.Revision, &s.LobbyMessage, &created, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, bridge.ErrNotFound
	} else if err != nil {
		return nil, err
	}
	s.Start, s.End = time.UnixMilli(start).UTC(), time.UnixMilli(end).UTC()
	s.CreatedAt, s.UpdatedAt = time.UnixMilli(created).UTC(), time.UnixMilli(updated).UTC()
	s.Kind, s.Status, s.Policy, s.RoomID = bridge.Kind(kind), bridge.Status(status), bridge.Policy(policy), roomID.String
	return &s, nil
}

var sessionRows = dbutil.ConvertRowFn[*bridge.Session](scanSession)

// StartingBefore returns the sessions not ended or cancelled that start before t, soonest first.
func (q *SessionQuery) StartingBefore(ctx context.Context, t time.Time) ([]*bridge.Session, error) {
	return sessionRows.NewRowIter(q.db.Query(ctx, startingBeforeQuery, t.UnixMilli())).AsList()
}

// Insert stores a new session.
func (q *SessionQuery) Insert(ctx context.Context, s *bridge.Session) error {
	_, err := q.db.Exec(ctx, insertSessionQuery, sessionArgs(s)...)
	return err
}

// Update stores a session's new state.
func (q *SessionQuery) Update(ctx context.Context, s *bridge.Session) error {
	_, err := q.db.Exec(ctx, updateSessionQuery, sessionArgs(s)...)
	return err
}

// Get returns a session by ID, or bridge.ErrNotFound.
func (q *SessionQuery) Get(ctx context.Context, id string) (*bridge.Session, error) {
	return scanSession(q.db.QueryRow(ctx, getSessionQuery, id))
}

// GetByRoom returns the session of a Matrix room, or bridge.ErrNotFound.
func (q *SessionQuery) GetByRoom(ctx context.Context, roomID string) (*bridge.Session, error) {
	return scanSession(q.db.QueryRow(ctx, getSessionByRoomQuery, roomID))
}

// Active returns the sessions that are neither ended nor cancelled, earliest first.
func (q *SessionQuery) Active(ctx context.Context) ([]*bridge.Session, error) {
	return sessionRows.NewRowIter(q.db.Query(ctx, activeSessionsQuery)).AsList()
}

// ForClinician returns a clinician's sessions that are not over and end after since.
func (q *SessionQuery) ForClinician(ctx context.Context, clinician string, since time.Time) ([]*bridge.Session, error) {
	return sessionRows.NewRowIter(q.db.Query(ctx, clinicianSessionsQuery, clinician, since.UnixMilli())).AsList()
}

const countByStatusQuery = `SELECT status, COUNT(*) FROM telehealth_session GROUP BY status`

type statusCount struct {
	status bridge.Status
	n      int
}

var statusCountRows = dbutil.ConvertRowFn[statusCount](func(row dbutil.Scannable) (statusCount, error) {
	var c statusCount
	err := row.Scan(&c.status, &c.n)
	return c, err
})

// CountByStatus counts the sessions of each status (statuses without one are absent), for
// the metrics.
func (q *SessionQuery) CountByStatus(ctx context.Context) (map[bridge.Status]int, error) {
	return dbutil.RowIterAsMap(statusCountRows.NewRowIter(q.db.Query(ctx, countByStatusQuery)),
		func(c statusCount) (bridge.Status, int) { return c.status, c.n })
}
