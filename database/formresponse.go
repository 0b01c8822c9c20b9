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

// FormResponseQuery stores clients' answers to their assignments (telehealth_form_response):
// one row per assignment, replaced as the draft is saved, final once submitted.
type FormResponseQuery struct {
	db *dbutil.Database
}

const (
	putResponseQuery = `INSERT INTO telehealth_form_response (assignment_id, form_version_id, answers, score, saved_at, submitted_at)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (assignment_id) DO UPDATE SET answers=excluded.answers, score=excluded.score, saved_at=excluded.saved_at,
			submitted_at=excluded.submitted_at`
	getResponseQuery = `SELECT assignment_id, form_version_id, answers, score, saved_at, submitted_at
		FROM telehealth_form_response WHERE assignment_id=$1`
)

// Put stores a response, new or replacing the draft.
func (q *FormResponseQuery) Put(ctx context.Context, r *bridge.FormResponse) error {
	answers := r.Answers
	if answers == nil {
		answers = bridge.Answers{}
	}
	data, err := json.Marshal(answers)
	if err != nil {
		return fmt.Errorf("writing the answers as JSON: %w", err)
	}
	score := ""
	if r.Score != nil {
		s, err := json.Marshal(r.Score)
		if err != nil {
			return fmt.Errorf("writing the score as JSON: %w", err)
		}
		score = string(s)
	}
	_, err = q.db.Exec(ctx, putResponseQuery, r.AssignmentID, r.FormVersionID, string(data), score, r.SavedAt.UnixMilli(), msOrZero(r.SubmittedAt))
	return err
}

// Get returns an assignment's response, or nil if nothing was saved yet.
func (q *FormResponseQuery) Get(ctx context.Context, assignmentID int64) (*bridge.FormResponse, error) {
	var r bridge.FormResponse
	var answers, score string
	var saved, submitted int64
	err := q.db.QueryRow(ctx, getResponseQuery, assignmentID).Scan(&r.AssignmentID, &r.FormVersionID, &answers, &score, &saved, &submitted)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	if err = json.Unmarshal([]byte(answers), &r.Answers); err != nil {
		return nil, fmt.Errorf("reading assignment %d's answers: %w", assignmentID, err)
	}
	if score != "" {
		if err = json.Unmarshal([]byte(score), &r.Score); err != nil {
			return nil, fmt.Errorf("reading assignment %d's score: %w", assignmentID, err)
		}
	}
	r.SavedAt, r.SubmittedAt = time.UnixMilli(saved).UTC(), unixOrZero(submitted)
	return &r, nil
}
