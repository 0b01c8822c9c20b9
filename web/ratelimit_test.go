package web_test

import (
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"github.com/telehealth-bridge/telehealth-bridge/internal/bridgetest"
	"github.com/telehealth-bridge/telehealth-bridge/web"
)

// forged is a guest token for the session with a signature we did not make.
func forged(token string, i int) string {
	parts := strings.Split(token, ".")
	return fmt.Sprintf("%s.%s.%022d", parts[0], parts[1], i)
}

// limitedWithin sends forged tokens until one is refused for the rate limit; it returns
// how many it took, or 0 if none was refused within n.
func (s *site) limitedWithin(n int, token string, header func(i int) http.Header) int {
	s.t.Helper()
	for i := range n {
		if code := s.callWith("GET", "/api/call/state", forged(token, i), header(i), nil, &apiErr{}); code == http.StatusTooManyRequests {
			return i + 1
		}
	}
	return 0
}

func xff(v string) http.Header { return http.Header{"X-Forwarded-For": {v}} }

// An attacker who writes a new X-Forwarded-For on every guess gets no new bucket: the header
// is believed only from a configured proxy, and none is configured by default.
func TestSpoofedForwardedForIsIgnored(t *testing.T) {
	s := newSite(t)
	_, token := s.guestSession(bridge.ParticipantRequest{Name: "JD"})
	if s.limitedWithin(40, token, func(i int) http.Header { return xff(fmt.Sprintf("198.51.100.%d", i)) }) == 0 {
		t.Fatal("40 forged links, each with a new X-Forwarded-For, were never rate-limited")
	}
}

// Behind a chain of trusted proxies each client has its own bucket: one guessing client does
// not lock out the next, and an address it writes on the left of the header changes nothing.
func TestRateLimitBehindProxy(t *testing.T) {
	s := newSiteWith(t, func(cfg map[string]any) {
		cfg["web.trusted_proxies"] = []any{"127.0.0.1/32", "10.0.0.0/8"}
	})
	_, token := s.guestSession(bridge.ParticipantRequest{Name: "JD"})
	attacker := func(i int) http.Header { return xff(fmt.Sprintf("203.0.113.%d, 203.0.113.5, 10.1.2.3", i%250)) }
	if s.limitedWithin(40, token, attacker) == 0 {
		t.Fatal("40 forged links from one client behind the proxy were never rate-limited")
	}
	var e apiErr
	if code := s.callWith("GET", "/api/call/state", forged(token, 99), xff("203.0.113.6, 10.1.2.3"), nil, &e); code != http.StatusForbidden {
		t.Errorf("another client behind the same proxy: %d %+v (shares the attacker's bucket)", code, e)
	}
}

// The limit counts guesses per client; a validly signed link is served whatever its address
// did, so nobody sharing a clinic's or a carrier's address locks a guest out.
func TestLimiterCountsPerClient(t *testing.T) {
	s := newSite(t)
	_, token := s.guestSession(bridge.ParticipantRequest{Name: "JD"})
	if s.limitedWithin(40, token, func(int) http.Header { return nil }) == 0 {
		t.Fatal("40 forged links in a row were not rate-limited")
	}
	if code := s.call("GET", "/api/call/state", token, nil, &web.CallState{}); code != 200 {
		t.Errorf("the guest's own link while others' guesses are limited at the same address: %d", code)
	}
	if code := s.call("GET", "/api/call/state", forged(token, 1000), nil, &apiErr{}); code != http.StatusTooManyRequests {
		t.Errorf("a forged link during the limit: %d", code)
	}
	s.clock.Advance(time.Minute + time.Second)
	if code := s.call("GET", "/api/call/state", forged(token, 1001), nil, &apiErr{}); code != http.StatusForbidden {
		t.Errorf("a forged link after the window: %d", code)
	}
}

func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// 5000 failures that each look like a new client (a new 8 KB X-Forwarded-For) must not leave
// their keys in memory.
func TestLimiterMemoryIsBounded(t *testing.T) {
	s := newSiteWith(t, func(cfg map[string]any) {
		cfg["web.trusted_proxies"] = []any{"127.0.0.1/32"}
	})
	_, token := s.guestSession(bridge.ParticipantRequest{Name: "JD"})
	before := heapInUse()
	pad := strings.Repeat("a", 8<<10)
	for i := range 5000 {
		s.callWith("GET", "/api/call/state", forged(token, i), xff(fmt.Sprintf("%s%d", pad, i)), nil, &apiErr{})
	}
	const bound = 8 << 20
	grown := int64(heapInUse()) - int64(before)
	if grown > bound {
		t.Errorf("the heap grew %d MB after 5000 distinct failures", grown>>20)
	}
	// After the window, the sweep forgets them.
	s.clock.Advance(2 * time.Minute)
	bridgetest.Eventually(t, wait, "the heap to return within 8 MB of where it was", func() bool {
		return int64(heapInUse())-int64(before) < bound
	})
}
