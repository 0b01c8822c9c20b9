package media

// CloseStuck is what the shared UDP port does with a connection it went on shedding for.
func (s *Server) CloseStuck(ufrag string) { s.closeStuck(ufrag) }

// ICEUfrag is the ICE username fragment of a session description.
func ICEUfrag(sdp string) string { return iceUfrag(sdp) }

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
