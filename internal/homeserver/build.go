// Package homeserver builds and runs a real Dendrite homeserver on loopback, for the tests and
// the local demo. Dendrite comes from the Go module proxy, is built once into a cache directory
// outside the source tree, and runs with SQLite in a temporary directory.
package homeserver

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

// DendriteVersion is the Dendrite release the harness builds.
const DendriteVersion = "v0.15.2"

const dendriteModule = "github.com/element-hq/dendrite"

var dendriteCommands = []string{"dendrite", "generate-keys", "create-account"}

// CacheDir is where the Dendrite binaries are built: $XDG_CACHE_HOME/telehealth-bridge/dendrite-<version>.
func CacheDir() (string, error) {
	base, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("finding the user cache directory: %w", err)
	}
	return filepath.Join(base, "telehealth-bridge", "dendrite-"+DendriteVersion), nil
}

// EnsureDendrite builds Dendrite into the cache unless it is there already, and returns the
// directory holding the binaries. Concurrent callers (parallel test binaries) wait on a file
// lock, so it is built once. Build output goes to progress.
func EnsureDendrite(ctx context.Context, progress io.Writer) (string, error) {
	dir, err := CacheDir()
	if err != nil {
		return "", err
	}
	if complete(dir) {
		return dir, nil
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
		return dir, nil
	}
	_, _ = fmt.Fprintf(progress, "Building Dendrite %s into %s (once; about 2 minutes on 2 cores)...\n", DendriteVersion, dir)
	if err = build(ctx, dir, progress); err != nil {
		return "", fmt.Errorf("building Dendrite %s: %w", DendriteVersion, err)
	}
	return dir, nil
}

func complete(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, ".complete"))
	return err == nil
}

// build compiles Dendrite in a throwaway module: the module proxy here serves pinned versions
// only, so `go install ...@version` (which lists versions) is not an option.
func build(ctx context.Context, dir string, progress io.Writer) error {
	work, err := os.MkdirTemp("", "dendrite-build-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	gomod := "module dendritebuild\n\ngo 1.26\n"
	if err = os.WriteFile(filepath.Join(work, "go.mod"), []byte(gomod), 0o644); err != nil {
		return err
	}
	var pkgs []string
	for _, c := range dendriteCommands {
		pkgs = append(pkgs, dendriteModule+"/cmd/"+c)
	}
	getArgs := []string{"get"}
	for _, p := range pkgs {
		getArgs = append(getArgs, p+"@"+DendriteVersion)
	}
	staging := dir + ".partial"
	_ = os.RemoveAll(staging)
	if err = os.MkdirAll(staging, 0o755); err != nil {
		return err
	}
	steps := [][]string{getArgs, append([]string{"build", "-trimpath", "-o", staging + "/"}, pkgs...)}
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
	if err = os.WriteFile(filepath.Join(staging, ".complete"), []byte(DendriteVersion+"\n"), 0o644); err != nil {
		return err
	}
	_ = os.RemoveAll(dir)
	if err = os.Rename(staging, dir); err != nil {
		return err
	}
	if !complete(dir) {
		return errors.New("binaries missing after build")
	}
	return nil
}
