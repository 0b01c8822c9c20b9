package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
)

// Professionals' pictures in the portal: GET /api/portal/professionals/{n}/avatar, n being
// the professional's place in the signed-in client's record, never a Matrix ID from the
// request: a client reaches only their own professionals' pictures, and nobody can make the
// bridge fetch anyone's avatar with its token. The picture is the Matrix avatar's thumbnail,
// downloaded by the bot, kept a few minutes, and served from this site under its CSP.

// Avatars fetches Matrix avatars (the Matrix side, with the bot's token).
type Avatars interface {
	// Avatar is a small picture of the user's Matrix avatar and its content type (an image
	// type); nil data when they have none.
	Avatar(ctx context.Context, userID string) (data []byte, contentType string, err error)
}

// UseAvatars connects where professionals' pictures come from.
func (srv *Server) UseAvatars(a Avatars) { srv.avatars = a }

const (
	// avatarTTL is how long a picture (or its absence) is kept before it is fetched again.
	avatarTTL = 5 * time.Minute
	// avatarCacheSize bounds the pictures kept: a clinic has a few dozen professionals.
	avatarCacheSize = 256
)

// avatarTypes are the picture types served: what browsers show in an <img>, never anything
// they would run (SVG).
var avatarTypes = map[string]bool{"image/png": true, "image/jpeg": true, "image/webp": true, "image/gif": true}

type avatarCache struct {
	mu      sync.Mutex
	entries map[string]avatarEntry
}

type avatarEntry struct {
	data        []byte
	contentType string
	at          time.Time
}

// avatar is the professional's picture, from the cache while it is fresh.
func (srv *Server) avatar(ctx context.Context, userID string) (avatarEntry, error) {
	now := srv.clock.Now()
	c := &srv.avatarCache
	c.mu.Lock()
	if e, ok := c.entries[userID]; ok && now.Sub(e.at) < avatarTTL {
		c.mu.Unlock()
		return e, nil
	}
	c.mu.Unlock()
	data, ctype, err := srv.avatars.Avatar(ctx, userID)
	if err != nil {
		return avatarEntry{}, fmt.Errorf("fetching a professional's avatar: %w", err)
	}
	e := avatarEntry{data: data, contentType: ctype, at: now}
	if !avatarTypes[ctype] {
		e.data = nil // not a picture we serve: as none
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil || len(c.entries) >= avatarCacheSize {
		c.entries = map[string]avatarEntry{}
	}
	c.entries[userID] = e
	return e, nil
}

var errNoAvatar = errorf(http.StatusNotFound, "no_avatar", "This professional has no picture.")

// imageResponse is an API answer that is a picture, not JSON.
type imageResponse struct {
	data        []byte
	contentType string
}

func (i imageResponse) write(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Type", i.contentType)
	h.Set("Content-Length", strconv.Itoa(len(i.data)))
	// The client's own browser may keep it a few minutes; no shared cache may.
	h.Set("Cache-Control", "private, max-age=300")
	h.Set("Content-Disposition", "inline")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(i.data)
}

// portalAvatar serves the picture of the client's n-th professional.
func (srv *Server) portalAvatar(_ http.ResponseWriter, r *http.Request, in *portalSignIn) (any, error) {
	if srv.avatars == nil {
		return nil, errNoAvatar
	}
	n, err := strconv.Atoi(r.PathValue("n"))
	if err != nil || n < 0 {
		return nil, errNoAvatar
	}
	c, err := srv.db.Client.Get(r.Context(), in.clientID)
	if errors.Is(err, bridge.ErrClientNotFound) {
		return nil, errNoAvatar
	} else if err != nil {
		return nil, fmt.Errorf("reading the client's record: %w", err)
	}
	if n >= len(c.Professionals) {
		return nil, errNoAvatar
	}
	e, err := srv.avatar(r.Context(), c.Professionals[n])
	if err != nil {
		return nil, err
	}
	if len(e.data) == 0 {
		return nil, errNoAvatar
	}
	return imageResponse{data: e.data, contentType: e.contentType}, nil
}
