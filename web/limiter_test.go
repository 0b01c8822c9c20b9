package web

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
)

func TestClientKey(t *testing.T) {
	loopback := []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("::1/128")}
	chain := append(loopback, netip.MustParsePrefix("10.0.0.0/8"))
	long := strings.Repeat("x", 8<<10)
	for _, c := range []struct {
		name, peer, forwarded string
		trusted               []netip.Prefix
		want                  string
	}{
		{"no proxy", "198.51.100.7:4321", "", nil, "198.51.100.7"},
		{"header from an untrusted peer is ignored", "198.51.100.7:4321", "203.0.113.9", nil, "198.51.100.7"},
		{"loopback is not trusted unless configured", "127.0.0.1:4321", "203.0.113.9", nil, "127.0.0.1"},
		{"trusted proxy", "127.0.0.1:4321", "203.0.113.9", loopback, "203.0.113.9"},
		{"a spoofed left part is ignored", "127.0.0.1:4321", "192.0.2.1, 203.0.113.9", loopback, "203.0.113.9"},
		{"right-most untrusted hop", "127.0.0.1:4321", "192.0.2.1, 203.0.113.9, 10.1.2.3", chain, "203.0.113.9"},
		{"all hops trusted", "127.0.0.1:4321", "10.9.9.9, 10.1.2.3", chain, "10.9.9.9"},
		{"garbage hop stops at the last known", "127.0.0.1:4321", "203.0.113.9, " + long, loopback, "127.0.0.1"},
		{"IPv6 by /64", "[2001:db8:1:2:aaaa::1]:443", "", nil, "2001:db8:1:2::/64"},
		{"IPv6 neighbours share", "[2001:db8:1:2:bbbb::7]:443", "", nil, "2001:db8:1:2::/64"},
		{"IPv4-mapped IPv6", "[::ffff:198.51.100.7]:443", "", nil, "198.51.100.7"},
		{"forwarded IPv6 with port", "127.0.0.1:1", "[2001:db8:5::9]:1234", loopback, "2001:db8:5::/64"},
		{"unreadable peer is capped", long, "", nil, long[:maxKeyLen]},
	} {
		if got := clientKey(c.peer, c.forwarded, c.trusted); got != c.want {
			t.Errorf("%s: key %q, want %q", c.name, got, c.want)
		}
	}
}

// The table never holds more than maxLimiterKeys clients, and the sweep empties it once
// their window passed.
func TestLimiterTableIsBounded(t *testing.T) {
	clock := clockwork.NewFakeClock()
	l := newLimiter(clock, 20, time.Minute, nil)
	for i := range maxLimiterKeys + 500 {
		l.fail(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}).String())
	}
	if n := l.size(); n != maxLimiterKeys {
		t.Fatalf("%d keys after %d distinct failures", n, maxLimiterKeys+500)
	}
	for range 100 {
		l.fail("one")
	}
	clock.Advance(2 * time.Minute)
	l.fail("fresh") // a full table sweeps before refusing a new client
	if n := l.size(); n != 1 {
		t.Errorf("%d keys after the window passed, want 1", n)
	}
}
