// Command sfu-loadtest measures the SFU under load on loopback (`make bench`): for each step
// it starts a fresh SFU process, runs rooms of 1+1 synthetic participants through it, then the
// same rooms connected directly (the baseline), and prints one BENCH line.
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/rs/zerolog"

	"github.com/telehealth-bridge/telehealth-bridge/internal/callclient"
	"github.com/telehealth-bridge/telehealth-bridge/internal/loadtest"
	"github.com/telehealth-bridge/telehealth-bridge/media"
)

const secret = "sfu-loadtest-secret-sfu-loadtest-secret"

// clockTicks is the kernel's USER_HZ, the unit of /proc/<pid>/stat's CPU times.
const clockTicks = 100

func main() {
	serve := flag.Bool("serve", false, "run an SFU on loopback and print READY <ws url>")
	steps := flag.String("rooms", "10,20,30,40,60", "room counts, one step each")
	warmup := flag.Duration("warmup", 5*time.Second, "warm-up before measuring")
	window := flag.Duration("window", 20*time.Second, "measurement window")
	flag.Parse()
	if *serve {
		if err := runServer(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	for _, s := range strings.Split(*steps, ",") {
		rooms, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			fmt.Fprintf(os.Stderr, "bad room count %q\n", s)
			os.Exit(2)
		}
		if err = step(rooms, *warmup, *window); err != nil {
			fmt.Fprintf(os.Stderr, "step %d rooms: %v\n", rooms, err)
			os.Exit(1)
		}
	}
}

// runServer is the SFU process of one step.
func runServer() error {
	srv, err := media.New(media.Config{ListenIP: "127.0.0.1"}, []byte(secret), clockwork.NewRealClock(), zerolog.Nop())
	if err != nil {
		return err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	// Profiles of the whole run (SFU_CPUPROFILE) and of the heap at its end (SFU_HEAPPROFILE),
	// written when the generator stops the process.
	cpuPath, heapPath := os.Getenv("SFU_CPUPROFILE"), os.Getenv("SFU_HEAPPROFILE")
	if cpuPath != "" || heapPath != "" {
		var cpu *os.File
		if cpuPath != "" {
			if cpu, err = os.Create(cpuPath); err != nil {
				return err
			}
			if err = pprof.StartCPUProfile(cpu); err != nil {
				return err
			}
		}
		stop := make(chan os.Signal, 1)
		signal.Notify(stop, syscall.SIGTERM)
		go func() {
			<-stop
			if cpu != nil {
				pprof.StopCPUProfile()
				_ = cpu.Close()
			}
			if heapPath != "" {
				var m runtime.MemStats
				runtime.ReadMemStats(&m)
				fmt.Fprintf(os.Stderr, "memstats: heap_inuse_mb=%.1f heap_idle_mb=%.1f heap_released_mb=%.1f stack_mb=%.1f sys_mb=%.1f goroutines=%d gc=%d\n",
					float64(m.HeapInuse)/1e6, float64(m.HeapIdle)/1e6, float64(m.HeapReleased)/1e6, float64(m.StackInuse)/1e6, float64(m.Sys)/1e6, runtime.NumGoroutine(), m.NumGC)
				if f, err := os.Create(heapPath); err == nil {
					_ = pprof.Lookup("heap").WriteTo(f, 0)
					_ = f.Close()
				}
			}
			os.Exit(0)
		}()
	}
	fmt.Printf("READY ws://%s/\n", l.Addr())
	return http.Serve(l, srv)
}

// step measures one room count: the SFU arm, then the baseline arm.
func step(rooms int, warmup, window time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), warmup+window+2*time.Minute)
	defer cancel()
	self, err := os.Executable()
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, self, "-serve")
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	cmd.Stderr = os.Stderr
	if err = cmd.Start(); err != nil {
		return err
	}
	defer func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}()
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "READY ") {
		return fmt.Errorf("the SFU did not start: %q %v", line, err)
	}
	wsURL := strings.TrimSpace(strings.TrimPrefix(line, "READY "))
	pid := cmd.Process.Pid

	api, err := callclient.NewAPI("127.0.0.1")
	if err != nil {
		return err
	}
	clock := clockwork.NewRealClock()
	issue := func(room, user string) string {
		return media.Issue([]byte(secret), media.Claims{Session: room, User: user, Expires: clock.Now().Add(time.Hour).Unix()})
	}
	var cpuStart, cpuEnd float64
	var genStart, genEnd float64
	measure := func(start bool) {
		sfu, _ := cpuSeconds(pid)
		gen, _ := cpuSeconds(os.Getpid())
		if start {
			cpuStart, genStart = sfu, gen
		} else {
			cpuEnd, genEnd = sfu, gen
		}
	}
	stats, err := loadtest.Run(ctx, rooms, warmup, window, loadtest.SFUJoiner(api, wsURL, issue), measure)
	if err != nil {
		return err
	}
	rss, _ := rssMB(pid)
	_ = cmd.Process.Signal(syscall.SIGTERM)
	_ = cmd.Wait()

	base, err := loadtest.Run(ctx, rooms, warmup, window, loadtest.DirectJoiner(api), nil)
	if err != nil {
		return fmt.Errorf("baseline: %w", err)
	}
	sfuCPU := cpuEnd - cpuStart
	usPerPkt := 0.0
	if stats.Received > 0 {
		usPerPkt = sfuCPU * 1e6 / float64(stats.Received)
	}
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	fmt.Printf("BENCH sfu rooms=%d us_per_pkt=%.1f cpu_pct_per_room=%.2f p50_ms=%.2f p99_ms=%.2f baseline_p99_ms=%.2f loss_pct=%.3f join_first_pkt_ms_p50=%.1f rss_mb=%.0f\n",
		rooms, usPerPkt, 100*sfuCPU/window.Seconds()/float64(rooms),
		ms(loadtest.Percentile(stats.Latencies, 50)), ms(loadtest.Percentile(stats.Latencies, 99)),
		ms(loadtest.Percentile(base.Latencies, 99)), stats.LossPct(),
		ms(loadtest.Percentile(stats.JoinFirstPkt, 50)), rss)
	fmt.Printf("  (load generator CPU during the SFU window: %.0f%% of one core; forwarded packets: %d; baseline loss %.3f%%)\n",
		100*(genEnd-genStart)/window.Seconds(), stats.Received, base.LossPct())
	return nil
}

// cpuSeconds is a process's user plus system CPU time.
func cpuSeconds(pid int) (float64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// Fields after the command name, which is in parentheses and may hold spaces.
	rest := string(data[strings.LastIndexByte(string(data), ')')+2:])
	fields := strings.Fields(rest)
	utime, _ := strconv.ParseFloat(fields[11], 64)
	stime, _ := strconv.ParseFloat(fields[12], 64)
	return (utime + stime) / clockTicks, nil
}

// rssMB is a process's resident memory.
func rssMB(pid int) (float64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			kb, _ := strconv.ParseFloat(strings.Fields(line)[1], 64)
			return kb / 1024, nil
		}
	}
	return 0, fmt.Errorf("no VmRSS")
}
