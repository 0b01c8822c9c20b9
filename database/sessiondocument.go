package database

import (
	"context"

	"go.mau.fi/util/dbutil"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
)

// SessionDocumentQuery stores sessions' packages of templates (telehealth_session_document).
type SessionDocumentQuery struct {
	db *dbutil.Database
}

const (
	clearPackageQuery   = `DELETE FROM telehealth_session_document WHERE session_id=$1`
	addToPackageQuery   = `INSERT INTO telehealth_session_document (session_id, template_id) VALUES ($1, $2)`
	sessionPackageQuery = `SELECT t.id, t.title, t.file_name, t.mxc_uri, t.size, t.content_type, t.sha256, t.needs_ack, t.created_by, t.created_at
		FROM telehealth_session_document d JOIN telehealth_document_template t ON t.id = d.template_id
		WHERE d.session_id=$1 ORDER BY t.id`
)

// Set replaces a session's package.
func (q *SessionDocumentQuery) Set(ctx context.Context, sessionID string, templateIDs []int64) error {
	return q.db.DoTxn(ctx, nil, func(ctx context.Context) error {
		if _, err := q.db.Exec(ctx, clearPackageQuery, sessionID); err != nil {
			return err
		}
		for _, id := range templateIDs {
			if _, err := q.db.Exec(ctx, addToPackageQuery, sessionID, id); err != nil {
				return err
			}
		}
		return nil
	})
}

// ForSession is a session's package, in the templates' order.
func (q *SessionDocumentQuery) ForSession(ctx context.Context, sessionID string) ([]*bridge.DocumentTemplate, error) {
	return templateRows.NewRowIter(q.db.Query(ctx, sessionPackageQuery, sessionID)).AsList()
}
