package livekit

import (
	"context"
	"strings"
	"sync"
)

// WebDevice is the MatrixRTC device of a web guest's call page. Element Call shows a LiveKit
// participant only beside a call.member event whose backend identity (<user>:<device>, its
// default mode) is theirs; a web guest's ghost has no device of its own, so the bridge names
// the call page WEB.
const WebDevice = "WEB"

// CallMemberType is MatrixRTC's membership state event (MSC3401/MSC4143).
const CallMemberType = "org.matrix.msc3401.call.member"

// membershipExpiry is the call.member's "expires" (ms), as Element Call writes it: a membership
// left behind (the bridge down when the guest leaves) ends by itself.
const membershipExpiry = 4 * 60 * 60 * 1000

// WebIdentity is the LiveKit identity of a web guest's call page: their ghost's user ID and the
// device WEB, the identity Element Call derives from the ghost's membership.
func WebIdentity(ghost string) string { return ghost + ":" + WebDevice }

// WebMemberStateKey is the state key of a web guest's call.member event, as Element Call writes
// its own (_<user>_<device>_m.call).
func WebMemberStateKey(ghost string) string { return "_" + ghost + "_" + WebDevice + "_m.call" }

// Memberships writes web guests' MatrixRTC memberships in session rooms (the appservice, as the
// ghost). Only the bridge's ghosts have them: IsGhost says who.
type Memberships interface {
	IsGhost(userID string) bool
	// SetCallMember sends the ghost's call.member state event with this state key; an empty
	// content ends the membership. It refuses users who are not ghosts.
	SetCallMember(ctx context.Context, matrixRoomID, ghost, stateKey string, content map[string]any) error
	// EndCallMember ends the ghost's membership as the bridge's bot: a guest being taken out
	// of the room (the kick races the write, and a ghost's write that loses is rejected).
	EndCallMember(ctx context.Context, matrixRoomID, ghost, stateKey string) error
}

// webMembers is the backend's side of the memberships: what it last wrote for each guest, so
// that a LiveKit webhook and a removal naming the same departure write one event, and a
// reconnection's late participant_left does not end the new connection's membership.
type webMembers struct {
	port       Memberships
	serviceURL string
	mu         sync.Mutex // one write at a time: a join and a leave of one guest stay in order
	written    map[string]bool
	// takenOut are the guests (room\x00ghost; room\x00 for everyone, the call ended) the lobby
	// took out, from before their LiveKit removal until a token is issued to them again: their
	// ghost writes nothing meanwhile, the bot's end is the last word. A ghost's write then
	// races its kick: Dendrite answers 200 and state resolution later drops the event, and
	// the bot's identical end that follows is answered with the ghost's event ID and never
	// sent (seen: the membership stayed, in about 1 run in 8).
	takenOut map[string]bool
}

// takeOut marks a guest (or, ghost empty, everyone in the room) taken out: their ghost's
// writes stop until letBackIn.
func (m *webMembers) takeOut(matrixRoomID, ghost string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.takenOut[matrixRoomID+"\x00"+ghost] = true
}

// letBackIn ends a guest's taken-out mark (and the room's): a token is issued to them again.
func (m *webMembers) letBackIn(matrixRoomID, ghost string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.takenOut, matrixRoomID+"\x00"+ghost)
	delete(m.takenOut, matrixRoomID+"\x00")
}

// UseMemberships makes the backend announce web guests' call pages to Element Call: their
// ghost's call.member (device WEB) while the page is connected to LiveKit, naming the bridge's
// token service (serviceURL, the .well-known's livekit_service_url) as the focus.
func (b *Backend) UseMemberships(m Memberships, serviceURL string) {
	b.members = &webMembers{port: m, serviceURL: serviceURL, written: map[string]bool{}, takenOut: map[string]bool{}}
}

// webGuest says whether a LiveKit participant is a web guest's call page: a ghost connected
// with the identity the bridge signs for them.
func (b *Backend) webGuest(userID, identity string) bool {
	return b.members != nil && userID != "" && identity == WebIdentity(userID) && b.members.port.IsGhost(userID)
}

// syncWebMember writes the guest's membership as their connection now is: present while
// LiveKit lists the identity in the room (joined says the connection was just reported; a
// leave with the identity still listed is an older connection's), empty otherwise. A write
// that would repeat the last one is skipped.
func (b *Backend) syncWebMember(ctx context.Context, lkRoom, matrixRoomID, ghost string, joined bool) {
	m := b.members
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.takenOut[matrixRoomID+"\x00"+ghost] || m.takenOut[matrixRoomID+"\x00"] {
		// A webhook of a connection the lobby took out (its participant_left, or a
		// participant_joined let through just before the removal): the bot ends the membership.
		b.log.Debug().Bool("joined", joined).Msg("Skipped a taken-out web guest's call membership")
		return
	}
	identity := WebIdentity(ghost)
	present := false
	ps, err := b.Participants(ctx, lkRoom)
	if err != nil {
		b.log.Err(err).Msg("Failed to list a LiveKit room for a web guest's call membership")
		present = joined // the webhook's word, when LiveKit cannot be asked
	}
	for _, p := range ps {
		if p.Identity == identity {
			present = true
		}
	}
	b.writeWebMember(ctx, matrixRoomID, ghost, present, false)
}

// writeWebMember writes the membership (present) or its end, as the ghost or (byBot, for a
// guest taken out) the bot; the caller holds m.mu.
func (b *Backend) writeWebMember(ctx context.Context, matrixRoomID, ghost string, present, byBot bool) {
	m := b.members
	key := matrixRoomID + "\x00" + ghost
	// The bot's end is always written: an end the ghost wrote just before (LiveKit's
	// participant_left for the removed page) may have lost the race with the kick.
	if last, ok := m.written[key]; ok && last == present && !byBot {
		return
	}
	content := map[string]any{}
	if present {
		content = map[string]any{
			"application": "m.call", "call_id": "", "scope": "m.room", "device_id": WebDevice,
			"expires":        membershipExpiry,
			"focus_active":   map[string]any{"type": "livekit", "focus_selection": "multi_sfu"},
			"foci_preferred": []any{map[string]any{"type": "livekit", "livekit_service_url": m.serviceURL, "livekit_alias": matrixRoomID}},
			"m.call.intent":  "video", "membershipID": WebIdentity(ghost),
		}
	}
	var err error
	if byBot && !present {
		err = m.port.EndCallMember(ctx, matrixRoomID, ghost, WebMemberStateKey(ghost))
	} else {
		err = m.port.SetCallMember(ctx, matrixRoomID, ghost, WebMemberStateKey(ghost), content)
	}
	if err != nil {
		b.log.Err(err).Bool("present", present).Msg("Failed to write a web guest's call membership")
		delete(m.written, key) // unknown now: the next event writes again
		return
	}
	m.written[key] = present
}

// endWebMembers ends, as the bot, the memberships of the web guests who were in a LiveKit room
// (listed before the removal) and of those the backend wrote for the Matrix room, restricted
// to one user when only is set: the lobby is taking them out of the room (removal, denial,
// send-back, leave, the end), and a write of the ghost's racing its kick would be rejected by
// the homeserver although answered 200.
func (b *Backend) endWebMembers(ctx context.Context, matrixRoomID string, listed []Participant, only string) {
	m := b.members
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	ghosts := map[string]bool{}
	for _, p := range listed {
		if user := p.UserID(); b.webGuest(user, p.Identity) && (only == "" || user == only) {
			ghosts[user] = true
		}
	}
	for key, present := range m.written {
		room, ghost, _ := strings.Cut(key, "\x00")
		if present && room == matrixRoomID && (only == "" || ghost == only) {
			ghosts[ghost] = true
		}
	}
	for ghost := range ghosts {
		b.writeWebMember(ctx, matrixRoomID, ghost, false, true)
	}
	if only == "" { // the call is over: nothing of it to remember
		for key := range m.written {
			if room, _, _ := strings.Cut(key, "\x00"); room == matrixRoomID {
				delete(m.written, key)
			}
		}
	}
}
