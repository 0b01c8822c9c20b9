package scheduler

import (
	"bytes"
	"fmt"
	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"
)

// InviteUID is a calendar invite's UID: one per session and participant, the same in every
// update and in the cancellation, so calendars replace or remove the event they already hold.
func InviteUID(n Notice) string {
	return fmt.Sprintf("session-%s-%d@%s", n.Session.ID, n.Participant.ID, n.Clinic.Domain)
}

// RenderInvite writes the calendar invite (iTIP, RFC 5546) a notice's email carries: METHOD
// REQUEST for a confirmation, reminder or reschedule; CANCEL with STATUS CANCELLED for a
// cancellation; nothing (nil, "") for the waiting room opening or a telephone introduction. It
// names the clinic only: calendars are shared and synced to many places.
//
// The invite is written here rather than by an iCalendar library: the one we used escaped
// parameter values with backslashes, which RFC 5545 does not have, so a clinic name holding a
// comma, colon or double quote gave calendars a broken or missing ORGANIZER, and a newline in
// a name started a new property.
func RenderInvite(n Notice) (invite []byte, method string, err error) {
	n = withoutVideoLink(n)
	switch n.Kind {
	case bridge.NoticeConfirmation, bridge.NoticeReminder, bridge.NoticeReschedule:
		method = "REQUEST"
	case bridge.NoticeCancellation:
		method = "CANCEL"
	default:
		return nil, "", nil
	}
	w, err := whenOf(n)
	if err != nil {
		return nil, "", err
	}
	switch {
	case n.Clinic.Domain == "" || n.Clinic.Email == "":
		return nil, "", fmt.Errorf("writing the calendar invite for session %s: the clinic's domain and email address are needed", n.Session.ID)
	case n.Participant.Email == "":
		return nil, "", fmt.Errorf("writing the calendar invite for session %s: the participant has no email address", n.Session.ID)
	}
	// The configured sender may carry a display name ("Clinique du Parc <rdv@…>"): the
	// organizer's URI is the bare address, the name goes in CN.
	organizer, err := mail.ParseAddress(n.Clinic.Email)
	if err != nil {
		return nil, "", fmt.Errorf("writing the calendar invite for session %s: the clinic's email address: %w", n.Session.ID, err)
	}
	attendee, err := mail.ParseAddress(n.Participant.Email)
	if err != nil {
		return nil, "", fmt.Errorf("writing the calendar invite for session %s: the participant's email address: %w", n.Session.ID, err)
	}
	// URIs are written as they are: a line break in one would start a property of its own.
	if strings.ContainsFunc(n.Link+organizer.Address+attendee.Address, isControl) {
		return nil, "", fmt.Errorf("writing the calendar invite for session %s: a link or address holds a control character", n.Session.ID)
	}
	c := emailContentOf(n, w)
	status := "CONFIRMED"
	if method == "CANCEL" {
		status = "CANCELLED"
	}

	var cal icalWriter
	cal.line("BEGIN", "VCALENDAR")
	cal.line("VERSION", "2.0")
	cal.line("PRODID", "-//telehealth-bridge//telehealth-bridge//EN")
	cal.line("METHOD", method)
	cal.line("BEGIN", "VEVENT")
	cal.line("UID", icalText(InviteUID(n)))
	cal.line("SEQUENCE", fmt.Sprint(n.Sequence))
	cal.line("DTSTAMP", icalTime(n.Now))
	cal.line("DTSTART", icalTime(n.Session.Start))
	cal.line("DTEND", icalTime(n.Session.End))
	cal.line("SUMMARY", icalText(c.inviteSummary))
	cal.line("ORGANIZER;CN="+icalParam(n.Clinic.Name), "mailto:"+organizer.Address)
	// No CN: the participant's name stays out of the invite. RSVP=FALSE: nothing reads replies.
	cal.line("ATTENDEE;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=FALSE", "mailto:"+attendee.Address)
	if n.Link != "" {
		cal.line("URL", n.Link)
		cal.line("DESCRIPTION", icalText(c.LinkLabel+": "+n.Link))
	} else if c.inviteDescription != "" {
		cal.line("LOCATION", icalText(map[bool]string{true: "Téléphone", false: "Telephone"}[w.fr]))
		cal.line("DESCRIPTION", icalText(c.inviteDescription))
	}
	cal.line("STATUS", status)
	cal.line("END", "VEVENT")
	cal.line("END", "VCALENDAR")
	return cal.buf.Bytes(), method, nil
}

// icalWriter writes content lines (RFC 5545 §3.1): CRLF-terminated, folded at 75 octets.
type icalWriter struct {
	buf bytes.Buffer
}

// icalLineOctets is the longest line RFC 5545 §3.1 allows, CRLF not counted.
const icalLineOctets = 75

// line writes "name:value", name holding its parameters already encoded.
func (w *icalWriter) line(name, value string) {
	w.buf.WriteString(icalFold(name + ":" + value))
}

// icalFold folds a content line so that no line exceeds 75 octets, and never inside a UTF-8
// sequence: a calendar that unfolds by octets would otherwise put a broken character back
// together only if it kept the halves, which not all do. Continuation lines start with one
// space, which the reader removes.
func icalFold(s string) string {
	var b strings.Builder
	limit := icalLineOctets
	for len(s) > limit {
		cut := limit
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		b.WriteString(s[:cut])
		b.WriteString("\r\n ")
		s = s[cut:]
		limit = icalLineOctets - 1 // the leading space counts
	}
	b.WriteString(s)
	b.WriteString("\r\n")
	return b.String()
}

// icalParam encodes a parameter value (RFC 5545 §3.2, RFC 6868). RFC 5545 has no backslash
// escapes here: a value holding ":", ";" or "," is put in double quotes, and a double quote,
// a newline or "^" inside it is written ^', ^n or ^^. Other control characters cannot be
// written at all and are left out.
func icalParam(v string) string {
	v = normalizeNewlines(v)
	var b strings.Builder
	for _, r := range v {
		switch {
		case r == '^':
			b.WriteString("^^")
		case r == '"':
			b.WriteString("^'")
		case r == '\n':
			b.WriteString("^n")
		case isControl(r) && r != '\t':
		default:
			b.WriteRune(r)
		}
	}
	out := b.String()
	if strings.ContainsAny(out, ":;,") {
		return `"` + out + `"`
	}
	return out
}

// icalText encodes a TEXT value (RFC 5545 §3.3.11): backslash, semicolon and comma escaped,
// newlines as \n, other control characters left out (they cannot be written).
func icalText(v string) string {
	v = normalizeNewlines(v)
	var b strings.Builder
	for _, r := range v {
		switch {
		case r == '\\' || r == ';' || r == ',':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case isControl(r) && r != '\t':
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// normalizeNewlines turns CRLF and a lone CR into LF, so each is one encoded newline.
func normalizeNewlines(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n")
}

// isControl is RFC 5545's CONTROL plus HTAB and the C1 controls: nothing a calendar value may
// hold as it is.
func isControl(r rune) bool {
	return r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0)
}

// icalTime is a DATE-TIME in UTC (form #2 of RFC 5545 §3.3.5).
func icalTime(t time.Time) string {
	return t.UTC().Format("20060102T150405Z")
}
