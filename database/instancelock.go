package database

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// ErrSecondInstance means another bridge process uses the same SQLite database.
var ErrSecondInstance = errors.New("another telehealth-bridge is already using this SQLite database: " +
	"SQLite serves one instance; stop the other one, or use PostgreSQL to run several")

// instanceLock holds an exclusive lock on a file next to the SQLite database for as long as the
// process uses it, so that a second bridge started on the same file stops at once instead of
// sending every reminder twice. The kernel drops the lock when the process dies.
type instanceLock struct {
	file *os.File
}

// lockSQLite takes the lock for the SQLite database at uri; in-memory databases need none.
func lockSQLite(uri string) (*instanceLock, error) {
	path := sqlitePath(uri)
	if path == "" {
		return nil, nil
	}
	f, err := os.OpenFile(path+".lock", os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening the instance lock %s.lock: %w", path, err)
	}
	if err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		pid, _ := os.ReadFile(path + ".lock")
		_ = f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%w (process %s holds %s.lock)", ErrSecondInstance, strings.TrimSpace(string(pid)), path)
		}
		return nil, fmt.Errorf("locking %s.lock: %w", path, err)
	}
	_ = f.Truncate(0)
	_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	return &instanceLock{file: f}, nil
}

func (l *instanceLock) release() {
	if l != nil {
		_ = l.file.Close()
	}
}
