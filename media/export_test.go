package media

// CloseStuck is what the shared UDP port does with a connection it went on shedding for.
func (s *Server) CloseStuck(ufrag string) { s.closeStuck(ufrag) }

// ICEUfrag is the ICE username fragment of a session description.
func ICEUfrag(sdp string) string { return iceUfrag(sdp) }
