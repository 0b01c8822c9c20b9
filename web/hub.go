package web

import (
	"context"
	"sync"
	"time"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
)

// longPoll is how long a state request waits for a change before answering anyway.
const longPoll = 25 * time.Second

// hub tells waiting pages that something changed: each session, and each clinician's list of
// sessions (keyed by their user ID), has a version and a channel closed (and replaced) on every
// change. Pages long-poll with the version they have.
type hub struct {
	mu     sync.Mutex
	feeds  map[string]*feed
	done   chan struct{}
	closed bool
	// onLobby hears each change of a session with the session's version before and after it
	// (ps nil: something beside its people changed), under the hub's lock: the panel's cache
	// is brought up to date before a page woken by the change reads it.
	onLobby func(s *bridge.Session, ps []*bridge.Participant, before, after uint64)
}

type feed struct {
	version uint64
	changed chan struct{}
	// waiting counts the long polls waiting on the feed.
	waiting int
}

func newHub() *hub { return &hub{feeds: map[string]*feed{}, done: make(chan struct{})} }

func (h *hub) feed(key string) *feed {
	f := h.feeds[key]
	if f == nil {
		f = &feed{version: 1, changed: make(chan struct{})}
		h.feeds[key] = f
	}
	return f
}

// LobbyChanged wakes the pages following the session, and its clinician's panel list. ps are
// the session's people as they now are, or nil when something else changed.
func (h *hub) LobbyChanged(s *bridge.Session, ps []*bridge.Participant) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, key := range []string{s.ID, s.Clinician} {
		f := h.feed(key)
		f.version++
		if key == s.ID && h.onLobby != nil {
			h.onLobby(s, ps, f.version-1, f.version)
		}
		close(f.changed)
		f.changed = make(chan struct{})
	}
}

// DetailsChanged wakes the same pages when the session's documents, forms or payments changed.
func (h *hub) DetailsChanged(s *bridge.Session) { h.LobbyChanged(s, nil) }

// bump wakes the pages following one key (a session's chat).
func (h *hub) bump(key string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	f := h.feed(key)
	f.version++
	close(f.changed)
	f.changed = make(chan struct{})
}

// version is the current version of a session or of a clinician's list.
func (h *hub) version(key string) uint64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.feed(key).version
}

// wait returns once the version of a session or a clinician's list differs from after, or the
// context ends, or the long-poll time passes, or the server stops.
func (h *hub) wait(ctx context.Context, key string, after uint64) {
	h.mu.Lock()
	f := h.feed(key)
	if f.version != after || h.closed {
		h.mu.Unlock()
		return
	}
	ch := f.changed
	f.waiting++
	h.mu.Unlock()
	defer func() {
		h.mu.Lock()
		f.waiting--
		h.mu.Unlock()
	}()
	timer := time.NewTimer(longPoll)
	defer timer.Stop()
	select {
	case <-ch:
	case <-ctx.Done():
	case <-timer.C:
	case <-h.done:
	}
}

// waiting is how many long polls wait on a key.
func (h *hub) waiting(key string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.feed(key).waiting
}

func (h *hub) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.closed {
		h.closed = true
		close(h.done)
	}
}
