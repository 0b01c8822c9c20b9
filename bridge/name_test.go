package bridge

import (
	"strings"
	"testing"
)

// Names reach Element, the panel, e-mails and invites. Invisible characters would let a name
// pass for another there (a right-to-left override turns "Jane" + U+202E + "eoD" into
// "JaneDoe" read backwards; a zero-width space makes two names that look the same differ):
// they are refused, with the code point named so the person can find it.
func TestValidateNameRefusesInvisible(t *testing.T) {
	for _, c := range []struct {
		name, point string
	}{
		{"Jane\u202eeoD", "U+202E"},       // right-to-left override (Cf)
		{"Ja\u200bne", "U+200B"},          // zero-width space (Cf)
		{"Jane\u2066Doe\u2069", "U+2066"}, // left-to-right isolate (Cf)
		{"Jane\u00adDoe", "U+00AD"},       // soft hyphen (Cf)
		{"Jane\ufeffDoe", "U+FEFF"},       // byte order mark (Cf)
		{"Jane\u2028Doe", "U+2028"},       // line separator (Zl)
		{"Jane\u2029Doe", "U+2029"},       // paragraph separator (Zp)
		{"Jane\ue000Doe", "U+E000"},       // private use (Co)
		{"Jane\U000e0041Doe", "U+E0041"},  // tag latin capital A (Cf)
		{"Jane\u0378Doe", "U+0378"},       // unassigned (Cn)
		{"Jane\u0085Doe", "U+0085"},       // next line (Cc)
		{"Jane\x07Doe", "U+0007"},         // bell (Cc)
	} {
		_, err := ValidateName(c.name)
		if err == nil || !strings.Contains(err.Error(), "character "+c.point) || !strings.Contains(err.Error(), "name") {
			t.Errorf("ValidateName(%q): %v, want a refusal naming %s", c.name, err, c.point)
		}
	}
	if _, err := ValidateName("Jane\xffDoe"); err == nil {
		t.Error("a name that is not UTF-8 was accepted")
	}
	for _, ok := range []string{"Jane Doe", "Élodie Ñúñez", "李小龙", "محمد", "Jane\tDoe\n", "O'Brien-Smith", "J.-P."} {
		if _, err := ValidateName(ok); err != nil {
			t.Errorf("ValidateName(%q): %v", ok, err)
		}
	}
}
