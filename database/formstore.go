package database

import (
	"context"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
)

var _ bridge.FormStore = (*Store)(nil)

func (s *Store) InsertFormVersion(ctx context.Context, f *bridge.Form) error {
	return s.db.Form.Insert(ctx, f)
}

func (s *Store) LatestForm(ctx context.Context, id int64) (*bridge.Form, error) {
	return s.db.Form.Latest(ctx, id)
}

func (s *Store) FormVersion(ctx context.Context, versionID int64) (*bridge.Form, error) {
	return s.db.Form.Version(ctx, versionID)
}

func (s *Store) LatestForms(ctx context.Context) ([]*bridge.Form, error) {
	return s.db.Form.AllLatest(ctx)
}

func (s *Store) StandardForm(ctx context.Context, key string) (*bridge.Form, error) {
	return s.db.Form.Standard(ctx, key)
}

func (s *Store) InsertAssignment(ctx context.Context, a *bridge.FormAssignment) error {
	return s.db.FormAssignment.Insert(ctx, a)
}

func (s *Store) GetAssignment(ctx context.Context, id int64) (*bridge.FormAssignment, error) {
	return s.db.FormAssignment.Get(ctx, id)
}

func (s *Store) ClientAssignments(ctx context.Context, clientID int64) ([]*bridge.FormAssignment, error) {
	return s.db.FormAssignment.ForClient(ctx, clientID)
}

func (s *Store) SessionAssignments(ctx context.Context, sessionID string) ([]*bridge.FormAssignment, error) {
	return s.db.FormAssignment.ForSession(ctx, sessionID)
}

// SaveResponse stores the answers and the assignment's new status in one transaction; an
// assignment submitted in the meantime refuses both (bridge.ErrFormSubmitted).
func (s *Store) SaveResponse(ctx context.Context, a *bridge.FormAssignment, r *bridge.FormResponse) error {
	return s.db.DoTxn(ctx, nil, func(ctx context.Context) error {
		if err := s.db.FormAssignment.UpdateOpen(ctx, a); err != nil {
			return err
		}
		return s.db.FormResponse.Put(ctx, r)
	})
}

func (s *Store) GetResponse(ctx context.Context, assignmentID int64) (*bridge.FormResponse, error) {
	return s.db.FormResponse.Get(ctx, assignmentID)
}

func (s *Store) PendingFormNotices(ctx context.Context) ([]*bridge.FormAssignment, error) {
	return s.db.FormAssignment.PendingNotices(ctx)
}

func (s *Store) SetFormNoticesPending(ctx context.Context, id int64, summary, event bool) error {
	return s.db.FormAssignment.SetNoticesPending(ctx, id, summary, event)
}
