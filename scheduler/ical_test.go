package scheduler_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/telehealth-bridge/telehealth-bridge/scheduler"
)

// hostileClinicNames are clinic names a clinic may well have, holding what the structured
// formats the name reaches treat as syntax: iCalendar parameter and value separators, a double
// quote, letters beyond ASCII, a line break that would start a new line of the format, HTML
// markup, and a name long enough to fold.
var hostileClinicNames = []string{
	"Dupont, Martin et Associés",
	"Clinique: Nord",
	"Centre; Sud",
	`Centre "Soins"`,
	"Clinique Saint-Éloi",
	"東京ファミリークリニック",
	"Clinique du Parc\r\nATTENDEE:mailto:evil@attacker.example",
	`Clinique <b>du Parc</b> & <a href="https://evil.example/">Fils</a>`,
	"Centre hospitalier universitaire Saint-Éloi, pôle de télémédecine: consultations \"à distance\"; 東京",
}

// meant is what a calendar should show for a name: line breaks are one newline whatever the
// sender wrote.
func meant(name string) string {
	return strings.ReplaceAll(name, "\r\n", "\n")
}

// parsedCalendar is what a parser read in an invite, in the JSON form of e2e/ical-parse.mjs.
type parsedCalendar struct {
	Method string        `json:"method"`
	Props  []string      `json:"props"`
	Events []parsedEvent `json:"events"`
}

type parsedEvent struct {
	Props       []string `json:"props"`
	UID         string   `json:"uid"`
	Sequence    int      `json:"sequence"`
	Summary     string   `json:"summary"`
	Status      string   `json:"status"`
	DTStart     string   `json:"dtstart"`
	DTEnd       string   `json:"dtend"`
	Organizer   string   `json:"organizer"`
	OrganizerCN string   `json:"organizer_cn"`
	Attendees   []string `json:"attendees"`
}

// repoRoot is the checkout, where e2e/ holds the parsers' scripts and ical.js.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// parseWith runs a parser script on each invite and returns what it read; an invite it could
// not read fails the test and reads as an empty calendar.
func parseWith(t *testing.T, name string, args []string, invites [][]byte, what []string) []parsedCalendar {
	t.Helper()
	out := make([]parsedCalendar, 0, len(invites))
	for i, invite := range invites {
		cals, err := runParser(repoRoot(t), args, invite)
		if err != nil || len(cals) != 1 {
			t.Errorf("%s: %s could not read it (%d calendars): %v\n%s", what[i], name, len(cals), err, invite)
			cals = []parsedCalendar{{}}
		}
		out = append(out, cals[0])
	}
	return out
}

func runParser(root string, args []string, invite []byte) ([]parsedCalendar, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Dir = root
	cmd.Stdin = bytes.NewReader(invite)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("%w: %s", err, lastLine(stderr.String()))
	}
	var cals []parsedCalendar
	if err = json.Unmarshal(out, &cals); err != nil {
		return nil, fmt.Errorf("reading its output %q: %w", out, err)
	}
	return cals, nil
}

// lastLine is the gist of a parser's error output (a stack trace ends, or starts, with it).
func lastLine(s string) string {
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, "Error") {
			return strings.TrimSpace(l)
		}
	}
	return strings.TrimSpace(s)
}

// parseICS is our own reading of an invite, by RFC 5545 and RFC 6868 and strict about them:
// CRLF line ends, lines of at most 75 octets each holding whole UTF-8 characters, parameter
// values quoted when they must be.
func parseICS(data []byte) ([]parsedCalendar, error) {
	raw := string(data)
	if !strings.HasSuffix(raw, "\r\n") {
		return nil, fmt.Errorf("the last line has no CRLF")
	}
	var lines []string
	for i, l := range strings.Split(strings.TrimSuffix(raw, "\r\n"), "\r\n") {
		switch {
		case strings.ContainsAny(l, "\r\n"):
			return nil, fmt.Errorf("line %d holds a bare CR or LF: %q", i+1, l)
		case len(l) > 75:
			return nil, fmt.Errorf("line %d has %d octets: %q", i+1, len(l), l)
		case !utf8.ValidString(l):
			return nil, fmt.Errorf("line %d is folded inside a UTF-8 character: %q", i+1, l)
		case strings.HasPrefix(l, " ") || strings.HasPrefix(l, "\t"):
			if len(lines) == 0 {
				return nil, fmt.Errorf("line %d continues nothing", i+1)
			}
			lines[len(lines)-1] += l[1:]
		default:
			lines = append(lines, l)
		}
	}
	var cals []parsedCalendar
	var cal *parsedCalendar
	var ev *parsedEvent
	for _, l := range lines {
		name, params, value, err := contentLine(l)
		if err != nil {
			return nil, err
		}
		switch {
		case name == "BEGIN" && value == "VCALENDAR":
			cals = append(cals, parsedCalendar{})
			cal = &cals[len(cals)-1]
		case name == "BEGIN" && value == "VEVENT" && cal != nil:
			cal.Events = append(cal.Events, parsedEvent{})
			ev = &cal.Events[len(cal.Events)-1]
		case name == "END" && value == "VEVENT":
			ev = nil
		case name == "END" && value == "VCALENDAR":
			cal = nil
		case ev != nil:
			ev.Props = append(ev.Props, name)
			switch name {
			case "UID":
				ev.UID = unescapeText(value)
			case "SEQUENCE":
				if ev.Sequence, err = strconv.Atoi(value); err != nil {
					return nil, fmt.Errorf("SEQUENCE %q", value)
				}
			case "SUMMARY":
				ev.Summary = unescapeText(value)
			case "STATUS":
				ev.Status = value
			case "DTSTART", "DTEND":
				t, err := time.Parse("20060102T150405Z", value)
				if err != nil {
					return nil, fmt.Errorf("%s %q: %w", name, value, err)
				}
				s := t.Format("2006-01-02T15:04:05.000Z")
				if name == "DTSTART" {
					ev.DTStart = s
				} else {
					ev.DTEnd = s
				}
			case "ORGANIZER":
				ev.Organizer, ev.OrganizerCN = value, params["CN"]
			case "ATTENDEE":
				ev.Attendees = append(ev.Attendees, value)
			}
		case cal != nil:
			cal.Props = append(cal.Props, name)
			if name == "METHOD" {
				cal.Method = value
			}
		default:
			return nil, fmt.Errorf("%s outside a calendar", name)
		}
	}
	return cals, nil
}

// contentLine splits an unfolded line into its name, parameters (RFC 6868 decoded) and value.
func contentLine(l string) (name string, params map[string]string, value string, err error) {
	params = map[string]string{}
	i := strings.IndexAny(l, ";:")
	if i <= 0 {
		return "", nil, "", fmt.Errorf("no name in %q", l)
	}
	name, l = l[:i], l[i:]
	for strings.HasPrefix(l, ";") {
		eq := strings.IndexByte(l, '=')
		if eq < 0 {
			return "", nil, "", fmt.Errorf("parameter without a value in %s", name)
		}
		key, rest := l[1:eq], l[eq+1:]
		var v string
		if strings.HasPrefix(rest, `"`) {
			end := strings.IndexByte(rest[1:], '"')
			if end < 0 {
				return "", nil, "", fmt.Errorf("unterminated quoted value of %s in %s", key, name)
			}
			v, rest = rest[1:end+1], rest[end+2:]
		} else {
			end := strings.IndexAny(rest, ";:")
			if end < 0 {
				return "", nil, "", fmt.Errorf("no value after the parameters of %s", name)
			}
			v, rest = rest[:end], rest[end:]
			if strings.ContainsAny(v, `,"`) {
				return "", nil, "", fmt.Errorf("parameter %s of %s holds %q unquoted", key, name, v)
			}
		}
		params[key] = decodeRFC6868(v)
		l = rest
	}
	if !strings.HasPrefix(l, ":") {
		return "", nil, "", fmt.Errorf("%s: %q after the parameters", name, l)
	}
	return name, params, l[1:], nil
}

func decodeRFC6868(v string) string {
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		if v[i] == '^' && i+1 < len(v) {
			switch v[i+1] {
			case 'n':
				b.WriteByte('\n')
				i++
				continue
			case '\'':
				b.WriteByte('"')
				i++
				continue
			case '^':
				b.WriteByte('^')
				i++
				continue
			}
		}
		b.WriteByte(v[i])
	}
	return b.String()
}

func unescapeText(v string) string {
	return strings.NewReplacer(`\\`, `\`, `\;`, `;`, `\,`, `,`, `\n`, "\n", `\N`, "\n").Replace(v)
}

// TestCalendarInvitesWithHostileClinicNames: whatever the clinic is called, every invite kind
// (a request, its update with a higher SEQUENCE, the cancellation) reads the same in ical.js
// (Thunderbird's parser), Debian's python3-icalendar and our own strict reading: the organizer's
// name and address, the summary, UID, SEQUENCE, METHOD, STATUS and times as meant, and no
// other property than those written.
func TestCalendarInvitesWithHostileClinicNames(t *testing.T) {
	root := repoRoot(t)
	if _, err := os.Stat(filepath.Join(root, "e2e", "node_modules", "ical.js")); err != nil {
		t.Fatal("ical.js is missing: `make test` installs it (npm ci in e2e/)")
	}
	if err := exec.Command("/usr/bin/python3", "-c", "import icalendar").Run(); err != nil {
		t.Fatal("python3-icalendar is missing: `make test` installs it (apt-get install python3-icalendar)")
	}
	paris := mustLoad(t, "Europe/Paris")
	start := time.Date(2026, 3, 30, 15, 0, 0, 0, paris)
	kinds := []struct {
		kind           bridge.NoticeKind
		sequence       int
		method, status string
	}{
		{bridge.NoticeConfirmation, 1, "REQUEST", "CONFIRMED"},
		{bridge.NoticeReschedule, 2, "REQUEST", "CONFIRMED"},
		{bridge.NoticeCancellation, 3, "CANCEL", "CANCELLED"},
	}
	var invites [][]byte
	var want []parsedCalendar
	var what []string
	for _, name := range hostileClinicNames {
		for _, k := range kinds {
			n := testNotice(k.kind, "en", "", start)
			n.Clinic.Name, n.Sequence = name, k.sequence
			// The configured sender, with its own display name: the organizer is the bare address.
			n.Clinic.Email = "Clinique du Parc <rdv@clinique.example>"
			invite, method, err := scheduler.RenderInvite(n)
			if err != nil {
				t.Fatalf("%s invite for %q: %v", k.kind, name, err)
			}
			if method != k.method {
				t.Errorf("%s invite for %q: method %q, want %q", k.kind, name, method, k.method)
			}
			invites = append(invites, invite)
			what = append(what, fmt.Sprintf("%s invite for %q", k.kind, name))
			want = append(want, parsedCalendar{
				Method: k.method,
				Props:  []string{"VERSION", "PRODID", "METHOD"},
				Events: []parsedEvent{{
					Props:       []string{"UID", "SEQUENCE", "DTSTAMP", "DTSTART", "DTEND", "SUMMARY", "ORGANIZER", "ATTENDEE", "URL", "DESCRIPTION", "STATUS"},
					UID:         "session-k7m2pq-42@clinique.example",
					Sequence:    k.sequence,
					Summary:     "Appointment with " + meant(name),
					Status:      k.status,
					DTStart:     "2026-03-30T13:00:00.000Z",
					DTEnd:       "2026-03-30T13:30:00.000Z",
					Organizer:   "mailto:rdv@clinique.example",
					OrganizerCN: meant(name),
					Attendees:   []string{"mailto:j.d@example.org"},
				}},
			})
		}
	}

	ours := make([]parsedCalendar, 0, len(invites))
	for i, invite := range invites {
		cals, err := parseICS(invite)
		if err != nil {
			t.Errorf("%s: %v\n%s", what[i], err, invite)
			cals = []parsedCalendar{{}}
		}
		ours = append(ours, cals...)
	}
	for _, parser := range []struct {
		name string
		got  []parsedCalendar
	}{
		{"our reading", ours},
		{"ical.js", parseWith(t, "ical.js", []string{"node", "e2e/ical-parse.mjs"}, invites, what)},
		{"python3-icalendar", parseWith(t, "python3-icalendar", []string{"/usr/bin/python3", "e2e/ical-parse.py"}, invites, what)},
	} {
		for i, got := range parser.got {
			if diff := compareCalendars(got, want[i]); diff != "" {
				t.Errorf("%s, as %s reads it: %s\n%s", what[i], parser.name, diff, invites[i])
			}
		}
	}
}

// compareCalendars says how got differs from want, or "".
func compareCalendars(got, want parsedCalendar) string {
	var diffs []string
	if got.Method != want.Method {
		diffs = append(diffs, fmt.Sprintf("METHOD %q, want %q", got.Method, want.Method))
	}
	if !slices.Equal(got.Props, want.Props) {
		diffs = append(diffs, fmt.Sprintf("calendar properties %q, want %q", got.Props, want.Props))
	}
	if len(got.Events) != 1 {
		return strings.Join(append(diffs, fmt.Sprintf("%d events, want 1", len(got.Events))), "; ")
	}
	g, w := got.Events[0], want.Events[0]
	if !slices.Equal(g.Props, w.Props) {
		diffs = append(diffs, fmt.Sprintf("event properties %q, want %q", g.Props, w.Props))
	}
	if !slices.Equal(g.Attendees, w.Attendees) {
		diffs = append(diffs, fmt.Sprintf("attendees %q, want %q", g.Attendees, w.Attendees))
	}
	for _, f := range []struct{ field, got, want string }{
		{"ORGANIZER CN", g.OrganizerCN, w.OrganizerCN},
		{"ORGANIZER", g.Organizer, w.Organizer},
		{"SUMMARY", g.Summary, w.Summary},
		{"UID", g.UID, w.UID},
		{"SEQUENCE", strconv.Itoa(g.Sequence), strconv.Itoa(w.Sequence)},
		{"STATUS", g.Status, w.Status},
		{"DTSTART", g.DTStart, w.DTStart},
		{"DTEND", g.DTEnd, w.DTEnd},
	} {
		if f.got != f.want {
			diffs = append(diffs, fmt.Sprintf("%s %q, want %q", f.field, f.got, f.want))
		}
	}
	return strings.Join(diffs, "; ")
}

// TestCalendarInviteFoldsAtOctets: long lines are folded at 75 octets, as late as they can be,
// never inside a UTF-8 character, whichever byte of a character the 75th octet falls on.
func TestCalendarInviteFoldsAtOctets(t *testing.T) {
	start := time.Date(2026, 3, 30, 15, 0, 0, 0, mustLoad(t, "Europe/Paris"))
	for pad := range 4 {
		name := strings.Repeat("x", pad) + strings.Repeat("東京é", 20)
		n := testNotice(bridge.NoticeConfirmation, "en", "", start)
		n.Clinic.Name = name
		invite, _, err := scheduler.RenderInvite(n)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSuffix(string(invite), "\r\n"), "\r\n")
		folds := 0
		for i, l := range lines {
			if len(l) > 75 {
				t.Errorf("pad %d: line %d has %d octets: %q", pad, i+1, len(l), l)
			}
			if !utf8.ValidString(l) {
				t.Errorf("pad %d: line %d is cut inside a UTF-8 character: %q", pad, i+1, l)
			}
			// A line followed by a continuation was folded: as late as a whole character allows.
			if i+1 < len(lines) && strings.HasPrefix(lines[i+1], " ") {
				folds++
				if len(l) < 73 {
					t.Errorf("pad %d: line %d folded after %d octets, not at 75: %q", pad, i+1, len(l), l)
				}
			}
		}
		if folds < 4 {
			t.Errorf("pad %d: %d folds in an invite with a %d-octet name", pad, folds, len(name))
		}
		cals, err := parseICS(invite)
		if err != nil {
			t.Fatalf("pad %d: %v", pad, err)
		}
		if ev := cals[0].Events[0]; ev.OrganizerCN != name || ev.Summary != "Appointment with "+name {
			t.Errorf("pad %d: unfolded CN %q and SUMMARY %q, want %q", pad, ev.OrganizerCN, ev.Summary, name)
		}
	}
}

// FuzzInviteClinicName: whatever the clinic's name, the invite is well-formed (our strict
// reading accepts it, every line of at most 75 octets holding whole characters) and carries
// the name as written, less the control characters a calendar cannot hold.
func FuzzInviteClinicName(f *testing.F) {
	for _, name := range hostileClinicNames {
		f.Add(name)
	}
	f.Add("^n^'^^ \\, \\; \\: \t\x00\x1b\u0085")
	f.Add("\xff\xfe invalid UTF-8")
	start := time.Date(2026, 3, 30, 13, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, name string) {
		if strings.TrimSpace(name) == "" {
			return // refused: the clinic has no name
		}
		n := testNotice(bridge.NoticeCancellation, "en", "", start)
		n.Clinic.Name = name
		invite, _, err := scheduler.RenderInvite(n)
		if err != nil {
			t.Fatal(err)
		}
		cals, err := parseICS(invite)
		if err != nil {
			t.Fatalf("%q: %v\n%s", name, err, invite)
		}
		if len(cals) != 1 || len(cals[0].Events) != 1 {
			t.Fatalf("%q: %d calendars", name, len(cals))
		}
		ev := cals[0].Events[0]
		if !slices.Equal(ev.Props, []string{"UID", "SEQUENCE", "DTSTAMP", "DTSTART", "DTEND", "SUMMARY", "ORGANIZER", "ATTENDEE", "URL", "DESCRIPTION", "STATUS"}) {
			t.Errorf("%q: properties %q", name, ev.Props)
		}
		if !utf8.ValidString(name) {
			return
		}
		var want strings.Builder
		for _, r := range strings.ReplaceAll(meant(name), "\r", "\n") {
			if r == '\t' || r == '\n' || !(r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0)) {
				want.WriteRune(r)
			}
		}
		if ev.OrganizerCN != want.String() || ev.Summary != "Appointment with "+want.String() {
			t.Errorf("%q: CN %q, SUMMARY %q, want %q", name, ev.OrganizerCN, ev.Summary, want.String())
		}
	})
}

// TestCalendarInviteRefusesLineBreaksInURIs: URIs are not escaped in an invite, so one holding
// a line break is refused rather than written as a property of its own.
func TestCalendarInviteRefusesLineBreaksInURIs(t *testing.T) {
	n := testNotice(bridge.NoticeConfirmation, "en", "", time.Date(2026, 3, 30, 15, 0, 0, 0, mustLoad(t, "Europe/Paris")))
	n.Link = testLink + "\r\nATTENDEE:mailto:evil@attacker.example"
	if invite, _, err := scheduler.RenderInvite(n); err == nil {
		t.Errorf("a link with a line break was written:\n%s", invite)
	}
}
