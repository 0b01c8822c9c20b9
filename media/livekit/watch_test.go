package livekit_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/livekit/protocol/auth"
	lkproto "github.com/livekit/protocol/livekit"
	"github.com/rs/zerolog"
	"google.golang.org/protobuf/proto"

	"github.com/telehealth-bridge/telehealth-bridge/internal/lktest"
	"github.com/telehealth-bridge/telehealth-bridge/media/livekit"
)

// within polls cond every 10 ms and fails the test unless it holds within d; it returns how
// long it took.
func within(t *testing.T, d time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	deadline := time.After(d)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-deadline:
			t.Fatalf("not within %s: %s", d, what)
		case <-tick.C:
		}
	}
	return time.Since(start)
}

// Someone removed who comes back with the token they still hold: LiveKit accepts the token
// (it cannot revoke one) and sends them the room's participant list on joining; it reports
// them to the webhook only once their media connects, and keeps one whose media never does
// for a minute. The bridge watches the room after a removal: they are taken out within a
// second, with media or without (signalling only). Let back in, with a new token, they stay.
func TestRemovedBackWithOldTokenIsTakenOutWithinASecond(t *testing.T) {
	srv := lktest.Start(t)
	b := backend(t, srv, srv.Secret)
	url := b.URL()
	hostToken, _ := b.Token(roomA, drX, drX, true)
	aliceToken, _ := b.Token(roomA, alice, alice, false)
	bob := "@telehealth_guest_2:localhost"
	bobToken, _ := b.Token(roomA, bob, bob, false)
	host, err := lktest.Connect(t, url, hostToken)
	if err != nil {
		t.Fatal(err)
	}
	if err = host.PublishAudio(); err != nil {
		t.Fatal(err)
	}
	a1, err := lktest.Join(t, url, aliceToken)
	if err != nil {
		t.Fatal(err)
	}
	b1, err := lktest.Join(t, url, bobToken)
	if err != nil {
		t.Fatal(err)
	}
	b.Hangup("A", alice)
	b.Hangup("A", bob)
	eventually(t, "Alice and Bob are removed", func() bool { return a1.Gone() && b1.Gone() })

	// Signalling only: no media, so no participant_joined for the webhook to answer.
	a2, err := lktest.Join(t, url, aliceToken)
	if err != nil {
		t.Fatalf("LiveKit refused the old token (it never has): %v", err)
	}
	took := within(t, time.Second, "Alice, back with her old token (signalling only), is taken out", a2.Gone)
	t.Logf("back without media: taken out %s after joining; she was shown the clinician: %v", took.Round(time.Millisecond), a2.Sees(drX))
	// With media.
	a3, err := lktest.Connect(t, url, aliceToken)
	if err != nil {
		t.Fatal(err)
	}
	took = within(t, time.Second, "Alice, back with her old token and media, is taken out", a3.Gone)
	t.Logf("back with media: taken out %s after joining, having received %d of the clinician's audio packets", took.Round(time.Millisecond), a3.Received())
	if host.Gone() {
		t.Fatal("the clinician was taken out")
	}

	// Let back in: a new token, and she stays. Bob, still removed, comes back after her and is
	// taken out: the watch looked at the room while she was in it.
	newToken, _ := b.Token(roomA, alice, alice, false)
	a4, err := lktest.Join(t, url, newToken)
	if err != nil {
		t.Fatal(err)
	}
	b2, err := lktest.Join(t, url, bobToken)
	if err != nil {
		t.Fatal(err)
	}
	within(t, time.Second, "Bob, still removed, is taken out", b2.Gone)
	if a4.Gone() {
		t.Error("Alice, let back in with a new token, was taken out")
	}
	if host.Gone() {
		t.Error("the clinician was taken out")
	}
}

// The participant token grants what Element Call's own token service (lk-jwt-service) grants,
// read as the server reads them (the permissions it derives): join the one room, publish,
// subscribe, data. Nothing more: in particular not canUpdateOwnMetadata, which Element Call
// never uses (it sets no name, metadata or attributes of its own; checked in its source,
// 2026-08) and which would let a participant rewrite the Matrix user attribute the bridge's
// removals and webhooks rely on. The clinician's adds roomAdmin (the bridge's own pages
// moderate), nothing else.
func TestTokenGrantsAreElementCallsOnly(t *testing.T) {
	const secret = "0123456789abcdef0123456789abcdef-test"
	b, err := livekit.New(livekit.Config{URL: "wss://lk.example.org", APIKey: "APIkey", APISecret: secret}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	lkRoom := livekit.RoomName(roomA, livekit.RoomSlot)
	// lk-jwt-service's getJoinToken, as it builds it with LiveKit's library.
	yes := true
	ec := &auth.VideoGrant{RoomJoin: true, RoomCreate: false, CanPublish: &yes, CanSubscribe: &yes, Room: lkRoom}
	for _, host := range []bool{false, true} {
		token, err := b.Token(roomA, alice, alice, host)
		if err != nil {
			t.Fatal(err)
		}
		v, err := auth.ParseAPIToken(token)
		if err != nil {
			t.Fatal(err)
		}
		_, grants, err := v.Verify(secret)
		if err != nil {
			t.Fatal(err)
		}
		video := grants.Video
		if !proto.Equal(video.ToPermission(), ec.ToPermission()) {
			t.Errorf("host %v: permissions %v, Element Call's token service grants %v", host, video.ToPermission(), ec.ToPermission())
		}
		if video.GetCanUpdateOwnMetadata() {
			t.Errorf("host %v: the token lets its holder change their own metadata and attributes", host)
		}
		if video.RoomJoin != ec.RoomJoin || video.Room != ec.Room || video.RoomCreate || video.RoomList || video.RoomRecord ||
			video.IngressAdmin || video.Hidden || video.Recorder || video.Agent || video.RoomAdmin != host {
			t.Errorf("host %v: grant %+v", host, video)
		}
	}
}

// On the real server: a participant asking to change their own attributes (the Matrix user
// the bridge finds them by) and name is refused, and the room still lists the attribute as
// issued.
func TestParticipantCannotRewriteOwnAttributes(t *testing.T) {
	srv := lktest.Start(t)
	b := backend(t, srv, srv.Secret)
	token, _ := b.Token(roomA, alice, alice, false)
	a, err := lktest.Join(t, b.URL(), token)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := a.UpdateOwnAttributes(ctx, map[string]string{livekit.UserAttribute: drX})
	if err != nil {
		t.Fatal(err)
	}
	if resp.GetReason() != lkproto.RequestResponse_NOT_ALLOWED {
		t.Errorf("the server answered %v %q to a participant rewriting their attributes", resp.GetReason(), resp.GetMessage())
	}
	ps, err := b.Participants(ctx, livekit.RoomName(roomA, livekit.RoomSlot))
	if err != nil || len(ps) != 1 || ps[0].UserID() != alice {
		t.Errorf("the room lists %+v (%v), want Alice as issued", ps, err)
	}
}

// Sent back, then let in again at once: the hang-up runs in the background and may come after
// the new token. It then leaves the new connection alone: no removal, no watch. (It took out
// the re-admitted guest's connection in the admit bench, about once in 20 admissions.)
func TestLetBackInAtOnceKeepsTheNewConnection(t *testing.T) {
	srv := lktest.Start(t)
	b := backend(t, srv, srv.Secret)
	url := b.URL()
	var letIn atomic.Bool // what the lobby says of Alice
	b.UseAdmission(func(_ context.Context, _, userID string) error {
		if userID == alice && letIn.Load() {
			return nil
		}
		return errors.New("not let in")
	})
	hostToken, _ := b.Token(roomA, drX, drX, true)
	host, err := lktest.Connect(t, url, hostToken)
	if err != nil {
		t.Fatal(err)
	}
	// Removed, with a token issued in a race (asked for just before the removal was stored):
	// the lobby does not let her in, so the hang-up takes her out all the same.
	b.Hangup("A", alice)
	raced, _ := b.Token(roomA, alice, alice, false)
	r, err := lktest.Connect(t, url, raced)
	if err != nil {
		t.Fatal(err)
	}
	within(t, 10*time.Second, "Alice, removed, with a token from a race, to be taken out", r.Gone)
	letIn.Store(true)
	for round := range 3 {
		b.Hangup("A", alice)
		token, _ := b.Token(roomA, alice, alice, false)
		a, err := lktest.Connect(t, url, token)
		if err != nil {
			t.Fatal(err)
		}
		if err = a.PublishAudio(); err != nil {
			t.Fatal(err)
		}
		b.Settle()
		// Connected through three of the watch's looks: the clinician hears 150 more of her
		// packets (3 s), and she is still there.
		from := host.Received()
		within(t, 10*time.Second, "the clinician to hear Alice let back in", func() bool { return host.Received() >= from+150 || a.Gone() })
		if a.Gone() {
			t.Fatalf("round %d: Alice, let back in right after being sent back, was taken out", round)
		}
		a.Close()
		eventually(t, "Alice's connection to close", func() bool { return !a.Connected() || a.Gone() })
	}
}
