// Package gobuild builds a Go program at a pinned release from the module proxy, once, into a
// cache directory outside the source tree: the real servers the tests run (Dendrite, LiveKit).
// The module proxy here serves pinned versions only, so `go install ...@version` (which lists
// versions) is not an option: the program is built in a throwaway module instead.
package gobuild

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"syscall"
)

// Program is what to build.
type Program struct {
	// Name and Version name the cache directory: $XDG_CACHE_HOME/telehealth-bridge/<Name>-<Version>.
	Name, Version string
	// Module is the Go module; Commands its main packages, relative to it ("cmd/server").
	Module   string
	Commands []string
	// Binary renames the one command's binary (LiveKit's cmd/server is livekit-server); empty
	// keeps each package's name.
	Binary string
	// Takes is how long a first build takes, for the progress line.
	Takes string
}

// Dir is the program's cache directory.
func (p Program) Dir() (string, error) {
	base, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("finding the user cache directory: %w", err)
	}
	return filepath.Join(base, "telehealth-bridge", p.Name+"-"+p.Version), nil
}

// Ensure builds the program into its cache directory unless it is there already, and returns
// the directory. Concurrent callers (parallel test binaries) wait on a file lock, so it is
// built once. Build output goes to progress.
func Ensure(ctx context.Context, p Program, progress io.Writer) (string, error) {
	dir, err := p.Dir()
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
	_, _ = fmt.Fprintf(progress, "Building %s %s into %s (once; %s)...\n", p.Name, p.Version, dir, p.Takes)
	if err = p.build(ctx, dir, progress); err != nil {
		return "", fmt.Errorf("building %s %s: %w", p.Name, p.Version, err)
	}
	return dir, nil
}

func complete(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, ".complete"))
	return err == nil
}

// build compiles the program in a throwaway module into a staging directory, renamed into
// place only once complete: an interrupted build leaves no half cache behind.
func (p Program) build(ctx context.Context, dir string, progress io.Writer) error {
	work, err := os.MkdirTemp("", p.Name+"-build-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	if err = os.WriteFile(filepath.Join(work, "go.mod"), []byte("module "+p.Name+"build\n\ngo 1.26\n"), 0o644); err != nil {
		return err
	}
	staging := dir + ".partial"
	_ = os.RemoveAll(staging)
	if err = os.MkdirAll(staging, 0o755); err != nil {
		return err
	}
	get := []string{"get"}
	var pkgs []string
	for _, c := range p.Commands {
		pkg := path.Join(p.Module, c)
		pkgs = append(pkgs, pkg)
		get = append(get, pkg+"@"+p.Version)
	}
	out := staging + "/"
	if p.Binary != "" {
		if len(pkgs) != 1 {
			return errors.New("a binary name needs exactly one command")
		}
		out = filepath.Join(staging, p.Binary)
	}
	for _, args := range [][]string{get, append([]string{"build", "-trimpath", "-o", out}, pkgs...)} {
		cmd := exec.CommandContext(ctx, "go", args...)
		cmd.Dir = work
		// Pure Go: no C toolchain needed, and the binary does not depend on one.
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=-mod=mod", "GOWORK=off")
		cmd.Stdout, cmd.Stderr = progress, progress
		if err = cmd.Run(); err != nil {
			return fmt.Errorf("go %s: %w", args[0], err)
		}
	}
	if err = os.WriteFile(filepath.Join(staging, ".complete"), []byte(p.Version+"\n"), 0o644); err != nil {
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
