package web

import (
	"context"
	"sync"
	"time"

	"github.com/rs/zerolog"
)

// nameTTL is how long a clinician's display name is reused before it is asked for again: a
// renamed clinician shows under the new name within minutes, and the pages' long polls do not
// each cost the homeserver a profile request.
const nameTTL = 5 * time.Minute

type nameCache struct {
	mu    sync.Mutex
	names map[string]cachedName
}

type cachedName struct {
	name string
	at   time.Time
}

// clinicianName is the clinician's display name, or "" when it cannot be had (the page then
// names no one rather than showing an ID).
func (srv *Server) clinicianName(ctx context.Context, userID string) string {
	if srv.names == nil {
		return ""
	}
	now := srv.clock.Now()
	c := &srv.nameCache
	c.mu.Lock()
	if got, ok := c.names[userID]; ok && now.Sub(got.at) < nameTTL {
		c.mu.Unlock()
		return got.name
	}
	c.mu.Unlock()
	name, err := srv.names.ClinicianName(ctx, userID)
	if err != nil {
		zerolog.Ctx(ctx).Warn().Err(err).Msg("Failed to get the clinician's display name")
		return ""
	}
	c.mu.Lock()
	if c.names == nil {
		c.names = map[string]cachedName{}
	}
	c.names[userID] = cachedName{name: name, at: now}
	c.mu.Unlock()
	return name
}
