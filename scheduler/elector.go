package scheduler

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"

	"github.com/go-co-op/gocron/v2"
)

// ErrNotLeader is returned by Elector.IsLeader on every instance but the elected one.
var ErrNotLeader = errors.New("another bridge instance runs the scheduled jobs")

// Elector lets one bridge instance among several sharing a PostgreSQL database run the
// scheduled jobs: the one holding a session-level advisory lock. The lock lives as long as the
// connection that took it, so an instance that dies or loses the database hands over by itself.
type Elector struct {
	db  *sql.DB
	key int64
	// elected is called each time this instance becomes the leader.
	elected func()

	mu   sync.Mutex
	conn *sql.Conn
}

var _ gocron.Elector = (*Elector)(nil)

// ElectorKey is the advisory lock's key: "telehlth" in ASCII, so that it does not collide with
// other users of advisory locks on a shared server.
const ElectorKey int64 = 0x74656c65686c7468

// NewElector elects among instances through advisory lock key on db. elected may be nil.
func NewElector(db *sql.DB, key int64, elected func()) *Elector {
	return &Elector{db: db, key: key, elected: elected}
}

// IsLeader returns nil when this instance holds the lock (taking it if it is free).
func (e *Elector) IsLeader(ctx context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.conn != nil {
		if err := e.conn.PingContext(ctx); err == nil {
			return nil
		}
		_ = e.conn.Close() // the lock went with the connection
		e.conn = nil
	}
	conn, err := e.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("connecting to take the scheduler lock: %w", err)
	}
	var got bool
	if err = conn.QueryRowContext(ctx, "SELECT pg_try_advisory_lock($1)", e.key).Scan(&got); err != nil {
		_ = conn.Close()
		return fmt.Errorf("taking the scheduler lock: %w", err)
	}
	if !got {
		_ = conn.Close()
		return ErrNotLeader
	}
	e.conn = conn
	if e.elected != nil {
		e.elected()
	}
	return nil
}

// Close gives up the leadership.
func (e *Elector) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.conn == nil {
		return nil
	}
	_, _ = e.conn.ExecContext(context.Background(), "SELECT pg_advisory_unlock($1)", e.key)
	err := e.conn.Close()
	e.conn = nil
	return err
}
