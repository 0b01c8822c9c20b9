// Package doctype decides what a shared document is, from its bytes and never from what its
// sender said: http.DetectContentType's sniffing, checked against an allow-list by extension.
// The portal and the panel serve a document under the type found here: a PDF or a picture
// inline (under the page's CSP, with nosniff), anything else as an attachment, and anything
// that looks like HTML or script as plain text.
package doctype

import (
	"net/http"
	"path"
	"strings"
)

// SniffLen is how many of a file's first bytes Sniff reads.
const SniffLen = 512

// Plain is the type of text served as such.
const Plain = "text/plain; charset=utf-8"

// Binary is the type of a file of no allowed type.
const Binary = "application/octet-stream"

// allowed maps an extension to the sniffed types that a file so named may have, and the type
// it is served as.
var allowed = map[string]struct {
	sniffed []string
	serve   string
}{
	".pdf":  {[]string{"application/pdf"}, "application/pdf"},
	".png":  {[]string{"image/png"}, "image/png"},
	".jpg":  {[]string{"image/jpeg"}, "image/jpeg"},
	".jpeg": {[]string{"image/jpeg"}, "image/jpeg"},
	".gif":  {[]string{"image/gif"}, "image/gif"},
	".webp": {[]string{"image/webp"}, "image/webp"},
	".txt":  {[]string{"text/plain"}, Plain},
	".docx": {[]string{"application/zip"}, "application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
	".odt":  {[]string{"application/zip"}, "application/vnd.oasis.opendocument.text"},
}

// Sniff is the type a file named name whose first bytes are head is served as, and whether it
// is one of the allowed kinds (a PDF, a picture, plain text, a word-processor document) with
// bytes that match its name. A file that is not is served as plain text if it is text of any
// kind (HTML included: it is never rendered), else as a binary attachment.
func Sniff(name string, head []byte) (contentType string, ok bool) {
	if len(head) > SniffLen {
		head = head[:SniffLen]
	}
	sniffed, _, _ := strings.Cut(http.DetectContentType(head), ";")
	ext := strings.ToLower(path.Ext(name))
	if a, found := allowed[ext]; found {
		for _, s := range a.sniffed {
			if s == sniffed {
				return a.serve, true
			}
		}
	}
	if strings.HasPrefix(sniffed, "text/") {
		return Plain, false
	}
	return Binary, false
}

// Inline says whether a document of the sniffed type opens in the browser (a PDF or a
// picture); every other one downloads.
func Inline(contentType string) bool {
	return contentType == "application/pdf" || strings.HasPrefix(contentType, "image/")
}

// IsImage says whether the type is a picture (posted as m.image).
func IsImage(contentType string) bool { return strings.HasPrefix(contentType, "image/") }
