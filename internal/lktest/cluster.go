package lktest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/telehealth-bridge/telehealth-bridge/internal/lkserver"
)

// RedisAddr is the Redis server the multi-node tests use (LIVEKIT_TEST_REDIS overrides it).
func RedisAddr() string {
	if a := os.Getenv("LIVEKIT_TEST_REDIS"); a != "" {
		return a
	}
	return "127.0.0.1:6379"
}

// Cluster is several LiveKit nodes sharing rooms through Redis, behind one address: a
// round-robin TCP load balancer on loopback, as a deployment puts one in front of its nodes
// (clients, the bridge's RoomService calls and reconnects all use the one URL).
type Cluster struct {
	Nodes []*lkserver.Server
	// URL is the load balancer's address, http://127.0.0.1:port (clients dial ws://).
	URL         string
	Key, Secret string
	Balancer    *Balancer
	Redis       *lkserver.RedisDB
}

// StartCluster starts n LiveKit nodes on one Redis database of their own, each with its own
// signalling and media ports, and a load balancer in front of them; all stopped, and the
// database emptied, at the end of the test. Without Redis at RedisAddr the test is skipped.
func StartCluster(t testing.TB, n int, webhooks ...string) *Cluster {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	redis, err := lkserver.TakeRedisDB(ctx, RedisAddr())
	if err != nil {
		var op *net.OpError
		if errors.As(err, &op) {
			t.Skipf("no Redis at %s for the multi-node tests (set LIVEKIT_TEST_REDIS): %v", RedisAddr(), err)
		}
		t.Fatal(err)
	}
	t.Cleanup(redis.Release)
	c := &Cluster{Redis: redis}
	var backends []string
	for i := range n {
		dir := t.TempDir()
		opts := lkserver.Options{Dir: dir, Redis: redis.Addr, RedisDB: redis.DB, Webhooks: webhooks, Progress: os.Stderr}
		var srv *lkserver.Server
		if i == 0 {
			srv, err = lkserver.Start(ctx, opts)
		} else {
			srv, err = lkserver.StartWithKeys(ctx, opts, c.Key, c.Secret)
		}
		if err != nil {
			t.Fatalf("starting LiveKit node %d: %v", i+1, err)
		}
		c.Key, c.Secret = srv.Key, srv.Secret
		t.Cleanup(func() {
			_ = srv.Stop()
			if t.Failed() {
				t.Logf("LiveKit node %d log:\n%s", i+1, srv.LogTail())
			}
		})
		c.Nodes = append(c.Nodes, srv)
		backends = append(backends, strings.TrimPrefix(srv.URL, "http://"))
	}
	c.Balancer, err = NewBalancer(backends)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Balancer.Close)
	c.URL = "http://" + c.Balancer.Addr()
	return c
}

// NodeOfPort is the index of the node whose media port (UDP or TCP) that is, -1 if none.
func (c *Cluster) NodeOfPort(port int) int {
	for i, n := range c.Nodes {
		if port != 0 && (port == n.UDPPort || port == n.TCPPort) {
			return i
		}
	}
	return -1
}

// Balancer is a TCP load balancer on 127.0.0.1: each connection goes to the next backend in
// turn, and to the one after if that refuses (a dead node), as nginx's or HAProxy's TCP
// balancing does. Signalling websockets and API requests pass through it unchanged.
type Balancer struct {
	ln       net.Listener
	backends []string
	next     atomic.Uint64
	mu       sync.Mutex
	conns    map[net.Conn]struct{}
	served   []atomic.Int64
	wg       sync.WaitGroup
}

// NewBalancer listens on a free loopback port.
func NewBalancer(backends []string) (*Balancer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	b := &Balancer{ln: ln, backends: backends, conns: map[net.Conn]struct{}{}, served: make([]atomic.Int64, len(backends))}
	b.wg.Add(1)
	go b.accept()
	return b, nil
}

// Addr is host:port.
func (b *Balancer) Addr() string { return b.ln.Addr().String() }

// Served is how many connections went to each backend.
func (b *Balancer) Served(i int) int64 { return b.served[i].Load() }

// Close stops listening and cuts every connection.
func (b *Balancer) Close() {
	_ = b.ln.Close()
	b.mu.Lock()
	for c := range b.conns {
		_ = c.Close()
	}
	b.mu.Unlock()
	b.wg.Wait()
}

func (b *Balancer) track(c net.Conn, add bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if add {
		b.conns[c] = struct{}{}
	} else {
		delete(b.conns, c)
	}
}

func (b *Balancer) accept() {
	defer b.wg.Done()
	for {
		in, err := b.ln.Accept()
		if err != nil {
			return
		}
		b.wg.Add(1)
		go func() {
			defer b.wg.Done()
			b.serve(in)
		}()
	}
}

func (b *Balancer) serve(in net.Conn) {
	b.track(in, true)
	defer b.track(in, false)
	defer in.Close()
	start := b.next.Add(1)
	var out net.Conn
	for i := range len(b.backends) {
		k := int((start + uint64(i)) % uint64(len(b.backends)))
		c, err := net.DialTimeout("tcp", b.backends[k], time.Second)
		if err == nil {
			out = c
			b.served[k].Add(1)
			break
		}
	}
	if out == nil {
		return // no backend answers
	}
	b.track(out, true)
	defer b.track(out, false)
	defer out.Close()
	done := make(chan struct{}, 2)
	pipe := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src)
		// One side ended: end the other, as a TCP balancer does when a backend dies.
		_ = dst.Close()
		_ = src.Close()
		done <- struct{}{}
	}
	go pipe(out, in)
	go pipe(in, out)
	<-done
	<-done
}

// String names the backends, for failure messages.
func (b *Balancer) String() string { return fmt.Sprint(b.backends) }
