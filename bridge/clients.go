package bridge

import (
	"context"
	"fmt"
	"slices"
	"strconv"
)

// The client records journey: clinicians create, find, edit and book the clinic's clients.
// Who may see a record: an admin sees every one; a clinician sees the clients assigned to them
// and those they have booked. A record someone may not see answers ErrClientNotFound, as an
// unknown one does.

// ClientSubject is the audit subject of a client record.
func ClientSubject(id int64) string {
	return "client:" + strconv.FormatInt(id, 10)
}

func (svc *Service) clientStore() (ClientStore, error) {
	if svc.clients == nil {
		return nil, fmt.Errorf("client records are not available")
	}
	return svc.clients, nil
}

// mayViewClient reports whether actor may see the client's record.
func (svc *Service) mayViewClient(ctx context.Context, actor string, c *Client) (bool, error) {
	if actor == "" {
		return false, nil
	}
	if svc.isAdmin(actor) || slices.Contains(c.Professionals, actor) {
		return true, nil
	}
	return svc.clients.ClientVisibleTo(ctx, c.ID, actor)
}

// Client returns a client record the actor may see.
func (svc *Service) Client(ctx context.Context, actor string, id int64) (*Client, error) {
	store, err := svc.clientStore()
	if err != nil {
		return nil, err
	}
	c, err := store.GetClient(ctx, id)
	if err != nil {
		return nil, err
	}
	ok, err := svc.mayViewClient(ctx, actor, c)
	if err != nil {
		return nil, fmt.Errorf("checking who may see client %d: %w", id, err)
	}
	if !ok {
		return nil, ErrClientNotFound
	}
	return c, nil
}

// ShowClient is Client for a person who is about to see the record and its sessions: the
// viewing is recorded in the audit trail as participant_data_viewed with view "client". The
// sessions are the actor's own with the client (every one for an admin): a clinician does not
// learn whom else the client sees.
func (svc *Service) ShowClient(ctx context.Context, actor string, id int64) (*Client, []*Session, error) {
	c, err := svc.Client(ctx, actor, id)
	if err != nil {
		return nil, nil, err
	}
	all, err := svc.clients.ClientSessions(ctx, id)
	if err != nil {
		return nil, nil, fmt.Errorf("loading client %d's sessions: %w", id, err)
	}
	sessions := all[:0:0]
	for _, s := range all {
		if s.Clinician == actor || svc.isAdmin(actor) {
			sessions = append(sessions, s)
		}
	}
	_ = svc.Audit(ctx, AuditEntry{Actor: actor, Action: AuditParticipantDataViewed, Subject: ClientSubject(id), Detail: map[string]string{"view": "client"}})
	return c, sessions, nil
}

// FindClients returns the clients the actor may see whose name, email or phone starts with
// prefix, by name; at most limit (50 if zero).
func (svc *Service) FindClients(ctx context.Context, actor, prefix string, limit int) ([]*Client, error) {
	store, err := svc.clientStore()
	if err != nil {
		return nil, err
	}
	if actor == "" {
		return nil, nil
	}
	q := ClientQuery{Clinician: actor, Prefix: prefix, Limit: limit}
	if svc.isAdmin(actor) {
		q.Clinician = ""
	}
	return store.SearchClients(ctx, q)
}

// CreateClient stores a new client record. A clinician who creates one is assigned to it
// unless they name other professionals; an admin's record has the professionals they name.
func (svc *Service) CreateClient(ctx context.Context, actor string, req ClientRequest) (*Client, error) {
	store, err := svc.clientStore()
	if err != nil {
		return nil, err
	}
	c, err := NewClient(req, "UTC")
	if err != nil {
		return nil, &InvalidClientError{Err: err}
	}
	// The portal opens only through SetClientPortal, which the enrolment message goes with.
	c.PortalEnabled = false
	if len(c.Professionals) == 0 || !svc.isAdmin(actor) && !slices.Contains(c.Professionals, actor) {
		// A clinician cannot create a record they could not see afterwards.
		c.Professionals = append([]string{actor}, c.Professionals...)
	}
	c.CreatedAt, c.UpdatedAt = svc.clock.Now(), svc.clock.Now()
	if err = store.InsertClient(ctx, c); err != nil {
		return nil, fmt.Errorf("storing the client: %w", err)
	}
	_ = svc.Audit(ctx, AuditEntry{Actor: actor, Action: AuditClientCreated, Subject: ClientSubject(c.ID)})
	svc.syncMessagesRoom(ctx, nil, c)
	return c, nil
}

// UpdateClient replaces a client record's fields with req, which is checked as a new record.
// Only someone who may see the record may edit it.
func (svc *Service) UpdateClient(ctx context.Context, actor string, id int64, req ClientRequest) (*Client, error) {
	old, err := svc.Client(ctx, actor, id)
	if err != nil {
		return nil, err
	}
	c, err := NewClient(req, old.TimeZone)
	if err != nil {
		return nil, &InvalidClientError{Err: err}
	}
	c.ID, c.CreatedAt, c.UpdatedAt = old.ID, old.CreatedAt, svc.clock.Now()
	// The portal opens and closes only through SetClientPortal: an edit keeps it as it is.
	c.PortalEnabled, c.PortalClosed = old.PortalEnabled, old.PortalClosed
	// The Matrix identity and the Messages room are the bridge's, not the form's.
	c.Ghost, c.MessagesRoom = old.Ghost, old.MessagesRoom
	if err = svc.clients.UpdateClient(ctx, c); err != nil {
		return nil, fmt.Errorf("storing client %d: %w", id, err)
	}
	_ = svc.Audit(ctx, AuditEntry{Actor: actor, Action: AuditClientUpdated, Subject: ClientSubject(c.ID)})
	svc.syncMessagesRoom(ctx, old, c)
	return c, nil
}

// SetClientPortal opens (on) or closes the client portal of a record the actor may see, and
// records it in the audit trail with detail (such as "via": "first_booking"). Sending the
// enrolment and ending the client's sign-ins are the caller's (the web pages own both).
func (svc *Service) SetClientPortal(ctx context.Context, actor string, id int64, on bool, detail map[string]string) (*Client, error) {
	c, err := svc.Client(ctx, actor, id)
	if err != nil {
		return nil, err
	}
	action := AuditClientPortalDisabled
	if on {
		action = AuditClientPortalEnabled
	}
	if c.PortalEnabled != on || c.PortalClosed == on {
		before := *c
		c.PortalEnabled, c.PortalClosed, c.UpdatedAt = on, !on, svc.clock.Now()
		if err = svc.clients.SetClientPortal(ctx, id, c.PortalEnabled, c.PortalClosed, c.UpdatedAt); err != nil {
			return nil, fmt.Errorf("storing client %d's portal: %w", id, err)
		}
		// Opening the portal makes the client's Messages room, so that it is there on their
		// first visit and their professionals see it in Element.
		svc.syncMessagesRoom(ctx, &before, c)
	}
	_ = svc.Audit(ctx, AuditEntry{Actor: actor, Action: action, Subject: ClientSubject(id), Detail: detail})
	return c, nil
}

// LinkParticipant points a participant of one of the actor's sessions at a client record
// the actor may see.
func (svc *Service) LinkParticipant(ctx context.Context, actor, sessionID, ref string, clientID int64) (*Participant, error) {
	if _, err := svc.Client(ctx, actor, clientID); err != nil {
		return nil, err
	}
	p, err := svc.onParticipant(ctx, actor, sessionID, ref, func(s *Session, p *Participant) error {
		if err := svc.clients.LinkParticipant(ctx, p.ID, clientID); err != nil {
			return fmt.Errorf("linking participant %d to client %d: %w", p.ID, clientID, err)
		}
		p.ClientID = clientID
		return nil
	})
	if err != nil {
		return nil, err
	}
	_ = svc.Audit(ctx, AuditEntry{Actor: actor, Action: AuditClientLinked, SessionID: sessionID, Subject: ParticipantSubject(p),
		Detail: map[string]string{"client": strconv.FormatInt(clientID, 10)}})
	return p, nil
}

// FromClient fills a booking's blanks from the client record it names, which the clinician
// must be able to see; a request without a client is returned as it is.
func (svc *Service) FromClient(ctx context.Context, clinician string, pr ParticipantRequest) (ParticipantRequest, error) {
	if pr.ClientID == 0 {
		return pr, nil
	}
	c, err := svc.Client(ctx, clinician, pr.ClientID)
	if err != nil {
		return pr, err
	}
	if pr.Name == "" {
		pr.Name = c.DisplayName
	}
	if pr.Email == "" {
		pr.Email = c.Email()
	}
	if pr.Phone == "" {
		pr.Phone, pr.PhoneRegion = c.Phone(), ""
	}
	if pr.MatrixID == "" {
		pr.MatrixID = c.MatrixID
	}
	if pr.Locale == "" {
		pr.Locale = c.Locale
	}
	if pr.TimeZone == "" {
		pr.TimeZone = c.TimeZone
	}
	if pr.Invite == "" {
		switch c.Reminders {
		case RemindEmail:
			pr.Invite = InviteEmail
		case RemindSMS:
			pr.Invite = InviteSMS
		}
	}
	return pr, nil
}

// recordClients gives each participant of a new booking its client record: the one the
// clinician chose (ClientID set by FromClient), else one of theirs that is the same person by
// name and contact, else a new record with the clinician assigned.
func (svc *Service) recordClients(ctx context.Context, clinician string, ps []*Participant) error {
	if svc.clients == nil {
		return nil
	}
	for _, p := range ps {
		if p.ClientID != 0 {
			continue
		}
		known, err := svc.FindClients(ctx, clinician, p.Name, 0)
		if err != nil {
			return fmt.Errorf("finding the client record: %w", err)
		}
		for _, c := range known {
			if c.SameClient(p) {
				p.ClientID = c.ID
				break
			}
		}
		if p.ClientID != 0 {
			continue
		}
		c := clientFromParticipant(p, clinician, svc.clock.Now())
		if err = svc.clients.InsertClient(ctx, c); err != nil {
			return fmt.Errorf("storing the client record: %w", err)
		}
		p.ClientID = c.ID
		_ = svc.Audit(ctx, AuditEntry{Actor: clinician, Action: AuditClientCreated, Subject: ClientSubject(c.ID), Detail: map[string]string{"via_booking": "true"}})
	}
	return nil
}

// The audit actions of client records. Viewing one is AuditParticipantDataViewed with view
// "client".
const (
	AuditClientCreated AuditAction = "client_created"
	AuditClientUpdated AuditAction = "client_updated"
	// AuditClientLinked: a participant was pointed at a client record (Detail "client").
	AuditClientLinked AuditAction = "client_linked"
	// AuditClientPortalEnabled and AuditClientPortalDisabled: the clinic opened or closed a
	// client's portal (Detail "via": "first_booking" when a booking opened it).
	AuditClientPortalEnabled  AuditAction = "client_portal_enabled"
	AuditClientPortalDisabled AuditAction = "client_portal_disabled"
	// AuditPortalEnrolmentSent: an enrolment link went to the client (Detail "channel": email
	// or sms; never the link or the address).
	AuditPortalEnrolmentSent AuditAction = "portal_enrolment_sent"
)
