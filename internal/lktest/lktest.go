// Package lktest gives a test a real LiveKit server with one call: on 127.0.0.1, with a key
// pair generated for the test, stopped when the test ends (Start); or several nodes sharing
// rooms through Redis behind one loopback load balancer (StartCluster). Its Participant is a
// LiveKit client of its own (signalling, Pion media, the SDKs' reconnect), for the tests and
// the load test.
package lktest

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/telehealth-bridge/telehealth-bridge/internal/lkserver"
)

// Start runs a LiveKit server (one node, no Redis) and stops it at the end of the test.
// webhooks are URLs it posts its events to.
func Start(t testing.TB, webhooks ...string) *lkserver.Server {
	t.Helper()
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	srv, err := lkserver.Start(ctx, lkserver.Options{Dir: dir, Webhooks: webhooks, Progress: os.Stderr})
	if err != nil {
		t.Fatalf("starting the LiveKit server: %v", err)
	}
	t.Cleanup(func() {
		_ = srv.Stop()
		if t.Failed() {
			t.Logf("LiveKit server, the connections:\n%s\nLiveKit server log:\n%s", srv.Events(), srv.LogTail())
		}
	})
	return srv
}
