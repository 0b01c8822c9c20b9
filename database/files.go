package database

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// sqlitePath is the file of a SQLite URI or path, or "" for an in-memory database.
func sqlitePath(uri string) string {
	path := strings.TrimPrefix(uri, "file:")
	path, _, _ = strings.Cut(path, "?")
	if path == "" || strings.Contains(path, ":memory:") || strings.Contains(uri, "mode=memory") {
		return ""
	}
	return path
}

// restrictSQLite makes the SQLite database readable by the bridge's user only: it holds patients'
// names, contacts and appointments. The file is created 0600 before SQLite opens it, since
// SQLite gives the -wal and -shm files it creates later the database file's mode; files left
// 0644 by an older version are narrowed. The folder is made 0700 when the bridge creates it, and
// narrowed when it is the bridge user's own (never a shared folder such as /tmp).
func restrictSQLite(path string) error {
	if path == "" {
		return nil
	}
	dir := filepath.Dir(path)
	if info, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		if err = os.MkdirAll(dir, 0o700); err != nil {
			return fmt.Errorf("creating the database folder %s: %w", dir, err)
		}
	} else if err != nil {
		return fmt.Errorf("checking the database folder %s: %w", dir, err)
	} else if ownFolder(info) && info.Mode().Perm()&0o077 != 0 {
		if err = os.Chmod(dir, info.Mode().Perm()&0o700); err != nil {
			return fmt.Errorf("restricting the database folder %s to its owner: %w", dir, err)
		}
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("opening the database file %s: %w", path, err)
	}
	_ = f.Close()
	for _, p := range []string{path, path + "-wal", path + "-shm", path + "-journal"} {
		if err = os.Chmod(p, 0o600); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("restricting %s to its owner: %w", p, err)
		}
	}
	return nil
}

// ownFolder reports whether a folder belongs to this process's user and is not a shared,
// sticky one like /tmp, whose mode the bridge must never change.
func ownFolder(info fs.FileInfo) bool {
	st, ok := info.Sys().(*syscall.Stat_t)
	return ok && int(st.Uid) == os.Getuid() && info.Mode()&fs.ModeSticky == 0
}
