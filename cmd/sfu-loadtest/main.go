// Command sfu-loadtest measures the SFU under load on loopback (`make bench`): for each step
// it starts a fresh SFU process, runs rooms of 1+1 synthetic participants through it, then the
// same rooms connected directly (the baseline), and prints one BENCH line. With -soak it runs
// one room count for a long time instead, printing the SFU's goroutines and memory (`make soak`).
// With -backend livekit the SFU is a LiveKit server (built once into the cache, like the
// tests'), the clients LiveKit clients with the bridge's tokens, and the same line says
// BENCH livekit.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/telehealth-bridge/telehealth-bridge/internal/callclient"
	"github.com/telehealth-bridge/telehealth-bridge/internal/loadtest"
	"github.com/telehealth-bridge/telehealth-bridge/internal/sfuproc"
)

func main() {
	serve := flag.Bool("serve", false, "run an SFU on loopback and print READY <ws url> <stats url>")
	steps := flag.String("rooms", "10,20,30,40,60", "room counts, one step each")
	warmup := flag.Duration("warmup", 5*time.Second, "warm-up before measuring")
	window := flag.Duration("window", 20*time.Second, "measurement window")
	baseline := flag.Bool("baseline", true, "also run each step's rooms without the SFU (the baseline arm)")
	soak := flag.Duration("soak", 0, "instead of steps: run the first room count this long, printing the SFU's goroutines and memory every -every")
	every := flag.Duration("every", time.Minute, "how often a soak prints")
	backend := flag.String("backend", "embedded", "the SFU measured: embedded (the bridge's) or livekit")
	flag.Parse()
	if *serve {
		if err := sfuproc.ServeSFU(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	var counts []int
	for _, s := range strings.Split(*steps, ",") {
		rooms, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || rooms < 1 {
			fmt.Fprintf(os.Stderr, "bad room count %q\n", s)
			os.Exit(2)
		}
		counts = append(counts, rooms)
	}
	if *soak > 0 {
		if err := runSoak(counts[0], *soak, *every); err != nil {
			fmt.Fprintf(os.Stderr, "soak: %v\n", err)
			os.Exit(1)
		}
		return
	}
	run := step
	switch *backend {
	case "embedded":
	case "livekit":
		if *soak > 0 {
			fmt.Fprintln(os.Stderr, "-soak measures the embedded SFU only")
			os.Exit(2)
		}
		run = stepLiveKit
	default:
		fmt.Fprintf(os.Stderr, "unknown backend %q: embedded or livekit\n", *backend)
		os.Exit(2)
	}
	for _, rooms := range counts {
		if err := run(rooms, *warmup, *window, *baseline); err != nil {
			fmt.Fprintf(os.Stderr, "step %d rooms: %v\n", rooms, err)
			os.Exit(1)
		}
	}
}

// serveCommand is the program measured: cmd/sfu-serve, the SFU alone, built at the start of a
// run into the cache directory (quick from Go's build cache). This program links the load
// generator and LiveKit's SDK, whose code pages and start-up tables (some 20 MB) would count
// in the SFU's memory if it served the SFU itself; it does so (-serve) only where no Go
// toolchain can build the other.
var serveCommand = sync.OnceValue(func() []string {
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	dir, err := os.UserCacheDir()
	if err == nil {
		dir = filepath.Join(dir, "telehealth-bridge")
		err = os.MkdirAll(dir, 0o755)
	}
	if err == nil {
		bin := filepath.Join(dir, "sfu-serve")
		build := exec.Command("go", "build", "-o", bin, "github.com/telehealth-bridge/telehealth-bridge/cmd/sfu-serve")
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err = build.Run(); err == nil {
			return []string{bin}
		}
	}
	fmt.Fprintf(os.Stderr, "sfu-loadtest: cannot build cmd/sfu-serve (%v): the SFU runs in this program, and its rss_mb counts the load generator's code too\n", err)
	return []string{self, "-serve"}
})

// startSFU starts an SFU process.
func startSFU(ctx context.Context) (*loadtest.SFUProcess, error) {
	argv := serveCommand()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Stderr = os.Stderr
	return loadtest.StartSFU(cmd)
}

// step measures one room count: the SFU arm, then the baseline arm.
func step(rooms int, warmup, window time.Duration, baseline bool) error {
	ctx, cancel := context.WithTimeout(context.Background(), warmup+window+2*time.Minute)
	defer cancel()
	sfu, err := startSFU(ctx)
	if err != nil {
		return err
	}
	defer sfu.Stop()
	pid := sfu.Cmd.Process.Pid
	api, err := callclient.NewAPI("127.0.0.1")
	if err != nil {
		return err
	}
	var cpuStart, cpuEnd float64
	var genStart, genEnd float64
	var mallocsStart, mallocsEnd uint64
	measure := func(start bool) {
		cpu, _ := loadtest.CPUSeconds(pid)
		gen, _ := loadtest.CPUSeconds(os.Getpid())
		var mallocs uint64
		if st, err := sfu.Stats(ctx); err == nil {
			mallocs = st.Mallocs
		}
		if start {
			cpuStart, genStart, mallocsStart = cpu, gen, mallocs
		} else {
			cpuEnd, genEnd, mallocsEnd = cpu, gen, mallocs
		}
	}
	stats, err := loadtest.Run(ctx, rooms, warmup, window, loadtest.SFUJoiner(api, sfu.WSURL, loadtest.Issuer(clockwork.NewRealClock())), measure)
	if err != nil {
		return err
	}
	rss, _, _ := loadtest.RSSMB(pid)
	dropped := "none"
	if st, err := sfu.Stats(ctx); err == nil {
		dropped = formatDrops(st.SFU.Dropped)
	}
	sfu.Stop()

	baseP99, baseLoss := "-", "-"
	if baseline {
		base, err := loadtest.Run(ctx, rooms, warmup, window, loadtest.DirectJoiner(api), nil)
		if err != nil {
			return fmt.Errorf("baseline: %w", err)
		}
		baseP99 = fmt.Sprintf("%.2f", ms(loadtest.Percentile(base.Latencies, 99)))
		baseLoss = fmt.Sprintf("%.3f%%", base.LossPct())
	}
	sfuCPU := cpuEnd - cpuStart
	usPerPkt, allocsPerPkt := 0.0, 0.0
	if stats.Received > 0 {
		usPerPkt = sfuCPU * 1e6 / float64(stats.Received)
		allocsPerPkt = float64(mallocsEnd-mallocsStart) / float64(stats.Received)
	}
	fmt.Printf("BENCH sfu rooms=%d us_per_pkt=%.1f cpu_pct_per_room=%.2f p50_ms=%.2f p99_ms=%.2f baseline_p99_ms=%s loss_pct=%.3f join_first_pkt_ms_p50=%.1f rss_mb=%.0f\n",
		rooms, usPerPkt, 100*sfuCPU/window.Seconds()/float64(rooms),
		ms(loadtest.Percentile(stats.Latencies, 50)), ms(loadtest.Percentile(stats.Latencies, 99)),
		baseP99, stats.LossPct(), ms(loadtest.Percentile(stats.JoinFirstPkt, 50)), rss)
	fmt.Printf("  (load generator CPU during the SFU window: %.0f%% of one core; forwarded packets: %d; SFU heap allocations per packet: %.2f; SFU drops: %s; baseline loss %s)\n",
		100*(genEnd-genStart)/window.Seconds(), stats.Received, allocsPerPkt, dropped, baseLoss)
	return nil
}

// runSoak runs rooms for d through one SFU process and prints, every interval, its
// goroutines, memory and packet counters: all should stay flat (`make soak`).
func runSoak(rooms int, d, interval time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), d+2*time.Minute)
	defer cancel()
	sfu, err := startSFU(ctx)
	if err != nil {
		return err
	}
	defer sfu.Stop()
	pid := sfu.Cmd.Process.Pid
	api, err := callclient.NewAPI("127.0.0.1")
	if err != nil {
		return err
	}
	started := time.Now()
	var lastCPU float64
	var lastOut uint64
	report := func() {
		st, err := sfu.Stats(ctx)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return
		}
		rss, peak, _ := loadtest.RSSMB(pid)
		cpu, _ := loadtest.CPUSeconds(pid)
		now := time.Now()
		usPerPkt := 0.0
		if out := st.SFU.PacketsOut - lastOut; out > 0 && lastOut > 0 {
			usPerPkt = (cpu - lastCPU) * 1e6 / float64(out)
		}
		fmt.Printf("SOAK t=%s rooms=%d goroutines=%d rss_mb=%.1f rss_peak_mb=%.1f heap_inuse_mb=%.1f pkts_in=%d pkts_out=%d us_per_pkt=%.1f nacks=%d retransmitted=%d dropped=%s\n",
			now.Sub(started).Round(time.Second), rooms, st.Goroutines, rss, peak, st.HeapInuseMB,
			st.SFU.PacketsIn, st.SFU.PacketsOut, usPerPkt, st.SFU.NACKs, st.SFU.Retransmitted, formatDrops(st.SFU.Dropped))
		lastCPU, lastOut = cpu, st.SFU.PacketsOut
	}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				report()
			}
		}
	}()
	// The whole run is one window: loss is counted over all of it.
	stats, err := loadtest.Run(ctx, rooms, time.Second, d, loadtest.SFUJoiner(api, sfu.WSURL, loadtest.Issuer(clockwork.NewRealClock())), nil)
	close(stop)
	<-done
	if err != nil {
		return err
	}
	report()
	fmt.Printf("SOAK done rooms=%d duration=%s loss_pct=%.3f p99_ms=%.2f sent=%d\n", rooms, d, stats.LossPct(),
		ms(loadtest.Percentile(stats.Latencies, 99)), stats.Sent)
	return nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// formatDrops prints the non-zero drop counters, reason=count.
func formatDrops(dropped map[string]uint64) string {
	var parts []string
	for reason, n := range dropped {
		if n > 0 {
			parts = append(parts, fmt.Sprintf("%s=%d", reason, n))
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	slices.Sort(parts)
	return strings.Join(parts, ",")
}
