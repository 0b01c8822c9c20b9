package doctype

import (
	"strings"
	"testing"
)

func TestSniff(t *testing.T) {
	png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
	pdf := []byte("%PDF-1.4\n%âãÏÓ\n1 0 obj")
	html := []byte("<!DOCTYPE html><html><script>alert(1)</script></html>")
	for _, c := range []struct {
		name   string
		head   []byte
		want   string
		ok     bool
		inline bool
	}{
		{"scan.png", png, "image/png", true, true},
		{"consent.PDF", pdf, "application/pdf", true, true},
		{"notes.txt", []byte("hello"), Plain, true, false},
		// HTML named as a picture, or as anything: plain text, downloaded, not allowed.
		{"photo.png", html, Plain, false, false},
		{"page.html", html, Plain, false, false},
		// A PDF named as a picture is not a picture.
		{"photo.png", pdf, Binary, false, false},
		{"tool.exe", []byte("MZ\x90\x00\x03\x00\x00\x00"), Binary, false, false},
		{"letter.docx", []byte("PK\x03\x04\x14\x00"), "application/vnd.openxmlformats-officedocument.wordprocessingml.document", true, false},
	} {
		got, ok := Sniff(c.name, c.head)
		if got != c.want || ok != c.ok || Inline(got) != c.inline {
			t.Errorf("%s %q: %s %v inline %v, want %s %v inline %v", c.name, c.head[:8], got, ok, Inline(got), c.want, c.ok, c.inline)
		}
	}
}

// FuzzSniff: any name and bytes give a served type: one of the allowed ones only with bytes
// that match, else plain text or binary; never HTML, never a panic.
func FuzzSniff(f *testing.F) {
	f.Add("a.pdf", []byte("%PDF-1.4"))
	f.Add("a.png", []byte("<html><script>x</script>"))
	f.Add("", []byte{})
	f.Fuzz(func(t *testing.T, name string, head []byte) {
		got, ok := Sniff(name, head)
		if got == "" || (!ok && got != Plain && got != Binary) {
			t.Fatalf("%q %q: %q %v", name, head, got, ok)
		}
		for _, bad := range []string{"text/html", "xml", "javascript", "svg"} {
			if strings.Contains(got, bad) {
				t.Fatalf("%q %q served as %q", name, head, got)
			}
		}
	})
}
