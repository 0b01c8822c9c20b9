package media_test

import (
	"encoding/binary"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/telehealth-bridge/telehealth-bridge/internal/callclient"
	"github.com/telehealth-bridge/telehealth-bridge/media"
)

// waitingClient connects a publishing client with a waiting credential and waits until its
// media connection is up (ICE and DTLS done).
func (s *sfu) waitingClient(session, user string, onPacket func(callclient.Packet)) *callclient.Client {
	s.t.Helper()
	c, err := s.dial(session, s.srv.WaitingCredential(session, user), onPacket)
	if err != nil {
		s.t.Fatalf("%s waiting in %s: %v", user, session, err)
	}
	s.t.Cleanup(c.Close)
	select {
	case <-c.Connected():
	case <-time.After(10 * time.Second):
		s.t.Fatalf("%s's waiting connection did not come up", user)
	}
	return c
}

func (s *sfu) setAdmitted(keys ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.admitted = map[string]bool{}
	for _, k := range keys {
		s.admitted[k] = true
	}
}

// TestWaitingConnectionForwardsNothing: a waiting client is connected (ICE, DTLS) but nothing
// reaches it and nothing it sends reaches anyone, counted at the clients and at the SFU, even
// when it sends media while waiting; once let in, the same connection carries the call.
func TestWaitingConnectionForwardsNothing(t *testing.T) {
	s := newSFU(t)
	stop := make(chan struct{})
	defer close(stop)
	s.setAdmitted("sess-a/@alice:hs")
	var atAlice, atBob callclient.Counter
	alice := s.join("sess-a", "@alice:hs", atAlice.Add)
	stream(alice, stop)
	bob := s.waitingClient("sess-a", "@bob:hs", atBob.Add)
	for _, m := range bob.Messages() {
		if m["type"] == "joined" || m["type"] == "track" || m["type"] == "peer_joined" {
			t.Errorf("a waiting client was told %v", m)
		}
	}
	stream(bob, stop) // a client that sends while waiting: the SFU drops it all
	eventually(t, "the SFU to drop what the waiting client sends, and alice to publish", func() bool {
		st := s.srv.Stats()
		return st.Dropped[media.DropWaiting] > 40 && st.PacketsIn > 40
	})
	st := s.srv.Stats()
	if st.Waiting != 1 || st.Peers != 1 {
		t.Errorf("waiting %d, peers %d; want 1 and 1", st.Waiting, st.Peers)
	}
	if st.PacketsOut != 0 {
		t.Errorf("the SFU sent %d packets with only alice in the call", st.PacketsOut)
	}
	if n := bob.Received(); n != 0 {
		t.Errorf("the waiting client received %d media packets", n)
	}
	if n := alice.Received(); n != 0 {
		t.Errorf("alice received %d media packets from a waiting client", n)
	}

	// Let in: the same connection enters the call, both ways, with one more offer.
	offers := bob.Offers()
	s.setAdmitted("sess-a/@alice:hs", "sess-a/@bob:hs")
	bob.Enter()
	select {
	case <-bob.Joined():
	case <-bob.Closed():
		t.Fatalf("entering closed the connection: %s", bob.Reason())
	case <-time.After(10 * time.Second):
		t.Fatal("the waiting client was not let in")
	}
	eventually(t, "media both ways once let in", func() bool {
		return atBob.Get("@alice:hs camera") > 20 && atAlice.Get("@bob:hs camera") > 20
	})
	if got := bob.Offers() - offers; got != 1 {
		t.Errorf("entering took %d offers, want 1", got)
	}
	if st := s.srv.Stats(); st.Waiting != 0 || st.Peers != 2 {
		t.Errorf("after entering: waiting %d, peers %d; want 0 and 2", st.Waiting, st.Peers)
	}
}

// TestWaitingClientMayNotEnterBeforeAdmission: asking to enter before the bridge let the
// client in closes its connection; nothing was forwarded.
func TestWaitingClientMayNotEnterBeforeAdmission(t *testing.T) {
	s := newSFU(t)
	stop := make(chan struct{})
	defer close(stop)
	s.setAdmitted("sess-a/@alice:hs")
	alice := s.join("sess-a", "@alice:hs", nil)
	stream(alice, stop)
	bob := s.waitingClient("sess-a", "@bob:hs", nil)
	bob.Enter()
	select {
	case <-bob.Closed():
	case <-time.After(5 * time.Second):
		t.Fatal("a client not let in entered the call")
	}
	// The "closed" message comes just before the close frame with its code.
	eventually(t, "the close code 4403", func() bool { return bob.CloseCode() == 4403 })
	if bob.Received() != 0 {
		t.Errorf("%d packets received", bob.Received())
	}
}

// TestWaitingConnectionClosedWhenTakenOut: a waiting client denied (or whose knock was
// withdrawn or removed: the bridge hangs up on them all the same) is closed at once, and the
// session's end closes waiting connections too.
func TestWaitingConnectionClosedWhenTakenOut(t *testing.T) {
	s := newSFU(t)
	bob := s.waitingClient("sess-a", "@bob:hs", nil)
	carol := s.waitingClient("sess-a", "@carol:hs", nil)
	start := time.Now()
	s.srv.Hangup("sess-a", "@bob:hs")
	select {
	case <-bob.Closed():
	case <-time.After(time.Second):
		t.Fatal("the denied waiting client's connection was not closed within a second")
	}
	if took := time.Since(start); took > time.Second || !strings.Contains(bob.Reason(), "taken out") {
		t.Errorf("closed after %s with %q", took, bob.Reason())
	}
	select {
	case <-carol.Closed():
		t.Fatal("another waiting client was closed too")
	default:
	}
	s.srv.EndCalls("sess-a")
	select {
	case <-carol.Closed():
	case <-time.After(time.Second):
		t.Fatal("the session ended and a waiting connection stayed open")
	}
	if st := s.srv.Stats(); st.Waiting != 0 {
		t.Errorf("%d waiting connections left", st.Waiting)
	}
}

// TestWaitingCredentialIsBound: a waiting credential opens a waiting connection only for its
// holder, in its session, while they are knocking; never a seat in the call.
func TestWaitingCredentialIsBound(t *testing.T) {
	s := newSFU(t)
	s.knocked = map[string]bool{"sess-a/@bob:hs": true}
	s.setAdmitted("sess-a/@alice:hs", "sess-a/@bob:hs", "sess-b/@bob:hs", "sess-a/@mallory:hs")
	expired := s.srv.WaitingCredential("sess-a", "@bob:hs")
	s.clock.Advance(3 * time.Minute)
	cases := map[string]struct{ session, credential string }{
		"another session's":                 {"sess-b", s.srv.WaitingCredential("sess-a", "@bob:hs")},
		"another user's, who did not knock": {"sess-a", s.srv.WaitingCredential("sess-a", "@mallory:hs")},
		"for a session not knocked on":      {"sess-b", s.srv.WaitingCredential("sess-b", "@bob:hs")},
		"expired":                           {"sess-a", expired},
	}
	for name, tc := range cases {
		if c, err := s.dial(tc.session, tc.credential, nil); err == nil || !strings.Contains(err.Error(), "4403") {
			if c != nil {
				c.Close()
			}
			t.Errorf("%s: connected (err %v)", name, err)
		}
	}

	// A valid one gives a waiting connection, not the call, even to someone let in.
	c, err := s.dial("sess-a", s.srv.WaitingCredential("sess-a", "@bob:hs"), nil)
	if err != nil {
		t.Fatalf("a valid waiting credential was refused: %v", err)
	}
	if st := s.srv.Stats(); st.Waiting != 1 || st.Peers != 0 {
		t.Errorf("waiting %d, peers %d; want 1 and 0", st.Waiting, st.Peers)
	}
	c.Close()

	// Knock withdrawn or denied: the same credential no longer connects.
	fresh := s.srv.WaitingCredential("sess-a", "@bob:hs")
	s.mu.Lock()
	s.knocked = map[string]bool{}
	s.mu.Unlock()
	if c, err := s.dial("sess-a", fresh, nil); err == nil || !strings.Contains(err.Error(), "4403") {
		if c != nil {
			c.Close()
		}
		t.Errorf("a withdrawn knock's credential connected (err %v)", err)
	}
}

// TestLetInMovesTheWaitingConnection: the bridge's LetIn moves a waiting connection into the
// call once the admission hook agrees; before that it leaves it waiting, forwarding nothing.
func TestLetInMovesTheWaitingConnection(t *testing.T) {
	s := newSFU(t)
	stop := make(chan struct{})
	defer close(stop)
	s.setAdmitted("sess-a/@alice:hs")
	var atBob callclient.Counter
	alice := s.join("sess-a", "@alice:hs", nil)
	stream(alice, stop)
	bob := s.waitingClient("sess-a", "@bob:hs", atBob.Add)
	s.srv.LetIn("sess-a", "@bob:hs") // not admitted yet: stays waiting
	eventually(t, "alice's packets at the SFU", func() bool { return s.srv.Stats().PacketsIn > 40 })
	select {
	case <-bob.Joined():
		t.Fatal("let in without being admitted")
	case <-bob.Closed():
		t.Fatalf("closed: %s", bob.Reason())
	default:
	}
	if bob.Received() != 0 || s.srv.Stats().Waiting != 1 {
		t.Fatalf("received %d, waiting %d", bob.Received(), s.srv.Stats().Waiting)
	}
	s.setAdmitted("sess-a/@alice:hs", "sess-a/@bob:hs")
	s.srv.LetIn("sess-a", "@bob:hs")
	s.srv.LetIn("sess-a", "@bob:hs") // twice: one entry
	bob.Enter()                      // and the page's own request meanwhile
	select {
	case <-bob.Joined():
	case <-time.After(10 * time.Second):
		t.Fatal("LetIn did not let the waiting client in")
	}
	eventually(t, "alice's camera at bob", func() bool { return atBob.Get("@alice:hs camera") > 20 })
	if n := countType(bob, "joined"); n != 1 {
		t.Errorf("%d joined messages", n)
	}
}

// TestLetInGetsTheCachedKeyframe: a client let in from a waiting connection receives the
// publisher's latest keyframe from the SFU's cache as soon as its renegotiation binds, though
// the publisher sent it before (and never sends another here): its first picture does not wait
// for a keyframe request's round trip. The publisher is asked for a keyframe on entering too.
func TestLetInGetsTheCachedKeyframe(t *testing.T) {
	s := newSFU(t)
	stop := make(chan struct{})
	defer close(stop)
	s.setAdmitted("sess-a/@alice:hs")
	alice := s.join("sess-a", "@alice:hs", nil)
	<-alice.Connected()
	sent := publishOneKeyframe(alice, stop)
	var keyframe atomic.Bool
	bob := s.waitingClient("sess-a", "@bob:hs", func(p callclient.Packet) {
		if p.Seq == 1 {
			keyframe.Store(true)
		}
	})
	eventually(t, "alice's keyframe and a few more packets at the SFU", func() bool { return <-sent > 10 })
	plis := alice.KeyframeRequests()
	s.setAdmitted("sess-a/@alice:hs", "sess-a/@bob:hs")
	s.srv.LetIn("sess-a", "@bob:hs")
	<-bob.Joined()
	eventually(t, "the cached keyframe at bob", keyframe.Load)
	eventually(t, "a keyframe request to alice as bob entered", func() bool { return alice.KeyframeRequests() > plis })
}

// TestNewConnectionGetsTheCachedKeyframe: a client admitted before connecting (a new call
// connection, no waiting one) receives the publisher's latest keyframe from the cache once its
// connection is up, though the publisher sent it long before and never sends another: writes
// before SRTP is up are dropped, so the cache is sent again when the connection comes up.
func TestNewConnectionGetsTheCachedKeyframe(t *testing.T) {
	s := newSFU(t)
	stop := make(chan struct{})
	defer close(stop)
	s.setAdmitted("sess-a/@alice:hs", "sess-a/@bob:hs")
	alice := s.join("sess-a", "@alice:hs", nil)
	<-alice.Connected()
	sent := publishOneKeyframe(alice, stop)
	eventually(t, "alice's keyframe and a few more packets at the SFU", func() bool { return <-sent > 10 })
	var keyframe atomic.Bool
	bob := s.join("sess-a", "@bob:hs", func(p callclient.Packet) {
		if p.Seq == 1 {
			keyframe.Store(true)
		}
	})
	<-bob.Connected()
	eventually(t, "the cached keyframe at bob", keyframe.Load)
}

// publishOneKeyframe has a client send VP8 video every 20 ms until stop, a keyframe as its first
// packet only (sequence number 1); sent says how many went.
func publishOneKeyframe(c *callclient.Client, stop <-chan struct{}) <-chan uint32 {
	// VP8 (RFC 7741): S set, partition 0; then the P bit: clear for a keyframe.
	vp8 := func(key bool, counter uint32) []byte {
		b := make([]byte, 200)
		b[0] = 0x10
		if !key {
			b[1] = 0x01
		}
		binary.BigEndian.PutUint32(b[8:12], counter)
		return b
	}
	sent := make(chan uint32, 1)
	go func() {
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for i := uint32(1); ; i++ {
			_ = c.WriteVideoPayload(uint16(i), i*3000, true, vp8(i == 1, i))
			select {
			case sent <- i:
			default:
			}
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	return sent
}
