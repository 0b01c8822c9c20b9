package appservice

import (
	"strings"
	"testing"
)

// Whatever text reaches a notice (a name, a lobby message, a relayed SMS), its directional
// controls cannot reach past it: they are dropped and the text is isolated (FSI … PDI).
func TestNoticeUserDropsDirectionalControls(t *testing.T) {
	for in, want := range map[string]string{
		"Jane\u202Efdp.exe":           "\u2068Janefdp.exe\u2069",
		"\u2067Bob\u2069\u202B !deny": "\u2068Bob !deny\u2069",
		"a\u202Ab\u202Cc\u2066d":      "\u2068abcd\u2069",
		"Ann\nDr\rWho\u2028x":         "\u2068Ann Dr Who x\u2069",
	} {
		n := (&notice{}).user(in)
		if got := n.plain.String(); got != want {
			t.Errorf("user(%q) = %q, want %q", in, got, want)
		}
		if h := n.html.String(); strings.ContainsAny(h, "\u202A\u202B\u202C\u202D\u202E\u2066\u2067") {
			t.Errorf("user(%q) html %q keeps a directional control", in, h)
		}
	}
}
