// Package twiliotest plays Twilio for tests: Prism serving Twilio's own OpenAPI description
// (contract tests: requests are validated against what Twilio documents), a small loopback fake
// for what Prism cannot play (chosen failures, 429 and 5xx), and signed webhook requests
// (inbound SMS, status callbacks).
package twiliotest

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"
)

// prismStartTimeout is how long Prism may take to answer: about 3 s alone, more on a busy
// two-core machine running other tests.
const prismStartTimeout = 60 * time.Second

// StartPrism runs Prism's mock server on Twilio's 2010-04-01 API description (testdata/) on a
// free loopback port and returns its root URL; it is killed at the test's end. Prism comes from
// the e2e npm project (make deps-test installs it); the test fails if it is missing.
func StartPrism(t testing.TB) (apiURL string) {
	t.Helper()
	root, err := repoRoot()
	if err != nil {
		t.Fatalf("finding the repository for Prism: %v", err)
	}
	prism := filepath.Join(root, "e2e", "node_modules", ".bin", "prism")
	if _, err = os.Stat(prism); err != nil {
		t.Fatalf("Prism is not installed (%s): run `make deps-test`", prism)
	}
	spec := filepath.Join(root, "internal", "twiliotest", "testdata", "twilio_api_v2010.json")
	port, err := freePort()
	if err != nil {
		t.Fatalf("finding a free port for Prism: %v", err)
	}
	cmd := exec.Command(prism, "mock", "-h", "127.0.0.1", "-p", fmt.Sprint(port), spec)
	cmd.Dir = filepath.Join(root, "e2e")
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	// Its own process group, so that the cleanup stops Prism and anything it started.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err = cmd.Start(); err != nil {
		t.Fatalf("starting Prism: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-exited
	})
	apiURL = fmt.Sprintf("http://127.0.0.1:%d", port)
	hc := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(prismStartTimeout)
	for {
		// Any HTTP answer (404 for /) means Prism has loaded the description and listens.
		if resp, err := hc.Get(apiURL + "/"); err == nil {
			_ = resp.Body.Close()
			return apiURL
		}
		select {
		case err := <-exited:
			exited <- err
			t.Fatalf("Prism exited before answering (%v):\n%s", err, out.String())
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("Prism did not answer on %s within %v:\n%s", apiURL, prismStartTimeout, out.String())
		}
	}
}

// repoRoot is the directory holding go.mod, from the test's working directory up.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod above the working directory")
		}
		dir = parent
	}
}

// freePort asks the kernel for a free loopback port. Another process could take it before
// Prism does; StartPrism then fails with Prism's output rather than hanging.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// syncBuffer collects a process's output while it runs.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
