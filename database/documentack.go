package database

import (
	"context"
	"time"

	"go.mau.fi/util/dbutil"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
)

// DocumentAckQuery stores participants' acknowledgements of their sessions' templates
// (telehealth_document_ack).
type DocumentAckQuery struct {
	db *dbutil.Database
}

const (
	putAckQuery = `INSERT INTO telehealth_document_ack (session_id, participant_id, template_id, client_id, typed_name, sha256, acked_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (session_id, participant_id, template_id) DO NOTHING`
	sessionAcksQuery = `SELECT session_id, participant_id, template_id, client_id, typed_name, sha256, acked_at
		FROM telehealth_document_ack WHERE session_id=$1 ORDER BY acked_at, participant_id, template_id`
)

func scanAck(row dbutil.Scannable) (*bridge.DocumentAck, error) {
	var a bridge.DocumentAck
	var at int64
	if err := row.Scan(&a.SessionID, &a.ParticipantID, &a.TemplateID, &a.ClientID, &a.TypedName, &a.SHA256, &at); err != nil {
		return nil, err
	}
	a.At = time.UnixMilli(at).UTC()
	return &a, nil
}

var ackRows = dbutil.ConvertRowFn[*bridge.DocumentAck](scanAck)

// Put stores an acknowledgement; the first of a participant's for a template is kept.
func (q *DocumentAckQuery) Put(ctx context.Context, a *bridge.DocumentAck) error {
	_, err := q.db.Exec(ctx, putAckQuery, a.SessionID, a.ParticipantID, a.TemplateID, a.ClientID, a.TypedName, a.SHA256, a.At.UnixMilli())
	return err
}

// ForSession are a session's acknowledgements, oldest first.
func (q *DocumentAckQuery) ForSession(ctx context.Context, sessionID string) ([]*bridge.DocumentAck, error) {
	return ackRows.NewRowIter(q.db.Query(ctx, sessionAcksQuery, sessionID)).AsList()
}
