package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseList(t *testing.T) {
	list, err := ParseList(strings.NewReader(`
# a comment
[web-host-check]
rule: Web | ` + "`POST /api/call/host/<action>`" + `
file: web/call.go
find: "if !v.host {"
replace: "if false {\t"
run: TestHostActions|TestCall
packages: ./web/ ./media/
why: anyone may act as the host
`))
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 {
		t.Fatalf("got %d entries, want 1", len(list))
	}
	m := list[0]
	if m.ID != "web-host-check" || m.Find != "if !v.host {" || m.Replace != "if false {\t" || m.Run != "TestHostActions|TestCall" ||
		len(m.Packages) != 2 || m.Packages[1] != "./media/" || m.Rule != "Web | `POST /api/call/host/<action>`" || m.Line != 3 {
		t.Fatalf("parsed %+v", m)
	}

	for name, bad := range map[string]string{
		"no find":        "[a]\nrule: r\nfile: f.go\nreplace: x\nrun: T\npackages: ./\n",
		"no packages":    "[a]\nrule: r\nfile: f.go\nfind: y\nreplace: x\nrun: T\n",
		"same":           "[a]\nrule: r\nfile: f.go\nfind: x\nreplace: x\nrun: T\npackages: ./\n",
		"unknown key":    "[a]\nrule: r\nfiel: f.go\n",
		"duplicate id":   "[a]\nrule: r\nfile: f.go\nfind: y\nreplace: x\nrun: T\npackages: ./\n[a]\n",
		"bad package":    "[a]\nrule: r\nfile: f.go\nfind: y\nreplace: x\nrun: T\npackages: ./...\n",
		"before an id":   "rule: r\n",
		"bad regexp":     "[a]\nrule: r\nfile: f.go\nfind: y\nreplace: x\nrun: T(\npackages: ./\n",
		"outside module": "[a]\nrule: r\nfile: ../f.go\nfind: y\nreplace: x\nrun: T\npackages: ./\n",
	} {
		if _, err := ParseList(strings.NewReader(bad)); err == nil {
			t.Errorf("%s: parsed without an error", name)
		}
	}
}

func TestStaleSnippet(t *testing.T) {
	m := Mutation{File: "a.go", Find: "if !ok {", Replace: "if false {"}
	if got, err := m.Apply("x\nif !ok {\n}\n"); err != nil || got != "x\nif false {\n}\n" {
		t.Fatalf("Apply = %q, %v", got, err)
	}
	if _, err := m.Apply("if ok {}"); err == nil || !strings.Contains(err.Error(), "no longer holds") {
		t.Fatalf("a missing snippet: %v", err)
	}
	if _, err := m.Apply("if !ok {} if !ok {}"); err == nil || !strings.Contains(err.Error(), "2 times") {
		t.Fatalf("a snippet twice: %v", err)
	}
}

const securityDoc = "# Security\n\n## The actors\n\n| actor | who |\n|---|---|\n| clinician | a user |\n\n" +
	"## What each may do\n\n### Web\n\n| endpoint | who |\n|---|---|\n| `GET /a` | anyone |\n| `GET /a` with more | anyone |\n| `POST /b` | a clinician |\n\n" +
	"## The controls, and the tests that prove them\n\n### Rate limits\n\n| attack | control | test |\n|---|---|---|\n" +
	"| Spoofed `X-Forwarded-For` escapes the limit | trusted proxies | `TestSpoof` |\n| Spoofed again | x | y |\n\n## Left as they are\n\n| not | a rule |\n|---|---|\n| x | y |\n"

func TestRulesCoverage(t *testing.T) {
	rules, err := ParseRules(strings.NewReader(securityDoc))
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, r := range rules {
		keys = append(keys, r.Key)
	}
	want := "Web | `GET /a`;Web | `GET /a` with more;Web | `POST /b`;Rate limits | Spoofed `X-Forwarded-For` escapes the limit;Rate limits | Spoofed again"
	if strings.Join(keys, ";") != want {
		t.Fatalf("rules:\n%s\nwant\n%s", strings.Join(keys, ";"), want)
	}
	stale, uncovered := MatchRules(rules, []Mutation{
		{ID: "ok", Rule: "Rate limits | Spoofed `X-Forwarded-For`"},
		{ID: "gone", Rule: "Web | `PUT /c`"},
		{ID: "vague", Rule: "Rate limits | Spoofed"},
		{ID: "whole", Rule: "Web | `GET /a`"},
	})
	if len(stale) != 2 || stale["gone"] == "" || !strings.Contains(stale["vague"], "2 rows") {
		t.Fatalf("stale: %v", stale)
	}
	if len(uncovered) != 3 {
		t.Fatalf("uncovered: %v", uncovered)
	}
}

// TestTheListIsCurrent keeps mutations.txt in step with the code and docs/security.md on every
// `make test`: a refactor that moves a guarded line, or a page edit that renames a row, fails
// here in a second instead of in the next `make mutate`.
func TestTheListIsCurrent(t *testing.T) {
	root := filepath.Join("..", "..", "..")
	f, err := os.Open(filepath.Join(root, "mutations.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	list, err := ParseList(f)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile(filepath.Join(root, "docs", "security.md"))
	if err != nil {
		t.Fatal(err)
	}
	rules, err := ParseRules(bytes.NewReader(doc))
	if err != nil {
		t.Fatal(err)
	}
	stale, _ := MatchRules(rules, list)
	for _, m := range list {
		if s := stale[m.ID]; s != "" {
			t.Errorf("[%s] (mutations.txt:%d): %s", m.ID, m.Line, s)
		}
		content, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(m.File)))
		if err != nil {
			t.Errorf("[%s] (mutations.txt:%d): %v", m.ID, m.Line, err)
			continue
		}
		if _, err := m.Apply(string(content)); err != nil {
			t.Errorf("[%s] (mutations.txt:%d): %v", m.ID, m.Line, err)
		}
		for _, p := range m.Packages {
			if _, err := os.Stat(filepath.Join(root, filepath.FromSlash(p))); err != nil {
				t.Errorf("[%s] (mutations.txt:%d): package %s: %v", m.ID, m.Line, p, err)
			}
		}
	}
}

// TestFixtureModule runs the whole tool on a tiny module: a guarded line its test checks is
// caught, a loosened limit no test checks is missed, a breakage that does not compile and a
// filter that selects nothing are invalid, a snippet that is gone is stale, and the
// module's own files are unchanged after.
func TestFixtureModule(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Fatal("git is needed to list the module's files")
	}
	dir := t.TempDir()
	files := map[string]string{
		"go.mod": "module fixture\n\ngo 1.26\n",
		"guard.go": "package fixture\n\n// Allowed lets only the host act.\nfunc Allowed(host bool) bool {\n\tif !host {\n\t\treturn false\n\t}\n\treturn true\n}\n\n" +
			"// Small is the limit.\nfunc Small(n int) bool { return n <= 50 }\n",
		"guard_test.go": "package fixture\n\nimport \"testing\"\n\n" +
			"func TestAllowed(t *testing.T) {\n\tif Allowed(false) {\n\t\tt.Fatal(\"a guest acted as the host\")\n\t}\n}\n\n" +
			"func TestSmall(t *testing.T) {\n\tif !Small(10) {\n\t\tt.Fatal(\"10 refused\")\n\t}\n}\n",
		"mutations.txt": "[host-check]\nrule: r\nfile: guard.go\nfind: if !host {\nreplace: if false {\nrun: TestAllowed\npackages: ./\n\n" +
			"[limit]\nrule: r\nfile: guard.go\nfind: n <= 50\nreplace: n <= 5000\nrun: TestSmall\npackages: ./\n\n" +
			"[no-build]\nrule: r\nfile: guard.go\nfind: return true\nreplace: return yes\nrun: TestAllowed\npackages: ./\n\n" +
			"[no-test]\nrule: r\nfile: guard.go\nfind: return false\nreplace: return true\nrun: TestNoSuchTest\npackages: ./\n\n" +
			"[gone]\nrule: r\nfile: guard.go\nfind: if host == nil {\nreplace: if false {\nrun: TestAllowed\npackages: ./\n",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if out, err := exec.Command("git", "-C", dir, "init", "-q").CombinedOutput(); err != nil {
		t.Fatalf("git init: %v: %s", err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	work := t.TempDir()
	code, err := run(ctx, []string{"-root", dir, "-work", work, "-security", filepath.Join(dir, "none.md"), "-timeout", "1m"}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, stderr.String())
	}
	out := stdout.String()
	if code != 1 {
		t.Errorf("exit code %d, want 1 (not everything caught)", code)
	}
	for id, want := range map[string]string{"host-check": Caught, "limit": Missed, "no-build": Invalid, "no-test": Invalid, "gone": Stale} {
		if !lineHas(out, id, want) {
			t.Errorf("%s: want %s in\n%s", id, want, out)
		}
	}
	if !strings.Contains(out, "MUTATE caught=1 missed=1 invalid=2 stale=1 error=0") {
		t.Errorf("no summary line in\n%s", out)
	}
	got, err := os.ReadFile(filepath.Join(dir, "guard.go"))
	if err != nil || string(got) != files["guard.go"] {
		t.Errorf("the module's own file changed: %v\n%s", err, got)
	}

	// A run killed with a breakage in the copy, and a stray file there: the next run starts
	// from the module as it is. Only the caught entry: exit 0.
	copied := filepath.Join(work, "tree-1", "guard.go")
	if err := os.WriteFile(copied, []byte(strings.Replace(files["guard.go"], "if !host {", "if false {", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	stray := filepath.Join(work, "tree-1", "stray_test.go")
	if err := os.WriteFile(stray, []byte("package fixture\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	stdout.Reset()
	code, err = run(ctx, []string{"-root", dir, "-work", work, "-security", filepath.Join(dir, "none.md"), "-only", "host-check", "-baseline=false"}, &stdout, &stderr)
	if err != nil || code != 0 || !strings.Contains(stdout.String(), "MUTATE caught=1 missed=0 invalid=0 stale=0 error=0") {
		t.Errorf("-only host-check: code %d, %v\n%s", code, err, stdout.String())
	}
	if _, err := os.Stat(stray); err == nil {
		t.Error("a file the module does not have stayed in the copy")
	}
}

func lineHas(out, id, outcome string) bool {
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && f[0] == id && f[1] == outcome {
			return true
		}
	}
	return false
}
