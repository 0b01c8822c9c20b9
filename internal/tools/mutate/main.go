// Command mutate checks that the tests named in docs/security.md really guard the rules: for
// each entry of mutations.txt it breaks one rule with a one-line change in a copy of the tree,
// runs the entry's tests there, and reports the breakage as caught (a test failed) or missed
// (they all passed: the rule has no working test). `make mutate` runs it; it takes minutes, so
// it is not part of `make test`.
//
// The breakages are made in a copy of the tree (one per worker), kept in the user cache
// directory between runs so that the build cache serves it; each is undone after its tests, and
// the copy is brought back in line with the tree at the start of every run, so the developer's
// tree is never touched, even by a run that is killed.
package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"text/tabwriter"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	code, err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "mutate:", err)
		os.Exit(2)
	}
	os.Exit(code)
}

type options struct {
	root, list, security string
	only                 map[string]bool
	listOnly, uncovered  bool
	check                bool
	baseline             bool
	jobs                 int
	work                 string
	timeout              time.Duration
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) (int, error) {
	fs := flag.NewFlagSet("mutate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	var only string
	fs.StringVar(&o.root, "root", "", "the module's root (default: the git work tree holding the current directory)")
	fs.StringVar(&o.list, "file", "", "the list of breakages (default: <root>/mutations.txt)")
	fs.StringVar(&o.security, "security", "", "the rules (default: <root>/docs/security.md)")
	fs.StringVar(&only, "only", "", "run only these entries (comma-separated IDs)")
	fs.BoolVar(&o.listOnly, "list", false, "print the entries and exit")
	fs.BoolVar(&o.check, "check", false, "only check that every entry's snippet and rule are where it says (stale), and exit")
	fs.BoolVar(&o.uncovered, "uncovered", false, "print the rows of docs/security.md that no entry breaks, and exit")
	fs.BoolVar(&o.baseline, "baseline", true, "first run the entries' tests without any breakage (a failing test would read as a catch)")
	fs.StringVar(&o.work, "work", "", "where the copies of the tree live between runs (default: in the user cache directory)")
	fs.IntVar(&o.jobs, "j", 1, "entries run at once (each in its own copy of the tree)")
	fs.DurationVar(&o.timeout, "timeout", 5*time.Minute, "go test -timeout for each entry")
	if err := fs.Parse(args); err != nil {
		return 2, err
	}
	if o.root == "" {
		out, err := exec.CommandContext(ctx, "git", "rev-parse", "--show-toplevel").Output()
		if err != nil {
			return 2, fmt.Errorf("finding the module's root (give -root): %w", err)
		}
		o.root = strings.TrimSpace(string(out))
	}
	if o.list == "" {
		o.list = filepath.Join(o.root, "mutations.txt")
	}
	if o.security == "" {
		o.security = filepath.Join(o.root, "docs", "security.md")
	}
	if only != "" {
		o.only = map[string]bool{}
		for _, id := range strings.Split(only, ",") {
			o.only[strings.TrimSpace(id)] = true
		}
	}
	if o.jobs < 1 {
		o.jobs = 1
	}
	return execute(ctx, o, stdout, stderr)
}

func execute(ctx context.Context, o options, stdout, stderr io.Writer) (int, error) {
	f, err := os.Open(o.list)
	if err != nil {
		return 2, fmt.Errorf("opening the list: %w", err)
	}
	list, err := ParseList(f)
	_ = f.Close()
	if err != nil {
		return 2, fmt.Errorf("%s: %w", o.list, err)
	}
	var ruleStale map[string]string
	var uncovered []Rule
	if sf, err := os.Open(o.security); err == nil {
		rules, perr := ParseRules(sf)
		_ = sf.Close()
		if perr != nil {
			return 2, perr
		}
		ruleStale, uncovered = MatchRules(rules, list)
	} else if !errors.Is(err, os.ErrNotExist) {
		return 2, fmt.Errorf("opening the rules: %w", err)
	}
	if o.uncovered {
		for _, r := range uncovered {
			fmt.Fprintf(stdout, "%s:%d\t%s\n", filepath.Base(o.security), r.Line, r.Key)
		}
		fmt.Fprintf(stdout, "%d rows without an entry\n", len(uncovered))
		return 0, nil
	}
	if o.only != nil {
		var kept []Mutation
		for _, m := range list {
			if o.only[m.ID] {
				kept = append(kept, m)
				delete(o.only, m.ID)
			}
		}
		for id := range o.only {
			return 2, fmt.Errorf("-only: no entry %q", id)
		}
		list = kept
	}
	if o.listOnly {
		w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "ID\tFILE\tTESTS\tRULE")
		for _, m := range list {
			fmt.Fprintf(w, "%s\t%s\t%s %s\t%s\n", m.ID, m.File, m.Run, strings.Join(m.Packages, " "), m.Rule)
		}
		_ = w.Flush()
		return 0, nil
	}

	results := make([]*Result, len(list))
	var todo []int
	for i, m := range list {
		results[i] = &Result{Mutation: m}
		content, err := os.ReadFile(filepath.Join(o.root, filepath.FromSlash(m.File)))
		switch {
		case err != nil:
			results[i].Outcome, results[i].Detail = Stale, fmt.Sprintf("stale: %v", err)
		case ruleStale[m.ID] != "":
			results[i].Outcome, results[i].Detail = Stale, ruleStale[m.ID]
		default:
			if _, err := m.Apply(string(content)); err != nil {
				results[i].Outcome, results[i].Detail = Stale, err.Error()
			} else {
				todo = append(todo, i)
			}
		}
	}

	if o.check {
		stale := 0
		for _, r := range results {
			if r.Outcome == Stale {
				stale++
				fmt.Fprintf(stdout, "%s (%s:%d): %s\n", r.ID, filepath.Base(o.list), r.Line, r.Detail)
			}
		}
		fmt.Fprintf(stdout, "%d entries, %d stale\n", len(results), stale)
		if stale > 0 {
			return 1, nil
		}
		return 0, nil
	}
	start := time.Now()
	if len(todo) > 0 {
		links := []string{"e2e/node_modules"}
		work := o.work
		if work == "" {
			cache, err := os.UserCacheDir()
			if err != nil {
				return 2, fmt.Errorf("finding the cache directory (give -work): %w", err)
			}
			sum := sha256.Sum256([]byte(o.root))
			work = filepath.Join(cache, "telehealth-bridge", "mutate", hex.EncodeToString(sum[:6]))
		}
		if err := os.MkdirAll(work, 0o755); err != nil {
			return 2, fmt.Errorf("creating the work directory: %w", err)
		}
		// Two runs on the same copies would undo each other's breakages.
		lock, err := os.OpenFile(filepath.Join(work, "lock"), os.O_CREATE|os.O_RDWR, 0o644)
		if err != nil {
			return 2, fmt.Errorf("opening the work directory's lock: %w", err)
		}
		defer lock.Close()
		if err = syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
			return 2, fmt.Errorf("another mutate run is using %s", work)
		}
		tree, err := SyncTree(ctx, o.root, filepath.Join(work, "tree-1"), links)
		if err != nil {
			return 2, err
		}
		if o.baseline {
			var runnable []Mutation
			for _, i := range todo {
				runnable = append(runnable, list[i])
			}
			base, err := Baseline(ctx, tree.Dir, runnable, o.timeout, stderr)
			if err != nil {
				return 2, err
			}
			var still []int
			for _, i := range todo {
				if outcome, detail := FromBaseline(list[i], base); outcome != "" {
					results[i].Outcome, results[i].Detail = outcome, detail
				} else {
					still = append(still, i)
				}
			}
			todo = still
		}
		trees := []*Tree{tree}
		for len(trees) < o.jobs && len(trees) < len(todo) {
			t, err := SyncTree(ctx, o.root, filepath.Join(work, fmt.Sprintf("tree-%d", len(trees)+1)), links)
			if err != nil {
				return 2, err
			}
			trees = append(trees, t)
		}
		queue := make(chan int)
		var wg sync.WaitGroup
		var mu sync.Mutex
		done := 0
		for _, t := range trees {
			wg.Add(1)
			go func(t *Tree) {
				defer wg.Done()
				for i := range queue {
					r := results[i]
					tryOne(ctx, t, r, o.timeout)
					mu.Lock()
					done++
					fmt.Fprintf(stderr, "[%d/%d] %-34s %-7s %5s %s\n", done, len(todo), r.ID, r.Outcome, r.Took.Round(time.Second), summaryOf(r))
					mu.Unlock()
				}
			}(t)
		}
	feed:
		for _, i := range todo {
			select {
			case queue <- i:
			case <-ctx.Done():
				break feed
			}
		}
		close(queue)
		wg.Wait()
		if ctx.Err() != nil {
			// Interrupted: the table of what ran so far, the rest "not run".
			report(stdout, results, len(uncovered), time.Since(start))
			return 2, fmt.Errorf("interrupted: %w", ctx.Err())
		}
	}
	return report(stdout, results, len(uncovered), time.Since(start)), nil
}

// tryOne makes the breakage in the copy, runs the entry's tests and undoes it.
func tryOne(ctx context.Context, t *Tree, r *Result, timeout time.Duration) {
	start := time.Now()
	defer func() { r.Took = time.Since(start) }()
	path := filepath.Join(t.Dir, filepath.FromSlash(r.File))
	original, err := os.ReadFile(path)
	if err != nil {
		r.Outcome, r.Detail = Error, err.Error()
		return
	}
	broken, err := r.Apply(string(original))
	if err != nil {
		r.Outcome, r.Detail = Stale, err.Error()
		return
	}
	if err = os.WriteFile(path, []byte(broken), 0o644); err != nil {
		r.Outcome, r.Detail = Error, err.Error()
		return
	}
	defer func() {
		if err := os.WriteFile(path, original, 0o644); err != nil {
			r.Outcome, r.Detail = Error, "restoring the copy: "+err.Error()
		}
	}()
	run, err := GoTest(ctx, t.Dir, r.Run, r.Packages, timeout)
	if ctx.Err() != nil { // interrupted: this entry did not run to the end
		r.Outcome, r.Detail, r.Output = "", "", ""
		return
	}
	if err != nil {
		r.Outcome, r.Detail = Error, err.Error()
		return
	}
	r.Outcome, r.Detail = Classify(run)
	r.By = run.Failed
	if r.Outcome != Caught && r.Outcome != Missed {
		r.Output = run.Output
	}
}

func summaryOf(r *Result) string {
	if r.Outcome == Caught {
		return strings.Join(r.By, ", ")
	}
	return r.Detail
}

// report prints the table and the summary line, and returns the exit code: 0 only when every
// entry was caught.
func report(w io.Writer, results []*Result, uncovered int, took time.Duration) int {
	counts := map[string]int{}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tRESULT\tTIME\tCAUGHT BY / WHY")
	for _, r := range results {
		outcome := r.Outcome
		if outcome == "" {
			outcome = NotRun
		}
		counts[outcome]++
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.ID, outcome, r.Took.Round(time.Second), summaryOf(r))
	}
	_ = tw.Flush()
	for _, r := range results {
		if r.Output == "" {
			continue
		}
		fmt.Fprintf(w, "\n--- %s (%s): %s\n%s\n", r.ID, r.Outcome, r.Detail, tail(r.Output, 15))
	}
	notRun := ""
	if counts[NotRun] > 0 {
		notRun = fmt.Sprintf(" not-run=%d", counts[NotRun])
	}
	fmt.Fprintf(w, "MUTATE caught=%d missed=%d invalid=%d stale=%d error=%d%s (%d entries, %s; %d rows of docs/security.md without an entry: -uncovered lists them)\n",
		counts[Caught], counts[Missed], counts[Invalid], counts[Stale], counts[Error], notRun, len(results), took.Round(time.Second), uncovered)
	if counts[Caught] != len(results) {
		return 1
	}
	return 0
}
