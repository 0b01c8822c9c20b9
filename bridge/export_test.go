package bridge

// HoldSession takes a session's lock as a change in flight does, until release is called.
func (svc *Service) HoldSession(id string) (release func()) { return svc.locks.Lock(id) }
