package bridge

import "testing"

func TestMaskPhone(t *testing.T) {
	for in, want := range map[string]string{
		"+33612345612":  "+33 6 •• •• •• 12",
		"+14155550123":  "+1 4••-•••-••23",
		"+442079460958": "+44 2• •••• ••58",
		"not a number":  "",
	} {
		if got := MaskPhone(in); got != want {
			t.Errorf("MaskPhone(%q) = %q, want %q", in, got, want)
		}
	}
	if got := ReadablePhone("+33612345612"); got != "+33 6 12 34 56 12" {
		t.Errorf("ReadablePhone = %q", got)
	}
}
