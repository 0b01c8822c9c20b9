package web

// ChatPolls is how many long polls wait on a session's chat (tests start a removal only once
// the poll it must end is waiting).
func (srv *Server) ChatPolls(sessionID string) int { return srv.hub.waiting(chatFeed(sessionID)) }

// ForgetPanelViews empties the panel's cache of session views (a test compares a patched view
// with one made afresh).
func (srv *Server) ForgetPanelViews() {
	srv.panelCache.mu.Lock()
	defer srv.panelCache.mu.Unlock()
	clear(srv.panelCache.views)
}
