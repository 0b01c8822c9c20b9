package media_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
	"github.com/rs/zerolog"

	"github.com/telehealth-bridge/telehealth-bridge/internal/callclient"
	"github.com/telehealth-bridge/telehealth-bridge/media"
)

var secret = []byte("test-secret-test-secret-test-secret")

type sfu struct {
	t     *testing.T
	srv   *media.Server
	ws    string
	clock *clockwork.FakeClock
	api   *webrtc.API
	// admitted lists who may still connect; nil admits every valid credential.
	mu       sync.Mutex
	admitted map[string]bool
	// knocked lists who may hold a waiting connection; nil lets every waiting credential in.
	knocked map[string]bool
	hosts   []string
}

// newSFU starts an SFU on loopback; change adjusts its config.
func newSFU(t *testing.T, change ...func(*media.Config)) *sfu {
	t.Helper()
	clock := clockwork.NewFakeClockAt(time.Now())
	cfg := media.Config{ListenIP: "127.0.0.1"}
	for _, f := range change {
		f(&cfg)
	}
	srv, err := media.New(cfg, secret, clock, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	s := &sfu{t: t, srv: srv, clock: clock}
	srv.SetHooks(media.Hooks{
		Admitted: func(_ context.Context, session, user string, host bool) error {
			s.mu.Lock()
			defer s.mu.Unlock()
			if s.admitted != nil && !s.admitted[session+"/"+user] {
				return errors.New("not let in")
			}
			return nil
		},
		Waiting: func(_ context.Context, session, user string) error {
			s.mu.Lock()
			defer s.mu.Unlock()
			if s.knocked != nil && !s.knocked[session+"/"+user] {
				return errors.New("not waiting")
			}
			return nil
		},
		Presence: func(session, user string, host, present bool) {
			if host && present {
				s.mu.Lock()
				s.hosts = append(s.hosts, user)
				s.mu.Unlock()
			}
		},
	})
	web := httptest.NewServer(srv)
	s.ws = "ws" + strings.TrimPrefix(web.URL, "http")
	if s.api, err = callclient.NewAPI("127.0.0.1"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		web.Close()
		_ = srv.Close()
	})
	return s
}

// join connects a publishing client to a session.
func (s *sfu) join(session, user string, onPacket func(callclient.Packet)) *callclient.Client {
	s.t.Helper()
	c, err := s.dial(session, s.srv.Credential(session, user, false), onPacket)
	if err != nil {
		s.t.Fatalf("%s joining %s: %v", user, session, err)
	}
	s.t.Cleanup(c.Close)
	return c
}

func (s *sfu) dial(session, credential string, onPacket func(callclient.Packet)) (*callclient.Client, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return callclient.Dial(ctx, s.api, s.ws, session, credential, callclient.Options{Publish: true, OnPacket: onPacket})
}

// stream publishes 50 packets a second of audio and video until stop is closed.
func stream(c *callclient.Client, stop <-chan struct{}) {
	go func() {
		buf := make([]byte, 1200)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for i := uint32(0); ; i++ {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			_ = c.WriteAudio(uint16(i), i*960, i, 160, buf)
			_ = c.WriteVideo(uint16(i), i*3000, true, i, 1000, buf)
		}
	}()
}

// shareScreen starts the client's screen share and sends frames on it until stop.
func shareScreen(c *callclient.Client, stop <-chan struct{}) {
	c.ShareScreen()
	go func() {
		buf := make([]byte, 1000)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for i := uint32(0); ; i++ {
			select {
			case <-stop:
				return
			case <-tick.C:
				_ = c.WriteScreen(uint16(i), i*3000, i, 800, buf)
			}
		}
	}()
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		<-time.After(10 * time.Millisecond)
	}
}

func TestMembersOfOneSessionOnlyHearEachOther(t *testing.T) {
	s := newSFU(t)
	stop := make(chan struct{})
	defer close(stop)
	var got, other callclient.Counter
	alice := s.join("sess-a", "@alice:hs", nil)
	bob := s.join("sess-a", "@bob:hs", got.Add)
	eve := s.join("sess-b", "@eve:hs", other.Add)
	stream(alice, stop)
	stream(eve, stop)
	eventually(t, "bob to get alice's audio and video", func() bool {
		return got.Get("@alice:hs audio") > 20 && got.Get("@alice:hs camera") > 20
	})
	if got.Get("@eve:hs audio")+got.Get("@eve:hs camera") != 0 {
		t.Error("bob received packets from another session")
	}
	if n := other.Get("@alice:hs audio") + other.Get("@alice:hs camera"); n != 0 {
		t.Errorf("eve, in another session, received %d of alice's packets", n)
	}
	_ = bob
}

func TestCredentialsAreChecked(t *testing.T) {
	s := newSFU(t)
	good := s.srv.Credential("sess-a", "@alice:hs", false)
	parts := strings.Split(good, ".")
	expired := s.srv.Credential("sess-a", "@alice:hs", false)
	s.clock.Advance(3 * time.Minute)
	cases := map[string]struct{ session, credential string }{
		"forged signature":         {"sess-a", parts[0] + "." + strings.Repeat("A", len(parts[1]))},
		"altered claims":           {"sess-a", strings.Repeat("e", len(parts[0])) + "." + parts[1]},
		"expired":                  {"sess-a", expired},
		"another session's":        {"sess-b", s.srv.Credential("sess-a", "@alice:hs", false)},
		"no longer let in (hooks)": {"sess-c", s.srv.Credential("sess-c", "@mallory:hs", false)},
	}
	s.admitted = map[string]bool{"sess-a/@alice:hs": true, "sess-b/@alice:hs": true}
	for name, tc := range cases {
		if _, err := s.dial(tc.session, tc.credential, nil); err == nil || !strings.Contains(err.Error(), "4403") {
			t.Errorf("%s: joined (err %v)", name, err)
		}
	}
	if _, err := s.dial("sess-a", s.srv.Credential("sess-a", "@alice:hs", false), nil); err != nil {
		t.Errorf("a valid credential was refused: %v", err)
	}
}

func TestRemovedParticipantGetsNothingMore(t *testing.T) {
	s := newSFU(t)
	stop := make(chan struct{})
	defer close(stop)
	var received atomic.Int64
	alice := s.join("sess-a", "@alice:hs", nil)
	bob := s.join("sess-a", "@bob:hs", func(callclient.Packet) { received.Add(1) })
	stream(alice, stop)
	eventually(t, "bob to receive media", func() bool { return received.Load() > 20 })

	start := time.Now()
	s.srv.Hangup("sess-a", "@bob:hs")
	select {
	case <-bob.Closed():
	case <-time.After(time.Second):
		t.Fatal("bob's call was not closed within a second")
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("closing took %s", took)
	}
	if !strings.Contains(bob.Reason(), "taken out") {
		t.Errorf("close reason %q", bob.Reason())
	}
	// Count from now: with the connection closed server-side, nothing more arrives.
	after := received.Load()
	deadline := time.Now().Add(500 * time.Millisecond)
	for time.Now().Before(deadline) {
		<-time.After(50 * time.Millisecond)
	}
	if n := received.Load() - after; n != 0 {
		t.Errorf("bob received %d packets after being removed", n)
	}
}

func TestNeverAdmittedGetsZero(t *testing.T) {
	s := newSFU(t)
	stop := make(chan struct{})
	defer close(stop)
	s.admitted = map[string]bool{"sess-a/@alice:hs": true}
	alice := s.join("sess-a", "@alice:hs", nil)
	stream(alice, stop)
	var received atomic.Int64
	c, err := s.dial("sess-a", s.srv.Credential("sess-a", "@mallory:hs", false), func(callclient.Packet) { received.Add(1) })
	if err == nil {
		c.Close()
		t.Fatal("a participant never let in joined")
	}
	if received.Load() != 0 {
		t.Errorf("received %d packets", received.Load())
	}
}

func TestBadMessagesCloseOnlyTheirSocket(t *testing.T) {
	s := newSFU(t)
	stop := make(chan struct{})
	defer close(stop)
	var got callclient.Counter
	alice := s.join("sess-a", "@alice:hs", nil)
	bob := s.join("sess-a", "@bob:hs", got.Add)
	stream(alice, stop)
	for name, msg := range map[string]string{
		"not JSON":     "{nope",
		"unknown type": `{"type":"fly"}`,
		"oversized":    `{"type":"mute","kind":"` + strings.Repeat("x", 70<<10) + `"}`,
	} {
		c := s.join("sess-a", "@carol:hs", nil)
		if err := c.SendRaw(context.Background(), []byte(msg)); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		select {
		case <-c.Closed():
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: the socket stayed open", name)
		}
	}
	before := got.Get("@alice:hs camera")
	eventually(t, "bob to keep receiving", func() bool { return got.Get("@alice:hs camera") > before+10 })
	select {
	case <-bob.Closed():
		t.Errorf("bob's call closed: %s", bob.Reason())
	default:
	}
}

func TestEndCallsClosesEveryone(t *testing.T) {
	s := newSFU(t)
	a := s.join("sess-a", "@alice:hs", nil)
	b := s.join("sess-a", "@bob:hs", nil)
	s.srv.EndCalls("sess-a")
	for _, c := range []*callclient.Client{a, b} {
		select {
		case <-c.Closed():
			if c.Reason() != "The session has ended" {
				t.Errorf("reason %q", c.Reason())
			}
		case <-time.After(time.Second):
			t.Fatal("a call stayed open after the end")
		}
	}
}

func TestHostCommandsNeedTheHost(t *testing.T) {
	s := newSFU(t)
	c := s.join("sess-a", "@alice:hs", nil)
	c.Send(map[string]any{"type": "host", "command": "end"})
	eventually(t, "the refusal", func() bool {
		for _, m := range c.Messages() {
			if m["type"] == "error" && strings.Contains(m["message"].(string), "Only the clinician") {
				return true
			}
		}
		return false
	})
	select {
	case <-c.Closed():
		t.Error("a refused host command closed the socket")
	default:
	}
}

func TestLostPacketsAreRetransmitted(t *testing.T) {
	s := newSFU(t)
	stop := make(chan struct{})
	defer close(stop)
	// Bob's network loses the first copy of every tenth camera packet after the 20th. Only
	// video is dropped (audio has no retransmissions), by stream: an audio packet with the same
	// sequence number must not stand in for the video one.
	type key struct {
		ssrc uint32
		seq  uint16
	}
	var mu sync.Mutex
	dropped := map[key]bool{}
	api, err := callclient.NewAPIDropping("127.0.0.1", func(h *rtp.Header) bool {
		mu.Lock()
		defer mu.Unlock()
		k := key{h.SSRC, h.SequenceNumber}
		if h.PayloadType == 96 && h.SequenceNumber > 20 && h.SequenceNumber%10 == 0 && !dropped[k] {
			dropped[k] = true
			return true
		}
		return false
	})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[uint32]bool{}
	var seenMu sync.Mutex
	alice := s.join("sess-a", "@alice:hs", nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	bob, err := callclient.Dial(ctx, api, s.ws, "sess-a", s.srv.Credential("sess-a", "@bob:hs", false), callclient.Options{Publish: true, OnPacket: func(p callclient.Packet) {
		if p.Label == "camera" {
			seenMu.Lock()
			seen[p.Seq] = true
			seenMu.Unlock()
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer bob.Close()
	stream(alice, stop)
	eventually(t, "dropped packets to be retransmitted", func() bool {
		mu.Lock()
		lost := make([]uint16, 0, len(dropped))
		for k := range dropped {
			lost = append(lost, k.seq)
		}
		mu.Unlock()
		if len(lost) < 3 {
			return false
		}
		seenMu.Lock()
		defer seenMu.Unlock()
		for _, seq := range lost {
			if !seen[uint32(seq)] { // the stream's counter equals its sequence number
				return false
			}
		}
		return true
	})
}

func TestNewSubscriberGetsAKeyframeRequest(t *testing.T) {
	s := newSFU(t)
	stop := make(chan struct{})
	defer close(stop)
	alice := s.join("sess-a", "@alice:hs", nil)
	stream(alice, stop)
	eventually(t, "alice's connection", func() bool {
		select {
		case <-alice.Connected():
			return true
		default:
			return false
		}
	})
	before := alice.KeyframeRequests()
	s.join("sess-a", "@bob:hs", nil)
	eventually(t, "a keyframe request to alice when bob joins", func() bool { return alice.KeyframeRequests() > before })
}

func TestScreenShareReachesTheOthers(t *testing.T) {
	s := newSFU(t)
	stop := make(chan struct{})
	defer close(stop)
	var got callclient.Counter
	alice := s.join("sess-a", "@alice:hs", nil)
	s.join("sess-a", "@bob:hs", got.Add)
	stream(alice, stop)
	shareScreen(alice, stop)
	eventually(t, "bob to receive alice's screen", func() bool { return got.Get("@alice:hs screen") > 10 })
	if got.Get("@alice:hs camera") == 0 {
		t.Error("the camera stopped when the screen started")
	}
}

func TestICERestartKeepsTheCallGoing(t *testing.T) {
	s := newSFU(t)
	stop := make(chan struct{})
	defer close(stop)
	var got callclient.Counter
	alice := s.join("sess-a", "@alice:hs", nil)
	bob := s.join("sess-a", "@bob:hs", got.Add)
	stream(alice, stop)
	eventually(t, "media", func() bool { return got.Get("@alice:hs camera") > 10 })
	offers := func() int {
		n := 0
		for _, m := range bob.Messages() {
			if m["type"] == "offer" {
				n++
			}
		}
		return n
	}
	before := offers()
	bob.Send(map[string]any{"type": "restart"})
	eventually(t, "a new offer", func() bool { return offers() > before })
	mark := got.Get("@alice:hs camera")
	eventually(t, "media after the restart", func() bool { return got.Get("@alice:hs camera") > mark+20 })
}

func TestTURNRelaysCalls(t *testing.T) {
	clock := clockwork.NewFakeClock()
	srv, err := media.New(media.Config{ListenIP: "127.0.0.1", TURN: media.TURNConfig{
		Enabled: true, ListenIP: "127.0.0.1", Secret: "turn-secret",
	}}, secret, clock, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	web := httptest.NewServer(srv)
	defer web.Close()
	ws := "ws" + strings.TrimPrefix(web.URL, "http")
	api, _ := callclient.NewAPI("127.0.0.1")
	servers := srv.ICEServers("@bob:hs", clock.Now().Add(time.Hour))
	if len(servers) != 1 || len(servers[0].URLs) != 2 || !strings.Contains(servers[0].URLs[1], "transport=tcp") {
		t.Fatalf("ICE servers %+v", servers)
	}
	for _, transport := range []string{"udp", "tcp"} {
		t.Run(transport, func(t *testing.T) {
			var iceServers []webrtc.ICEServer
			for _, u := range servers[0].URLs {
				if strings.HasSuffix(u, transport) {
					iceServers = append(iceServers, webrtc.ICEServer{URLs: []string{u}, Username: servers[0].Username, Credential: servers[0].Credential})
				}
			}
			var got callclient.Counter
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			session := "turn-" + transport
			alice, err := callclient.Dial(ctx, api, ws, session, srv.Credential(session, "@alice:hs", false), callclient.Options{Publish: true})
			if err != nil {
				t.Fatal(err)
			}
			defer alice.Close()
			bob, err := callclient.Dial(ctx, api, ws, session, srv.Credential(session, "@bob:hs", false),
				callclient.Options{Publish: true, OnPacket: got.Add, ICEServers: iceServers, RelayOnly: true})
			if err != nil {
				t.Fatal(err)
			}
			defer bob.Close()
			stop := make(chan struct{})
			defer close(stop)
			stream(alice, stop)
			eventually(t, "media through TURN over "+transport, func() bool { return got.Get("@alice:hs camera") > 10 })
		})
	}
}

// A join takes one offer and one answer, with everything already published in the call: a
// second offer would cost the page another round trip for nothing.
func TestAJoinTakesOneOffer(t *testing.T) {
	s := newSFU(t)
	alice := s.join("sess-a", "@alice:hs", nil)
	stop := make(chan struct{})
	defer close(stop)
	stream(alice, stop)
	// Carol sees alice's tracks once they are published: bob joins a call that has them.
	carol := s.join("sess-a", "@carol:hs", nil)
	eventually(t, "alice's tracks published", func() bool { return countType(carol, "track") == 2 })
	bob := s.join("sess-a", "@bob:hs", nil)
	eventually(t, "bob's answer", func() bool { return bob.Answers() >= 1 })
	// The SFU reads bob's messages in order and would send a second offer right after his
	// answer: the reply to a message sent after the answer comes after any such offer.
	bob.Send(map[string]any{"type": "host", "command": "end"})
	eventually(t, "the reply to the message after the answer", func() bool {
		for _, m := range bob.Messages() {
			if m["type"] == "error" {
				return true
			}
		}
		return false
	})
	if n := bob.Offers(); n != 1 {
		t.Errorf("bob's join took %d offers, want 1", n)
	}
	if tracks := countType(bob, "track"); tracks != 2 {
		t.Errorf("bob's one offer announced %d of alice's tracks, want 2 (audio and camera)", tracks)
	}
	select {
	case <-bob.Connected():
	case <-time.After(10 * time.Second):
		t.Fatal("bob's call did not connect")
	}
}

// countType counts the signalling messages of one type a client received.
func countType(c *callclient.Client, typ string) int {
	n := 0
	for _, m := range c.Messages() {
		if m["type"] == typ {
			n++
		}
	}
	return n
}

// TestScreenShareAgainAfterStopping: a page that stops sharing and shares again sends on the same
// transceiver with the same SSRC (no new track arrives at the SFU): the screen reaches the
// others again.
func TestScreenShareAgainAfterStopping(t *testing.T) {
	s := newSFU(t)
	stop := make(chan struct{})
	defer close(stop)
	var got callclient.Counter
	alice := s.join("sess-a", "@alice:hs", nil)
	bob := s.join("sess-a", "@bob:hs", got.Add)
	stream(alice, stop)
	shareScreen(alice, stop)
	eventually(t, "bob to receive alice's screen", func() bool { return got.Get("@alice:hs screen") > 10 })
	ended := func() bool {
		for _, m := range bob.Messages() {
			if m["type"] == "track_ended" {
				return true
			}
		}
		return false
	}
	alice.Send(map[string]any{"type": "unpublish", "label": "screen"})
	eventually(t, "the screen to end for bob", ended)
	alice.Send(map[string]any{"type": "publish", "label": "screen"})
	eventually(t, "a screen track announced to bob again", func() bool {
		screens := 0
		for _, m := range bob.Messages() {
			if m["type"] == "track" && m["label"] == "screen" {
				screens++
			}
		}
		return screens >= 2
	})
	before := got.Get("@alice:hs screen")
	eventually(t, "bob to receive alice's screen again", func() bool { return got.Get("@alice:hs screen") > before+10 })
}
