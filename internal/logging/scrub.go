package logging

import (
	"bytes"
	"regexp"
)

// Values that look like credentials are replaced wherever they appear in a line: inside an
// error's text (a URL with ?access_token=, a quoted response body), a message or any field.
// Field names alone (secretFields) miss them: an OpenID token reached the log inside the
// federation client's wrapped error.
var tokenPatterns = []struct {
	re   *regexp.Regexp
	repl []byte
}{
	// access_token=…, token=…, auth_token=… in URLs and forms (up to the next separator; a JSON
	// string's closing quote is escaped inside an error's text).
	{regexp.MustCompile(`(?i)((?:access_|as_|hs_|auth_|refresh_|login_)?token=|password=|secret=|signing_key=)[^&\s"\\,;]+`), []byte("${1}[redacted]")},
	// Authorization headers.
	{regexp.MustCompile(`(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+`), []byte("${1}[redacted]")},
	// "access_token":"…" in a JSON body quoted inside a string (\"…\") or not.
	{regexp.MustCompile(`(?i)(\\?"(?:access_|as_|hs_|auth_|refresh_|login_)?(?:token|password|secret)\\?"\s*:\s*\\?")[^"\\]+`), []byte("${1}[redacted]")},
	// Synapse's access and refresh tokens, whatever surrounds them.
	{regexp.MustCompile(`\b(sy[tr]_)[A-Za-z0-9_]+`), []byte("${1}[redacted]")},
	// Our guest links (/g/<session>.<secret>.<signature>) and one-time links (/l/…, /j/…).
	{regexp.MustCompile(`(/[glj]/)[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+){0,2}`), []byte("${1}[redacted]")},
}

// tokenHints are byte strings at least one of which any line the patterns change contains: a
// line without them (nearly every line) is passed on after these few searches, unparsed.
var tokenHints = [][]byte{[]byte("oken"), []byte("OKEN"), []byte("earer"), []byte("EARER"), []byte("syt_"), []byte("syr_"),
	[]byte("/g/"), []byte("/l/"), []byte("/j/"), []byte("assword"), []byte("ecret"), []byte("signing_key")}

// scrub replaces token-like values in a line.
func scrub(line []byte) ([]byte, bool) {
	hinted := false
	for _, h := range tokenHints {
		if bytes.Contains(line, h) {
			hinted = true
			break
		}
	}
	if !hinted {
		return line, false
	}
	out, changed := line, false
	for _, p := range tokenPatterns {
		if p.re.Match(out) {
			out = p.re.ReplaceAll(out, p.repl)
			changed = true
		}
	}
	return out, changed
}
