package main

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// A Rule is one row of a table in docs/security.md: who may use an endpoint, a command or a
// message, or an attack with its control and test. Its Key is "<section> | <first cell>", the
// text an entry's `rule:` starts with.
type Rule struct {
	Key  string
	Line int
}

// ParseRules reads the rows of every table from "## What each may do" to "## Left as they are"
// (the actors' table before it describes people, not rules; what follows it is left as is).
func ParseRules(r io.Reader) ([]Rule, error) {
	var (
		rules   []Rule
		section string
		on      bool
		sc      = bufio.NewScanner(r)
		n       int
		pending *Rule // a row that may turn out to be a header
	)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		isSeparator := strings.HasPrefix(line, "|---") || strings.HasPrefix(line, "| ---")
		if pending != nil {
			if !isSeparator { // it was a row, not a header
				rules = append(rules, *pending)
			}
			pending = nil
		}
		switch {
		case strings.HasPrefix(line, "## "):
			on = strings.HasPrefix(line, "## What each may do") || strings.HasPrefix(line, "## The controls")
			section = strings.TrimPrefix(line, "## ")
		case strings.HasPrefix(line, "### "):
			section = strings.TrimPrefix(line, "### ")
		case on && strings.HasPrefix(line, "|") && !isSeparator:
			cells := strings.Split(strings.Trim(line, "|"), " | ")
			first := strings.Join(strings.Fields(cells[0]), " ")
			pending = &Rule{Key: section + " | " + first, Line: n}
		}
	}
	if pending != nil {
		rules = append(rules, *pending)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading docs/security.md: %w", err)
	}
	return rules, nil
}

// MatchRules ties each entry to the one row its rule starts: an entry that names no row, or
// several, is stale (the page changed; update the entry); a rule that is a whole row's key names
// that row. An entry whose rule is "none: why"
// breaks something no row describes. It returns the rows no entry breaks.
func MatchRules(rules []Rule, list []Mutation) (stale map[string]string, uncovered []Rule) {
	stale = map[string]string{}
	covered := make([]bool, len(rules))
	for _, m := range list {
		if strings.HasPrefix(m.Rule, "none:") { // a breakage no row describes yet (say why after the colon)
			continue
		}
		want := strings.Join(strings.Fields(m.Rule), " ")
		var hits []int
		for i, r := range rules {
			if r.Key == want { // a whole first cell that also starts a longer one
				hits = []int{i}
				break
			}
			if strings.HasPrefix(r.Key, want) {
				hits = append(hits, i)
			}
		}
		switch len(hits) {
		case 1:
			covered[hits[0]] = true
		case 0:
			stale[m.ID] = fmt.Sprintf("stale rule: no row of docs/security.md starts %q", want)
		default:
			stale[m.ID] = fmt.Sprintf("stale rule: %d rows of docs/security.md start %q (lines %d and %d); say more", len(hits), want, rules[hits[0]].Line, rules[hits[1]].Line)
		}
	}
	for i, r := range rules {
		if !covered[i] {
			uncovered = append(uncovered, r)
		}
	}
	return stale, uncovered
}
