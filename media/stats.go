package media

// Stats is a snapshot of the SFU for monitoring, read from what the SFU keeps anyway: it
// adds nothing to the packet path.
type Stats struct {
	// Calls are the rooms with at least one connection (connection checks included).
	Calls int
	// Peers are the open call connections; Hosts those of clinicians among them.
	Peers, Hosts int
	// Tracks are the tracks published in all calls.
	Tracks int
	// TURNAllocations are the TURN relays held (0 without TURN).
	TURNAllocations int
}

// Stats reads the snapshot. Each room is locked on its own, one after the other, never under
// the server's lock.
func (s *Server) Stats() Stats {
	var st Stats
	s.mu.Lock()
	rooms := make([]*room, 0, len(s.rooms))
	for _, r := range s.rooms {
		rooms = append(rooms, r)
	}
	s.mu.Unlock()
	for _, r := range rooms {
		r.mu.Lock()
		if len(r.peers) > 0 {
			st.Calls++
		}
		st.Peers += len(r.peers)
		for _, p := range r.peers {
			if p.host {
				st.Hosts++
			}
		}
		st.Tracks += len(r.tracks)
		r.mu.Unlock()
	}
	if t := s.turn; t != nil {
		t.mu.Lock()
		for _, n := range t.allocations {
			st.TURNAllocations += n
		}
		t.mu.Unlock()
	}
	return st
}
