// Package sfuproc is the body of an SFU process of the load tests: the SFU alone on loopback,
// in a program that holds nothing else (cmd/sfu-serve), so that the memory and CPU measured
// are the SFU's and not those of the load generator or the LiveKit SDK linked beside it.
package sfuproc

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	httppprof "net/http/pprof"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"syscall"

	"github.com/jonboulle/clockwork"
	"github.com/rs/zerolog"

	"github.com/telehealth-bridge/telehealth-bridge/media"
)

// Secret is the credential secret of the SFU process the load tests start.
const Secret = "sfu-loadtest-secret-sfu-loadtest-secret"

// ServeSFU is the body of an SFU process (loadtest.StartSFU): an SFU on loopback, its
// signalling at /, its counters at /stats and its profiles at /debug/pprof/, announced by a line READY <ws url> <stats url>.
// SFU_CPUPROFILE and SFU_HEAPPROFILE name profiles written when the process gets SIGTERM.
func ServeSFU() error {
	srv, err := media.New(media.Config{ListenIP: "127.0.0.1"}, []byte(Secret), clockwork.NewRealClock(), zerolog.Nop())
	if err != nil {
		return err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
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
				if f, err := os.Create(heapPath); err == nil {
					_ = pprof.Lookup("heap").WriteTo(f, 0)
					_ = f.Close()
				}
			}
			os.Exit(0)
		}()
	}
	mux := http.NewServeMux()
	mux.Handle("/", srv)
	// Profiles while the calls run (go tool pprof http://<addr>/debug/pprof/heap); loopback only.
	mux.HandleFunc("/debug/pprof/", httppprof.Index)
	mux.HandleFunc("/debug/pprof/profile", httppprof.Profile)
	mux.HandleFunc("/stats", func(w http.ResponseWriter, _ *http.Request) {
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		_ = json.NewEncoder(w).Encode(ProcessStats{
			Goroutines: runtime.NumGoroutine(), HeapInuseMB: float64(m.HeapInuse) / 1e6, Mallocs: m.Mallocs, SFU: srv.Stats(),
		})
	})
	fmt.Printf("READY ws://%s/ http://%s/stats\n", l.Addr(), l.Addr())
	return http.Serve(l, mux)
}

// ProcessStats is what an SFU process says about itself at /stats.
type ProcessStats struct {
	Goroutines  int     `json:"goroutines"`
	HeapInuseMB float64 `json:"heap_inuse_mb"`
	// Mallocs counts the heap allocations since the process started.
	Mallocs uint64      `json:"mallocs"`
	SFU     media.Stats `json:"sfu"`
}
