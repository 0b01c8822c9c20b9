package bridge

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// ReminderPreference is how a client wants to be reminded of their appointments.
type ReminderPreference string

const (
	RemindSMS   ReminderPreference = "sms"
	RemindEmail ReminderPreference = "email"
	RemindNone  ReminderPreference = "none"
)

// Client is the clinic's record of a person it sees, across all their sessions: every
// participant row of a web or Matrix booking points at one. Two people who share an email
// address or a phone (siblings and a parent's email) are two records.
type Client struct {
	ID int64
	// DisplayName is the name the clinic books them under (2 characters at least).
	DisplayName string
	// PreferredName is what they like to be called, if it differs.
	PreferredName string
	// Emails are lower case; Phones are E.164. The first of each is the one the bridge uses.
	Emails []string
	Phones []string
	// MatrixID is their own Matrix account, if they have one (never a ghost of the bridge).
	MatrixID string
	Locale   string
	TimeZone string
	// Professionals are the Matrix IDs of the clinicians assigned to them.
	Professionals []string
	Reminders     ReminderPreference
	// PortalEnabled: the clinic has opened the client portal to them.
	PortalEnabled bool
	// PortalClosed: the clinic closed their portal; no sign-in opens it until it is enabled
	// again. A record whose portal was never opened is not closed.
	PortalClosed bool
	// Ghost is the client's one Matrix identity on the bridge when they have no account of
	// their own (@<ghost_prefix>client_<random>:<domain>, opaque): it knocks on every session
	// they join from the web and speaks for them in their Messages room. Set by the Matrix side.
	Ghost string
	// MessagesRoom is the client's Messages room (a direct room with the bot and their
	// professionals), created the first time it is needed; "" until then.
	MessagesRoom string
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// Name is what to call the client: their preferred name if they gave one.
func (c *Client) Name() string {
	if c.PreferredName != "" {
		return c.PreferredName
	}
	return c.DisplayName
}

// Email is the address the bridge writes to, or "".
func (c *Client) Email() string {
	if len(c.Emails) == 0 {
		return ""
	}
	return c.Emails[0]
}

// Phone is the number the bridge texts or calls, or "".
func (c *Client) Phone() string {
	if len(c.Phones) == 0 {
		return ""
	}
	return c.Phones[0]
}

// ErrClientNotFound: no such client, or not one the asker may see. The two are one answer so
// that a clinician cannot tell another clinician's client from no client.
var ErrClientNotFound = errors.New("no such client")

// InvalidClientError is a client record refused for one of its fields; its text says which
// and why, for the person who wrote it.
type InvalidClientError struct{ Err error }

func (e *InvalidClientError) Error() string { return e.Err.Error() }
func (e *InvalidClientError) Unwrap() error { return e.Err }

// ClientStore keeps the clinic's client records.
type ClientStore interface {
	// InsertClient stores a new client and sets its ID.
	InsertClient(ctx context.Context, c *Client) error
	// UpdateClient stores a client's fields, contacts and professionals as they are now.
	UpdateClient(ctx context.Context, c *Client) error
	// GetClient returns ErrClientNotFound when there is none.
	GetClient(ctx context.Context, id int64) (*Client, error)
	// SearchClients returns the clients matching q, by name first.
	SearchClients(ctx context.Context, q ClientQuery) ([]*Client, error)
	// ClientVisibleTo reports whether the clinician is assigned to the client or has booked them.
	ClientVisibleTo(ctx context.Context, id int64, clinician string) (bool, error)
	// ClientSessions are the sessions the client was booked on, latest first.
	ClientSessions(ctx context.Context, id int64) ([]*Session, error)
	// LinkParticipant points a participant row at a client record.
	LinkParticipant(ctx context.Context, participantID, clientID int64) error
	// SetClientPortal stores whether the client's portal is open, or closed by the clinic:
	// the only write of these two, which a record's edit leaves as they are.
	SetClientPortal(ctx context.Context, id int64, enabled, closed bool, at time.Time) error
}

// ClientQuery selects client records.
type ClientQuery struct {
	// Clinician limits the answer to the clients this clinician may see; "" is every client.
	Clinician string
	// Prefix matches the start of a word of the name or preferred name, or the start of an
	// email address or phone number; "" matches every client.
	Prefix string
	// Limit is the most rows returned (50 if zero).
	Limit int
}

// ClientRequest is a client record as a clinician writes it.
type ClientRequest struct {
	DisplayName   string
	PreferredName string
	Emails        []string
	// Phones are international (+33...), or national in PhoneRegion.
	Phones        []string
	PhoneRegion   string
	MatrixID      string
	Locale        string
	TimeZone      string
	Professionals []string
	Reminders     ReminderPreference
	PortalEnabled bool
}

// maxContacts bounds a record's emails and phones: a record is a person, not a list.
const maxContacts = 5

// NewClient checks a client record with the rules of a booking (name, email, phone, language,
// time zone) and returns it normalised: contacts in lower case or E.164, without duplicates.
// An empty time zone is defaultZone's; an empty reminder preference follows the contacts.
func NewClient(req ClientRequest, defaultZone string) (*Client, error) {
	name, err := ValidateName(req.DisplayName)
	if err != nil {
		return nil, err
	}
	c := &Client{DisplayName: name, MatrixID: strings.TrimSpace(req.MatrixID), Locale: req.Locale, TimeZone: req.TimeZone,
		Reminders: req.Reminders, PortalEnabled: req.PortalEnabled}
	if strings.TrimSpace(req.PreferredName) != "" {
		if c.PreferredName, err = ValidateName(req.PreferredName); err != nil {
			return nil, fmt.Errorf("preferred name: %w", err)
		}
	}
	if c.MatrixID != "" && (!strings.HasPrefix(c.MatrixID, "@") || !strings.Contains(c.MatrixID, ":")) {
		return nil, fmt.Errorf("%q is not a Matrix user ID (@name:server)", c.MatrixID)
	}
	for _, e := range req.Emails {
		if strings.TrimSpace(e) == "" {
			continue
		}
		email, err := ValidateEmail(e)
		if err != nil {
			return nil, err
		}
		if !slices.Contains(c.Emails, email) {
			c.Emails = append(c.Emails, email)
		}
	}
	for _, p := range req.Phones {
		if strings.TrimSpace(p) == "" {
			continue
		}
		phone, err := ValidatePhone(p, req.PhoneRegion)
		if err != nil {
			return nil, err
		}
		if !slices.Contains(c.Phones, phone) {
			c.Phones = append(c.Phones, phone)
		}
	}
	if len(c.Emails) > maxContacts || len(c.Phones) > maxContacts {
		return nil, fmt.Errorf("a client has at most %d email addresses and %d phone numbers", maxContacts, maxContacts)
	}
	for _, pro := range req.Professionals {
		pro = strings.TrimSpace(pro)
		if !strings.HasPrefix(pro, "@") || !strings.Contains(pro, ":") {
			return nil, fmt.Errorf("the professional %q is not a Matrix user ID (@name:server)", pro)
		}
		if !slices.Contains(c.Professionals, pro) {
			c.Professionals = append(c.Professionals, pro)
		}
	}
	switch c.Locale {
	case "":
		c.Locale = "en"
	case "en", "fr":
	default:
		return nil, fmt.Errorf("the language must be en or fr, not %q", c.Locale)
	}
	if c.TimeZone == "" {
		c.TimeZone = defaultZone
	}
	if _, err = time.LoadLocation(c.TimeZone); err != nil || c.TimeZone == "" {
		return nil, fmt.Errorf("%q is not an IANA time zone (e.g. America/New_York)", c.TimeZone)
	}
	switch c.Reminders {
	case "":
		c.Reminders = RemindNone
		if len(c.Emails) > 0 {
			c.Reminders = RemindEmail
		}
	case RemindEmail:
		if len(c.Emails) == 0 {
			return nil, fmt.Errorf("email reminders need the client's email address")
		}
	case RemindSMS:
		if len(c.Phones) == 0 {
			return nil, fmt.Errorf("text message reminders need the client's mobile number")
		}
	case RemindNone:
	default:
		return nil, fmt.Errorf("the reminders must be sms, email or none, not %q", c.Reminders)
	}
	return c, nil
}

// SameClient reports whether a booking is of this client by the rule the migration from
// per-session participants used: the same name, case aside, and a contact in common (an email
// address, a phone number or a Matrix account). A shared contact alone is not enough: siblings
// booked with a parent's email stay two records.
func (c *Client) SameClient(p *Participant) bool {
	if !strings.EqualFold(c.DisplayName, p.Name) {
		return false
	}
	return (p.Email != "" && slices.Contains(c.Emails, p.Email)) ||
		(p.Phone != "" && slices.Contains(c.Phones, p.Phone)) ||
		(p.MatrixID != "" && p.MatrixID == c.MatrixID)
}

// clientFromParticipant is the record a first booking creates.
func clientFromParticipant(p *Participant, clinician string, now time.Time) *Client {
	c := &Client{DisplayName: p.Name, MatrixID: p.MatrixID, Locale: p.Locale, TimeZone: p.TimeZone,
		Professionals: []string{clinician}, Reminders: RemindNone, CreatedAt: now, UpdatedAt: now}
	if p.Email != "" {
		c.Emails = []string{p.Email}
	}
	if p.Phone != "" {
		c.Phones = []string{p.Phone}
	}
	switch p.Invite {
	case InviteEmail:
		c.Reminders = RemindEmail
	case InviteSMS:
		c.Reminders = RemindSMS
	}
	return c
}
