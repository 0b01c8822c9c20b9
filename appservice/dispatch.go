package appservice

import (
	"sync"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

// maxQueuedPerRoom bounds the timeline events waiting in one room: past it, a room's new
// timeline events are dropped, so one participant's flood costs bounded memory and delays no
// other room. State events (memberships, the session state) are never dropped: the lobby
// depends on each of them.
const maxQueuedPerRoom = 200

// dispatcher runs handlers one event at a time per room, in the order the homeserver sent
// them, while rooms proceed independently. A room's worker exists only while it has events.
type dispatcher struct {
	handle func(*event.Event)
	// dropped is told of each timeline event dropped from a full room (for the log).
	dropped func(*event.Event)

	mu    sync.Mutex
	rooms map[id.RoomID]*roomQueue
	wg    sync.WaitGroup
}

type roomQueue struct {
	pending []*event.Event
	// timeline counts the timeline (non-state) events in pending.
	timeline int
}

func newDispatcher(handle func(*event.Event)) *dispatcher {
	return &dispatcher{handle: handle, rooms: make(map[id.RoomID]*roomQueue)}
}

// push queues an event behind the others of its room.
func (d *dispatcher) push(evt *event.Event) {
	d.mu.Lock()
	defer d.mu.Unlock()
	q, running := d.rooms[evt.RoomID]
	if !running {
		q = &roomQueue{}
		d.rooms[evt.RoomID] = q
	}
	if evt.StateKey == nil {
		if q.timeline >= maxQueuedPerRoom {
			if d.dropped != nil {
				d.dropped(evt)
			}
			return
		}
		q.timeline++
	}
	q.pending = append(q.pending, evt)
	if !running {
		d.wg.Add(1)
		go d.drain(evt.RoomID, q)
	}
}

func (d *dispatcher) drain(roomID id.RoomID, q *roomQueue) {
	defer d.wg.Done()
	for {
		d.mu.Lock()
		if len(q.pending) == 0 {
			delete(d.rooms, roomID)
			d.mu.Unlock()
			return
		}
		evt := q.pending[0]
		q.pending[0] = nil
		q.pending = q.pending[1:]
		if evt.StateKey == nil {
			q.timeline--
		}
		d.mu.Unlock()
		d.handle(evt)
	}
}

// wait returns when every queued event has been handled.
func (d *dispatcher) wait() { d.wg.Wait() }
