package media_test

import (
	"strings"
	"testing"
	"time"
)

// Guard of the signalling messages a connection may send (docs/security.md, "Calls": `answer`,
// `candidate`, `restart`, `publish`, `unpublish`, `mute`, `leave`: a joined connection, about
// itself only), for make mutate: a connection still waiting to be let in may only bring its
// own connection up; the call hears nothing from it.

// TestWaitingConnectionMayNotSpeakToTheCall: a waiting client that says it muted is closed
// ("not in the call yet"), and the clinician already in the call is told nothing about it.
func TestWaitingConnectionMayNotSpeakToTheCall(t *testing.T) {
	for _, msg := range []map[string]any{
		{"type": "mute", "kind": "audio", "muted": true},
		{"type": "publish", "label": "screen"},
	} {
		t.Run(msg["type"].(string), func(t *testing.T) {
			s := newSFU(t)
			stop := make(chan struct{})
			defer close(stop)
			s.setAdmitted("sess-a/@alice:hs")
			alice := s.join("sess-a", "@alice:hs", nil)
			stream(alice, stop)
			bob := s.waitingClient("sess-a", "@bob:hs", nil)
			bob.Send(msg)
			select {
			case <-bob.Closed():
			case <-time.After(5 * time.Second):
				t.Fatalf("a waiting client sending %v was not closed", msg)
			}
			if r := bob.Reason(); !strings.Contains(r, "Not in the call yet") {
				t.Errorf("closed with %q, want it to say it is not in the call yet", r)
			}
			for _, m := range alice.Messages() {
				if m["user_id"] == "@bob:hs" {
					t.Errorf("the clinician was told %v about a client still waiting", m)
				}
			}
		})
	}
}
