package database

import (
	"context"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
)

var _ bridge.DocumentStore = (*Store)(nil)

func (s *Store) InsertDocument(ctx context.Context, d *bridge.Document) (bool, error) {
	return s.db.Document.Insert(ctx, d)
}

func (s *Store) GetDocument(ctx context.Context, id int64) (*bridge.Document, error) {
	return s.db.Document.Get(ctx, id)
}

func (s *Store) ClientDocuments(ctx context.Context, clientID int64) ([]*bridge.Document, error) {
	return s.db.Document.ForClient(ctx, clientID)
}

func (s *Store) InsertTemplate(ctx context.Context, t *bridge.DocumentTemplate) error {
	return s.db.DocumentTemplate.Insert(ctx, t)
}

func (s *Store) GetTemplate(ctx context.Context, id int64) (*bridge.DocumentTemplate, error) {
	return s.db.DocumentTemplate.Get(ctx, id)
}

func (s *Store) Templates(ctx context.Context) ([]*bridge.DocumentTemplate, error) {
	return s.db.DocumentTemplate.All(ctx)
}

func (s *Store) SetSessionPackage(ctx context.Context, sessionID string, templateIDs []int64) error {
	return s.db.SessionDocument.Set(ctx, sessionID, templateIDs)
}

func (s *Store) SessionPackage(ctx context.Context, sessionID string) ([]*bridge.DocumentTemplate, error) {
	return s.db.SessionDocument.ForSession(ctx, sessionID)
}

func (s *Store) PutAck(ctx context.Context, a *bridge.DocumentAck) error {
	return s.db.DocumentAck.Put(ctx, a)
}

func (s *Store) SessionAcks(ctx context.Context, sessionID string) ([]*bridge.DocumentAck, error) {
	return s.db.DocumentAck.ForSession(ctx, sessionID)
}
