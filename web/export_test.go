package web

// ChatPolls is how many long polls wait on a session's chat (tests start a removal only once
// the poll it must end is waiting).
func (srv *Server) ChatPolls(sessionID string) int { return srv.hub.waiting(chatFeed(sessionID)) }
