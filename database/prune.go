package database

import (
	"context"
	"fmt"
	"time"
)

// HandledEventRetention is how long a handled event is remembered. Homeservers retry a
// transaction for minutes or hours, never for days; the rows are only event and room IDs, but
// kept forever they would grow the database with every message.
const HandledEventRetention = 7 * 24 * time.Hour

// Prune deletes what the bridge no longer needs: handled events older than
// HandledEventRetention and expired web sessions (signed-out panels, unused one-time links), portal codes and portal
// sessions.
// It returns how many rows it deleted.
func (db *Database) Prune(ctx context.Context, now time.Time) (int64, error) {
	events, err := db.HandledEvent.Prune(ctx, now.Add(-HandledEventRetention))
	if err != nil {
		return 0, fmt.Errorf("pruning handled events: %w", err)
	}
	sessions, err := db.WebSession.Prune(ctx, now)
	if err != nil {
		return events, fmt.Errorf("pruning expired web sessions: %w", err)
	}
	codes, err := db.PortalCode.Prune(ctx, now)
	if err != nil {
		return events + sessions, fmt.Errorf("pruning expired portal codes: %w", err)
	}
	portal, err := db.PortalSession.Prune(ctx, now)
	if err != nil {
		return events + sessions + codes, fmt.Errorf("pruning expired portal sessions: %w", err)
	}
	return events + sessions + codes + portal, nil
}
