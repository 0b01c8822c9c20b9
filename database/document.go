package database

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"go.mau.fi/util/dbutil"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
)

// DocumentQuery indexes the files shared in clients' Messages rooms (telehealth_document): one
// row per m.file or m.image event, never the file itself.
type DocumentQuery struct {
	db *dbutil.Database
}

const (
	documentColumns     = `id, event_id, room_id, client_id, shared_by, file_name, mxc_uri, size, content_type, shared_at, kind`
	insertDocumentQuery = `INSERT INTO telehealth_document (event_id, room_id, client_id, shared_by, file_name, mxc_uri, size, content_type, shared_at, kind)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (event_id) DO NOTHING`
	documentByEventQuery = `SELECT ` + documentColumns + ` FROM telehealth_document WHERE event_id=$1`
	getDocumentQuery     = `SELECT ` + documentColumns + ` FROM telehealth_document WHERE id=$1`
	clientDocumentsQuery = `SELECT ` + documentColumns + ` FROM telehealth_document WHERE client_id=$1 ORDER BY shared_at DESC, id DESC`
)

func scanDocument(row dbutil.Scannable) (*bridge.Document, error) {
	var d bridge.Document
	var at int64
	err := row.Scan(&d.ID, &d.EventID, &d.RoomID, &d.ClientID, &d.SharedBy, &d.FileName, &d.MXC, &d.Size, &d.ContentType, &at, &d.Kind)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, bridge.ErrDocumentNotFound
	} else if err != nil {
		return nil, err
	}
	d.SharedAt = time.UnixMilli(at).UTC()
	return &d, nil
}

var documentRows = dbutil.ConvertRowFn[*bridge.Document](scanDocument)

// Insert indexes d unless its event is indexed already (a homeserver delivers an event again
// after a retried transaction); d then takes the stored row's values. It reports whether d was
// new.
func (q *DocumentQuery) Insert(ctx context.Context, d *bridge.Document) (bool, error) {
	res, err := q.db.Exec(ctx, insertDocumentQuery, d.EventID, d.RoomID, d.ClientID, d.SharedBy, d.FileName, d.MXC, d.Size, d.ContentType, d.SharedAt.UnixMilli(), d.Kind)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, err
	}
	stored, err := scanDocument(q.db.QueryRow(ctx, documentByEventQuery, d.EventID))
	if err != nil {
		return false, err
	}
	*d = *stored
	return n == 1, nil
}

// Get returns a document, or bridge.ErrDocumentNotFound.
func (q *DocumentQuery) Get(ctx context.Context, id int64) (*bridge.Document, error) {
	return scanDocument(q.db.QueryRow(ctx, getDocumentQuery, id))
}

// ForClient are a client's documents, newest first.
func (q *DocumentQuery) ForClient(ctx context.Context, clientID int64) ([]*bridge.Document, error) {
	return documentRows.NewRowIter(q.db.Query(ctx, clientDocumentsQuery, clientID)).AsList()
}
