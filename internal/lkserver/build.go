// Package lkserver builds and runs a real LiveKit server on loopback, for the tests of the
// LiveKit media backend. LiveKit comes from the Go module proxy, is built once into a cache
// directory outside the source tree, and runs in development mode with a generated API key.
package lkserver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
)

// Version is the LiveKit server release the harness builds. Later 1.13 releases need a
// golang.org/x/exp version the module proxy here refuses.
const Version = "v1.13.5"

const (
	module  = "github.com/livekit/livekit-server"
	mainPkg = module + "/cmd/server"
	binName = "livekit-server"
)

// CacheDir is where the binary is built: $XDG_CACHE_HOME/telehealth-bridge/livekit-<version>.
func CacheDir() (string, error) {
	base, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("finding the user cache directory: %w", err)
	}
	return filepath.Join(base, "telehealth-bridge", "livekit-"+Version), nil
}

// Ensure builds the LiveKit server into the cache unless it is there already, and returns the
// path of the binary. Concurrent callers (parallel test binaries) wait on a file lock, so it
// is built once. Build output goes to progress.
func Ensure(ctx context.Context, progress io.Writer) (string, error) {
	dir, err := CacheDir()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, binName)
	if complete(dir) {
		return bin, nil
	}
	if err = os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return "", fmt.Errorf("creating cache directory: %w", err)
	}
	lock, err := os.OpenFile(dir+".lock", os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return "", fmt.Errorf("opening build lock: %w", err)
	}
	defer lock.Close()
	if err = syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return "", fmt.Errorf("taking build lock: %w", err)
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)
	if complete(dir) { // built by another process while we waited
		return bin, nil
	}
	_, _ = fmt.Fprintf(progress, "Building LiveKit server %s into %s (once; about 3 minutes on 2 cores)...\n", Version, dir)
	if err = build(ctx, dir, progress); err != nil {
		return "", fmt.Errorf("building LiveKit server %s: %w", Version, err)
	}
	return bin, nil
}

func complete(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, ".complete"))
	return err == nil
}

// build compiles the server in a throwaway module: the module proxy here serves pinned
// versions only, so `go install ...@version` (which lists versions) is not an option.
func build(ctx context.Context, dir string, progress io.Writer) error {
	work, err := os.MkdirTemp("", "livekit-build-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	if err = os.WriteFile(filepath.Join(work, "go.mod"), []byte("module livekitbuild\n\ngo 1.26\n"), 0o644); err != nil {
		return err
	}
	staging := dir + ".partial"
	_ = os.RemoveAll(staging)
	if err = os.MkdirAll(staging, 0o755); err != nil {
		return err
	}
	steps := [][]string{
		{"get", mainPkg + "@" + Version},
		{"build", "-trimpath", "-o", filepath.Join(staging, binName), mainPkg},
	}
	for _, args := range steps {
		cmd := exec.CommandContext(ctx, "go", args...)
		cmd.Dir = work
		// Pure Go: no C toolchain needed, and the binary does not depend on one.
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=-mod=mod", "GOWORK=off")
		cmd.Stdout, cmd.Stderr = progress, progress
		if err = cmd.Run(); err != nil {
			return fmt.Errorf("go %s: %w", args[0], err)
		}
	}
	if err = os.WriteFile(filepath.Join(staging, ".complete"), []byte(Version+"\n"), 0o644); err != nil {
		return err
	}
	_ = os.RemoveAll(dir)
	if err = os.Rename(staging, dir); err != nil {
		return err
	}
	if !complete(dir) {
		return errors.New("binary missing after build")
	}
	return nil
}
