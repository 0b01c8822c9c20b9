package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/telehealth-bridge/telehealth-bridge/internal/callclient"
	"github.com/telehealth-bridge/telehealth-bridge/internal/lkserver"
	"github.com/telehealth-bridge/telehealth-bridge/internal/loadtest"
	"github.com/telehealth-bridge/telehealth-bridge/media/livekit"
)

// stepLiveKit measures one room count on a fresh LiveKit server (one node, on loopback), the
// clients joining with the bridge's own tokens; the baseline arm is the embedded step's.
func stepLiveKit(rooms int, warmup, window time.Duration, baseline bool) error {
	ctx, cancel := context.WithTimeout(context.Background(), warmup+window+20*time.Minute) // the first run builds LiveKit
	defer cancel()
	dir, err := os.MkdirTemp("", "sfu-loadtest-livekit-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	srv, err := lkserver.Start(ctx, lkserver.Options{Dir: dir, Progress: os.Stderr})
	if err != nil {
		return err
	}
	defer srv.Stop()
	pid := srv.PID()
	url := "ws" + strings.TrimPrefix(srv.URL, "http")
	tokens, err := livekit.New(livekit.Config{URL: url, APIKey: srv.Key, APISecret: srv.Secret}, zerolog.Nop())
	if err != nil {
		return err
	}
	defer tokens.Close()
	token := func(room, user string) (string, error) {
		return tokens.Token("!"+room+":bench", user, user, false)
	}
	var cpuStart, cpuEnd, genStart, genEnd float64
	measure := func(start bool) {
		cpu, _ := loadtest.CPUSeconds(pid)
		gen, _ := loadtest.CPUSeconds(os.Getpid())
		if start {
			cpuStart, genStart = cpu, gen
		} else {
			cpuEnd, genEnd = cpu, gen
		}
	}
	stats, err := loadtest.Run(ctx, rooms, warmup, window, loadtest.LiveKitJoiner(url, token), measure)
	if err != nil {
		return fmt.Errorf("%w; the LiveKit server's log ends:\n%s", err, srv.LogTail())
	}
	rss, _, _ := loadtest.RSSMB(pid)
	_ = srv.Stop()

	baseP99, baseLoss := "-", "-"
	if baseline {
		api, err := callclient.NewAPI("127.0.0.1")
		if err != nil {
			return err
		}
		base, err := loadtest.Run(ctx, rooms, warmup, window, loadtest.DirectJoiner(api), nil)
		if err != nil {
			return fmt.Errorf("baseline: %w", err)
		}
		baseP99 = fmt.Sprintf("%.2f", ms(loadtest.Percentile(base.Latencies, 99)))
		baseLoss = fmt.Sprintf("%.3f%%", base.LossPct())
	}
	sfuCPU := cpuEnd - cpuStart
	usPerPkt := 0.0
	if stats.Received > 0 {
		usPerPkt = sfuCPU * 1e6 / float64(stats.Received)
	}
	fmt.Printf("BENCH livekit rooms=%d us_per_pkt=%.1f cpu_pct_per_room=%.2f p50_ms=%.2f p99_ms=%.2f baseline_p99_ms=%s loss_pct=%.3f join_first_pkt_ms_p50=%.1f rss_mb=%.0f\n",
		rooms, usPerPkt, 100*sfuCPU/window.Seconds()/float64(rooms),
		ms(loadtest.Percentile(stats.Latencies, 50)), ms(loadtest.Percentile(stats.Latencies, 99)),
		baseP99, stats.LossPct(), ms(loadtest.Percentile(stats.JoinFirstPkt, 50)), rss)
	fmt.Printf("  (LiveKit %s; load generator CPU during the window: %.0f%% of one core; forwarded packets: %d; baseline loss %s)\n",
		lkserver.Version, 100*(genEnd-genStart)/window.Seconds(), stats.Received, baseLoss)
	return nil
}
