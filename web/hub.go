package web

import (
	"context"
	"sync"
	"time"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
)

// longPoll is how long a state request waits for a change before answering anyway.
const longPoll = 25 * time.Second

// hub tells waiting pages that a session changed: each session has a version, and a channel
// closed (and replaced) on every change. Pages long-poll with the version they have.
type hub struct {
	mu       sync.Mutex
	sessions map[string]*feed
	done     chan struct{}
	closed   bool
}

type feed struct {
	version uint64
	changed chan struct{}
}

func newHub() *hub { return &hub{sessions: map[string]*feed{}, done: make(chan struct{})} }

func (h *hub) feed(sessionID string) *feed {
	f := h.sessions[sessionID]
	if f == nil {
		f = &feed{version: 1, changed: make(chan struct{})}
		h.sessions[sessionID] = f
	}
	return f
}

// LobbyChanged wakes the pages following the session.
func (h *hub) LobbyChanged(s *bridge.Session, _ []*bridge.Participant) {
	h.mu.Lock()
	defer h.mu.Unlock()
	f := h.feed(s.ID)
	f.version++
	close(f.changed)
	f.changed = make(chan struct{})
}

// version is the session's current version.
func (h *hub) version(sessionID string) uint64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.feed(sessionID).version
}

// wait returns once the session's version differs from after, or the context ends, or the
// long-poll time passes, or the server stops.
func (h *hub) wait(ctx context.Context, sessionID string, after uint64) {
	h.mu.Lock()
	f := h.feed(sessionID)
	if f.version != after || h.closed {
		h.mu.Unlock()
		return
	}
	ch := f.changed
	h.mu.Unlock()
	timer := time.NewTimer(longPoll)
	defer timer.Stop()
	select {
	case <-ch:
	case <-ctx.Done():
	case <-timer.C:
	case <-h.done:
	}
}

func (h *hub) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.closed {
		h.closed = true
		close(h.done)
	}
}
