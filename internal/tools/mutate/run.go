package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"time"
)

// The outcomes of one entry.
const (
	Caught  = "caught"  // a selected test failed with the breakage in
	Missed  = "missed"  // every selected test passed with the breakage in: a rule without a test
	Invalid = "invalid" // the breakage does not build, or the filter selects no test
	Stale   = "stale"   // the snippet or the rule is no longer where the entry says
	Error   = "error"   // the tests could not tell: they fail without the breakage, or crashed outside a test
	NotRun  = "not-run" // the run was interrupted first
)

// Result is what happened to one entry.
type Result struct {
	Mutation
	Outcome string
	By      []string // the tests that failed (caught)
	Detail  string   // why, for anything but caught
	Took    time.Duration
	Output  string // go test's text output, for anything but caught and missed
}

// Tree is a copy of the module the breakages are made in, so that the developer's own tree is
// never left broken, even if the run is killed. It lives in the same directory from run to run:
// the build cache keys a package on its directory, so a copy in a new place each time would
// compile the whole module again (and -trimpath, which drops the directory, would not share the
// developer's cached dependencies either).
type Tree struct {
	Dir string
}

// SyncTree makes dir a copy of the module's files (tracked, and untracked but not ignored: a
// test being written counts): it writes what differs, and removes what the module no longer
// has, including a breakage left by a run that was killed. The links (relative paths, such as
// e2e/node_modules) are made as symbolic links to the source's own if it has them.
func SyncTree(ctx context.Context, src, dir string, links []string) (*Tree, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating the copy's directory: %w", err)
	}
	out, err := exec.CommandContext(ctx, "git", "-C", src, "ls-files", "-z", "--cached", "--others", "--exclude-standard").Output()
	if err != nil {
		return nil, fmt.Errorf("listing the module's files: %w", err)
	}
	keep := map[string]bool{}
	for _, name := range strings.Split(string(out), "\x00") {
		if name == "" || keep[name] {
			continue
		}
		copied, err := copyOne(filepath.Join(src, name), filepath.Join(dir, name))
		if err != nil {
			return nil, err
		}
		if copied {
			keep[name] = true
		}
	}
	for _, l := range links {
		target := filepath.Join(src, l)
		if _, err := os.Stat(target); err != nil {
			continue
		}
		if real, err := filepath.EvalSymlinks(target); err == nil {
			target = real
		}
		to := filepath.Join(dir, l)
		if current, err := os.Readlink(to); err != nil || current != target {
			_ = os.RemoveAll(to)
			if err = os.MkdirAll(filepath.Dir(to), 0o755); err == nil {
				err = os.Symlink(target, to)
			}
			if err != nil {
				return nil, fmt.Errorf("linking %s into the copy: %w", l, err)
			}
		}
		keep[l] = true
	}
	// Whatever else is in the copy: files the module dropped, or test output.
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		rel = filepath.ToSlash(rel)
		if rel == "." || d.IsDir() {
			if keep[rel] { // a linked directory: not walked
				return filepath.SkipDir
			}
			return nil
		}
		if !keep[rel] {
			return os.Remove(path)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("cleaning the copy: %w", err)
	}
	return &Tree{Dir: dir}, nil
}

// copyOne copies a file, link or not, unless the copy already holds the same; it reports
// whether the source exists (a file deleted in the work tree is left out, as the developer
// sees it).
func copyOne(from, to string) (bool, error) {
	info, err := os.Lstat(from)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("reading %s: %w", from, err)
	}
	if err = os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		return false, fmt.Errorf("creating %s: %w", filepath.Dir(to), err)
	}
	switch {
	case info.Mode()&os.ModeSymlink != 0:
		target, err := os.Readlink(from)
		if err != nil {
			return false, fmt.Errorf("reading link %s: %w", from, err)
		}
		if current, err := os.Readlink(to); err == nil && current == target {
			return true, nil
		}
		_ = os.RemoveAll(to)
		return true, os.Symlink(target, to)
	case info.Mode().IsRegular():
		data, err := os.ReadFile(from)
		if err != nil {
			return false, fmt.Errorf("reading %s: %w", from, err)
		}
		if current, err := os.ReadFile(to); err == nil && bytes.Equal(current, data) {
			return true, nil
		}
		_ = os.RemoveAll(to)
		return true, os.WriteFile(to, data, info.Mode().Perm())
	default: // a submodule's directory and the like: nothing to compile
		return false, nil
	}
}

// TestRun is what one go test invocation reported.
type TestRun struct {
	Ran         []string // top-level tests that ran
	Failed      []string // top-level tests that failed
	BuildFailed bool
	PackageFail bool // a package failed outside any test (TestMain, a crash between tests)
	TimedOut    bool
	Output      string
}

// GoTest runs `go test -run filter packages` in dir. Vet is off: a vet complaint is neither a
// catch nor a miss.
func GoTest(ctx context.Context, dir, filter string, packages []string, timeout time.Duration) (*TestRun, error) {
	// go test's -timeout stops a test binary that hangs; this backstop also covers the build,
	// which takes minutes on a busy machine.
	ctx, cancel := context.WithTimeout(ctx, timeout+30*time.Minute)
	defer cancel()
	// Test binaries are linked without symbol tables and DWARF: linking the big ones is most of
	// an entry's time on a busy machine, and stack traces do not need them.
	args := append([]string{"test", "-vet=off", "-count=1", "-json", "-ldflags=-s -w", "-timeout", timeout.String(), "-run", filter}, packages...)
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=") // the developer's GOFLAGS (-mod=…, -count) would change what runs
	// The test binaries start servers of their own: stop the whole group, not only go.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 10 * time.Second
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("starting go test: %w", err)
	}
	if err = cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting go test: %w", err)
	}
	run := parseTestJSON(stdout)
	err = cmd.Wait()
	run.Output += stderr.String()
	if ctx.Err() != nil {
		run.TimedOut = true
	}
	if strings.Contains(stderr.String(), "[setup failed]") || strings.Contains(stderr.String(), "[build failed]") {
		run.BuildFailed = true
	}
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) && !run.TimedOut {
		return nil, fmt.Errorf("running go test: %w", err)
	}
	return run, nil
}

type testEvent struct {
	Action      string
	Package     string
	ImportPath  string
	Test        string
	Output      string
	FailedBuild string
}

func parseTestJSON(r io.Reader) *TestRun {
	run := &TestRun{}
	var out strings.Builder
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 16*1024*1024)
	for sc.Scan() {
		var ev testEvent
		if json.Unmarshal(sc.Bytes(), &ev) != nil {
			out.WriteString(sc.Text() + "\n")
			continue
		}
		out.WriteString(ev.Output)
		topLevel := ev.Test != "" && !strings.Contains(ev.Test, "/")
		switch {
		case ev.Action == "build-fail" || ev.FailedBuild != "":
			run.BuildFailed = true
		case ev.Action == "run" && topLevel:
			run.Ran = append(run.Ran, ev.Test)
		case ev.Action == "fail" && topLevel:
			run.Failed = append(run.Failed, ev.Test)
		case ev.Action == "fail" && ev.Test == "":
			run.PackageFail = true
		}
	}
	run.Output = out.String()
	return run
}

// Classify turns a run with the breakage in into an outcome.
func Classify(run *TestRun) (outcome, detail string) {
	switch {
	case run.BuildFailed:
		return Invalid, "does not build with the breakage: " + firstErrorLine(run.Output)
	case len(run.Failed) > 0:
		return Caught, ""
	case run.TimedOut:
		return Error, "go test did not finish in time"
	case run.PackageFail:
		return Error, "a package failed outside any test: " + firstErrorLine(run.Output)
	case len(run.Ran) == 0:
		return Invalid, "the filter selects no test"
	default:
		return Missed, fmt.Sprintf("%d tests passed with the breakage in: %s", len(run.Ran), strings.Join(run.Ran, ", "))
	}
}

var errorLine = regexp.MustCompile(`(?m)^.*(\.go:\d+:\d*:?|panic:|FAIL|cannot|undefined|error).*$`)

func firstErrorLine(output string) string {
	if m := errorLine.FindString(output); m != "" {
		return strings.TrimSpace(m)
	}
	lines := strings.Split(strings.TrimSpace(output), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

// Baseline runs, per package, every test the entries select, without any breakage: an entry
// whose tests fail already would read as caught whatever it breaks. It returns, per package,
// the top-level tests that ran and those that failed.
func Baseline(ctx context.Context, dir string, list []Mutation, timeout time.Duration, progress io.Writer) (map[string]*TestRun, error) {
	filters := map[string][]string{}
	for _, m := range list {
		for _, p := range m.Packages {
			filters[p] = append(filters[p], m.Run)
		}
	}
	pkgs := make([]string, 0, len(filters))
	for p := range filters {
		pkgs = append(pkgs, p)
	}
	sort.Strings(pkgs)
	runs := map[string]*TestRun{}
	for _, p := range pkgs {
		union := unionFilter(filters[p])
		start := time.Now()
		_, _ = fmt.Fprintf(progress, "baseline %s (%s)...", p, union)
		run, err := GoTest(ctx, dir, union, []string{p}, timeout)
		if err != nil {
			return nil, err
		}
		_, _ = fmt.Fprintf(progress, " %d tests, %d failed, %s\n", len(run.Ran), len(run.Failed), time.Since(start).Round(time.Second))
		if len(run.Failed) > 0 || run.PackageFail || run.BuildFailed || run.TimedOut {
			_, _ = fmt.Fprintln(progress, tail(run.Output, 20))
		}
		runs[p] = run
	}
	return runs, nil
}

// unionFilter joins filters into one -run pattern. A filter with a subtest part (a slash) cannot
// be joined at the top level; its top-level part is taken, which runs more, never less.
func unionFilter(filters []string) string {
	seen := map[string]bool{}
	var parts []string
	for _, f := range filters {
		top, _, _ := strings.Cut(f, "/")
		if !seen[top] {
			seen[top] = true
			parts = append(parts, "(?:"+top+")")
		}
	}
	sort.Strings(parts)
	return strings.Join(parts, "|")
}

// FromBaseline says, before the breakage is made, whether the entry's tests can tell: some must
// have run, none failed.
func FromBaseline(m Mutation, runs map[string]*TestRun) (outcome, detail string) {
	top, _, _ := strings.Cut(m.Run, "/")
	re := regexp.MustCompile(top)
	var ran, failed []string
	for _, p := range m.Packages {
		run := runs[p]
		if run == nil {
			continue
		}
		if run.BuildFailed {
			return Error, p + " does not build without the breakage: " + firstErrorLine(run.Output)
		}
		if run.TimedOut || run.PackageFail && len(run.Failed) == 0 {
			return Error, p + " fails without the breakage, outside any test: " + firstErrorLine(run.Output)
		}
		for _, t := range run.Ran {
			if re.MatchString(t) {
				ran = append(ran, t)
			}
		}
		for _, t := range run.Failed {
			if re.MatchString(t) {
				failed = append(failed, t)
			}
		}
	}
	switch {
	case len(failed) > 0:
		return Error, "fails without the breakage: " + strings.Join(failed, ", ")
	case len(ran) == 0:
		return Invalid, "the filter selects no test"
	}
	return "", ""
}

// tail is the last n lines of a test run's output.
func tail(output string, n int) string {
	lines := strings.Split(strings.TrimSpace(output), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
