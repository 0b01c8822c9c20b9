package database

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"go.mau.fi/util/dbutil"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
)

// MoveRequestQuery stores the clients' requests to move a session (11-move-requests.sql).
type MoveRequestQuery struct {
	db *dbutil.Database
}

const (
	putMoveRequestQuery = `INSERT INTO telehealth_move_request (session_id, participant_id, client_id, preferred, revision, created_at)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (session_id, participant_id) DO UPDATE SET client_id=excluded.client_id, preferred=excluded.preferred, revision=excluded.revision, created_at=excluded.created_at`
	moveRequestsQuery = `SELECT session_id, participant_id, client_id, preferred, revision, created_at FROM telehealth_move_request
		WHERE session_id=$1 ORDER BY created_at, participant_id`
)

var moveRequestRows = dbutil.ConvertRowFn[*bridge.MoveRequest](func(row dbutil.Scannable) (*bridge.MoveRequest, error) {
	var r bridge.MoveRequest
	var preferred string
	var created int64
	if err := row.Scan(&r.SessionID, &r.ParticipantID, &r.ClientID, &preferred, &r.Revision, &created); err != nil {
		return nil, err
	}
	var ms []int64
	if err := json.Unmarshal([]byte(preferred), &ms); err != nil {
		return nil, fmt.Errorf("reading the preferred times of a move request: %w", err)
	}
	for _, m := range ms {
		r.Preferred = append(r.Preferred, time.UnixMilli(m).UTC())
	}
	r.CreatedAt = time.UnixMilli(created).UTC()
	return &r, nil
})

// Put stores a request, replacing the participant's previous one on the session.
func (q *MoveRequestQuery) Put(ctx context.Context, r *bridge.MoveRequest) error {
	ms := make([]int64, len(r.Preferred))
	for i, t := range r.Preferred {
		ms[i] = t.UnixMilli()
	}
	preferred, err := json.Marshal(ms)
	if err != nil {
		return err
	}
	_, err = q.db.Exec(ctx, putMoveRequestQuery, r.SessionID, r.ParticipantID, r.ClientID, string(preferred), r.Revision, r.CreatedAt.UnixMilli())
	return err
}

// ForSession returns the requests on a session, oldest first.
func (q *MoveRequestQuery) ForSession(ctx context.Context, sessionID string) ([]*bridge.MoveRequest, error) {
	return moveRequestRows.NewRowIter(q.db.Query(ctx, moveRequestsQuery, sessionID)).AsList()
}
