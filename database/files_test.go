package database_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/telehealth-bridge/telehealth-bridge/database"
)

// The SQLite database holds patients' names and contacts: whatever an older version or the
// umask left, the files are 0600 and the folder 0700 once the bridge has opened it.
func TestSQLiteFilesArePrivate(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "data")
	path := filepath.Join(dir, "bridge.db")
	open := func() *database.Database {
		t.Helper()
		db, err := database.Open(ctx, database.Config{Type: "sqlite", URI: path, MaxOpenConns: 2, MaxIdleConns: 1}, zerolog.Nop())
		if err != nil {
			t.Fatal(err)
		}
		// A write, so that the -wal and -shm files exist.
		if err = db.HandledEvent.MarkHandled(ctx, "$e", "!r", time.Now()); err != nil {
			t.Fatal(err)
		}
		return db
	}
	check := func(when string) {
		t.Helper()
		for p, want := range map[string]os.FileMode{dir: 0o700, path: 0o600, path + "-wal": 0o600, path + "-shm": 0o600} {
			info, err := os.Stat(p)
			if err != nil {
				t.Fatalf("%s: %v", when, err)
			}
			if got := info.Mode().Perm(); got != want {
				t.Errorf("%s: %s is %04o, want %04o", when, filepath.Base(p), got, want)
			}
		}
	}

	// A first start in a folder that does not exist yet.
	db := open()
	check("new database")
	// The files as an older version left them, world-readable, while the bridge runs.
	for p, mode := range map[string]os.FileMode{dir: 0o755, path: 0o644, path + "-wal": 0o644, path + "-shm": 0o644} {
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
	}
	_ = db.Close()
	db = open()
	defer db.Close()
	check("database left world-readable")
}
