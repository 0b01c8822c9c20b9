package appservice

import (
	"sync"
	"sync/atomic"
	"testing"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

// Item 11: one participant floods a room with messages while the bridge is busy with it. The
// room's queue stays bounded, no membership change is lost, and other rooms go on.
func TestDispatcherBoundsAFloodedRoom(t *testing.T) {
	const flood = 1000
	flooded, quiet := id.RoomID("!flooded:localhost"), id.RoomID("!quiet:localhost")
	release := make(chan struct{})
	var once sync.Once
	var messages, members, others atomic.Int64
	d := newDispatcher(func(evt *event.Event) {
		if evt.RoomID == quiet {
			others.Add(1)
			return
		}
		once.Do(func() { <-release }) // the room's first event keeps the worker busy
		if evt.Type == event.StateMember {
			members.Add(1)
		} else {
			messages.Add(1)
		}
	})
	key := ""
	for i := 0; i < flood; i++ {
		d.push(&event.Event{RoomID: flooded, Type: event.EventMessage})
		if i%100 == 0 {
			d.push(&event.Event{RoomID: flooded, Type: event.StateMember, StateKey: &key})
		}
	}
	d.push(&event.Event{RoomID: quiet, Type: event.EventMessage})
	close(release)
	d.wait()
	if got := messages.Load(); got > 201 {
		t.Errorf("handled %d of %d flood messages, want at most 201 (one running, 200 queued)", got, flood)
	}
	if got := members.Load(); got != flood/100 {
		t.Errorf("handled %d of %d membership changes", got, flood/100)
	}
	if others.Load() != 1 {
		t.Error("another room's event was not handled")
	}
}
