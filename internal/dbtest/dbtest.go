// Package dbtest runs storage tests on both databases the bridge supports: SQLite in a
// temporary directory and a fresh PostgreSQL database per test.
package dbtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	"github.com/rs/zerolog"

	"github.com/telehealth-bridge/telehealth-bridge/database"
)

// PostgresEnv names the variable with the PostgreSQL server URL the tests use.
const PostgresEnv = "TEST_POSTGRES_URL"

// DefaultPostgres is the trust-auth server on these machines.
const DefaultPostgres = "postgres://127.0.0.1:5432/postgres?sslmode=disable"

// Kinds are the database types every storage test runs on.
var Kinds = []string{"sqlite", "pgx"}

// Each runs f as a subtest on SQLite and on PostgreSQL, each with a new, upgraded database.
func Each(t *testing.T, f func(t *testing.T, db *database.Database)) {
	for _, kind := range Kinds {
		t.Run(kind, func(t *testing.T) {
			f(t, Open(t, kind))
		})
	}
}

// Open returns a new, upgraded database of the given kind, removed at the end of the test.
func Open(t testing.TB, kind string) *database.Database {
	t.Helper()
	cfg := Config(t, kind)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	db, err := database.Open(ctx, cfg, zerolog.Nop())
	if err != nil {
		t.Fatalf("opening %s database: %v", kind, err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// Config creates an empty database of the given kind and returns how to open it.
func Config(t testing.TB, kind string) database.Config {
	t.Helper()
	switch kind {
	case "sqlite":
		return database.Config{Type: "sqlite", URI: filepath.Join(t.TempDir(), "bridge.db"), MaxOpenConns: 5, MaxIdleConns: 2}
	case "pgx":
		return database.Config{Type: "pgx", URI: freshPostgres(t), MaxOpenConns: 5, MaxIdleConns: 2}
	}
	t.Fatalf("unknown database kind %q", kind)
	return database.Config{}
}

// freshPostgres creates a database with a random name and drops it when the test ends.
func freshPostgres(t testing.TB) string {
	t.Helper()
	server := os.Getenv(PostgresEnv)
	if server == "" {
		server = DefaultPostgres
	}
	admin, err := sql.Open("pgx", server)
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err = admin.PingContext(ctx)
		cancel()
	}
	if err != nil {
		t.Fatalf("PostgreSQL is not reachable at %s (%v).\nStart it with "+
			"`pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start` (make test does this), "+
			"or point %s at a server.", database.Redact(server), err, PostgresEnv)
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "telehealth_test_" + hex.EncodeToString(b)
	if _, err = admin.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatalf("creating test database: %v", err)
	}
	t.Cleanup(func() {
		_, _ = admin.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
		_ = admin.Close()
	})
	u, err := url.Parse(server)
	if err != nil {
		t.Fatalf("parsing %s: %v", PostgresEnv, err)
	}
	u.Path = "/" + name
	return fmt.Sprint(u)
}
