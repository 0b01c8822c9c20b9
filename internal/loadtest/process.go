package loadtest

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/telehealth-bridge/telehealth-bridge/internal/sfuproc"
	"github.com/telehealth-bridge/telehealth-bridge/media"
)

// clockTicks is the kernel's USER_HZ, the unit of /proc/<pid>/stat's CPU times.
const clockTicks = 100

// Secret is the credential secret of the SFU processes the load tests start.
const Secret = sfuproc.Secret

// ProcessStats is what an SFU process says about itself at /stats.
type ProcessStats = sfuproc.ProcessStats

// SFUProcess is an SFU running in a process of its own, so that its memory and CPU are its own.
type SFUProcess struct {
	Cmd      *exec.Cmd
	WSURL    string
	statsURL string
}

// StartSFU starts cmd, a program that calls ServeSFU, and waits for it to be ready.
func StartSFU(cmd *exec.Cmd) (*SFUProcess, error) {
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err = cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting the SFU process: %w", err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	fields := strings.Fields(line)
	if err != nil || len(fields) != 3 || fields[0] != "READY" {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return nil, fmt.Errorf("the SFU process did not start: %q %v", line, err)
	}
	return &SFUProcess{Cmd: cmd, WSURL: fields[1], statsURL: fields[2]}, nil
}

// Stop ends the process (SIGTERM, so that profiles are written) and waits for it.
func (p *SFUProcess) Stop() {
	_ = p.Cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		_ = p.Cmd.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = p.Cmd.Process.Kill()
		<-done
	}
}

// Stats asks the process for its counters.
func (p *SFUProcess) Stats(ctx context.Context) (*ProcessStats, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.statsURL, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("reading the SFU's stats: %w", err)
	}
	defer resp.Body.Close()
	var st ProcessStats
	if err = json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return nil, fmt.Errorf("reading the SFU's stats: %w", err)
	}
	return &st, nil
}

// Issuer issues credentials the SFU process accepts.
func Issuer(clock clockwork.Clock) func(room, user string) string {
	return func(room, user string) string {
		return media.Issue([]byte(Secret), media.Claims{Session: room, User: user, Expires: clock.Now().Add(24 * time.Hour).Unix()})
	}
}

// CPUSeconds is a process's user plus system CPU time.
func CPUSeconds(pid int) (float64, error) {
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

// RSSMB is a process's resident memory now (VmRSS) and at its peak (VmHWM), in MB.
func RSSMB(pid int) (now, peak float64, err error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		fields := strings.Fields(line)
		if len(fields) < 2 {
			continue
		}
		kb, _ := strconv.ParseFloat(fields[1], 64)
		switch fields[0] {
		case "VmRSS:":
			now = kb / 1024
		case "VmHWM:":
			peak = kb / 1024
		}
	}
	if now == 0 {
		return 0, 0, fmt.Errorf("no VmRSS for process %d", pid)
	}
	return now, peak, nil
}
