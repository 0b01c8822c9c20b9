package database

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"go.mau.fi/util/dbutil"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
)

// FormAssignmentQuery stores the forms given to clients (telehealth_form_assignment).
type FormAssignmentQuery struct {
	db *dbutil.Database
}

const (
	assignmentColumns     = `id, client_id, form_id, form_version_id, assigned_by, assigned_at, status, updated_at, submitted_at, summary_pending, event_pending, session_id`
	insertAssignmentQuery = `INSERT INTO telehealth_form_assignment (client_id, form_id, form_version_id, assigned_by, assigned_at, status,
		updated_at, submitted_at, summary_pending, event_pending, session_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id`
	getAssignmentQuery      = `SELECT ` + assignmentColumns + ` FROM telehealth_form_assignment WHERE id=$1`
	clientAssignmentsQuery  = `SELECT ` + assignmentColumns + ` FROM telehealth_form_assignment WHERE client_id=$1 ORDER BY assigned_at DESC, id DESC`
	sessionAssignmentsQuery = `SELECT ` + assignmentColumns + ` FROM telehealth_form_assignment WHERE session_id=$1 ORDER BY id`
	pendingNoticesQuery     = `SELECT ` + assignmentColumns + ` FROM telehealth_form_assignment
		WHERE status='done' AND (summary_pending OR event_pending) ORDER BY submitted_at, id`
	// updateOpenAssignmentQuery changes an assignment not submitted yet: a submitted one is
	// read-only, whoever raced to change it.
	updateOpenAssignmentQuery = `UPDATE telehealth_form_assignment SET status=$2, updated_at=$3, submitted_at=$4,
		summary_pending=$5, event_pending=$6 WHERE id=$1 AND status <> 'done'`
	setNoticesPendingQuery = `UPDATE telehealth_form_assignment SET summary_pending=$2, event_pending=$3 WHERE id=$1`
)

func unixOrZero(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

func msOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func scanAssignment(row dbutil.Scannable) (*bridge.FormAssignment, error) {
	var a bridge.FormAssignment
	var status string
	var assigned, updated, submitted int64
	err := row.Scan(&a.ID, &a.ClientID, &a.FormID, &a.FormVersionID, &a.AssignedBy, &assigned, &status, &updated, &submitted,
		&a.SummaryPending, &a.EventPending, &a.SessionID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, bridge.ErrAssignmentNotFound
	} else if err != nil {
		return nil, err
	}
	a.Status = bridge.AssignmentStatus(status)
	a.AssignedAt, a.UpdatedAt, a.SubmittedAt = time.UnixMilli(assigned).UTC(), time.UnixMilli(updated).UTC(), unixOrZero(submitted)
	return &a, nil
}

var assignmentRows = dbutil.ConvertRowFn[*bridge.FormAssignment](scanAssignment)

// Insert stores a new assignment and sets its ID.
func (q *FormAssignmentQuery) Insert(ctx context.Context, a *bridge.FormAssignment) error {
	return q.db.QueryRow(ctx, insertAssignmentQuery, a.ClientID, a.FormID, a.FormVersionID, a.AssignedBy, a.AssignedAt.UnixMilli(),
		string(a.Status), a.UpdatedAt.UnixMilli(), msOrZero(a.SubmittedAt), a.SummaryPending, a.EventPending, a.SessionID).Scan(&a.ID)
}

// Get returns an assignment, or bridge.ErrAssignmentNotFound.
func (q *FormAssignmentQuery) Get(ctx context.Context, id int64) (*bridge.FormAssignment, error) {
	return scanAssignment(q.db.QueryRow(ctx, getAssignmentQuery, id))
}

// ForClient are a client's assignments, latest first.
func (q *FormAssignmentQuery) ForClient(ctx context.Context, clientID int64) ([]*bridge.FormAssignment, error) {
	return assignmentRows.NewRowIter(q.db.Query(ctx, clientAssignmentsQuery, clientID)).AsList()
}

// ForSession are the assignments a session's package gave, oldest first.
func (q *FormAssignmentQuery) ForSession(ctx context.Context, sessionID string) ([]*bridge.FormAssignment, error) {
	return assignmentRows.NewRowIter(q.db.Query(ctx, sessionAssignmentsQuery, sessionID)).AsList()
}

// PendingNotices are the submitted assignments with room notices still to post, oldest first.
func (q *FormAssignmentQuery) PendingNotices(ctx context.Context) ([]*bridge.FormAssignment, error) {
	return assignmentRows.NewRowIter(q.db.Query(ctx, pendingNoticesQuery)).AsList()
}

// UpdateOpen stores an assignment's status, times and pending notices unless it was submitted
// already (bridge.ErrFormSubmitted).
func (q *FormAssignmentQuery) UpdateOpen(ctx context.Context, a *bridge.FormAssignment) error {
	res, err := q.db.Exec(ctx, updateOpenAssignmentQuery, a.ID, string(a.Status), a.UpdatedAt.UnixMilli(), msOrZero(a.SubmittedAt),
		a.SummaryPending, a.EventPending)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return bridge.ErrFormSubmitted
	}
	return nil
}

// SetNoticesPending records which of a submission's room notices are still to post.
func (q *FormAssignmentQuery) SetNoticesPending(ctx context.Context, id int64, summary, event bool) error {
	_, err := q.db.Exec(ctx, setNoticesPendingQuery, id, summary, event)
	return err
}
