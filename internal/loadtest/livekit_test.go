package loadtest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/telehealth-bridge/telehealth-bridge/internal/lktest"
	"github.com/telehealth-bridge/telehealth-bridge/media/livekit"
)

// TestLiveKitSmoke is the LiveKit arm's small version: 2 rooms of 1+1 for 5 seconds through a
// real LiveKit server with the bridge's tokens; the video and the audio of both arrive.
func TestLiveKitSmoke(t *testing.T) {
	srv := lktest.Start(t)
	url := "ws" + strings.TrimPrefix(srv.URL, "http")
	tokens, err := livekit.New(livekit.Config{URL: url, APIKey: srv.Key, APISecret: srv.Secret}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	defer tokens.Close()
	token := func(room, user string) (string, error) { return tokens.Token("!"+room+":bench", user, user, false) }
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	stats, err := Run(ctx, 2, 3*time.Second, 5*time.Second, LiveKitJoiner(url, token), nil)
	if err != nil {
		t.Fatal(err)
	}
	// 2 rooms × 2 publishers × (180 video + 50 audio) packets a second × 5 s ≈ 4600.
	if stats.Sent < 4000 || stats.Received < stats.Sent*95/100 {
		t.Fatalf("LiveKit carried %d of %d packets", stats.Received, stats.Sent)
	}
	if len(stats.JoinFirstPkt) != 2 {
		t.Errorf("%d of the 2 second members received video", len(stats.JoinFirstPkt))
	}
	t.Logf("sent %d, loss %.3f%%, p50 %s, p99 %s, join → first video p50 %s", stats.Sent, stats.LossPct(),
		Percentile(stats.Latencies, 50), Percentile(stats.Latencies, 99), Percentile(stats.JoinFirstPkt, 50))
}
