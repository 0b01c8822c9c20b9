package bridge

import (
	"crypto/rand"
	"fmt"
	"net/mail"
	"strings"
	"time"

	"github.com/nyaruka/phonenumbers"
)

// Locales the bridge speaks to participants in.
var Locales = []string{"en", "fr"}

// NewParticipant checks a booking request and returns the participant to store: the name is
// at least 2 characters, the contact the invitation needs is there and valid, the phone number
// is parsed to E.164, the time zone is an IANA zone (the session's if empty).
func NewParticipant(req ParticipantRequest, sessionZone string) (*Participant, error) {
	name, err := ValidateName(req.Name)
	if err != nil {
		return nil, err
	}
	p := &Participant{Name: name, MatrixID: strings.TrimSpace(req.MatrixID), Locale: req.Locale, TimeZone: req.TimeZone, Invite: req.Invite}
	if p.MatrixID != "" && (!strings.HasPrefix(p.MatrixID, "@") || !strings.Contains(p.MatrixID, ":")) {
		return nil, fmt.Errorf("%q is not a Matrix user ID (@name:server)", p.MatrixID)
	}
	if req.Email != "" {
		if p.Email, err = ValidateEmail(req.Email); err != nil {
			return nil, err
		}
	}
	if req.Phone != "" {
		if p.Phone, err = ValidatePhone(req.Phone, req.PhoneRegion); err != nil {
			return nil, err
		}
	}
	switch p.Invite {
	case "":
		p.Invite = InviteNone
	case InviteEmail:
		if p.Email == "" {
			return nil, fmt.Errorf("an email invitation needs the participant's email address")
		}
	case InviteSMS:
		if p.Phone == "" {
			return nil, fmt.Errorf("a text message invitation needs the participant's mobile number")
		}
	case InviteNone:
	default:
		return nil, fmt.Errorf("the invitation must be email, sms or none, not %q", p.Invite)
	}
	switch p.Locale {
	case "":
		p.Locale = "en"
	case "en", "fr":
	default:
		return nil, fmt.Errorf("the language must be en or fr, not %q", p.Locale)
	}
	if p.TimeZone == "" {
		p.TimeZone = sessionZone
	}
	if _, err = time.LoadLocation(p.TimeZone); err != nil || p.TimeZone == "" {
		return nil, fmt.Errorf("%q is not an IANA time zone (e.g. America/New_York)", p.TimeZone)
	}
	return p, nil
}

// ValidateEmail checks an email address and returns it without a display name, in lower case.
func ValidateEmail(s string) (string, error) {
	addr, err := mail.ParseAddress(strings.TrimSpace(s))
	if err != nil || !strings.Contains(addr.Address[strings.LastIndexByte(addr.Address, '@')+1:], ".") {
		return "", fmt.Errorf("%q is not a valid email address", s)
	}
	// Lower case, so that the same person's sessions are found whatever they typed.
	return strings.ToLower(addr.Address), nil
}

// ValidatePhone parses a phone number to E.164. Without a leading + the number is read in
// region (an ISO country code such as "FR"); with no region it must be international.
func ValidatePhone(s, region string) (string, error) {
	num, err := phonenumbers.Parse(strings.TrimSpace(s), strings.ToUpper(region))
	if err != nil || !phonenumbers.IsValidNumber(num) {
		return "", fmt.Errorf("%q is not a valid phone number (write it with its country code, e.g. +33 6 12 34 56 78)", s)
	}
	return phonenumbers.Format(num, phonenumbers.E164), nil
}

// sessionIDAlphabet has no letters or digits that read alike (no 0/o, 1/l/i).
const sessionIDAlphabet = "abcdefghjkmnpqrstuvwxyz23456789"

// NewSessionID returns a short random session ID that a clinician can type: 6 characters,
// about 30 bits.
func NewSessionID() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = sessionIDAlphabet[int(b[i])%len(sessionIDAlphabet)]
	}
	return string(b)
}

// FormatTime writes an instant for people: "Tue 24 Nov 2026 15:00 CET".
func FormatTime(t time.Time, loc *time.Location) string {
	return t.In(loc).Format("Mon 2 Jan 2006 15:04 MST")
}
