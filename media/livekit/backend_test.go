package livekit_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/livekit/protocol/auth"
	lkproto "github.com/livekit/protocol/livekit"
	"github.com/livekit/protocol/webhook"
	"github.com/rs/zerolog"

	"github.com/telehealth-bridge/telehealth-bridge/internal/lkserver"
	"github.com/telehealth-bridge/telehealth-bridge/internal/lktest"
	"github.com/telehealth-bridge/telehealth-bridge/media/livekit"
)

const (
	roomA = "!sessionA:localhost"
	roomB = "!sessionB:localhost"
	alice = "@telehealth_guest_1:localhost"
	drX   = "@dr.x:localhost"
)

// sessionRooms is the bridge's session → Matrix room lookup, for two sessions.
type sessionRooms map[string]string

func (s sessionRooms) SessionRoom(_ context.Context, id string) (string, error) { return s[id], nil }

func backend(t *testing.T, srv *lkserver.Server, secret string) *livekit.Backend {
	t.Helper()
	b, err := livekit.New(livekit.Config{URL: "ws" + strings.TrimPrefix(srv.URL, "http"), APIKey: srv.Key, APISecret: secret}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	b.UseRooms(sessionRooms{"A": roomA, "B": roomB})
	t.Cleanup(func() { _ = b.Close() })
	return b
}

// The names are lk-jwt-service's, so that Element Call and the bridge's pages meet in one room
// (the expected values computed apart, with Python: SHA-256 of the compact JSON array, unpadded base64).
func TestNamesFollowLkJwtService(t *testing.T) {
	if got := livekit.RoomName("!abc:example.org", "m.call#ROOM"); got != "9YzbCxM8P0fwObUtiQ9m/ujMP9ruNMxS7SOsugBEaxA" {
		t.Errorf("room name %s", got)
	}
	if got := livekit.MemberIdentity("@a:example.org", "DEVICE", "member1"); got != "QIYcQpAMkr39xoRQBaDyqJ6hXd0+cjJLms35Ya54nWA" {
		t.Errorf("identity %s", got)
	}
	if livekit.RoomName(roomA, livekit.RoomSlot) == livekit.RoomName(roomB, livekit.RoomSlot) {
		t.Error("two sessions share a LiveKit room")
	}
}

// A participant's token, read with LiveKit's own verifier: this session's room only, publish
// and subscribe, no moderation, the Matrix user attached, ten minutes.
func TestTokenClaims(t *testing.T) {
	const secret = "0123456789abcdef0123456789abcdef-test"
	b, err := livekit.New(livekit.Config{URL: "wss://lk.example.org", APIKey: "APIkey", APISecret: secret}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	for _, host := range []bool{false, true} {
		user := alice
		if host {
			user = drX
		}
		token, err := b.Token(roomA, user, user, host)
		if err != nil {
			t.Fatal(err)
		}
		v, err := auth.ParseAPIToken(token)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err = v.Verify("another-secret-0123456789abcdef0123"); err == nil {
			t.Error("the token verifies with another secret")
		}
		claims, grants, err := v.Verify(secret)
		if err != nil {
			t.Fatalf("LiveKit's verifier refuses the token: %v", err)
		}
		video := grants.Video
		switch {
		case v.APIKey() != "APIkey" || grants.Identity != user:
			t.Errorf("key %s identity %s", v.APIKey(), grants.Identity)
		case !video.RoomJoin || video.Room != livekit.RoomName(roomA, livekit.RoomSlot):
			t.Errorf("join %v room %s", video.RoomJoin, video.Room)
		case !video.GetCanPublish() || !video.GetCanSubscribe() || video.GetCanUpdateOwnMetadata():
			t.Errorf("publish %v subscribe %v update metadata %v", video.GetCanPublish(), video.GetCanSubscribe(), video.GetCanUpdateOwnMetadata())
		case video.RoomAdmin != host || video.RoomCreate || video.RoomList || video.RoomRecord:
			t.Errorf("host %v: admin %v create %v list %v record %v", host, video.RoomAdmin, video.RoomCreate, video.RoomList, video.RoomRecord)
		case grants.Attributes[livekit.UserAttribute] != user:
			t.Errorf("attributes %v", grants.Attributes)
		}
		if ttl := time.Until(claims.ExpiresAt.Time); ttl < 9*time.Minute || ttl > 10*time.Minute {
			t.Errorf("the token lasts %s", ttl)
		}
	}
	if _, err = b.Token("", alice, alice, false); err == nil {
		t.Error("a token for a session without a room")
	}
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-deadline:
			t.Fatalf("after 10 s: %s", what)
		case <-tick.C:
		}
	}
}

// Against a real LiveKit server: the bridge's tokens let people into their session's room,
// the clinician alone may moderate it, Hangup disconnects every connection of the user it
// names and nobody else, and EndCalls disconnects everyone.
func TestLiveKitServerAcceptsTokensAndRemoves(t *testing.T) {
	srv := lktest.Start(t)
	b := backend(t, srv, srv.Secret)
	url := b.URL()
	lkRoom := livekit.RoomName(roomA, livekit.RoomSlot)

	hostToken, _ := b.Token(roomA, drX, drX, true)
	aliceToken, _ := b.Token(roomA, alice, alice, false)
	// Alice's second device, from Element Call: a hashed identity, her user as attribute.
	aliceEC, _ := b.Token(roomA, livekit.MemberIdentity(alice, "PHONE", "m1"), alice, false)
	bob := "@telehealth_guest_2:localhost"
	bobToken, _ := b.Token(roomA, bob, bob, false)

	host, err := lktest.Join(t, url, hostToken)
	if err != nil {
		t.Fatalf("the clinician cannot join: %v", err)
	}
	if host.Room != lkRoom {
		t.Errorf("joined room %s, want %s", host.Room, lkRoom)
	}
	a1, err := lktest.Join(t, url, aliceToken)
	if err != nil {
		t.Fatal(err)
	}
	a2, err := lktest.Join(t, url, aliceEC)
	if err != nil {
		t.Fatal(err)
	}
	bobP, err := lktest.Join(t, url, bobToken)
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "the room lists all four", func() bool {
		ps, err := b.Participants(context.Background(), lkRoom)
		return err == nil && len(ps) == 4
	})

	// A token signed with another secret gets nobody in.
	forged := backend(t, srv, "ffffffffffffffffffffffffffffffffffff")
	forgedToken, _ := forged.Token(roomA, "@mallory:localhost", "@mallory:localhost", true)
	if _, err = lktest.Join(t, url, forgedToken); err == nil {
		t.Error("a token signed with another secret joined")
	}

	// Moderation with one's own token: the clinician's works, a participant's is refused.
	if code := removeWith(t, srv.URL, aliceToken, lkRoom, bob); code == http.StatusOK {
		t.Error("a participant's token removed someone")
	}
	if bobP.Gone() {
		t.Fatal("bob was disconnected by a participant")
	}

	// Hangup: both of Alice's connections go, nobody else's.
	b.Hangup("A", alice)
	eventually(t, "both of Alice's connections are closed", func() bool { return a1.Gone() && a2.Gone() })
	if host.Gone() || bobP.Gone() {
		t.Error("Hangup of Alice disconnected someone else")
	}
	// Hangup in another session's room touches nobody here.
	b.Hangup("B", bob)
	if code := removeWith(t, srv.URL, hostToken, lkRoom, bob); code != http.StatusOK {
		t.Errorf("the clinician's token could not remove a participant: HTTP %d", code)
	}
	eventually(t, "the clinician removed Bob", bobP.Gone)

	// The end: the room is deleted and the clinician is disconnected too.
	b.EndCalls("A")
	eventually(t, "the clinician is disconnected at the end", host.Gone)
	ps, err := b.Participants(context.Background(), lkRoom)
	if err != nil || len(ps) != 0 {
		t.Errorf("after the end: %v, %v", ps, err)
	}
}

// removeWith calls RoomService.RemoveParticipant with a participant's own token.
func removeWith(t *testing.T, api, token, room, identity string) int {
	t.Helper()
	body := `{"room":"` + room + `","identity":"` + identity + `"}`
	req, _ := http.NewRequest(http.MethodPost, api+"/twirp/livekit.RoomService/RemoveParticipant", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// admission lets in the users it holds.
type admission struct {
	mu  sync.Mutex
	ids map[string]bool
}

func (a *admission) set(user string, in bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.ids[user] = in
}

func (a *admission) check(_ context.Context, room, user string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if room != roomA || !a.ids[user] {
		return errors.New("not let in")
	}
	return nil
}

// LiveKit's webhooks: whoever connects without being let in (a token still valid after their
// removal) is taken out at once; those let in stay. The events are signed and sent by LiveKit's
// own notifier (protocol/webhook, the server's code): the server itself sends participant_joined
// only once a participant's ICE connects, which the signalling-only test participant never
// does. The connections and removals are the real server's. Webhooks not signed with the key
// are refused.
func TestWebhookTakesOutWhoIsNotLetIn(t *testing.T) {
	var handler atomic.Value
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		handler.Load().(http.Handler).ServeHTTP(w, r)
	}))
	defer hook.Close()
	srv := lktest.Start(t)
	b := backend(t, srv, srv.Secret)
	let := &admission{ids: map[string]bool{alice: true}}
	handler.Store(b.WebhookHandler(livekit.WebhookHooks{Admitted: let.check}))
	webhook.InitWebhookStats(nil) // the notifier counts its sends in Prometheus metrics
	notifier := webhook.NewURLNotifier(webhook.URLNotifierParams{URL: hook.URL + "/livekit/webhook", APIKey: srv.Key, APISecret: srv.Secret})
	defer notifier.Stop(true)
	lkRoom := livekit.RoomName(roomA, livekit.RoomSlot)
	joined := func(identity, user string) {
		t.Helper()
		err := notifier.QueueNotify(context.Background(), &lkproto.WebhookEvent{
			Event: webhook.EventParticipantJoined, Room: &lkproto.Room{Name: lkRoom},
			Participant: &lkproto.ParticipantInfo{Identity: identity, Attributes: map[string]string{livekit.UserAttribute: user, livekit.RoomAttribute: roomA}},
		})
		if err != nil {
			t.Fatal(err)
		}
	}

	aliceToken, _ := b.Token(roomA, alice, alice, false)
	a1, err := lktest.Join(t, b.URL(), aliceToken)
	if err != nil {
		t.Fatal(err)
	}
	joined(alice, alice)
	bob := "@telehealth_guest_2:localhost"
	bobToken, _ := b.Token(roomA, bob, bob, false)
	bobConn, err := lktest.Join(t, b.URL(), bobToken)
	if err != nil {
		t.Fatal(err)
	}
	joined(bob, bob)
	eventually(t, "Bob, not let in, is taken out", bobConn.Gone)
	if a1.Gone() {
		t.Error("Alice, let in, was taken out")
	}

	// Alice is removed, then comes back with the token she still holds: out again.
	let.set(alice, false)
	b.Hangup("A", alice)
	eventually(t, "Alice is removed", a1.Gone)
	a2, err := lktest.Join(t, b.URL(), aliceToken)
	if err != nil {
		t.Fatal(err)
	}
	joined(alice, alice)
	eventually(t, "Alice, back with her old token, is taken out", a2.Gone)

	// Webhooks not from the server: no signature, another secret, a token without the body's hash.
	for name, sign := range map[string]string{"unsigned": "", "another secret": "x", "no body hash": "body"} {
		req, _ := http.NewRequest(http.MethodPost, hook.URL+"/livekit/webhook", strings.NewReader(`{"event":"participant_joined"}`))
		switch sign {
		case "x":
			tok, _ := backend(t, srv, "ffffffffffffffffffffffffffffffffffff").Token(roomA, alice, alice, false)
			req.Header.Set("Authorization", tok)
		case "body":
			tok, _ := b.Token(roomA, alice, alice, false)
			req.Header.Set("Authorization", tok)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s webhook: HTTP %d", name, resp.StatusCode)
		}
	}
}

// The real server's own webhooks: a participant whose WebRTC connection comes up is reported
// (participant_joined), and one not let in is taken out while one let in stays.
func TestRealServerWebhookTakesOutWhoIsNotLetIn(t *testing.T) {
	var handler atomic.Value
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		handler.Load().(http.Handler).ServeHTTP(w, r)
	}))
	defer hook.Close()
	srv := lktest.Start(t, hook.URL+"/livekit/webhook")
	b := backend(t, srv, srv.Secret)
	let := &admission{ids: map[string]bool{alice: true}}
	handler.Store(b.WebhookHandler(livekit.WebhookHooks{Admitted: let.check}))

	aliceToken, _ := b.Token(roomA, alice, alice, false)
	a, err := lktest.Connect(t, b.URL(), aliceToken)
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "Alice's connection is up", a.Connected)
	bob := "@telehealth_guest_2:localhost"
	bobToken, _ := b.Token(roomA, bob, bob, false)
	bobConn, err := lktest.Connect(t, b.URL(), bobToken)
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "Bob, not let in, is taken out on the server's webhook", bobConn.Gone)
	if a.Gone() {
		t.Error("Alice, let in, was taken out")
	}
	// The metrics count from the same webhooks: one call with Alice in it; Bob, taken out,
	// is not a peer.
	eventually(t, "the stats count one call with one peer (Alice)", func() bool {
		s := b.Stats()
		return s.Calls == 1 && s.Peers == 1
	})
	a.Leave()
	eventually(t, "the stats count no call once Alice left", func() bool {
		s := b.Stats()
		return s.Calls == 0 && s.Peers == 0 && s.Tracks == 0
	})
}

// Media on the real server: a removed participant's packets stop reaching the others, and
// nothing reaches them any more. (Zero packets is measured over a window: there is no event
// for "nothing arrives".)
func TestRemovalEndsMedia(t *testing.T) {
	srv := lktest.Start(t)
	b := backend(t, srv, srv.Secret)
	tok := func(user string) string {
		token, _ := b.Token(roomA, user, user, false)
		return token
	}
	bob, carol := "@telehealth_guest_2:localhost", "@telehealth_guest_3:localhost"
	a, err := lktest.Connect(t, b.URL(), tok(alice))
	if err != nil {
		t.Fatal(err)
	}
	bobConn, err := lktest.Connect(t, b.URL(), tok(bob))
	if err != nil {
		t.Fatal(err)
	}
	c, err := lktest.Connect(t, b.URL(), tok(carol))
	if err != nil {
		t.Fatal(err)
	}
	if err = a.PublishAudio(); err != nil {
		t.Fatal(err)
	}
	if err = c.PublishAudio(); err != nil {
		t.Fatal(err)
	}
	// Bob hears both (two tracks), Alice hears Carol.
	eventually(t, "Bob receives media", func() bool { return bobConn.Received() > 100 })
	eventually(t, "Alice receives Carol's media", func() bool { return a.Received() > 50 })

	b.Hangup("A", alice)
	eventually(t, "Alice is removed", a.Gone)
	// Packets already in flight to Alice arrive first: her count stops moving.
	last := a.Received()
	eventually(t, "Alice's packets in flight to land", func() bool {
		<-time.After(100 * time.Millisecond)
		now := a.Received()
		settled := now == last
		last = now
		return settled
	})
	bobBefore, aliceBefore := bobConn.Received(), a.Received()
	<-time.After(2 * time.Second) // the window measured: what each receives in it

	// Bob still gets Carol's track (50 packets a second), and nothing of Alice's any more.
	if got := bobConn.Received() - bobBefore; got < 60 || got > 120 {
		t.Errorf("Bob received %d packets in 2 s after Alice's removal: want Carol's ~100 only", got)
	}
	if got := a.Received() - aliceBefore; got != 0 {
		t.Errorf("Alice received %d packets in the 2 s after her removal", got)
	}
}
