package bridge

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"
)

// Prospects: people who signed up on the clinic's public portal page by themselves. A prospect
// has proved they hold an email address or a phone number (a code sent there), nothing more:
// they reach no session, no booking and no message until a clinician links them to a client
// record (an existing one, or one made from the sign-up). Who may see and act on prospects: any
// of the clinic's clinicians (a prospect is assigned to no one yet) and admins.

// ProspectStatus is where a prospect stands.
type ProspectStatus string

const (
	ProspectWaiting   ProspectStatus = "waiting"
	ProspectLinked    ProspectStatus = "linked"
	ProspectDismissed ProspectStatus = "dismissed"
)

// Prospect is someone who signed up on the portal by themselves.
type Prospect struct {
	ID   int64
	Name string
	// Contact is the verified one: Email (lower case) or Phone (E.164).
	Contact  PortalContact
	Locale   string
	TimeZone string
	Status   ProspectStatus
	// ClientID is the record they were linked to (Status linked).
	ClientID  int64
	CreatedAt time.Time
	UpdatedAt time.Time
}

// ErrProspectNotFound: no such prospect, or one already linked or dismissed when the action
// needs one waiting.
var ErrProspectNotFound = errors.New("no such prospect waiting")

// ErrNotClinician: the action is for the clinic's clinicians.
var ErrNotClinician = errors.New("only the clinic's clinicians can do this")

// ProspectStore keeps the prospects.
type ProspectStore interface {
	// InsertProspect stores a new prospect and sets its ID.
	InsertProspect(ctx context.Context, p *Prospect) error
	// GetProspect returns ErrProspectNotFound when there is none.
	GetProspect(ctx context.Context, id int64) (*Prospect, error)
	// WaitingProspectByContact is the waiting prospect with the contact, or nil.
	WaitingProspectByContact(ctx context.Context, contact string) (*Prospect, error)
	// WaitingProspects are the prospects waiting, oldest first; at most limit.
	WaitingProspects(ctx context.Context, limit int) ([]*Prospect, error)
	// CloseProspect moves a waiting prospect to status (linked with clientID, or dismissed). It
	// returns ErrProspectNotFound when the prospect is not waiting any more (another clinician
	// acted first).
	CloseProspect(ctx context.Context, id int64, status ProspectStatus, clientID int64, at time.Time) error
	// ClientsWithContact are the IDs of the client records holding the contact.
	ClientsWithContact(ctx context.Context, contact string) ([]int64, error)
}

// ProspectNotifier is told when a new prospect waits. The Matrix side tells the clinicians in
// their control rooms.
type ProspectNotifier interface {
	ProspectWaiting(ctx context.Context, p *Prospect)
}

// ProspectSubject is the audit subject of a prospect.
func ProspectSubject(id int64) string { return "prospect:" + strconv.FormatInt(id, 10) }

// ProspectActor is the audit actor of a prospect signed in to the portal.
func ProspectActor(id int64) string { return ProspectSubject(id) }

// The audit actions of prospects. Viewing the list is AuditParticipantDataViewed with view
// "prospects".
const (
	AuditProspectSignedUp  AuditAction = "prospect_signed_up"
	AuditProspectLinked    AuditAction = "prospect_linked"
	AuditProspectDismissed AuditAction = "prospect_dismissed"
)

// maxProspectsListed bounds one list: a clinic with more waiting has a backlog, not a page.
const maxProspectsListed = 200

// UseClinicians says who the clinic's clinicians are: they (and admins) see the prospects.
func (svc *Service) UseClinicians(isClinician func(userID string) bool) {
	svc.isClinician = isClinician
}

func (svc *Service) prospectStore() (ProspectStore, error) {
	store, ok := svc.store.(ProspectStore)
	if !ok {
		return nil, errors.New("this bridge's store keeps no prospects")
	}
	return store, nil
}

// mayHandleProspects: any clinician of the clinic, or an admin.
func (svc *Service) mayHandleProspects(actor string) bool {
	return actor != "" && (svc.isAdmin(actor) || svc.isClinician != nil && svc.isClinician(actor))
}

// SignUpRequest is a sign-up whose contact was verified by a code.
type SignUpRequest struct {
	Name     string
	Contact  PortalContact
	Locale   string
	TimeZone string
}

// InvalidSignUpError is a sign-up refused for one of its fields, in words for the person.
type InvalidSignUpError struct{ Err error }

func (e *InvalidSignUpError) Error() string { return e.Err.Error() }
func (e *InvalidSignUpError) Unwrap() error { return e.Err }

// CheckSignUp checks a sign-up's name, language and time zone (the contact is checked where it
// is read) and returns them normalised.
func CheckSignUp(req SignUpRequest) (SignUpRequest, error) {
	name, err := ValidateName(req.Name)
	if err != nil {
		return req, &InvalidSignUpError{Err: err}
	}
	req.Name = name
	switch req.Locale {
	case "en", "fr":
	case "":
		req.Locale = "en"
	default:
		return req, &InvalidSignUpError{Err: fmt.Errorf("the language must be en or fr, not %q", req.Locale)}
	}
	if _, err = time.LoadLocation(req.TimeZone); err != nil || req.TimeZone == "" || req.TimeZone == "Local" {
		return req, &InvalidSignUpError{Err: fmt.Errorf("%q is not an IANA time zone (e.g. America/New_York)", req.TimeZone)}
	}
	if (req.Contact.Email == "") == (req.Contact.Phone == "") {
		return req, &InvalidSignUpError{Err: errors.New("a sign-up needs one email address or one phone number")}
	}
	return req, nil
}

// SignUp records a sign-up whose contact was verified: a new prospect, or the one already
// waiting with that contact (signing up twice makes one prospect, with the details first
// given). The clinicians are told of a new prospect.
func (svc *Service) SignUp(ctx context.Context, req SignUpRequest) (*Prospect, error) {
	store, err := svc.prospectStore()
	if err != nil {
		return nil, err
	}
	if req, err = CheckSignUp(req); err != nil {
		return nil, err
	}
	known, err := store.WaitingProspectByContact(ctx, req.Contact.String())
	if err != nil {
		return nil, fmt.Errorf("looking for a waiting prospect: %w", err)
	} else if known != nil {
		return known, nil
	}
	now := svc.clock.Now()
	p := &Prospect{Name: req.Name, Contact: req.Contact, Locale: req.Locale, TimeZone: req.TimeZone,
		Status: ProspectWaiting, CreatedAt: now, UpdatedAt: now}
	if err = store.InsertProspect(ctx, p); err != nil {
		return nil, fmt.Errorf("storing a prospect: %w", err)
	}
	_ = svc.Audit(ctx, AuditEntry{Actor: ProspectActor(p.ID), Action: AuditProspectSignedUp, Subject: ProspectSubject(p.ID)})
	if n, ok := svc.notify.(ProspectNotifier); ok {
		// The notice is sent beside the sign-up: the person's page does not wait on Matrix.
		go n.ProspectWaiting(context.WithoutCancel(ctx), p)
	}
	return p, nil
}

// ProspectForPortal is a prospect as their own portal sign-in needs it: not an actor's view,
// so no check and no audit.
func (svc *Service) ProspectForPortal(ctx context.Context, id int64) (*Prospect, error) {
	store, err := svc.prospectStore()
	if err != nil {
		return nil, err
	}
	return store.GetProspect(ctx, id)
}

// WaitingProspect is the prospect waiting with the contact, for the portal's sign-in by code
// (no actor, no audit); nil if none, or if the bridge keeps no prospects.
func (svc *Service) WaitingProspect(ctx context.Context, contact PortalContact) (*Prospect, error) {
	store, ok := svc.store.(ProspectStore)
	if !ok || contact.String() == "" {
		return nil, nil
	}
	return store.WaitingProspectByContact(ctx, contact.String())
}

// Prospects are the prospects waiting, oldest first, for a clinician or an admin; showing them
// is recorded in the audit trail.
func (svc *Service) Prospects(ctx context.Context, actor string) ([]*Prospect, error) {
	store, err := svc.prospectStore()
	if err != nil {
		return nil, err
	}
	if !svc.mayHandleProspects(actor) {
		return nil, ErrNotClinician
	}
	ps, err := store.WaitingProspects(ctx, maxProspectsListed)
	if err != nil {
		return nil, fmt.Errorf("listing the prospects: %w", err)
	}
	_ = svc.Audit(ctx, AuditEntry{Actor: actor, Action: AuditParticipantDataViewed, Subject: "prospects",
		Detail: map[string]string{"view": "prospects", "count": strconv.Itoa(len(ps))}})
	return ps, nil
}

// waitingProspect is a prospect still waiting, for someone who may act on it, under the
// prospect's lock (call unlock when done): two clinicians acting on one prospect at once act
// one after the other, and the second finds it no longer waiting. The store's conditional
// close guards the same between instances.
func (svc *Service) waitingProspect(ctx context.Context, actor string, id int64) (store ProspectStore, p *Prospect, unlock func(), err error) {
	if store, err = svc.prospectStore(); err != nil {
		return nil, nil, nil, err
	}
	if !svc.mayHandleProspects(actor) {
		return nil, nil, nil, ErrNotClinician
	}
	unlock = svc.locks.Lock(ProspectSubject(id))
	if p, err = store.GetProspect(ctx, id); err == nil && p.Status != ProspectWaiting {
		err = ErrProspectNotFound
	}
	if err != nil {
		unlock()
		return nil, nil, nil, err
	}
	return store, p, unlock, nil
}

// LinkProspect links a waiting prospect to a client record the actor may see: the verified
// contact is added to the record if it lacks it, so that the portal's sign-in with that
// contact reaches the record, and the record's portal is opened. A contact another record holds is
// refused: sign-in by code
// would reach neither.
func (svc *Service) LinkProspect(ctx context.Context, actor string, prospectID, clientID int64) (*Client, error) {
	store, p, unlock, err := svc.waitingProspect(ctx, actor, prospectID)
	if err != nil {
		return nil, err
	}
	defer unlock()
	c, err := svc.Client(ctx, actor, clientID)
	if err != nil {
		return nil, err
	}
	if err = svc.addVerifiedContact(ctx, store, actor, c, p.Contact); err != nil {
		return nil, err
	}
	if err = svc.closeLinked(ctx, store, actor, p, c); err != nil {
		return nil, err
	}
	return svc.openLinkedPortal(ctx, actor, c)
}

// openLinkedPortal opens the portal of the record a prospect was linked to: the clinic has
// confirmed the account, even on a record whose portal a clinician had closed.
func (svc *Service) openLinkedPortal(ctx context.Context, actor string, c *Client) (*Client, error) {
	if c.PortalEnabled && !c.PortalClosed {
		return c, nil
	}
	return svc.SetClientPortal(ctx, actor, c.ID, true, map[string]string{"via": "prospect"})
}

// ProspectClient makes a client record from a waiting prospect (name, contact, language, time
// zone; the portal on; the actor assigned) and links them to it.
func (svc *Service) ProspectClient(ctx context.Context, actor string, prospectID int64) (*Client, error) {
	store, p, unlock, err := svc.waitingProspect(ctx, actor, prospectID)
	if err != nil {
		return nil, err
	}
	defer unlock()
	if err = svc.contactFree(ctx, store, 0, p.Contact); err != nil {
		return nil, err
	}
	req := ClientRequest{DisplayName: p.Name, Locale: p.Locale, TimeZone: p.TimeZone}
	if p.Contact.Email != "" {
		req.Emails = []string{p.Contact.Email}
	} else {
		req.Phones = []string{p.Contact.Phone}
	}
	c, err := svc.CreateClient(ctx, actor, req)
	if err != nil {
		return nil, err
	}
	if err = svc.closeLinked(ctx, store, actor, p, c); err != nil {
		return nil, err
	}
	return svc.openLinkedPortal(ctx, actor, c)
}

// DismissProspect closes a waiting prospect without a record: their portal sign-in ends.
func (svc *Service) DismissProspect(ctx context.Context, actor string, prospectID int64) error {
	store, p, unlock, err := svc.waitingProspect(ctx, actor, prospectID)
	if err != nil {
		return err
	}
	defer unlock()
	if err = store.CloseProspect(ctx, p.ID, ProspectDismissed, 0, svc.clock.Now()); err != nil {
		return err
	}
	_ = svc.Audit(ctx, AuditEntry{Actor: actor, Action: AuditProspectDismissed, Subject: ProspectSubject(p.ID)})
	return nil
}

// contactFree refuses a contact that a record other than clientID holds.
func (svc *Service) contactFree(ctx context.Context, store ProspectStore, clientID int64, contact PortalContact) error {
	ids, err := store.ClientsWithContact(ctx, contact.String())
	if err != nil {
		return fmt.Errorf("checking who holds the prospect's contact: %w", err)
	}
	for _, id := range ids {
		if id != clientID {
			return &InvalidClientError{Err: errors.New("another client record already holds this prospect's email address or phone number")}
		}
	}
	return nil
}

func (svc *Service) addVerifiedContact(ctx context.Context, store ProspectStore, actor string, c *Client, contact PortalContact) error {
	if err := svc.contactFree(ctx, store, c.ID, contact); err != nil {
		return err
	}
	changed := false
	switch {
	case contact.Email != "" && !slices.Contains(c.Emails, contact.Email):
		c.Emails, changed = append(c.Emails, contact.Email), true
	case contact.Phone != "" && !slices.Contains(c.Phones, contact.Phone):
		c.Phones, changed = append(c.Phones, contact.Phone), true
	}
	if !changed {
		return nil
	}
	if len(c.Emails) > maxContacts || len(c.Phones) > maxContacts {
		return &InvalidClientError{Err: fmt.Errorf("the record already has %d email addresses or phone numbers; remove one first", maxContacts)}
	}
	c.UpdatedAt = svc.clock.Now()
	if err := svc.clients.UpdateClient(ctx, c); err != nil {
		return fmt.Errorf("adding the prospect's contact to client %d: %w", c.ID, err)
	}
	_ = svc.Audit(ctx, AuditEntry{Actor: actor, Action: AuditClientUpdated, Subject: ClientSubject(c.ID),
		Detail: map[string]string{"contact_from": "prospect"}})
	return nil
}

func (svc *Service) closeLinked(ctx context.Context, store ProspectStore, actor string, p *Prospect, c *Client) error {
	if err := store.CloseProspect(ctx, p.ID, ProspectLinked, c.ID, svc.clock.Now()); err != nil {
		return err
	}
	_ = svc.Audit(ctx, AuditEntry{Actor: actor, Action: AuditProspectLinked, Subject: ProspectSubject(p.ID),
		Detail: map[string]string{"client": strconv.FormatInt(c.ID, 10)}})
	zerolog.Ctx(ctx).Info().Int64("prospect_id", p.ID).Int64("client_id", c.ID).Msg("Prospect linked to a client record")
	return nil
}

// ParseProspectID reads a prospect's ID as a clinician types it ("12" or "#12").
func ParseProspectID(s string) (int64, bool) {
	id, err := strconv.ParseInt(strings.TrimPrefix(strings.TrimSpace(s), "#"), 10, 64)
	return id, err == nil && id > 0
}
