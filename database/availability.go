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

// AvailabilityQuery stores professionals' availability for self-scheduling (without their
// session types and days off, which have their own tables).
type AvailabilityQuery struct {
	db *dbutil.Database
}

const (
	availabilityColumns  = `clinician, time_zone, weekly_hours, min_notice, horizon_days, slot_step, self_scheduling, updated_at`
	getAvailabilityQuery = `SELECT ` + availabilityColumns + ` FROM telehealth_availability WHERE clinician=$1`
	putAvailabilityQuery = `INSERT INTO telehealth_availability (` + availabilityColumns + `)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		ON CONFLICT (clinician) DO UPDATE SET time_zone=excluded.time_zone, weekly_hours=excluded.weekly_hours,
			min_notice=excluded.min_notice, horizon_days=excluded.horizon_days, slot_step=excluded.slot_step,
			self_scheduling=excluded.self_scheduling, updated_at=excluded.updated_at`
	// lockAvailabilityQuery holds the professional's row until the transaction ends, so that
	// claims of their slots happen one at a time across bridge instances (PostgreSQL). SQLite
	// write transactions are one at a time already.
	lockAvailabilityQuery       = `SELECT self_scheduling FROM telehealth_availability WHERE clinician=$1 FOR UPDATE`
	lockAvailabilityQuerySQLite = `SELECT self_scheduling FROM telehealth_availability WHERE clinician=$1`
)

// weeklyHours is how a range of hours is kept in weekly_hours.
type weeklyHours struct {
	Day   int `json:"day"`
	Start int `json:"start"`
	End   int `json:"end"`
}

func scanAvailability(row dbutil.Scannable) (*bridge.Availability, error) {
	var av bridge.Availability
	var hours string
	var notice, horizon, step int
	var updated int64
	err := row.Scan(&av.Clinician, &av.TimeZone, &hours, &notice, &horizon, &step, &av.SelfScheduling, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, bridge.ErrNoAvailability
	} else if err != nil {
		return nil, err
	}
	var stored []weeklyHours
	if err = json.Unmarshal([]byte(hours), &stored); err != nil {
		return nil, fmt.Errorf("reading %s's weekly hours: %w", av.Clinician, err)
	}
	for _, h := range stored {
		av.Hours = append(av.Hours, bridge.WeeklyHours{Day: time.Weekday(h.Day), Start: bridge.Minute(h.Start), End: bridge.Minute(h.End)})
	}
	av.MinNotice, av.Horizon, av.SlotStep = time.Duration(notice)*time.Minute, time.Duration(horizon)*24*time.Hour, time.Duration(step)*time.Minute
	av.UpdatedAt = time.UnixMilli(updated).UTC()
	return &av, nil
}

// Get returns a professional's availability without types and days off, or
// bridge.ErrNoAvailability.
func (q *AvailabilityQuery) Get(ctx context.Context, clinician string) (*bridge.Availability, error) {
	return scanAvailability(q.db.QueryRow(ctx, getAvailabilityQuery, clinician))
}

// Put stores a professional's availability, new or changed.
func (q *AvailabilityQuery) Put(ctx context.Context, av *bridge.Availability) error {
	stored := []weeklyHours{}
	for _, h := range av.Hours {
		stored = append(stored, weeklyHours{Day: int(h.Day), Start: int(h.Start), End: int(h.End)})
	}
	hours, err := json.Marshal(stored)
	if err != nil {
		return err
	}
	_, err = q.db.Exec(ctx, putAvailabilityQuery, av.Clinician, av.TimeZone, string(hours), int(av.MinNotice/time.Minute),
		int(av.Horizon/(24*time.Hour)), int(av.SlotStep/time.Minute), av.SelfScheduling, av.UpdatedAt.UnixMilli())
	return err
}

// Lock holds the professional's availability row for the rest of the transaction and says
// whether they take bookings online; bridge.ErrNoAvailability if they published nothing.
func (q *AvailabilityQuery) Lock(ctx context.Context, clinician string) (bool, error) {
	query := lockAvailabilityQuery
	if q.db.Dialect != dbutil.Postgres {
		query = lockAvailabilityQuerySQLite
	}
	var on bool
	err := q.db.QueryRow(ctx, query, clinician).Scan(&on)
	if errors.Is(err, sql.ErrNoRows) {
		return false, bridge.ErrNoAvailability
	}
	return on, err
}
