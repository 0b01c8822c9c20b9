package app

import "sync"

// presenceMerge: with LiveKit beside the embedded SFU, someone is in a session's call while
// connected through either (the call page through the SFU, Element Call through LiveKit,
// maybe on several devices). It passes on only the changes of that: the clinician's leaving
// one backend while still in the other is not their leaving the session.
type presenceMerge struct {
	next func(sessionID, userID string, host, present bool)
	mu   sync.Mutex
	sfu  map[[2]string]bool
	lk   map[[2]string]map[string]bool // LiveKit identities connected
}

func newPresenceMerge(next func(sessionID, userID string, host, present bool)) *presenceMerge {
	return &presenceMerge{next: next, sfu: map[[2]string]bool{}, lk: map[[2]string]map[string]bool{}}
}

func (m *presenceMerge) in(key [2]string) bool { return m.sfu[key] || len(m.lk[key]) > 0 }

// update applies a change under the lock and passes on a change of presence after it.
func (m *presenceMerge) update(sessionID, userID string, host bool, change func(key [2]string)) {
	key := [2]string{sessionID, userID}
	m.mu.Lock()
	before := m.in(key)
	change(key)
	after := m.in(key)
	if !m.sfu[key] {
		delete(m.sfu, key)
	}
	if len(m.lk[key]) == 0 {
		delete(m.lk, key)
	}
	m.mu.Unlock()
	if before != after {
		m.next(sessionID, userID, host, after)
	}
}

// fromSFU is the embedded SFU's presence hook (one connection per user and call).
func (m *presenceMerge) fromSFU(sessionID, userID string, host, present bool) {
	m.update(sessionID, userID, host, func(key [2]string) { m.sfu[key] = present })
}

// fromLiveKit records a LiveKit connection joining or leaving.
func (m *presenceMerge) fromLiveKit(sessionID, userID, identity string, host, present bool) {
	m.update(sessionID, userID, host, func(key [2]string) {
		if present {
			if m.lk[key] == nil {
				m.lk[key] = map[string]bool{}
			}
			m.lk[key][identity] = true
		} else {
			delete(m.lk[key], identity)
		}
	})
}
