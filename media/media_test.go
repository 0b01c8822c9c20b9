package media_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"runtime"
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
	// commands are the host commands that reached the bridge's handler (Hooks.Host).
	commands []hostCall
}

// hostCall is a host command as the bridge's handler received it.
type hostCall struct {
	session, actor string
	cmd            media.HostCommand
}

// HostCommand records the command: the test SFU's bridge, so that a test sees which commands
// get past the SFU's own check.
func (s *sfu) HostCommand(_ context.Context, sessionID, actor string, cmd media.HostCommand) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.commands = append(s.commands, hostCall{session: sessionID, actor: actor, cmd: cmd})
	return nil
}

func (s *sfu) hostCalls() []hostCall {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]hostCall(nil), s.commands...)
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
		Host: s,
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
	// Every connection reads its participant's datagrams from a socket of its own (Linux):
	// through the shared socket's reader each would cost a goroutine hand-off more.
	if own, all := s.srv.ConnectionsWithOwnSocket(); runtime.GOOS == "linux" && (all != 3 || own != all) {
		t.Errorf("%d of %d connections have a socket of their own, want 3 of 3", own, all)
	}
	if n := other.Get("@alice:hs audio") + other.Get("@alice:hs camera"); n != 0 {
		t.Errorf("eve, in another session, received %d of alice's packets", n)
	}
	_ = bob
}

// TestCredentialsAreChecked: every credential here names someone the bridge would let in
// (the admission hook says yes to alice and bob in sess-a and sess-b), and is fresh unless
// the case is expiry: so each is refused for the one thing wrong with it, the signature, the
// session it is bound to or its age, never for another. The refusal is close code 4403, and
// the admission hook is never asked about a credential whose signature is wrong.
func TestCredentialsAreChecked(t *testing.T) {
	s := newSFU(t)
	expired := s.srv.Credential("sess-a", "@alice:hs", false)
	s.clock.Advance(3 * time.Minute) // past CredentialTTL (2 minutes)
	fresh := func(c media.Claims) media.Claims {
		c.Expires = s.clock.Now().Add(time.Minute).Unix()
		return c
	}
	otherKey := []byte("another-secret-another-secret-12345")
	alice := fresh(media.Claims{Session: "sess-a", User: "@alice:hs"})
	good := s.srv.Credential("sess-a", "@alice:hs", false)
	payload, sig, _ := strings.Cut(good, ".")
	// The same payload, a signature of the right length that is not its signature.
	zeroSig := payload + "." + strings.Repeat("A", len(sig))
	// A claim changed after signing: alice's payload says bob, with alice's signature.
	var claims map[string]any
	body, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		t.Fatal(err)
	}
	if err = json.Unmarshal(body, &claims); err != nil {
		t.Fatal(err)
	}
	claims["u"] = "@bob:hs"
	body, _ = json.Marshal(claims)
	tampered := base64.RawURLEncoding.EncodeToString(body) + "." + sig
	// The host claim added after signing.
	claims["u"], claims["h"] = "@alice:hs", true
	body, _ = json.Marshal(claims)
	tamperedHost := base64.RawURLEncoding.EncodeToString(body) + "." + sig
	hostClaim := alice
	hostClaim.Host = true

	cases := map[string]struct{ session, credential string }{
		"fresh, signature of zeros":           {"sess-a", zeroSig},
		"fresh, signed with another key":      {"sess-a", media.Issue(otherKey, alice)},
		"fresh host claim, another key":       {"sess-a", media.Issue(otherKey, hostClaim)},
		"fresh, user changed after signing":   {"sess-a", tampered},
		"fresh, host added after signing":     {"sess-a", tamperedHost},
		"fresh, signature cut off":            {"sess-a", payload},
		"altered claims":                      {"sess-a", strings.Repeat("e", len(payload)) + "." + sig},
		"expired (signed with the right key)": {"sess-a", expired},
		"another session's":                   {"sess-b", s.srv.Credential("sess-a", "@alice:hs", false)},
		"no longer let in (hooks)":            {"sess-c", s.srv.Credential("sess-c", "@mallory:hs", false)},
	}
	var asked atomic.Int64
	s.mu.Lock()
	s.admitted = map[string]bool{"sess-a/@alice:hs": true, "sess-a/@bob:hs": true, "sess-b/@alice:hs": true}
	s.mu.Unlock()
	s.srv.SetHooks(media.Hooks{
		Admitted: func(_ context.Context, session, user string, host bool) error {
			asked.Add(1)
			s.mu.Lock()
			defer s.mu.Unlock()
			if !s.admitted[session+"/"+user] {
				return errors.New("not let in")
			}
			return nil
		},
		Host: s,
	})
	for name, tc := range cases {
		before := asked.Load()
		c, err := s.dial(tc.session, tc.credential, nil)
		if err == nil {
			c.Close()
			t.Errorf("%s: joined", name)
			continue
		}
		if !strings.Contains(err.Error(), "4403") {
			t.Errorf("%s: refused with %v, want close code 4403", name, err)
		}
		if strings.HasPrefix(name, "fresh") && asked.Load() != before {
			t.Errorf("%s: the admission hook was asked about a credential with a bad signature", name)
		}
	}
	// The same claims, signed with the SFU's key, are let in: the refusals above were the
	// signature's doing.
	for name, cred := range map[string]string{
		"alice":      s.srv.Credential("sess-a", "@alice:hs", false),
		"bob":        s.srv.Credential("sess-a", "@bob:hs", false),
		"alice host": media.Issue(secret, hostClaim),
	} {
		c, err := s.dial("sess-a", cred, nil)
		if err != nil {
			t.Errorf("a valid credential (%s) was refused: %v", name, err)
			continue
		}
		c.Close()
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

// TestNeverAdmittedGetsZero: someone who knocked and is not let in holds a live connection to
// the SFU (a waiting credential, POST /api/call/prepare) while the two let in publish to each
// other; not one media packet reaches them and none of theirs reaches the others, for as long
// as they are not admitted, even when the bridge's LetIn is called before the admission is
// stored. Once admitted and let in, the same connection receives the call: the zero counts
// above are the SFU's doing, not a client that cannot receive.
func TestNeverAdmittedGetsZero(t *testing.T) {
	s := newSFU(t)
	stop := make(chan struct{})
	defer close(stop)
	s.setAdmitted("sess-a/@alice:hs", "sess-a/@carol:hs")
	var atAlice, atCarol, atMallory callclient.Counter
	alice := s.join("sess-a", "@alice:hs", atAlice.Add)
	carol := s.join("sess-a", "@carol:hs", atCarol.Add)
	mallory := s.waitingClient("sess-a", "@mallory:hs", atMallory.Add)
	stream(alice, stop)
	stream(carol, stop)
	stream(mallory, stop)                // sends while waiting: the SFU must drop it all
	s.srv.LetIn("sess-a", "@mallory:hs") // not admitted: stays waiting
	eventually(t, "media between alice and carol", func() bool {
		return atAlice.Get("@carol:hs camera") > 50 && atCarol.Get("@alice:hs camera") > 50
	})
	if n := s.srv.Stats().Dropped[media.DropWaiting]; n == 0 {
		t.Error("the SFU dropped none of what mallory sent while waiting")
	}
	select {
	case <-mallory.Closed():
		t.Fatalf("the waiting connection closed: %s", mallory.Reason())
	case <-mallory.Joined():
		t.Error("a participant never let in joined the call")
	default:
	}
	if n := mallory.Received(); n != 0 {
		t.Errorf("mallory, never let in, received %d media packets", n)
	}
	for who, c := range map[string]*callclient.Counter{"alice": &atAlice, "carol": &atCarol} {
		if n := c.Get("@mallory:hs audio") + c.Get("@mallory:hs camera"); n != 0 {
			t.Errorf("%s received %d of mallory's packets", who, n)
		}
	}
	for _, m := range mallory.Messages() {
		if m["type"] == "track" || m["type"] == "peer_joined" || m["type"] == "joined" {
			t.Errorf("mallory, waiting, was told %v", m)
		}
	}

	s.setAdmitted("sess-a/@alice:hs", "sess-a/@carol:hs", "sess-a/@mallory:hs")
	s.srv.LetIn("sess-a", "@mallory:hs")
	select {
	case <-mallory.Joined():
	case <-time.After(10 * time.Second):
		t.Fatal("mallory, admitted, was not let in")
	}
	eventually(t, "the call at mallory once let in", func() bool {
		return atMallory.Get("@alice:hs camera") > 20 && atMallory.Get("@carol:hs camera") > 20
	})
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

// TestHostCommandsNeedTheHost: a participant's host command is refused by the SFU and never
// reaches the bridge's handler; the host's own command does, named after the host and their
// session. The refusal leaves the participant's socket open.
func TestHostCommandsNeedTheHost(t *testing.T) {
	s := newSFU(t)
	alice := s.join("sess-a", "@alice:hs", nil)
	for _, cmd := range []string{"end", "cancel", "admit", "remove"} {
		alice.Send(map[string]any{"type": "host", "command": cmd, "participant": "1"})
	}
	eventually(t, "the four refusals", func() bool {
		n := 0
		for _, m := range alice.Messages() {
			if m["type"] == "error" && strings.Contains(m["message"].(string), "Only the clinician") {
				n++
			}
		}
		return n == 4 || len(s.hostCalls()) > 0
	})
	if got := s.hostCalls(); len(got) != 0 {
		t.Errorf("a participant's host commands reached the bridge: %+v", got)
	}
	select {
	case <-alice.Closed():
		t.Error("a refused host command closed the socket")
	default:
	}

	// The host's command reaches the handler, and only theirs.
	host, err := s.dial("sess-a", s.srv.Credential("sess-a", "@dr:hs", true), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer host.Close()
	host.Send(map[string]any{"type": "host", "command": "admit", "participant": "1", "text": "hello"})
	eventually(t, "the host's command at the bridge", func() bool { return len(s.hostCalls()) > 0 })
	alice.Send(map[string]any{"type": "host", "command": "end"})
	eventually(t, "the fifth refusal", func() bool {
		n := 0
		for _, m := range alice.Messages() {
			if m["type"] == "error" {
				n++
			}
		}
		return n == 5
	})
	got := s.hostCalls()
	want := hostCall{session: "sess-a", actor: "@dr:hs", cmd: media.HostCommand{Command: "admit", Participant: "1", Text: "hello"}}
	if len(got) != 1 || got[0] != want {
		t.Errorf("the bridge got %+v, want only %+v", got, want)
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

// TestStuckConnectionIsClosed: the connection the shared UDP port gave up on (its packets went
// unread, udpMux) is the one closed, with the code that makes its page connect again; the other
// participant stays in the call.
func TestStuckConnectionIsClosed(t *testing.T) {
	s := newSFU(t)
	alice := s.join("s1", "@alice:hs", nil)
	bob := s.join("s1", "@bob:hs", nil)
	for _, c := range []*callclient.Client{alice, bob} {
		select {
		case <-c.Connected():
		case <-time.After(10 * time.Second):
			t.Fatal("not connected")
		}
	}
	ufrag := ""
	for _, m := range alice.Messages() {
		if sdp, _ := m["sdp"].(string); m["type"] == "offer" {
			ufrag = media.ICEUfrag(sdp)
		}
	}
	if ufrag == "" {
		t.Fatal("alice got no offer with an ICE username fragment")
	}
	s.srv.CloseStuck(ufrag)
	select {
	case <-alice.Closed():
		if alice.CloseCode() != 4002 {
			t.Errorf("alice's connection closed with %d, want 4002 (connect again)", alice.CloseCode())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the stuck connection was not closed")
	}
	select {
	case <-bob.Closed():
		t.Errorf("bob's connection closed too: %s", bob.Reason())
	default:
	}
}

// TestSenderReportsAreRead: the SFU reads what a publisher says about its own streams (sender
// reports) and answers them in its receiver reports. Unread, they filled the stream's RTCP
// buffer after about ten minutes of a call, and every report after was shed.
func TestSenderReportsAreRead(t *testing.T) {
	s := newSFU(t)
	alice := s.join("s1", "@alice:hs", nil)
	bob := s.join("s1", "@bob:hs", nil)
	stop := make(chan struct{})
	defer close(stop)
	stream(alice, stop)
	stream(bob, stop)
	eventually(t, "a receiver report from the SFU answering alice's sender reports", func() bool { return alice.AnsweredReports() > 0 })
}
