package livekit

import "sync"

// Stats is what the LiveKit server's webhooks have said of the bridge's calls: rooms with
// someone let in connected, the people connected, and the tracks they publish. Packet counters
// are LiveKit's own (its Prometheus endpoint, docs/operations.md): the bridge sees no packet.
type Stats struct {
	Calls, Peers, Tracks int
}

// presence counts who is connected from the webhooks, in their order: a participant counts
// from participant_joined until they leave, or until the admission check refuses them.
type presence struct {
	mu sync.Mutex
	// peers: LiveKit room → participant identity; tracks: LiveKit room → track SID.
	peers  map[string]map[string]bool
	tracks map[string]map[string]bool
}

func (p *presence) set(m *map[string]map[string]bool, room, key string, on bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if *m == nil {
		*m = map[string]map[string]bool{}
	}
	if on {
		if (*m)[room] == nil {
			(*m)[room] = map[string]bool{}
		}
		(*m)[room][key] = true
		return
	}
	delete((*m)[room], key)
	if len((*m)[room]) == 0 {
		delete(*m, room)
	}
}

// roomGone forgets a finished room (LiveKit sends no participant_left for a deleted room).
func (p *presence) roomGone(room string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.peers, room)
	delete(p.tracks, room)
}

func (p *presence) stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := Stats{Calls: len(p.peers)}
	for _, ids := range p.peers {
		s.Peers += len(ids)
	}
	for room, ids := range p.tracks {
		if p.peers[room] != nil {
			s.Tracks += len(ids)
		}
	}
	return s
}

// Stats says what the webhooks have told of the bridge's calls so far.
func (b *Backend) Stats() Stats { return b.presence.stats() }
