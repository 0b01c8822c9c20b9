package appservice

import (
	"net/http"
	"strings"

	"github.com/telehealth-bridge/telehealth-bridge/internal/keyed"
)

// roomWrites lets one of the bridge's writes into a room reach the homeserver at a time, across
// all the users it speaks as (the bot, every ghost). Two events sent at once both follow the
// room's latest event: a fork. Dendrite 0.15 can resolve such a fork (a ghost's join beside
// the bot's lifecycle event, a send-back's kick beside its notice) into a state without the
// membership change, though the event shows in the timeline; the ghost is then refused
// everything ("sender not in room"), or cannot knock again because it still counts as joined.
// Writes to different rooms, and reads, go through side by side.
type roomWrites struct {
	next  http.RoundTripper
	rooms keyed.Locks[string]
}

func newRoomWrites(next http.RoundTripper) *roomWrites {
	if next == nil {
		next = http.DefaultTransport
	}
	return &roomWrites{next: next}
}

func (t *roomWrites) RoundTrip(req *http.Request) (*http.Response, error) {
	room := writtenRoom(req)
	if room == "" {
		return t.next.RoundTrip(req)
	}
	// Held until the answer's headers: the homeserver has then taken the event in (or not).
	defer t.rooms.Lock(room)()
	return t.next.RoundTrip(req)
}

// roomEventWrites are the client-server endpoints under /rooms/{roomId}/ that add an event to
// the room's graph.
var roomEventWrites = map[string]bool{
	"send": true, "state": true, "invite": true, "kick": true, "ban": true, "unban": true,
	"join": true, "leave": true, "knock": true, "redact": true,
}

// writtenRoom is the room (as written in the path) a request adds an event to, or "".
func writtenRoom(req *http.Request) string {
	if req.Method != http.MethodPut && req.Method != http.MethodPost {
		return ""
	}
	path := req.URL.EscapedPath()
	i := strings.Index(path, "/_matrix/client/")
	if i < 0 {
		return ""
	}
	// v3/rooms/{roomId}/send/..., or v3/join/{roomIdOrAlias}, v3/knock/{roomIdOrAlias}
	parts := strings.Split(path[i+len("/_matrix/client/"):], "/")
	switch {
	case len(parts) >= 4 && parts[1] == "rooms" && roomEventWrites[parts[3]]:
		return parts[2]
	case len(parts) == 3 && (parts[1] == "join" || parts[1] == "knock"):
		return parts[2]
	}
	return ""
}
