package database

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"go.mau.fi/util/dbutil"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
)

// PricedServiceQuery stores the clinic's price list (telehealth_priced_service).
type PricedServiceQuery struct {
	db *dbutil.Database
}

const (
	pricedServiceColumns     = `id, name, duration_min, price, currency, archived, updated_by, updated_at`
	insertPricedServiceQuery = `INSERT INTO telehealth_priced_service (name, duration_min, price, currency, archived, updated_by, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`
	updatePricedServiceQuery = `UPDATE telehealth_priced_service SET name=$2, duration_min=$3, price=$4, currency=$5, archived=$6,
		updated_by=$7, updated_at=$8 WHERE id=$1`
	getPricedServiceQuery   = `SELECT ` + pricedServiceColumns + ` FROM telehealth_priced_service WHERE id=$1`
	listPricedServicesQuery = `SELECT ` + pricedServiceColumns + ` FROM telehealth_priced_service WHERE $1 OR NOT archived ORDER BY name, id`
)

func scanPricedService(row dbutil.Scannable) (*bridge.PricedService, error) {
	var s bridge.PricedService
	var minutes int
	var updated int64
	err := row.Scan(&s.ID, &s.Name, &minutes, &s.Price, &s.Currency, &s.Archived, &s.UpdatedBy, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, bridge.ErrServiceNotFound
	} else if err != nil {
		return nil, err
	}
	s.Duration, s.UpdatedAt = time.Duration(minutes)*time.Minute, time.UnixMilli(updated).UTC()
	return &s, nil
}

var pricedServiceRows = dbutil.ConvertRowFn[*bridge.PricedService](scanPricedService)

// Put inserts a service (ID 0, setting it) or updates one.
func (q *PricedServiceQuery) Put(ctx context.Context, s *bridge.PricedService) error {
	minutes := int(s.Duration / time.Minute)
	if s.ID == 0 {
		return q.db.QueryRow(ctx, insertPricedServiceQuery, s.Name, minutes, s.Price, s.Currency, s.Archived, s.UpdatedBy,
			s.UpdatedAt.UnixMilli()).Scan(&s.ID)
	}
	_, err := q.db.Exec(ctx, updatePricedServiceQuery, s.ID, s.Name, minutes, s.Price, s.Currency, s.Archived, s.UpdatedBy, s.UpdatedAt.UnixMilli())
	return err
}

// Get returns a service, or bridge.ErrServiceNotFound.
func (q *PricedServiceQuery) Get(ctx context.Context, id int64) (*bridge.PricedService, error) {
	return scanPricedService(q.db.QueryRow(ctx, getPricedServiceQuery, id))
}

// List is the price list by name; archived services too if all.
func (q *PricedServiceQuery) List(ctx context.Context, all bool) ([]*bridge.PricedService, error) {
	return pricedServiceRows.NewRowIter(q.db.Query(ctx, listPricedServicesQuery, all)).AsList()
}
