package livekit_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/telehealth-bridge/telehealth-bridge/internal/lktest"
	"github.com/telehealth-bridge/telehealth-bridge/media/livekit"
)

// call is one session's call in the two-node test: its clinician and patient, both let in.
type call struct {
	session, matrixRoom string
	host, patient       *lktest.Participant
	node                int
	atKill              [2]int64
}

// Two LiveKit nodes on one Redis behind one address (a load balancer, as deployed): the
// sessions' rooms land on both nodes (each room on one node, whichever node a participant's
// signalling reaches); when one node's process is killed, the calls it hosted come back on the
// other within 10 s, by the participants reconnecting to the same address with the tokens they
// hold, and their media flows again; the calls on the other node keep their media. Admission
// is unchanged: someone removed before the failure, and someone removed while the node was
// down, are taken out of the surviving node when they come back with their old tokens.
func TestTwoNodesFailover(t *testing.T) {
	var handler atomic.Value
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		handler.Load().(http.Handler).ServeHTTP(w, r)
	}))
	defer hook.Close()
	cl := lktest.StartCluster(t, 2, hook.URL+"/livekit/webhook")
	rooms := sessionRooms{}
	for i := range 20 {
		rooms[fmt.Sprintf("S%d", i)] = fmt.Sprintf("!session%d:localhost", i)
	}
	b, err := livekit.New(livekit.Config{URL: "ws" + strings.TrimPrefix(cl.URL, "http"), APIKey: cl.Key, APISecret: cl.Secret}, zerolog.New(zerolog.NewTestWriter(t)))
	if err != nil {
		t.Fatal(err)
	}
	b.UseRooms(rooms)
	t.Cleanup(func() { _ = b.Close() })
	let := &admission{ids: map[string]bool{}}
	handler.Store(b.WebhookHandler(livekit.WebhookHooks{Admitted: func(ctx context.Context, room, user string) error {
		return let.check(ctx, roomA, user) // one admission list for every session
	}}))
	url := b.URL()
	connect := func(matrixRoom, user string, host bool) *lktest.Participant {
		t.Helper()
		let.set(user, true)
		token, err := b.Token(matrixRoom, user, user, host)
		if err != nil {
			t.Fatal(err)
		}
		p, err := lktest.ConnectWith(t, url, token, lktest.Options{Subscribe: true, Reconnect: true})
		if err != nil {
			t.Fatalf("%s joining through the balancer: %v", user, err)
		}
		if err = p.PublishAudio(); err != nil {
			t.Fatal(err)
		}
		return p
	}

	// Sessions until both nodes host calls (at least six; the nodes pick rooms at random, as
	// LiveKit does by default).
	var calls []*call
	perNode := [2]int{}
	for i := 0; i < 20 && (i < 6 || perNode[0] == 0 || perNode[1] == 0); i++ {
		c := &call{session: fmt.Sprintf("S%d", i), matrixRoom: rooms[fmt.Sprintf("S%d", i)]}
		c.host = connect(c.matrixRoom, fmt.Sprintf("@dr%d:localhost", i), true)
		c.patient = connect(c.matrixRoom, fmt.Sprintf("@telehealth_guest_%d:localhost", i), false)
		eventually(t, c.session+"'s two hear each other", func() bool { return c.host.Received() > 10 && c.patient.Received() > 10 })
		c.node = cl.NodeOfPort(c.host.MediaPort())
		if c.node < 0 || cl.NodeOfPort(c.patient.MediaPort()) != c.node {
			t.Fatalf("%s: the clinician's media goes to port %d, the patient's to %d (nodes' ports %d/%d, %d/%d)", c.session,
				c.host.MediaPort(), c.patient.MediaPort(), cl.Nodes[0].UDPPort, cl.Nodes[0].TCPPort, cl.Nodes[1].UDPPort, cl.Nodes[1].TCPPort)
		}
		perNode[c.node]++
		calls = append(calls, c)
	}
	t.Logf("%d calls: %d on node 1, %d on node 2; signalling connections through the balancer: %d to node 1, %d to node 2",
		len(calls), perNode[0], perNode[1], cl.Balancer.Served(0), cl.Balancer.Served(1))
	if perNode[0] == 0 || perNode[1] == 0 {
		t.Fatalf("all %d calls on one node", len(calls))
	}
	// LiveKit's own record of where the rooms are agrees: two node IDs.
	if ids := roomNodes(t, cl); len(ids) != 2 {
		t.Errorf("Redis places the rooms on %d nodes: %v", len(ids), ids)
	}

	// The node to kill hosts the first call; in it, Carol was let in and removed before the
	// failure, and Dave is let in and connected, to be removed while the node is down.
	victim := calls[0].node
	survivor := 1 - victim
	first := calls[0]
	carol, dave := "@telehealth_guest_carol:localhost", "@telehealth_guest_dave:localhost"
	carolToken, _ := b.Token(first.matrixRoom, carol, carol, false)
	carolConn, err := lktest.Join(t, url, carolToken)
	if err != nil {
		t.Fatal(err)
	}
	let.set(carol, false)
	b.Hangup(first.session, carol)
	eventually(t, "Carol is removed", carolConn.Gone)
	daveConn := connect(first.matrixRoom, dave, false)
	eventually(t, "Dave hears the call", func() bool { return daveConn.Received() > 10 })

	for _, c := range calls {
		c.atKill = [2]int64{c.host.Received(), c.patient.Received()}
	}
	killed := time.Now()
	if err = cl.Nodes[victim].Stop(); err != nil { // SIGKILL: a crash, not a drain
		t.Fatal(err)
	}
	let.set(dave, false)
	b.Hangup(first.session, dave)

	// Every call, on either node, has media again through the survivor within 10 s.
	deadline := killed.Add(10 * time.Second)
	var slowest time.Duration
	for _, c := range calls {
		for k, p := range []*lktest.Participant{c.host, c.patient} {
			for cl.NodeOfPort(p.MediaPort()) != survivor || p.Received() < c.atKill[k]+25 || p.Gone() {
				if time.Now().After(deadline) || p.Gone() {
					t.Fatalf("%s (on node %d) participant %d: 10 s after node %d died: gone %v, media port %d (survivor's %d), %d packets since, %d reconnects",
						c.session, c.node+1, k, victim+1, p.Gone(), p.MediaPort(), cl.Nodes[survivor].UDPPort, p.Received()-c.atKill[k], p.Reconnects())
				}
				<-time.After(20 * time.Millisecond)
			}
			slowest = max(slowest, time.Since(killed))
		}
	}
	t.Logf("all %d calls have media through node %d %s after node %d was killed", len(calls), survivor+1, slowest.Round(time.Millisecond), victim+1)

	if ids := roomNodes(t, cl); len(ids) != 1 {
		t.Errorf("after the failover Redis places the rooms on %d nodes: %v", len(ids), ids)
	}

	// Dave, removed while his node was down, reconnected to the survivor and was taken out.
	eventually(t, "Dave, removed during the failure, is out", daveConn.Gone)
	// Carol, back with her old token on the survivor, is taken out within a second.
	back, err := lktest.Join(t, url, carolToken)
	if err == nil {
		within(t, time.Second, "Carol, back with her old token after the failover, is taken out", back.Gone)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ps, err := b.Participants(ctx, livekit.RoomName(first.matrixRoom, livekit.RoomSlot))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ps {
		if p.UserID() == carol || p.UserID() == dave {
			t.Errorf("%s is still in the call after the failover", p.UserID())
		}
	}
	if len(ps) != 2 {
		t.Errorf("the first call lists %d participants after the failover, want its clinician and patient", len(ps))
	}
}

// roomNodes are the node IDs LiveKit's Redis routing table (room_node_map) places rooms on.
func roomNodes(t *testing.T, cl *lktest.Cluster) map[string]int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	vals, err := cl.Redis.Do(ctx, "HVALS", "room_node_map")
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]int{}
	for _, id := range strings.Split(vals, "\n") {
		if id != "" {
			ids[id]++
		}
	}
	return ids
}
