package web

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
)

const (
	// maxLimiterKeys bounds the failure table: past it, failures of new clients are not
	// recorded (the table must not become the memory an attacker fills).
	maxLimiterKeys = 10000
	// maxKeyLen caps a key that is not an address (a peer address the server could not read).
	maxKeyLen = 64
	// maxForwardedHops bounds the X-Forwarded-For elements read, right to left.
	maxForwardedHops = 16
)

// limiter counts failed attempts per client: past the limit in the window, a client is
// refused until the window passes (guessing links is pointless anyway, but cheap to stop).
// Clients are keyed by clientKey; a sweep on a timer forgets those whose window passed.
type limiter struct {
	clock  clockwork.Clock
	limit  int
	window time.Duration
	// trusted are the reverse proxies whose X-Forwarded-For is believed.
	trusted []netip.Prefix

	mu    sync.Mutex
	fails map[string][]time.Time
}

func newLimiter(clock clockwork.Clock, limit int, window time.Duration, trusted []netip.Prefix) *limiter {
	return &limiter{clock: clock, limit: limit, window: window, trusted: trusted, fails: map[string][]time.Time{}}
}

// recent drops a key's failures older than the window; l.mu is held.
func (l *limiter) recent(key string, now time.Time) []time.Time {
	cut := now.Add(-l.window)
	old := l.fails[key]
	kept := old[:0]
	for _, t := range old {
		if t.After(cut) {
			kept = append(kept, t)
		}
	}
	if len(kept) == 0 {
		delete(l.fails, key)
		return nil
	}
	l.fails[key] = kept
	return kept
}

func (l *limiter) allow(key string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.recent(key, l.clock.Now())) < l.limit
}

func (l *limiter) fail(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.clock.Now()
	kept := l.recent(key, now)
	if kept == nil && len(l.fails) >= maxLimiterKeys {
		l.sweepLocked(now)
		if len(l.fails) >= maxLimiterKeys {
			return
		}
	}
	if len(kept) >= l.limit {
		// Already refused: counting more would only grow the slice.
		kept = kept[1:]
	}
	l.fails[key] = append(kept, now)
}

// sweepLocked forgets every client whose failures are all older than the window.
func (l *limiter) sweepLocked(now time.Time) {
	for key := range l.fails {
		l.recent(key, now)
	}
}

func (l *limiter) size() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.fails)
}

// run sweeps the table every window until ctx ends.
func (l *limiter) run(ctx context.Context) {
	tick := l.clock.NewTicker(l.window)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.Chan():
			l.mu.Lock()
			l.sweepLocked(l.clock.Now())
			l.mu.Unlock()
		}
	}
}

// key is the rate-limit key of a request's client.
func (l *limiter) key(r *http.Request) string {
	return clientKey(r.RemoteAddr, strings.Join(r.Header.Values("X-Forwarded-For"), ","), l.trusted)
}

// clientKey is who a request comes from, for rate limits. The peer's address, unless the
// peer is a trusted proxy: then X-Forwarded-For is read from the right (each proxy appends
// the address it saw) and the first hop that is not a trusted proxy is the client. Anything
// to the left of it was written by the client and proves nothing. IPv6 clients are keyed by
// their /64, which one subscriber usually holds whole.
func clientKey(remoteAddr, forwarded string, trusted []netip.Prefix) string {
	peer, ok := parseHop(remoteAddr)
	if !ok {
		if len(remoteAddr) > maxKeyLen {
			remoteAddr = remoteAddr[:maxKeyLen]
		}
		return remoteAddr
	}
	client := peer
	if isTrusted(peer, trusted) && forwarded != "" {
		hops := strings.Split(forwarded, ",")
		for i := len(hops) - 1; i >= 0 && i >= len(hops)-maxForwardedHops; i-- {
			hop, ok := parseHop(strings.TrimSpace(hops[i]))
			if !ok {
				// Garbage from whoever is left of the last trusted proxy.
				break
			}
			client = hop
			if !isTrusted(hop, trusted) {
				break
			}
		}
	}
	if client.Is4() {
		return client.String()
	}
	p, _ := client.Prefix(64)
	return p.String()
}

// parseHop reads an address, with or without a port or brackets.
func parseHop(s string) (netip.Addr, bool) {
	if host, _, err := net.SplitHostPort(s); err == nil {
		s = host
	}
	s = strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")
	if i := strings.IndexByte(s, '%'); i >= 0 {
		s = s[:i] // a zone says nothing about the client
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}

func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
