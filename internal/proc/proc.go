// Package proc runs the real servers the tests start (Dendrite, LiveKit) as child processes:
// their output in a log file, killed with the test binary, and ready once an HTTP address
// answers.
package proc

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// Process is a started server.
type Process struct {
	cmd  *exec.Cmd
	done chan struct{}
}

// Start runs cmd with its output appended to logPath and waits, 60 s at most, until readyURL
// answers 200. name says what it is in errors ("Dendrite"), which quote the log's end.
func Start(ctx context.Context, name string, cmd *exec.Cmd, logPath, readyURL string) (*Process, error) {
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// The server dies with whoever started it, even if a test binary is killed.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err = cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	p := &Process{cmd: cmd, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		logFile.Close()
		close(p.done)
	}()
	deadline := time.Now().Add(60 * time.Second)
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, readyURL, nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p, nil
			}
		}
		select {
		case <-p.done:
			return nil, fmt.Errorf("%s exited during start-up; its log says:\n%s", name, Tail(logPath))
		case <-ctx.Done():
			p.Stop(syscall.SIGKILL, 0)
			return nil, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			p.Stop(syscall.SIGKILL, 0)
			return nil, fmt.Errorf("%s did not answer on %s within 60 s; its log says:\n%s", name, readyURL, Tail(logPath))
		}
	}
}

// PID is the process's id.
func (p *Process) PID() int { return p.cmd.Process.Pid }

// Stop sends sig, kills the process if it has not exited after grace, and waits for it.
func (p *Process) Stop(sig syscall.Signal, grace time.Duration) {
	_ = p.cmd.Process.Signal(sig)
	select {
	case <-p.done:
	case <-time.After(grace):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// Tail is the end of a log file, for error messages.
func Tail(logPath string) string {
	data, _ := os.ReadFile(logPath)
	if len(data) > 4000 {
		data = data[len(data)-4000:]
	}
	return string(data)
}
