package database_test

import (
	"context"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/telehealth-bridge/telehealth-bridge/database"
	"github.com/telehealth-bridge/telehealth-bridge/internal/dbtest"
)

// The backups docs/operations.md tells operators to take work on a database the bridge is
// using, and the bridge opens the restored copy with what was written last.
func TestBackupAndRestore(t *testing.T) {
	ctx := context.Background()
	start := time.Date(2026, 11, 24, 14, 0, 0, 0, time.UTC)
	write := func(t *testing.T, db *database.Database, id string) {
		t.Helper()
		s, ps := sampleSession(id, start)
		if err := db.Store().InsertSession(ctx, s, ps); err != nil {
			t.Fatal(err)
		}
	}
	check := func(t *testing.T, cfg database.Config) {
		t.Helper()
		restored, err := database.Open(ctx, cfg, zerolog.Nop())
		if err != nil {
			t.Fatalf("opening the restored copy: %v", err)
		}
		defer restored.Close()
		got, err := restored.Store().GetSession(ctx, "back23")
		if err != nil || !got.Start.Equal(start) {
			t.Fatalf("the session in the restored copy: %+v %v", got, err)
		}
		if ps, err := restored.Store().Participants(ctx, "back23"); err != nil || len(ps) != 2 {
			t.Errorf("its participants: %d %v", len(ps), err)
		}
	}
	run := func(t *testing.T, name string, args ...string) {
		t.Helper()
		if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
			t.Fatalf("%s %v: %v\n%s", name, args, err, out)
		}
	}

	t.Run("sqlite", func(t *testing.T) {
		sqlite3, err := exec.LookPath("sqlite3")
		if err != nil {
			t.Skip("the sqlite3 tool is not installed (Debian: apt-get install sqlite3)")
		}
		cfg := dbtest.Config(t, "sqlite")
		db, err := database.Open(ctx, cfg, zerolog.Nop())
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		write(t, db, "back23") // in the WAL, not yet in the main file
		dir := t.TempDir()
		vacuumed, backedUp := filepath.Join(dir, "vacuum", "copy.db"), filepath.Join(dir, "backup", "copy.db")
		run(t, "mkdir", "-p", filepath.Dir(vacuumed), filepath.Dir(backedUp))
		run(t, sqlite3, cfg.URI, "VACUUM INTO '"+vacuumed+"'")
		run(t, sqlite3, cfg.URI, ".backup '"+backedUp+"'")
		check(t, database.Config{Type: "sqlite", URI: vacuumed, MaxOpenConns: 1, MaxIdleConns: 1})
		check(t, database.Config{Type: "sqlite", URI: backedUp, MaxOpenConns: 1, MaxIdleConns: 1})
	})

	t.Run("pgx", func(t *testing.T) {
		if _, err := exec.LookPath("pg_dump"); err != nil {
			t.Skip("pg_dump is not installed (Debian: apt-get install postgresql-client)")
		}
		cfg := dbtest.Config(t, "pgx")
		db, err := database.Open(ctx, cfg, zerolog.Nop())
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		write(t, db, "back23")
		dump := filepath.Join(t.TempDir(), "bridge.dump")
		run(t, "pg_dump", "--format=custom", "--file="+dump, cfg.URI)
		empty := dbtest.Config(t, "pgx")
		run(t, "pg_restore", "--no-owner", "--dbname="+empty.URI, dump)
		check(t, empty)
	})
}
