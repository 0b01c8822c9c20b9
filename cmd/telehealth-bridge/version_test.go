package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// buildBinary builds the command into a temporary folder with extra go build flags.
func buildBinary(t *testing.T, flags ...string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "telehealth-bridge")
	cmd := exec.Command("go", append(append([]string{"build", "-o", bin}, flags...), ".")...)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %v: %v\n%s", flags, err, out)
	}
	return bin
}

// The version and commit given at build time (what `make build` passes) are what --version
// prints and what the first log line carries, before anything can fail.
func TestVersionFromLinkerFlags(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildBinary(t, "-ldflags", "-X main.Version=v1.2.3 -X main.Commit=0123abcd")
	out, err := exec.Command(bin, "--version").CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "telehealth-bridge v1.2.3 (commit 0123abcd)" {
		t.Errorf("--version: %q %v", out, err)
	}

	// A config and registration that pass the checks, and a database that cannot open: the
	// bridge stops at once, after its first log line.
	dir := t.TempDir()
	cfg, reg := filepath.Join(dir, "config.yaml"), filepath.Join(dir, "registration.yaml")
	for _, args := range [][]string{{"-e", "-c", cfg}, {"-g", "-c", cfg, "-r", reg}} {
		if out, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
	}
	run := exec.Command(bin, "-c", cfg, "-r", reg)
	run.Dir = dir
	// Under a file, the database's folder cannot be created.
	run.Env = append(os.Environ(), "TELEHEALTH_DATABASE__URI="+filepath.Join(cfg, "bridge.db"))
	out, err = run.CombinedOutput()
	if err == nil {
		t.Fatalf("the bridge started without its database:\n%s", out)
	}
	first, _, _ := strings.Cut(string(out), "\n")
	if !strings.Contains(first, "Starting telehealth-bridge") || !strings.Contains(first, "v1.2.3") || !strings.Contains(first, "0123abcd") {
		t.Errorf("the first log line does not carry the version and commit: %q\n%s", first, out)
	}
}

// A plain go build in a git checkout prints the commit Go recorded (vcs.revision).
// (Go records none in a git worktree: the test is skipped there.)
func TestVersionFromBuildInfo(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	head, err := exec.Command("git", "rev-parse", "HEAD").Output()
	if err != nil {
		t.Skipf("not in a git checkout (or no git): %v", err)
	}
	top, err := exec.Command("git", "rev-parse", "--show-toplevel").Output()
	if err != nil {
		t.Fatal(err)
	}
	if info, err := os.Stat(filepath.Join(strings.TrimSpace(string(top)), ".git")); err == nil && !info.IsDir() {
		// Go looks for a .git folder; a worktree's .git is a file, so Go records no commit.
		t.Skip("a git worktree: go build records no vcs.revision here")
	}
	bin := buildBinary(t, "-buildvcs=true")
	out, err := exec.Command(bin, "--version").CombinedOutput()
	if err != nil {
		t.Fatal(err)
	}
	// The version is Go's pseudo-version of the commit (v0.0.0-<time>-<hash>) since Go 1.24.
	want := "(commit " + strings.TrimSpace(string(head))
	if !strings.HasPrefix(string(out), "telehealth-bridge ") || !strings.Contains(string(out), want) {
		t.Errorf("--version: %q, want the commit %q", out, want)
	}
}
