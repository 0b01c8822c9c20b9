package database

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"go.mau.fi/util/dbutil"
)

// ControlRoomQuery stores each clinician's direct room with the bot.
type ControlRoomQuery struct {
	db *dbutil.Database
}

const (
	getControlRoomQuery    = `SELECT room_id FROM telehealth_control_room WHERE clinician=$1`
	getControlRoomOwner    = `SELECT clinician FROM telehealth_control_room WHERE room_id=$1`
	upsertControlRoomQuery = `
		INSERT INTO telehealth_control_room (clinician, room_id, created_at) VALUES ($1, $2, $3)
		ON CONFLICT (clinician) DO UPDATE SET room_id=excluded.room_id, created_at=excluded.created_at`
	deleteControlRoomQuery = `DELETE FROM telehealth_control_room WHERE room_id=$1`
)

// Get returns the clinician's control room, or "" if they have none.
func (q *ControlRoomQuery) Get(ctx context.Context, clinician string) (string, error) {
	var roomID string
	err := q.db.QueryRow(ctx, getControlRoomQuery, clinician).Scan(&roomID)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return roomID, err
}

// Owner returns the clinician whose control room this is, or "".
func (q *ControlRoomQuery) Owner(ctx context.Context, roomID string) (string, error) {
	var clinician string
	err := q.db.QueryRow(ctx, getControlRoomOwner, roomID).Scan(&clinician)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return clinician, err
}

// Set makes roomID the clinician's control room.
func (q *ControlRoomQuery) Set(ctx context.Context, clinician, roomID string, at time.Time) error {
	_, err := q.db.Exec(ctx, upsertControlRoomQuery, clinician, roomID, at.UnixMilli())
	return err
}

// Delete forgets a control room (the clinician left it).
func (q *ControlRoomQuery) Delete(ctx context.Context, roomID string) error {
	_, err := q.db.Exec(ctx, deleteControlRoomQuery, roomID)
	return err
}

// ControlRoomOf is one user's control room.
type ControlRoomOf struct {
	User, RoomID string
}

const allControlRoomsQuery = `SELECT clinician, room_id FROM telehealth_control_room ORDER BY clinician`

// All returns every control room, by user: the clinic-wide notices go to each.
func (q *ControlRoomQuery) All(ctx context.Context) ([]ControlRoomOf, error) {
	rows, err := q.db.Query(ctx, allControlRoomsQuery)
	if err != nil {
		return nil, err
	}
	return dbutil.NewRowIterWithError(rows, func(row dbutil.Scannable) (ControlRoomOf, error) {
		var c ControlRoomOf
		return c, row.Scan(&c.User, &c.RoomID)
	}, nil).AsList()
}
