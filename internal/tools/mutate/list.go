package main

import (
	"bufio"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
)

// Mutation is one breakage of a rule: in File, the one occurrence of Find becomes Replace, and
// at least one of the tests Run selects in Packages must then fail.
type Mutation struct {
	ID       string
	Line     int    // where the entry starts in the list, for messages
	Rule     string // the docs/security.md row it breaks: "<section> | <start of the row's first cell>"
	File     string // slash-separated, relative to the module root
	Find     string
	Replace  string
	Run      string   // the go test -run filter
	Packages []string // ./web/ ...
	Why      string   // optional: what the breakage does, for the reader of the table
}

var idPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)

// ParseList reads the list: blocks of `key: value` lines, each block opened by `[id]`. Lines
// starting with # are comments. A value is taken as written after the colon and its spaces,
// or, when it is a Go string literal ("..."), unquoted (for tabs, leading or trailing spaces, or
// a line break).
func ParseList(r io.Reader) ([]Mutation, error) {
	var (
		list []Mutation
		cur  *Mutation
		seen = map[string]int{}
		sc   = bufio.NewScanner(r)
		n    int
	)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	finish := func() error {
		if cur == nil {
			return nil
		}
		if err := cur.check(); err != nil {
			return fmt.Errorf("line %d: [%s]: %w", cur.Line, cur.ID, err)
		}
		list = append(list, *cur)
		cur = nil
		return nil
	}
	for sc.Scan() {
		n++
		line := strings.TrimRight(sc.Text(), "\r")
		trimmed := strings.TrimSpace(line)
		switch {
		case trimmed == "" || strings.HasPrefix(trimmed, "#"):
			continue
		case strings.HasPrefix(trimmed, "[") && strings.HasSuffix(trimmed, "]"):
			if err := finish(); err != nil {
				return nil, err
			}
			id := trimmed[1 : len(trimmed)-1]
			if !idPattern.MatchString(id) {
				return nil, fmt.Errorf("line %d: id %q: use lower-case letters, digits and dashes", n, id)
			}
			if first, dup := seen[id]; dup {
				return nil, fmt.Errorf("line %d: id %q already used on line %d", n, id, first)
			}
			seen[id] = n
			cur = &Mutation{ID: id, Line: n}
			continue
		}
		if cur == nil {
			return nil, fmt.Errorf("line %d: %q before the first [id]", n, trimmed)
		}
		key, value, ok := strings.Cut(trimmed, ":")
		if !ok {
			return nil, fmt.Errorf("line %d: want `key: value`, got %q", n, trimmed)
		}
		value = strings.TrimSpace(value)
		if len(value) >= 2 && strings.HasPrefix(value, `"`) && strings.HasSuffix(value, `"`) {
			// Code may start and end with a quote too ("open-window", f(), "x"): a value that is
			// no Go string literal is taken as written.
			if unquoted, err := strconv.Unquote(value); err == nil {
				value = unquoted
			}
		}
		if err := cur.set(strings.TrimSpace(key), value); err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading the list: %w", err)
	}
	if err := finish(); err != nil {
		return nil, err
	}
	return list, nil
}

func (m *Mutation) set(key, value string) error {
	var field *string
	switch key {
	case "rule":
		field = &m.Rule
	case "file":
		field = &m.File
	case "find":
		field = &m.Find
	case "replace":
		field = &m.Replace
	case "why":
		field = &m.Why
	case "run":
		field = &m.Run
	case "packages":
		if m.Packages != nil {
			return fmt.Errorf("packages given twice")
		}
		m.Packages = strings.Fields(value)
		return nil
	default:
		return fmt.Errorf("unknown key %q (rule, file, find, replace, run, packages, why)", key)
	}
	if *field != "" {
		return fmt.Errorf("%s given twice", key)
	}
	*field = value
	return nil
}

func (m *Mutation) check() error {
	for _, f := range []struct{ name, value string }{
		{"rule", m.Rule}, {"file", m.File}, {"find", m.Find}, {"run", m.Run},
	} {
		if f.value == "" {
			return fmt.Errorf("%s is missing", f.name)
		}
	}
	if len(m.Packages) == 0 {
		return fmt.Errorf("packages is missing")
	}
	if m.Find == m.Replace {
		return fmt.Errorf("replace is the same as find: nothing would break")
	}
	if strings.HasPrefix(m.File, "/") || strings.Contains(m.File, "..") {
		return fmt.Errorf("file %q: give a path inside the module", m.File)
	}
	if _, err := regexp.Compile(m.Run); err != nil {
		return fmt.Errorf("run %q: %w", m.Run, err)
	}
	for _, p := range m.Packages {
		if !strings.HasPrefix(p, "./") || strings.Contains(p, "...") {
			return fmt.Errorf("package %q: name one package as ./dir/", p)
		}
	}
	return nil
}

// Occurrences counts where Find is in the file's content: the list is current only if exactly once.
func (m *Mutation) Occurrences(content string) int {
	return strings.Count(content, m.Find)
}

// Apply returns the content with the breakage in, or an error saying why the entry is stale.
func (m *Mutation) Apply(content string) (string, error) {
	switch n := m.Occurrences(content); n {
	case 1:
		return strings.Replace(content, m.Find, m.Replace, 1), nil
	case 0:
		return "", fmt.Errorf("stale: %s no longer holds %q", m.File, m.Find)
	default:
		return "", fmt.Errorf("stale: %s holds %q %d times; make it unique", m.File, m.Find, n)
	}
}
