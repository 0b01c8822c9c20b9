package database

import (
	"context"
	"time"

	"go.mau.fi/util/dbutil"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
)

// LobbyLogQuery stores who did what to whom in a session's lobby.
type LobbyLogQuery struct {
	db *dbutil.Database
}

const (
	insertLobbyLogQuery = `INSERT INTO telehealth_lobby_log (session_id, participant_id, action, actor, at)
		VALUES ($1, $2, $3, $4, $5)`
	sessionLobbyLogQuery = `SELECT session_id, participant_id, action, actor, at FROM telehealth_lobby_log
		WHERE session_id=$1 ORDER BY at, participant_id`
)

// Insert appends an entry.
func (q *LobbyLogQuery) Insert(ctx context.Context, e bridge.LobbyEntry) error {
	_, err := q.db.Exec(ctx, insertLobbyLogQuery, e.SessionID, e.ParticipantID, string(e.Action), e.Actor, e.At.UnixMilli())
	return err
}

// ForSession returns a session's log, oldest first.
func (q *LobbyLogQuery) ForSession(ctx context.Context, sessionID string) ([]bridge.LobbyEntry, error) {
	return dbutil.ConvertRowFn[bridge.LobbyEntry](func(row dbutil.Scannable) (bridge.LobbyEntry, error) {
		var e bridge.LobbyEntry
		var action string
		var at int64
		err := row.Scan(&e.SessionID, &e.ParticipantID, &action, &e.Actor, &at)
		e.Action, e.At = bridge.Action(action), time.UnixMilli(at).UTC()
		return e, err
	}).NewRowIter(q.db.Query(ctx, sessionLobbyLogQuery, sessionID)).AsList()
}
