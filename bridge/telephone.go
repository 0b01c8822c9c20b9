package bridge

import (
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// Label names how a session is held, for people: "Video" or "Telephone".
func (k Kind) Label() string {
	if k == KindPhone {
		return "Telephone"
	}
	return "Video"
}

// ReadablePhone writes an E.164 number the way people read it: "+33 6 12 34 56 78". A number
// that does not parse is returned as it is.
func ReadablePhone(e164 string) string {
	num, err := phonenumbers.Parse(e164, "")
	if err != nil {
		return e164
	}
	return phonenumbers.Format(num, phonenumbers.INTERNATIONAL)
}

// MaskPhone hides all but the country code, the first digit of the national number and the
// last two digits: "+33 6 •• •• •• 12". The client recognises their own number on their page
// without the page (a link that may be forwarded, a screen someone else sees) giving it away.
func MaskPhone(e164 string) string {
	readable := ReadablePhone(e164)
	if !strings.HasPrefix(readable, "+") {
		return ""
	}
	cc, national, ok := strings.Cut(readable, " ")
	if !ok {
		return ""
	}
	digits := 0
	for _, r := range national {
		if r >= '0' && r <= '9' {
			digits++
		}
	}
	var b strings.Builder
	b.WriteString(cc + " ")
	seen := 0
	for _, r := range national {
		if r < '0' || r > '9' {
			b.WriteRune(r)
			continue
		}
		seen++
		if seen == 1 || seen > digits-2 {
			b.WriteRune(r)
		} else {
			b.WriteRune('•')
		}
	}
	return b.String()
}
