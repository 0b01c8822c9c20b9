// Package hstest gives a test a real Dendrite homeserver with one call, and Matrix clients for
// the users it creates. Everything runs on 127.0.0.1 and is stopped when the test ends.
package hstest

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/appservice"
	"maunium.net/go/mautrix/id"

	"github.com/telehealth-bridge/telehealth-bridge/internal/homeserver"
)

// ServerName is the domain of the test homeserver's users.
const ServerName = "localhost"

// Start runs Dendrite loading the given appservice registrations and stops it at the end of
// the test.
func Start(t testing.TB, registrations ...*appservice.Registration) *homeserver.Server {
	t.Helper()
	return StartOn(t, "", registrations...)
}

// StartOn is Start with Dendrite's tables in a PostgreSQL database (postgres, a connection
// string to an empty database) instead of SQLite files; "" is Start.
func StartOn(t testing.TB, postgres string, registrations ...*appservice.Registration) *homeserver.Server {
	t.Helper()
	dir := memoryDir(t)
	var files []string
	for i, reg := range registrations {
		path := filepath.Join(dir, "registration-"+string(rune('a'+i))+".yaml")
		if err := reg.Save(path); err != nil {
			t.Fatalf("writing registration: %v", err)
		}
		files = append(files, path)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	hs, err := homeserver.Start(ctx, homeserver.Options{
		Dir: dir, ServerName: ServerName, Registrations: files, Progress: os.Stderr, Postgres: postgres,
	})
	if err != nil {
		t.Fatalf("starting Dendrite: %v", err)
	}
	t.Cleanup(func() {
		_ = hs.Stop()
		if t.Failed() {
			if data, err := os.ReadFile(hs.LogPath()); err == nil && len(data) > 0 {
				t.Logf("Dendrite log:\n%s", tail(data, 3000))
			}
		}
	})
	return hs
}

// User registers a user on the homeserver and returns a logged-in client for them.
func User(t testing.TB, hs *homeserver.Server, localpart string) *mautrix.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	reg, err := hs.RegisterUser(ctx, localpart, "password-"+localpart, false)
	if err != nil {
		t.Fatalf("registering %s: %v", localpart, err)
	}
	cli, err := mautrix.NewClient(hs.URL, id.UserID(reg.UserID), reg.AccessToken)
	if err != nil {
		t.Fatalf("client for %s: %v", localpart, err)
	}
	cli.DeviceID = id.DeviceID(reg.DeviceID)
	return cli
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

// memoryDir is a directory for the homeserver's databases in memory (/dev/shm) when the
// machine has one, removed at the end of the test. Dendrite syncs every event to its SQLite
// files: on a virtual machine's disk that costs it 100 ms or more per write, which would make
// every test (and every latency measured through it) about the disk rather than the bridge.
func memoryDir(t testing.TB) string {
	dir, err := os.MkdirTemp("/dev/shm", "telehealth-hs-")
	if err != nil {
		return t.TempDir()
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	return dir
}
