package rush_test

import (
	"strings"
	"testing"
	"time"

	"github.com/telehealth-bridge/telehealth-bridge/internal/rush"
)

// TestEndpoint: the proxy files each call the bridge makes under the kind the BENCH rush-hs
// line reports; a join by room ID or by alias both count as joins.
func TestEndpoint(t *testing.T) {
	for _, tc := range []struct{ method, path, want string }{
		{"POST", "/_matrix/client/v3/register", "register"},
		{"PUT", "/_matrix/client/v3/profile/@g:localhost/displayname", "profile"},
		{"POST", "/_matrix/client/v3/knock/!r:localhost", "knock"},
		{"PUT", "/_matrix/client/v3/rooms/!r:localhost/state/m.room.member/@g:localhost", "member"},
		{"PUT", "/_matrix/client/v3/rooms/!r:localhost/state/m.room.join_rules/", "state"},
		{"POST", "/_matrix/client/v3/rooms/!r:localhost/invite", "invite"},
		{"POST", "/_matrix/client/v3/join/!r:localhost", "join"},
		{"POST", "/_matrix/client/v3/rooms/!r:localhost/join", "join"},
		{"GET", "/_matrix/client/v3/rooms/!r:localhost/join", "other"},
		{"PUT", "/_matrix/client/v3/rooms/!r:localhost/send/m.room.message/txn1", "send"},
		{"GET", "/_matrix/client/v3/rooms/!r:localhost/members", "members"},
		{"GET", "/_matrix/client/v3/sync", "other"},
	} {
		if got := rush.Endpoint(tc.method, tc.path); got != tc.want {
			t.Errorf("%s %s: %s, want %s", tc.method, tc.path, got, tc.want)
		}
	}
}

// TestQuantiles: the nearest-rank percentile of samples, and a histogram's quantile estimated
// as Prometheus does, from the difference of two scrapes.
func TestQuantiles(t *testing.T) {
	var samples []time.Duration
	for i := 1; i <= 20; i++ {
		samples = append(samples, time.Duration(i)*time.Millisecond)
	}
	if p50, p95 := rush.Percentile(samples, 0.5), rush.Percentile(samples, 0.95); p50 != 10*time.Millisecond || p95 != 19*time.Millisecond {
		t.Errorf("p50 %s, p95 %s; want 10ms, 19ms", p50, p95)
	}
	if rush.Percentile(nil, 0.95) != 0 {
		t.Error("the percentile of nothing is not 0")
	}

	scrape := func(text string) rush.Buckets {
		b, err := rush.ParseHistogram(strings.NewReader(text), "x_seconds", nil)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	before := scrape(`x_seconds_bucket{code="2xx",le="0.1"} 5
x_seconds_bucket{code="2xx",le="1"} 5
x_seconds_bucket{code="2xx",le="+Inf"} 5
`)
	// Since then: 10 in (0, 0.1], 10 in (0.1, 1] over two series, none above.
	after := scrape(`# HELP x_seconds Something.
x_seconds_bucket{code="2xx",le="0.1"} 15
x_seconds_bucket{code="2xx",le="1"} 20
x_seconds_bucket{code="2xx",le="+Inf"} 20
x_seconds_bucket{code="5xx",le="0.1"} 0
x_seconds_bucket{code="5xx",le="1"} 5
x_seconds_bucket{code="5xx",le="+Inf"} 5
x_seconds_count{code="2xx"} 20
`)
	d := after.Minus(before)
	if d.Count() != 20 {
		t.Fatalf("%v observations, want 20", d.Count())
	}
	// The 19th of 20 is the 9th of the 10 in (0.1, 1]: 0.1 + 0.9*9/10 = 0.91 s.
	if got := d.Quantile(0.95); got < 909*time.Millisecond || got > 911*time.Millisecond {
		t.Errorf("p95 %s, want 910ms", got)
	}
	if got := d.Quantile(0.5); got != 100*time.Millisecond {
		t.Errorf("p50 %s, want 100ms", got)
	}
	if (rush.Buckets{}).Quantile(0.95) != 0 {
		t.Error("the quantile of no observations is not 0")
	}
}
