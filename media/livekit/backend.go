package livekit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
)

// Config is the LiveKit server the bridge issues tokens for.
type Config struct {
	// URL is the server's address as clients dial it (wss://…); the API is at the same host
	// over https.
	URL       string
	APIKey    string
	APISecret string
	// TokenTTL is how long a participant's token may be used to connect (once connected,
	// LiveKit keeps the connection and refreshes it itself).
	TokenTTL time.Duration
	// WatchEvery is how often the room of someone just removed is checked for them coming
	// back with a token they still hold (250 ms by default).
	WatchEvery time.Duration
}

// serverTokenTTL is how long the tokens a LiveKit server hands its connected participants
// (every 5 minutes, to reconnect with) stay valid: 10 minutes (livekit-server's
// tokenDefaultTTL, v1.13). Someone removed may hold one that long after their removal.
const serverTokenTTL = 10 * time.Minute

// SessionRooms finds the Matrix room of a session.
type SessionRooms interface {
	SessionRoom(ctx context.Context, sessionID string) (roomID string, err error)
}

// Backend issues tokens and removes people from a LiveKit server. It implements bridge.Calls.
type Backend struct {
	cfg   Config
	api   string
	sign  signer
	http  *http.Client
	rooms SessionRooms
	// members announces web guests' call pages to Element Call; nil without UseMemberships.
	members *webMembers
	log     zerolog.Logger
	wg      sync.WaitGroup
	ctx     context.Context
	cancel  context.CancelFunc

	// removed are the people taken out of each LiveKit room whose tokens may still be valid:
	// LiveKit room → user → until when. A watch runs per room while it has any.
	mu      sync.Mutex
	removed map[string]map[string]time.Time
	watches sync.WaitGroup
	// order numbers the hang-ups and the tokens issued; letIn is, per LiveKit room and user,
	// the number of the last token issued. A hang-up runs in the background: when the user
	// was let back in (a token) after it was asked for, it leaves alone the new connection.
	order    atomic.Uint64
	letIn    map[roomUser]uint64
	admitted func(ctx context.Context, matrixRoomID, userID string) error

	// presence counts the calls from the webhooks, for the metrics.
	presence presence
}

// ErrNoRoom: the session has no Matrix room yet, so no call.
var ErrNoRoom = errors.New("the session has no room yet")

// New checks the config and makes a backend. rooms may be set later with UseRooms.
func New(cfg Config, log zerolog.Logger) (*Backend, error) {
	api, err := apiURL(cfg.URL)
	if err != nil {
		return nil, err
	}
	if cfg.TokenTTL <= 0 {
		cfg.TokenTTL = 10 * time.Minute
	}
	if cfg.WatchEvery <= 0 {
		cfg.WatchEvery = 250 * time.Millisecond
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Backend{
		cfg: cfg, api: api, sign: signer{key: cfg.APIKey, secret: cfg.APISecret, now: time.Now},
		http: &http.Client{Timeout: 10 * time.Second}, log: log, ctx: ctx, cancel: cancel,
		removed: map[string]map[string]time.Time{},
		letIn:   map[roomUser]uint64{},
	}, nil
}

// apiURL is the RoomService's base: the client URL with ws(s) turned into http(s).
func apiURL(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("the LiveKit URL %q is not a URL", raw)
	}
	switch u.Scheme {
	case "ws":
		u.Scheme = "http"
	case "wss":
		u.Scheme = "https"
	case "http", "https":
	default:
		return "", fmt.Errorf("the LiveKit URL %q is not ws://, wss://, http:// or https://", raw)
	}
	return strings.TrimRight(u.String(), "/"), nil
}

// UseRooms sets how session rooms are found.
func (b *Backend) UseRooms(rooms SessionRooms) { b.rooms = rooms }

// UseAdmission sets how a hang-up checks, when it runs, that its user is let in again (the
// lobby; nil error: let in). Without it a hang-up always takes the user out.
func (b *Backend) UseAdmission(admitted func(ctx context.Context, matrixRoomID, userID string) error) {
	b.admitted = admitted
}

// URL is the server's address for clients.
func (b *Backend) URL() string { return b.cfg.URL }

// Token is a participant's access token for the LiveKit room of a Matrix room's call. The
// caller has checked that the user is let in: if they had been removed, the watch for their
// return stops.
func (b *Backend) Token(matrixRoomID, identity, userID string, host bool) (string, error) {
	if matrixRoomID == "" {
		return "", ErrNoRoom
	}
	// Let back in: the watch for their return ends, and a hang-up still to run leaves them
	// alone. The lobby is asked again: a token asked for just before a removal was stored
	// (a race) must not end the removal's watch.
	if b.letsIn(matrixRoomID, userID) {
		room := RoomName(matrixRoomID, RoomSlot)
		b.forgive(room, userID)
		b.mu.Lock()
		b.letIn[roomUser{room, userID}] = b.order.Add(1)
		b.mu.Unlock()
	}
	if b.members != nil {
		b.members.letBackIn(matrixRoomID, userID)
	}
	return b.sign.join(Grant{Room: RoomName(matrixRoomID, RoomSlot), Identity: identity, UserID: userID, MatrixRoom: matrixRoomID, Host: host}, b.cfg.TokenTTL)
}

// Hangup takes every connection of a user out of the session's LiveKit room, and ends a web
// guest's call membership. It returns at once; the removal runs in the background (the lobby must not wait on the network).
//
// LiveKit cannot revoke a token: whoever still holds a valid one (the bridge's, or the one
// the server refreshed while they were connected) may connect again, and is sent the room's
// participant list on joining. The server reports a participant (participant_joined, which
// the webhook answers) only once their media connects, and keeps one whose media never
// connects for a minute. So for as long as their tokens may be valid, the room is watched
// and they are taken out again within WatchEvery of connecting, whether their media
// connects or not; a token issued to them again (let back in) ends the watch.
//
// The hang-up is numbered when asked for: if the user is let back in before it runs, or while
// it runs (a token issued since, and the lobby lets them in now), it does nothing more: a
// send-back followed at once by a new admission must not take out the new connection. A token
// issued in a race with a removal (the lobby no longer lets them in) changes nothing.
func (b *Backend) Hangup(sessionID, userID string) {
	asked := b.order.Add(1)
	b.background("removing a participant from the LiveKit room", sessionID, func(ctx context.Context, matrixRoomID, room string) error {
		if b.admitted == nil || b.admitted(ctx, matrixRoomID, userID) != nil {
			asked = math.MaxUint64 // not let in now: no token counts as coming after
		}
		if !b.watch(room, userID, asked) {
			return nil
		}
		if b.members != nil {
			b.members.takeOut(matrixRoomID, userID) // before the removal: its participant_left writes nothing
		}
		removed, err := b.removeUser(ctx, room, userID, asked)
		b.endWebMembers(ctx, matrixRoomID, removed, userID)
		return err
	})
}

// letsIn asks the lobby whether the user is let in now (yes without UseAdmission: the caller
// of Token has checked).
func (b *Backend) letsIn(matrixRoomID, userID string) bool {
	if b.admitted == nil {
		return true
	}
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	return b.admitted(ctx, matrixRoomID, userID) == nil
}

// letBackInSince reports whether the user got a token for the room after the hang-up asked.
// The caller holds b.mu.
func (b *Backend) letBackInSince(room, userID string, asked uint64) bool {
	return b.letIn[roomUser{room, userID}] > asked
}

type roomUser struct{ room, user string }

// watch marks a user removed from a LiveKit room for as long as a token of theirs may be
// valid, and starts the room's watch unless it runs; not if they were let back in since the
// hang-up asked (false).
func (b *Backend) watch(room, userID string, asked uint64) bool {
	until := time.Now().Add(max(b.cfg.TokenTTL, serverTokenTTL))
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.letBackInSince(room, userID, asked) {
		return false
	}
	users := b.removed[room]
	if users == nil {
		users = map[string]time.Time{}
		b.removed[room] = users
		b.watches.Add(1)
		go b.watchRoom(room)
	}
	users[userID] = until
	return true
}

// forgive ends the watch for a user let back in.
func (b *Backend) forgive(room, userID string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.removed[room], userID)
}

// stillRemoved is the room's removed users whose tokens may still be valid; false once there
// are none (the watch ends).
func (b *Backend) stillRemoved(room string) (map[string]bool, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := time.Now()
	out := map[string]bool{}
	for user, until := range b.removed[room] {
		if now.Before(until) {
			out[user] = true
		} else {
			delete(b.removed[room], user)
		}
	}
	if len(out) == 0 {
		delete(b.removed, room)
		return nil, false
	}
	return out, true
}

// watchRoom lists the room's participants every WatchEvery and takes out anyone removed.
// Each removal runs on its own: one that hangs (on a node that just died, the RoomService
// waits for it) must not hold up the others or the next look.
func (b *Backend) watchRoom(room string) {
	defer b.watches.Done()
	var mu sync.Mutex
	inflight := map[string]bool{} // identities being removed
	tick := time.NewTicker(b.cfg.WatchEvery)
	defer tick.Stop()
	for {
		select {
		case <-b.ctx.Done():
			return
		case <-tick.C:
		}
		users, ok := b.stillRemoved(room)
		if !ok {
			return
		}
		ctx, cancel := context.WithTimeout(b.ctx, 2*time.Second)
		ps, err := b.Participants(ctx, room)
		cancel()
		if err != nil && b.ctx.Err() == nil {
			b.log.Warn().Err(err).Str("lk_room", room).Msg("Failed to check a LiveKit room for someone removed")
		}
		for _, p := range ps {
			mu.Lock()
			skip := inflight[p.Identity] || (!users[p.UserID()] && !users[p.Identity])
			if !skip {
				inflight[p.Identity] = true
			}
			mu.Unlock()
			if skip {
				continue
			}
			b.watches.Add(1)
			go func(identity string) {
				defer b.watches.Done()
				defer func() { mu.Lock(); delete(inflight, identity); mu.Unlock() }()
				ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
				defer cancel()
				err := b.call(ctx, "RemoveParticipant", &VideoGrant{RoomAdmin: true, Room: room},
					map[string]string{"room": room, "identity": identity}, nil)
				switch {
				case err == nil:
					b.log.Info().Str("lk_room", room).Msg("Took someone removed, back with an old token, out of a LiveKit room")
				case !errors.Is(err, errNotFound) && b.ctx.Err() == nil:
					b.log.Warn().Err(err).Str("lk_room", room).Msg("Failed to take someone removed out of a LiveKit room")
				}
			}(p.Identity)
		}
	}
}

// LetIn does nothing on LiveKit: a LiveKit participant connects with the token /api/call/join
// (or Element Call's token service) gives once they are admitted; there is no waiting
// connection to move.
func (b *Backend) LetIn(sessionID, userID string) {}

// EndCalls deletes the session's LiveKit room, which disconnects everyone in it, and ends the
// web guests' call memberships.
func (b *Backend) EndCalls(sessionID string) {
	b.background("deleting the LiveKit room", sessionID, func(ctx context.Context, matrixRoomID, room string) error {
		var listed []Participant
		if b.members != nil {
			listed, _ = b.Participants(ctx, room) // who was there, for their memberships
		}
		if b.members != nil {
			b.members.takeOut(matrixRoomID, "") // the participant_left webhooks of the deletion write nothing
		}
		err := b.DeleteRoom(ctx, room)
		b.endWebMembers(ctx, matrixRoomID, listed, "")
		b.mu.Lock()
		for k := range b.letIn {
			if k.room == room {
				delete(b.letIn, k)
			}
		}
		b.mu.Unlock()
		return err
	})
}

func (b *Backend) background(what, sessionID string, f func(ctx context.Context, matrixRoomID, room string) error) {
	if b.rooms == nil {
		return
	}
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
		defer cancel()
		log := b.log.With().Str("session_id", sessionID).Logger()
		roomID, err := b.rooms.SessionRoom(ctx, sessionID)
		if err == nil && roomID == "" {
			return // no room, no call
		}
		if err == nil {
			err = f(ctx, roomID, RoomName(roomID, RoomSlot))
		}
		if err != nil {
			log.Err(err).Msg("Failed " + what)
		}
	}()
}

// Close waits for removals under way (at most their timeout) and stops, the watches of
// rooms after removals included.
func (b *Backend) Close() error {
	done := make(chan struct{})
	go func() { b.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		b.cancel()
		<-done
	}
	b.cancel()
	b.watches.Wait()
	return nil
}

// Participant is a connection to a LiveKit room, as the RoomService lists it.
type Participant struct {
	Identity   string            `json:"identity"`
	Attributes map[string]string `json:"attributes"`
}

// UserID is the Matrix user the participant's token was issued to.
func (p Participant) UserID() string { return p.Attributes[UserAttribute] }

// Participants lists who is connected to a LiveKit room.
func (b *Backend) Participants(ctx context.Context, room string) ([]Participant, error) {
	var out struct {
		Participants []Participant `json:"participants"`
	}
	err := b.call(ctx, "ListParticipants", &VideoGrant{RoomAdmin: true, Room: room}, map[string]string{"room": room}, &out)
	if errors.Is(err, errNotFound) {
		return nil, nil // no room: nobody in it
	}
	return out.Participants, err
}

// RemoveUser disconnects every participant whose token was issued to the user, or whose
// identity is the user ID (the bridge's own pages use it as identity).
// A web guest's call page connects as <ghost>:WEB and carries the ghost in its attributes.
func (b *Backend) RemoveUser(ctx context.Context, room, userID string) error {
	_, err := b.removeUser(ctx, room, userID, b.order.Add(1))
	return err
}

// removeUser is RemoveUser, returning the connections it took out; it stops if the user is
// let back in after asked.
func (b *Backend) removeUser(ctx context.Context, room, userID string, asked uint64) ([]Participant, error) {
	ps, err := b.Participants(ctx, room)
	if err != nil {
		return nil, fmt.Errorf("listing the room's participants: %w", err)
	}
	var removed []Participant
	for _, p := range ps {
		if p.UserID() != userID && p.Identity != userID {
			continue
		}
		b.mu.Lock()
		back := b.letBackInSince(room, userID, asked)
		b.mu.Unlock()
		if back {
			break
		}
		err = b.call(ctx, "RemoveParticipant", &VideoGrant{RoomAdmin: true, Room: room},
			map[string]string{"room": room, "identity": p.Identity}, nil)
		if err != nil && !errors.Is(err, errNotFound) { // gone already is what we wanted
			return removed, fmt.Errorf("removing a participant: %w", err)
		}
		removed = append(removed, p)
	}
	return removed, nil
}

// DeleteRoom ends a LiveKit room and disconnects everyone in it.
func (b *Backend) DeleteRoom(ctx context.Context, room string) error {
	err := b.call(ctx, "DeleteRoom", &VideoGrant{RoomCreate: true}, map[string]string{"room": room}, nil)
	if errors.Is(err, errNotFound) {
		return nil
	}
	return err
}

var errNotFound = errors.New("not found")

// call makes a RoomService request (Twirp, JSON), authorised by a one-minute token with the
// grant it needs.
func (b *Backend) call(ctx context.Context, method string, grant *VideoGrant, req, out any) error {
	token, err := b.sign.sign("", time.Minute, grant, nil)
	if err != nil {
		return err
	}
	body, _ := json.Marshal(req)
	r, err := http.NewRequestWithContext(ctx, http.MethodPost, b.api+"/twirp/livekit.RoomService/"+method, bytes.NewReader(body))
	if err != nil {
		return err
	}
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("Authorization", "Bearer "+token)
	resp, err := b.http.Do(r)
	if err != nil {
		return fmt.Errorf("LiveKit %s: the server did not answer: %w", method, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		var te struct {
			Code string `json:"code"`
			Msg  string `json:"msg"`
		}
		_ = json.Unmarshal(data, &te)
		if te.Code == "not_found" || resp.StatusCode == http.StatusNotFound {
			return errNotFound
		}
		return fmt.Errorf("LiveKit %s: HTTP %d %s %s", method, resp.StatusCode, te.Code, te.Msg)
	}
	if out != nil {
		if err = json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("LiveKit %s: unreadable answer: %w", method, err)
		}
	}
	return nil
}
