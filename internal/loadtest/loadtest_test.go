package loadtest

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/rs/zerolog"

	"github.com/telehealth-bridge/telehealth-bridge/internal/callclient"
	"github.com/telehealth-bridge/telehealth-bridge/media"
)

// TestSmoke is the load benchmark's small version: 5 rooms of 1+1 for 10 seconds through an
// in-process SFU, and not one packet lost.
func TestSmoke(t *testing.T) {
	secret := []byte("smoke-test-secret-smoke-test-secret")
	clock := clockwork.NewRealClock()
	srv, err := media.New(media.Config{ListenIP: "127.0.0.1"}, secret, clock, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	web := httptest.NewServer(srv)
	defer web.Close()
	api, err := callclient.NewAPI("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	issue := func(room, user string) string {
		return media.Issue(secret, media.Claims{Session: room, User: user, Expires: clock.Now().Add(time.Hour).Unix()})
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	stats, err := Run(ctx, 5, 2*time.Second, 10*time.Second, SFUJoiner(api, "ws"+strings.TrimPrefix(web.URL, "http"), issue), nil)
	if err != nil {
		t.Fatal(err)
	}
	// 5 rooms × 2 publishers × (180 video + 50 audio) packets a second × 10 s.
	if stats.Sent < 20000 {
		t.Fatalf("only %d packets sent in the window", stats.Sent)
	}
	if stats.Received != stats.Sent {
		t.Errorf("lost %d of %d packets (%.3f%%)", stats.Sent-stats.Received, stats.Sent, stats.LossPct())
	}
	t.Logf("sent %d, p50 %s, p99 %s, join → first video p50 %s", stats.Sent,
		Percentile(stats.Latencies, 50), Percentile(stats.Latencies, 99), Percentile(stats.JoinFirstPkt, 50))
}
