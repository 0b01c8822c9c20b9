package app

import (
	"context"

	"github.com/telehealth-bridge/telehealth-bridge/database"
	"github.com/telehealth-bridge/telehealth-bridge/web"
)

// portalClients is the client records as the portal's sign-in sees them.
type portalClients struct{ db *database.Database }

var _ web.ClientDirectory = portalClients{}

// ClientByContact signs in by a contact only the one client who holds it: a contact several
// clients share (siblings with a parent's email) is answered as unknown, so that a code sent
// there can never open another person's portal; they sign in with their passkey or password.
func (p portalClients) ClientByContact(ctx context.Context, contact string) (int64, bool, error) {
	ids, err := p.db.Client.ByContact(ctx, contact)
	if err != nil || len(ids) != 1 {
		return 0, false, err
	}
	return ids[0], true, nil
}

// ClientName is what the portal calls the client.
func (p portalClients) ClientName(ctx context.Context, id int64) (string, error) {
	c, err := p.db.Client.Get(ctx, id)
	if err != nil || c == nil {
		return "", err
	}
	return c.Name(), nil
}
