package database

import (
	"context"

	"go.mau.fi/util/dbutil"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
)

// DayOffQuery stores the dates a professional takes no bookings.
type DayOffQuery struct {
	db *dbutil.Database
}

const (
	daysOffQuery      = `SELECT day FROM telehealth_day_off WHERE clinician=$1 ORDER BY day`
	insertDayOffQuery = `INSERT INTO telehealth_day_off (clinician, day) VALUES ($1, $2)`
	clearDaysOffQuery = `DELETE FROM telehealth_day_off WHERE clinician=$1`
)

var dayRows = dbutil.ConvertRowFn[bridge.Date](func(row dbutil.Scannable) (bridge.Date, error) {
	var d string
	err := row.Scan(&d)
	return bridge.Date(d), err
})

// ForClinician returns a professional's days off, earliest first.
func (q *DayOffQuery) ForClinician(ctx context.Context, clinician string) ([]bridge.Date, error) {
	return dayRows.NewRowIter(q.db.Query(ctx, daysOffQuery, clinician)).AsList()
}

// Replace sets a professional's days off (in a transaction of the caller's).
func (q *DayOffQuery) Replace(ctx context.Context, clinician string, days []bridge.Date) error {
	if _, err := q.db.Exec(ctx, clearDaysOffQuery, clinician); err != nil {
		return err
	}
	for _, d := range days {
		if _, err := q.db.Exec(ctx, insertDayOffQuery, clinician, string(d)); err != nil {
			return err
		}
	}
	return nil
}
