package bridge

import (
	"context"
	"sync"

	"github.com/rs/zerolog"
)

// emitter sends lifecycle events into the sessions' rooms off the path of the lobby changes
// that cause them. Each session has its own queue, without bound, so that a homeserver that is
// slow (or does not answer at all) never makes a lobby change wait: a morning rush makes
// hundreds of events in a few seconds, and a bounded queue that fills would block the change,
// under its session's lock, and every change of every session behind it. One sender takes the
// sessions in turn, one event each, so a busy session does not hold back the others, and each
// session's events leave in the order they happened.
type emitter struct {
	send func(emission)

	mu sync.Mutex
	// queues holds each session's events not sent yet; turns is the sessions with events
	// queued, in the order the sender serves them.
	queues  map[string][]emission
	turns   []string
	started bool
	closed  bool
	wake    chan struct{}
	done    chan struct{}
}

type emission struct {
	ctx context.Context
	s   Session
	e   Lifecycle
}

// start runs the sender; later calls do nothing.
func (em *emitter) start(send func(emission)) {
	em.mu.Lock()
	defer em.mu.Unlock()
	if em.started {
		return
	}
	em.send, em.started = send, true
	em.queues, em.wake, em.done = map[string][]emission{}, make(chan struct{}, 1), make(chan struct{})
	go em.run()
}

// queue adds an event to its session's queue. It never blocks on the homeserver; it reports
// false when no sender runs (never started, or closed), and the caller sends it itself.
func (em *emitter) queue(e emission) bool {
	em.mu.Lock()
	defer em.mu.Unlock()
	if !em.started || em.closed {
		return false
	}
	id := e.s.ID
	if len(em.queues[id]) == 0 {
		em.turns = append(em.turns, id)
	}
	em.queues[id] = append(em.queues[id], e)
	select {
	case em.wake <- struct{}{}:
	default:
	}
	return true
}

// next takes the next event to send: the oldest of the session whose turn it is. The session
// goes to the back of the line if it has more.
func (em *emitter) next() (emission, bool) {
	em.mu.Lock()
	defer em.mu.Unlock()
	if len(em.turns) == 0 {
		return emission{}, false
	}
	id := em.turns[0]
	em.turns = em.turns[1:]
	q := em.queues[id]
	e := q[0]
	q[0] = emission{} // let the sent event's session and context go
	if q = q[1:]; len(q) == 0 {
		delete(em.queues, id)
	} else {
		em.queues[id] = q
		em.turns = append(em.turns, id)
	}
	return e, true
}

func (em *emitter) run() {
	defer close(em.done)
	for {
		if e, ok := em.next(); ok {
			em.send(e)
			continue
		}
		em.mu.Lock()
		closed := em.closed && len(em.turns) == 0
		em.mu.Unlock()
		if closed {
			return
		}
		<-em.wake
	}
}

// close sends what is queued and stops the sender; later events are sent by their callers.
func (em *emitter) close() {
	em.mu.Lock()
	if !em.started || em.closed {
		em.mu.Unlock()
		return
	}
	em.closed = true
	select {
	case em.wake <- struct{}{}:
	default:
	}
	em.mu.Unlock()
	<-em.done
}

// pending counts the events queued and not sent yet.
func (em *emitter) pending() int {
	em.mu.Lock()
	defer em.mu.Unlock()
	n := 0
	for _, q := range em.queues {
		n += len(q)
	}
	return n
}

func (svc *Service) sendEmission(em emission) {
	if err := svc.rooms.Emit(em.ctx, &em.s, em.e); err != nil {
		zerolog.Ctx(em.ctx).Err(err).Str("session_id", em.s.ID).Str("action", string(em.e.Action)).Msg("Failed to emit a lifecycle event")
	}
}
