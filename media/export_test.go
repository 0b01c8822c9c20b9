package media

// CloseStuck is what the shared UDP port does with a connection it went on shedding for.
func (s *Server) CloseStuck(ufrag string) { s.closeStuck(ufrag) }

// ICEUfrag is the ICE username fragment of a session description.
func ICEUfrag(sdp string) string { return iceUfrag(sdp) }

// TracksReadInline counts the published tracks of every room, and those forwarded inline by
// the goroutine that decrypts their packets (upTrack.forward).
func (s *Server) TracksReadInline() (inline, all int) {
	s.mu.Lock()
	rooms := make([]*room, 0, len(s.rooms))
	for _, r := range s.rooms {
		rooms = append(rooms, r)
	}
	s.mu.Unlock()
	for _, r := range rooms {
		r.mu.Lock()
		for _, t := range r.tracks {
			all++
			if t.inline.Load() {
				inline++
			}
		}
		r.mu.Unlock()
	}
	return inline, all
}

// ConnectionsWithOwnSocket counts the connections on the shared ICE port, and those with a
// socket of their own (udpMux).
func (s *Server) ConnectionsWithOwnSocket() (own, all int) {
	m := s.mux.(*udpMux)
	m.mu.RLock()
	defer m.mu.RUnlock()
	for _, c := range m.byUfrag {
		all++
		if c.direct.Load() != nil {
			own++
		}
	}
	return own, all
}
