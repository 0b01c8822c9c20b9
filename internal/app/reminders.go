package app

import (
	"context"
	"errors"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"github.com/telehealth-bridge/telehealth-bridge/database"
	"github.com/telehealth-bridge/telehealth-bridge/scheduler"
)

// clientReminders is the client records' reminder preferences, as the outbox planning reads
// them (a client changes theirs in the portal's Settings).
type clientReminders struct{ db *database.Database }

var _ scheduler.ReminderPreferences = clientReminders{}

// ClientReminders is "" for a record that is gone: the invitation mode decides then.
func (c clientReminders) ClientReminders(ctx context.Context, clientID int64) (bridge.ReminderPreference, error) {
	rec, err := c.db.Client.Get(ctx, clientID)
	if errors.Is(err, bridge.ErrClientNotFound) || (err == nil && rec == nil) {
		return "", nil
	} else if err != nil {
		return "", err
	}
	return rec.Reminders, nil
}
