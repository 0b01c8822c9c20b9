package media_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/jonboulle/clockwork"
	"github.com/pion/logging"
	"github.com/pion/turn/v4"
	"github.com/rs/zerolog"

	"github.com/telehealth-bridge/telehealth-bridge/internal/callclient"
	"github.com/telehealth-bridge/telehealth-bridge/media"
)

// rawPage is a signalling client without WebRTC: it joins and then sends what a test says,
// never answering offers.
type rawPage struct {
	ws     *websocket.Conn
	mu     sync.Mutex
	types  []string
	code   atomic.Int32
	closed chan struct{}
}

func (s *sfu) rawJoin(session, user string) *rawPage {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, s.ws, nil)
	if err != nil {
		s.t.Fatal(err)
	}
	ws.SetReadLimit(1 << 20)
	join, _ := json.Marshal(map[string]string{"type": "join", "session": session, "credential": s.srv.Credential(session, user, false)})
	if err = ws.Write(ctx, websocket.MessageText, join); err != nil {
		s.t.Fatal(err)
	}
	p := &rawPage{ws: ws, closed: make(chan struct{})}
	go func() {
		defer close(p.closed)
		for {
			_, data, err := ws.Read(context.Background())
			if err != nil {
				var ce websocket.CloseError
				if errors.As(err, &ce) {
					p.code.Store(int32(ce.Code))
				}
				return
			}
			var m struct{ Type string }
			_ = json.Unmarshal(data, &m)
			p.mu.Lock()
			p.types = append(p.types, m.Type)
			p.mu.Unlock()
		}
	}()
	s.t.Cleanup(func() { _ = ws.CloseNow() })
	return p
}

func (p *rawPage) got(typ string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, t := range p.types {
		if t == typ {
			return true
		}
	}
	return false
}

func (p *rawPage) isClosed() bool {
	select {
	case <-p.closed:
		return true
	default:
		return false
	}
}

func candidate(size int) []byte {
	c := "candidate:1 1 udp 2130706431 127.0.0.1 5000 typ host " + strings.Repeat("x", size)
	m, _ := json.Marshal(map[string]any{"type": "candidate", "candidate": map[string]any{"candidate": c, "sdpMid": "0", "sdpMLineIndex": 0}})
	return m
}

func heap() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

func TestCandidateFloodBeforeTheAnswerClosesTheSender(t *testing.T) {
	// A high message rate: this test is about what queued candidates cost, not about the rate.
	s := newSFU(t, func(c *media.Config) { c.Signalling.MessageRate = 1000 })
	ctx := context.Background()

	t.Run("large candidates", func(t *testing.T) {
		page := s.rawJoin("sess-a", "@mallory:hs")
		eventually(t, "the offer", func() bool { return page.got("offer") })
		before := heap()
		msg := candidate(60 << 10)
		sent := 0
		for ; sent < 1000; sent++ {
			if page.ws.Write(ctx, websocket.MessageText, msg) != nil {
				break
			}
		}
		grew := int64(heap()) - int64(before)
		if !page.isClosed() && grew > 8<<20 {
			t.Fatalf("%d candidates of 60 KB before the answer grew the heap %d MB with the socket still open", sent, grew>>20)
		}
		eventually(t, "the sender to be closed", page.isClosed)
		if code := page.code.Load(); code != 4413 {
			t.Errorf("close code %d, want 4413", code)
		}
		if grew > 8<<20 {
			t.Errorf("the heap grew %d MB", grew>>20)
		}
	})

	t.Run("many candidates", func(t *testing.T) {
		page := s.rawJoin("sess-a", "@mallory2:hs")
		eventually(t, "the offer", func() bool { return page.got("offer") })
		msg := candidate(100)
		for i := 0; i < 200; i++ {
			if page.ws.Write(ctx, websocket.MessageText, msg) != nil {
				break
			}
		}
		eventually(t, "the sender of 200 candidates before the answer to be closed", page.isClosed)
		if code := page.code.Load(); code != 4413 {
			t.Errorf("close code %d, want 4413", code)
		}
	})
}

func TestUnansweredOfferTimesOut(t *testing.T) {
	s := newSFU(t)
	page := s.rawJoin("sess-a", "@mallory:hs")
	eventually(t, "the offer", func() bool { return page.got("offer") })
	s.clock.Advance(29 * time.Second)
	if page.isClosed() {
		t.Fatal("closed before the answer timeout")
	}
	s.clock.Advance(2 * time.Second)
	eventually(t, "a page that never answers to be closed", page.isClosed)
	if code := page.code.Load(); code != 4408 {
		t.Errorf("close code %d, want 4408", code)
	}
}

func TestAnsweredOfferDoesNotTimeOut(t *testing.T) {
	s := newSFU(t)
	stop := make(chan struct{})
	defer close(stop)
	var got callclient.Counter
	alice := s.join("sess-a", "@alice:hs", nil)
	bob := s.join("sess-a", "@bob:hs", got.Add)
	stream(alice, stop)
	eventually(t, "media", func() bool { return got.Get("@alice:hs camera") > 20 })
	for i := 0; i < 3; i++ {
		s.clock.Advance(31 * time.Second)
	}
	mark := got.Get("@alice:hs camera")
	eventually(t, "media after the answer timeout", func() bool { return got.Get("@alice:hs camera") > mark+20 })
	for _, c := range []*callclient.Client{alice, bob} {
		select {
		case <-c.Closed():
			t.Errorf("a call that answered was closed: %s", c.Reason())
		default:
		}
	}
}

func TestMessageFloodClosesTheFlooder(t *testing.T) {
	s := newSFU(t)
	stop := make(chan struct{})
	defer close(stop)
	var got callclient.Counter
	alice := s.join("sess-a", "@alice:hs", nil)
	s.join("sess-a", "@bob:hs", got.Add)
	stream(alice, stop)
	mallory := s.join("sess-a", "@mallory:hs", nil)
	msg := []byte(`{"type":"unpublish","label":"screen"}`)
	for i := 0; i < 2000; i++ {
		if mallory.SendRaw(context.Background(), msg) != nil {
			break
		}
	}
	eventually(t, "the flooder to be closed", func() bool { return mallory.CloseCode() != 0 })
	if code := mallory.CloseCode(); code != 4429 {
		t.Errorf("close code %d (%s), want 4429", code, mallory.Reason())
	}
	mark := got.Get("@alice:hs camera")
	eventually(t, "bob to keep receiving", func() bool { return got.Get("@alice:hs camera") > mark+10 })
}

func TestMuteFloodCostsOnlyTheFlooder(t *testing.T) {
	// No rate limit to speak of: coalescing alone must protect the others.
	s := newSFU(t, func(c *media.Config) { c.Signalling.MessageRate = 1 << 20 })
	stop := make(chan struct{})
	defer close(stop)
	var got callclient.Counter
	alice := s.join("sess-a", "@alice:hs", nil)
	bob := s.join("sess-a", "@bob:hs", got.Add)
	stream(alice, stop)
	eventually(t, "media", func() bool { return got.Get("@alice:hs camera") > 10 })
	mallory := s.join("sess-a", "@mallory:hs", nil)
	ctx := context.Background()
	for i := 0; i < 20000; i++ {
		msg := fmt.Sprintf(`{"type":"mute","kind":"audio","muted":%t}`, i%2 == 0)
		if mallory.SendRaw(ctx, []byte(msg)) != nil {
			break
		}
	}
	// The last toggle (muted=false) reaches bob.
	_ = mallory.SendRaw(ctx, []byte(`{"type":"mute","kind":"video","muted":true}`))
	eventually(t, "bob to see mallory's last state", func() bool {
		for _, m := range bob.Messages() {
			if m["type"] == "mute" && m["user_id"] == "@mallory:hs" && m["kind"] == "video" && m["muted"] == true {
				return true
			}
		}
		select {
		case <-bob.Closed():
			t.Fatalf("bob was disconnected by mallory's flood: %s", bob.Reason())
		default:
		}
		return false
	})
	mark := got.Get("@alice:hs camera")
	eventually(t, "bob to keep receiving", func() bool { return got.Get("@alice:hs camera") > mark+20 })
	for _, c := range []*callclient.Client{alice, bob} {
		select {
		case <-c.Closed():
			t.Errorf("a participant was disconnected by another's flood: %s", c.Reason())
		default:
		}
	}
}

func TestRemovalWinsOverARejoinLoop(t *testing.T) {
	s := newSFU(t)
	stop := make(chan struct{})
	defer close(stop)
	s.admitted = map[string]bool{"sess-a/@alice:hs": true}
	alice := s.join("sess-a", "@alice:hs", nil)
	stream(alice, stop)
	runs := 200
	if testing.Short() {
		runs = 20
	}
	for run := 0; run < runs; run++ {
		user := fmt.Sprintf("@bob%d:hs", run)
		s.mu.Lock()
		s.admitted["sess-a/"+user] = true
		s.mu.Unlock()
		var received atomic.Int64
		var joins atomic.Int64
		var refusal atomic.Value
		var clients []*callclient.Client
		var clientsMu sync.Mutex
		loopDone := make(chan struct{})
		go func() {
			defer close(loopDone)
			for {
				// A new credential each time, as the page gets from /api/call/join while the
				// bridge still thinks they are in.
				c, err := s.dial("sess-a", s.srv.Credential("sess-a", user, false), func(callclient.Packet) { received.Add(1) })
				if err != nil {
					refusal.Store(err.Error())
					return // refused: the removal went through
				}
				clientsMu.Lock()
				clients = append(clients, c)
				clientsMu.Unlock()
				joins.Add(1)
			}
		}()
		eventually(t, "the rejoin loop to get going", func() bool {
			if r := refusal.Load(); r != nil {
				t.Fatalf("run %d: refused before the removal: %s", run, r)
			}
			return joins.Load() >= 2
		})
		s.mu.Lock()
		delete(s.admitted, "sess-a/"+user)
		s.mu.Unlock()
		s.srv.Hangup("sess-a", user)
		<-loopDone
		clientsMu.Lock()
		all := clients
		clientsMu.Unlock()
		deadline := time.Now().Add(3 * time.Second)
		for _, c := range all {
			select {
			case <-c.Closed():
			case <-time.After(time.Until(deadline)):
				mark := received.Load()
				until := time.Now().Add(time.Second)
				for time.Now().Before(until) && received.Load() == mark {
					<-time.After(20 * time.Millisecond)
				}
				t.Fatalf("run %d: a connection made while being removed is still in the call 3 s after the removal (%d packets in the next second)", run, received.Load()-mark)
			}
		}
		for _, c := range all {
			c.Close()
		}
	}
}

// turnSFU is an SFU with the embedded TURN server on loopback.
func turnSFU(t *testing.T) (*media.Server, *clockwork.FakeClock) {
	t.Helper()
	clock := clockwork.NewFakeClockAt(time.Now())
	srv, err := media.New(media.Config{ListenIP: "127.0.0.1", TURN: media.TURNConfig{
		Enabled: true, ListenIP: "127.0.0.1", Secret: "turn-secret-turn-secret-turn-secret", TTL: 12 * time.Hour,
	}}, secret, clock, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return srv, clock
}

// turnClient connects to the TURN server (over UDP) with a user's credentials.
func turnClient(t *testing.T, ice media.ICEServer) *turn.Client {
	t.Helper()
	var server string
	for _, u := range ice.URLs {
		if strings.HasSuffix(u, "transport=udp") {
			server = strings.TrimSuffix(strings.TrimPrefix(u, "turn:"), "?transport=udp")
		}
	}
	conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c, err := turn.NewClient(&turn.ClientConfig{
		STUNServerAddr: server, TURNServerAddr: server, Conn: conn,
		Username: ice.Username, Password: ice.Credential, Realm: "telehealth",
		LoggerFactory: &logging.DefaultLoggerFactory{DefaultLogLevel: logging.LogLevelDisabled},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err = c.Listen(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.Close()
		_ = conn.Close()
	})
	return c
}

func TestTURNRelaysOnlyToTheSFU(t *testing.T) {
	srv, clock := turnSFU(t)
	ice := srv.ICEServers("@mallory:hs", clock.Now().Add(time.Hour))[0]
	c := turnClient(t, ice)
	relay, err := c.Allocate()
	if err != nil {
		t.Fatal(err)
	}
	defer relay.Close()

	// A service on the bridge's own host, on loopback: the relay must not reach it.
	service, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer service.Close()
	var reached atomic.Int64
	go func() {
		buf := make([]byte, 1500)
		for {
			if _, _, err := service.ReadFrom(buf); err != nil {
				return
			}
			reached.Add(1)
		}
	}()
	for i := 0; i < 5; i++ {
		_, _ = relay.WriteTo([]byte("GET /admin"), service.LocalAddr())
	}
	// Addresses the test never sends to (loopback only on this machine): asking permission
	// for them must fail.
	for _, addr := range []string{"127.0.0.2:5000", "10.0.0.1:53", "192.168.1.1:80", "172.16.0.1:80", "169.254.169.254:80", "100.64.0.1:80", "[::1]:80", "[fe80::1]:80"} {
		udp, _ := net.ResolveUDPAddr("udp", addr)
		if err := c.CreatePermission(udp); err == nil {
			t.Errorf("the TURN server granted a permission to relay to %s", addr)
		}
	}
	deadline := time.Now().Add(500 * time.Millisecond)
	for time.Now().Before(deadline) && reached.Load() == 0 {
		<-time.After(10 * time.Millisecond)
	}
	if n := reached.Load(); n != 0 {
		t.Errorf("the TURN server relayed %d packets to %s, a service on the bridge's host", n, service.LocalAddr())
	}
}

func TestTURNCredentialEndsWithTheSession(t *testing.T) {
	srv, clock := turnSFU(t)
	sessionEnd := clock.Now().Add(time.Hour)
	ice := srv.ICEServers("@guest:hs", sessionEnd)[0]
	expiry, _, _ := strings.Cut(ice.Username, ":")
	unix, err := strconv.ParseInt(expiry, 10, 64)
	if err != nil {
		t.Fatalf("username %q", ice.Username)
	}
	if until := time.Unix(unix, 0); until.After(sessionEnd.Add(30 * time.Minute)) {
		t.Errorf("the TURN credential is valid until %s after the session's end", until.Sub(sessionEnd).Round(time.Minute))
	}
	// During the session, it works.
	if _, err := turnClient(t, ice).Allocate(); err != nil {
		t.Fatalf("allocating during the session: %v", err)
	}
	clock.Advance(time.Hour + 31*time.Minute)
	if relay, err := turnClient(t, ice).Allocate(); err == nil {
		relay.Close()
		t.Error("the TURN credential still allocated a relay 31 minutes after the session's end and grace")
	}
	// Never beyond the configured TTL, even for a session far away.
	far := srv.ICEServers("@guest:hs", clock.Now().Add(72*time.Hour))[0]
	expiry, _, _ = strings.Cut(far.Username, ":")
	if unix, _ = strconv.ParseInt(expiry, 10, 64); time.Unix(unix, 0).After(clock.Now().Add(12 * time.Hour)) {
		t.Errorf("a credential lasts beyond media.turn.ttl: until %s", time.Unix(unix, 0))
	}
}

func TestTURNAllocationsPerUserAreCapped(t *testing.T) {
	srv, clock := turnSFU(t)
	ice := srv.ICEServers("@mallory:hs", clock.Now().Add(time.Hour))[0]
	allocated := 0
	for i := 0; i < 20; i++ {
		relay, err := turnClient(t, ice).Allocate()
		if err != nil {
			break
		}
		defer relay.Close()
		allocated++
	}
	if allocated > 10 {
		t.Errorf("one user got %d TURN allocations", allocated)
	}
	if allocated < 3 {
		t.Errorf("only %d allocations: a browser needs a few", allocated)
	}
	// Someone else still gets one.
	other := srv.ICEServers("@bob:hs", clock.Now().Add(time.Hour))[0]
	relay, err := turnClient(t, other).Allocate()
	if err != nil {
		t.Fatalf("another user was refused: %v", err)
	}
	relay.Close()
}
