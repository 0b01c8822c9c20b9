package lkserver

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// RedisDB is a Redis database a cluster of LiveKit nodes has to itself, emptied when taken
// and when released.
type RedisDB struct {
	Addr string
	DB   int
	lock *os.File
}

// TakeRedisDB takes one of databases 1–15 of the Redis server at addr for one cluster: a
// file lock in the temporary directory keeps parallel test binaries (and other worktrees'
// tests) on different databases, so their rooms and nodes never meet. Database 0 is left
// alone: whoever else uses this Redis uses it.
func TakeRedisDB(ctx context.Context, addr string) (*RedisDB, error) {
	for db := 1; db <= 15; db++ {
		path := filepath.Join(os.TempDir(), fmt.Sprintf("telehealth-bridge-redis-%s-db%d.lock", strings.ReplaceAll(addr, ":", "_"), db))
		f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
		if err != nil {
			return nil, fmt.Errorf("opening the Redis database lock: %w", err)
		}
		if syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) != nil {
			f.Close()
			continue // another cluster has it
		}
		r := &RedisDB{Addr: addr, DB: db, lock: f}
		if err = r.Flush(ctx); err != nil {
			r.unlock()
			return nil, err
		}
		return r, nil
	}
	return nil, errors.New("all Redis databases 1-15 are taken by other test clusters")
}

// Release empties the database and lets another cluster take it; once.
func (r *RedisDB) Release() {
	if r.lock == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = r.Flush(ctx)
	r.unlock()
}

func (r *RedisDB) unlock() {
	_ = syscall.Flock(int(r.lock.Fd()), syscall.LOCK_UN)
	r.lock.Close()
	r.lock = nil
}

// Flush empties the database.
func (r *RedisDB) Flush(ctx context.Context) error {
	_, err := r.Do(ctx, "FLUSHDB")
	return err
}

// Do sends one command in the database and returns its reply: a status, an integer or a
// bulk string as text; an array's elements joined by newlines. (Enough for the tests to
// read LiveKit's keys without a Redis client library.)
func (r *RedisDB) Do(ctx context.Context, args ...string) (string, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", r.Addr)
	if err != nil {
		return "", fmt.Errorf("connecting to Redis: %w", err)
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	} else {
		_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	}
	var b strings.Builder
	for _, cmd := range [][]string{{"SELECT", strconv.Itoa(r.DB)}, args} {
		fmt.Fprintf(&b, "*%d\r\n", len(cmd))
		for _, a := range cmd {
			fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
		}
	}
	if _, err = conn.Write([]byte(b.String())); err != nil {
		return "", fmt.Errorf("writing to Redis: %w", err)
	}
	rd := bufio.NewReader(conn)
	if _, err = readReply(rd); err != nil { // SELECT's +OK
		return "", err
	}
	return readReply(rd)
}

func readReply(rd *bufio.Reader) (string, error) {
	line, err := rd.ReadString('\n')
	if err != nil {
		return "", fmt.Errorf("reading from Redis: %w", err)
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", errors.New("empty Redis reply")
	}
	switch line[0] {
	case '+', ':':
		return line[1:], nil
	case '-':
		return "", fmt.Errorf("redis: %s", line[1:])
	case '$':
		n, _ := strconv.Atoi(line[1:])
		if n < 0 {
			return "", nil
		}
		buf := make([]byte, n+2)
		if _, err = io.ReadFull(rd, buf); err != nil {
			return "", err
		}
		return string(buf[:n]), nil
	case '*':
		n, _ := strconv.Atoi(line[1:])
		parts := make([]string, 0, max(n, 0))
		for range n {
			s, err := readReply(rd)
			if err != nil {
				return "", err
			}
			parts = append(parts, s)
		}
		return strings.Join(parts, "\n"), nil
	}
	return "", fmt.Errorf("unreadable Redis reply %q", line)
}
