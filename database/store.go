package database

import (
	"context"
	"time"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
)

// Store is the bridge domain's view of the database.
type Store struct {
	db *Database
}

var _ bridge.Store = (*Store)(nil)

// Store returns the database as the session domain's store.
func (db *Database) Store() *Store { return &Store{db: db} }

// InsertSession stores a session and its participants together.
func (s *Store) InsertSession(ctx context.Context, sess *bridge.Session, participants []*bridge.Participant) error {
	return s.db.DoTxn(ctx, nil, func(ctx context.Context) error {
		if err := s.db.Session.Insert(ctx, sess); err != nil {
			return err
		}
		for _, p := range participants {
			p.SessionID = sess.ID
			if err := s.db.Participant.Insert(ctx, p); err != nil {
				return err
			}
		}
		return nil
	})
}

func (s *Store) GetSession(ctx context.Context, id string) (*bridge.Session, error) {
	return s.db.Session.Get(ctx, id)
}

func (s *Store) GetSessionByRoom(ctx context.Context, roomID string) (*bridge.Session, error) {
	return s.db.Session.GetByRoom(ctx, roomID)
}

func (s *Store) UpdateSession(ctx context.Context, sess *bridge.Session) error {
	return s.db.Session.Update(ctx, sess)
}

func (s *Store) ActiveSessions(ctx context.Context) ([]*bridge.Session, error) {
	return s.db.Session.Active(ctx)
}

// ActiveSessionsStartingBefore are the active sessions that start before t, soonest first.
func (s *Store) ActiveSessionsStartingBefore(ctx context.Context, t time.Time) ([]*bridge.Session, error) {
	return s.db.Session.StartingBefore(ctx, t)
}

func (s *Store) ClinicianSessions(ctx context.Context, clinician string, since time.Time) ([]*bridge.Session, error) {
	return s.db.Session.ForClinician(ctx, clinician, since)
}

func (s *Store) Participants(ctx context.Context, sessionID string) ([]*bridge.Participant, error) {
	return s.db.Participant.ForSession(ctx, sessionID)
}

func (s *Store) AddParticipant(ctx context.Context, p *bridge.Participant) error {
	return s.db.Participant.Insert(ctx, p)
}

func (s *Store) UpdateParticipant(ctx context.Context, p *bridge.Participant) error {
	return s.db.Participant.Update(ctx, p)
}

func (s *Store) LogLobby(ctx context.Context, e bridge.LobbyEntry) error {
	return s.db.LobbyLog.Insert(ctx, e)
}

// ByContact finds the participants booked with an email address or a phone number.
func (s *Store) ByContact(ctx context.Context, email, phone string) ([]*bridge.Participant, error) {
	return s.db.Participant.ByContact(ctx, email, phone)
}

var _ bridge.MoveRequestStore = (*Store)(nil)

// PutMoveRequest stores a client's request to move a session.
func (s *Store) PutMoveRequest(ctx context.Context, r *bridge.MoveRequest) error {
	return s.db.MoveRequest.Put(ctx, r)
}

// MoveRequests are the requests to move a session, oldest first.
func (s *Store) MoveRequests(ctx context.Context, sessionID string) ([]*bridge.MoveRequest, error) {
	return s.db.MoveRequest.ForSession(ctx, sessionID)
}
