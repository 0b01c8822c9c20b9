package database

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"go.mau.fi/util/dbutil"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
)

// DocumentTemplateQuery stores the clinic's document templates (telehealth_document_template):
// where each file is in the homeserver's media repository and its digest, never the file.
type DocumentTemplateQuery struct {
	db *dbutil.Database
}

const (
	templateColumns     = `id, title, file_name, mxc_uri, size, content_type, sha256, needs_ack, created_by, created_at`
	insertTemplateQuery = `INSERT INTO telehealth_document_template (title, file_name, mxc_uri, size, content_type, sha256, needs_ack, created_by, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`
	getTemplateQuery  = `SELECT ` + templateColumns + ` FROM telehealth_document_template WHERE id=$1`
	allTemplatesQuery = `SELECT ` + templateColumns + ` FROM telehealth_document_template WHERE NOT archived ORDER BY id`
)

func scanTemplate(row dbutil.Scannable) (*bridge.DocumentTemplate, error) {
	var t bridge.DocumentTemplate
	var title string
	var at int64
	err := row.Scan(&t.ID, &title, &t.FileName, &t.MXC, &t.Size, &t.ContentType, &t.SHA256, &t.NeedsAck, &t.CreatedBy, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, bridge.ErrDocumentNotFound
	} else if err != nil {
		return nil, err
	}
	if err = json.Unmarshal([]byte(title), &t.Title); err != nil {
		return nil, fmt.Errorf("reading template %d's title: %w", t.ID, err)
	}
	t.CreatedAt = time.UnixMilli(at).UTC()
	return &t, nil
}

var templateRows = dbutil.ConvertRowFn[*bridge.DocumentTemplate](scanTemplate)

// Insert stores a template and sets its ID.
func (q *DocumentTemplateQuery) Insert(ctx context.Context, t *bridge.DocumentTemplate) error {
	title, err := json.Marshal(t.Title)
	if err != nil {
		return fmt.Errorf("writing the title as JSON: %w", err)
	}
	return q.db.QueryRow(ctx, insertTemplateQuery, string(title), t.FileName, t.MXC, t.Size, t.ContentType, t.SHA256, t.NeedsAck,
		t.CreatedBy, t.CreatedAt.UnixMilli()).Scan(&t.ID)
}

// Get returns a template, or bridge.ErrDocumentNotFound.
func (q *DocumentTemplateQuery) Get(ctx context.Context, id int64) (*bridge.DocumentTemplate, error) {
	return scanTemplate(q.db.QueryRow(ctx, getTemplateQuery, id))
}

// All are the clinic's templates, oldest first.
func (q *DocumentTemplateQuery) All(ctx context.Context) ([]*bridge.DocumentTemplate, error) {
	return templateRows.NewRowIter(q.db.Query(ctx, allTemplatesQuery)).AsList()
}
