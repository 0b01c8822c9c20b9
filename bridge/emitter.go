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
	// gate, if not nil, holds the event (and its session's later ones) until it is closed: an
	// admission's event waits for the homeserver's invite, which is sent after the session's
	// lock is released, so that the person admitted can read it (history from the invite).
	gate chan struct{}
}

// emitGateKey carries the gate of the events emitted under a context (withEmitGate).
type emitGateKey struct{}

// withEmitGate makes the lifecycle events emitted under ctx wait for gate to close.
func withEmitGate(ctx context.Context, gate chan struct{}) context.Context {
	return context.WithValue(ctx, emitGateKey{}, gate)
}

func emitGate(ctx context.Context) chan struct{} {
	gate, _ := ctx.Value(emitGateKey{}).(chan struct{})
	return gate
}

func closed(gate chan struct{}) bool {
	select {
	case <-gate:
		return true
	default:
		return false
	}
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
	if e.gate != nil {
		go func() { // the sender looks at the session again once the gate opens
			<-e.gate
			em.mu.Lock()
			defer em.mu.Unlock()
			em.nudge()
		}()
	}
	select {
	case em.wake <- struct{}{}:
	default:
	}
	return true
}

// nudge wakes the sender (em.mu held).
func (em *emitter) nudge() {
	select {
	case em.wake <- struct{}{}:
	default:
	}
}

// next takes the next event to send: the oldest of the first session in line whose oldest
// event is not held by a gate. The session goes to the back of the line if it has more.
func (em *emitter) next() (emission, bool) {
	em.mu.Lock()
	defer em.mu.Unlock()
	turn := -1
	for i, id := range em.turns {
		if head := em.queues[id][0]; head.gate == nil || closed(head.gate) {
			turn = i
			break
		}
	}
	if turn < 0 {
		return emission{}, false
	}
	id := em.turns[turn]
	em.turns = append(em.turns[:turn:turn], em.turns[turn+1:]...)
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
		done := em.closed && len(em.turns) == 0
		em.mu.Unlock()
		if done {
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
