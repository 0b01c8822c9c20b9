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

// FormQuery stores the versions of the clinic's forms (telehealth_form): one row per version,
// never changed once written.
type FormQuery struct {
	db *dbutil.Database
}

const (
	formColumns     = `version_id, form_id, version, standard, definition, created_by, created_at`
	insertFormQuery = `INSERT INTO telehealth_form (form_id, version, standard, title, definition, created_by, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING version_id`
	setFormIDQuery    = `UPDATE telehealth_form SET form_id=version_id WHERE version_id=$1`
	formVersionQuery  = `SELECT ` + formColumns + ` FROM telehealth_form WHERE version_id=$1`
	latestFormQuery   = `SELECT ` + formColumns + ` FROM telehealth_form WHERE form_id=$1 ORDER BY version DESC LIMIT 1`
	standardFormQuery = `SELECT ` + formColumns + ` FROM telehealth_form WHERE standard=$1 ORDER BY version DESC LIMIT 1`
	latestFormsQuery  = `SELECT ` + formColumns + ` FROM telehealth_form f WHERE version =
		(SELECT MAX(version) FROM telehealth_form l WHERE l.form_id = f.form_id)
		ORDER BY standard = '', title, form_id`
)

func scanForm(row dbutil.Scannable) (*bridge.Form, error) {
	var f bridge.Form
	var def string
	var created int64
	err := row.Scan(&f.VersionID, &f.ID, &f.Version, &f.Standard, &def, &f.CreatedBy, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, bridge.ErrFormNotFound
	} else if err != nil {
		return nil, err
	}
	if err = json.Unmarshal([]byte(def), &f.Definition); err != nil {
		return nil, fmt.Errorf("reading form version %d: %w", f.VersionID, err)
	}
	f.CreatedAt = time.UnixMilli(created).UTC()
	return &f, nil
}

var formRows = dbutil.ConvertRowFn[*bridge.Form](scanForm)

// Insert stores a version; a version of a new form (ID 0) becomes the form's first, its
// version ID naming the form.
func (q *FormQuery) Insert(ctx context.Context, f *bridge.Form) error {
	def, err := json.Marshal(f.Definition)
	if err != nil {
		return fmt.Errorf("writing the form as JSON: %w", err)
	}
	return q.db.DoTxn(ctx, nil, func(ctx context.Context) error {
		err := q.db.QueryRow(ctx, insertFormQuery, f.ID, f.Version, f.Standard, f.Definition.Title.In("en"), string(def),
			f.CreatedBy, f.CreatedAt.UnixMilli()).Scan(&f.VersionID)
		if err != nil {
			return err
		}
		if f.ID == 0 {
			if _, err = q.db.Exec(ctx, setFormIDQuery, f.VersionID); err != nil {
				return err
			}
			f.ID = f.VersionID
		}
		return nil
	})
}

// Version returns one version, or bridge.ErrFormNotFound.
func (q *FormQuery) Version(ctx context.Context, versionID int64) (*bridge.Form, error) {
	return scanForm(q.db.QueryRow(ctx, formVersionQuery, versionID))
}

// Latest returns a form's latest version, or bridge.ErrFormNotFound.
func (q *FormQuery) Latest(ctx context.Context, id int64) (*bridge.Form, error) {
	return scanForm(q.db.QueryRow(ctx, latestFormQuery, id))
}

// Standard returns a standard instrument's latest version, or bridge.ErrFormNotFound.
func (q *FormQuery) Standard(ctx context.Context, key string) (*bridge.Form, error) {
	return scanForm(q.db.QueryRow(ctx, standardFormQuery, key))
}

// AllLatest are every form's latest version: the standard instruments first, then by title.
func (q *FormQuery) AllLatest(ctx context.Context) ([]*bridge.Form, error) {
	return formRows.NewRowIter(q.db.Query(ctx, latestFormsQuery)).AsList()
}
