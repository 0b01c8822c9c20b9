package bridge

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/rs/zerolog"
)

// The portal settings journey: a client signed in to the portal reads and changes their own
// record (preferred name, language, time zone, appointment reminders, contacts) and downloads
// what the clinic holds about them. Every method takes the signed-in client's ID and touches
// only that record: the caller (the portal) proves who the client is; nothing here takes
// another record's ID from the request.

// Audit actions of the portal's settings.
const (
	// AuditClientSettingsChanged: a client changed their own record in the portal.
	AuditClientSettingsChanged AuditAction = "client_settings_changed"
	// AuditClientDataExported: a client downloaded their data.
	AuditClientDataExported AuditAction = "client_data_exported"
	// AuditPasskeyRemoved: a client removed one of their passkeys.
	AuditPasskeyRemoved AuditAction = "passkey_removed"
)

// SettingsChange is what a client changes of their record in the portal; a nil field is left
// as it is.
type SettingsChange struct {
	PreferredName *string
	Locale        *string
	TimeZone      *string
	Reminders     *ReminderPreference
}

// OwnRecord returns the signed-in client's own record.
func (svc *Service) OwnRecord(ctx context.Context, clientID int64) (*Client, error) {
	store, err := svc.clientStore()
	if err != nil {
		return nil, err
	}
	return store.GetClient(ctx, clientID)
}

// ChangeSettings applies a client's change to their own record, with the rules a clinician's
// edit follows (NewClient), and re-plans the reminders of their upcoming sessions when the
// preference changed. The audit entry names the fields changed, never their values.
func (svc *Service) ChangeSettings(ctx context.Context, clientID int64, ch SettingsChange) (*Client, error) {
	c, err := svc.OwnRecord(ctx, clientID)
	if err != nil {
		return nil, err
	}
	req := clientRequestOf(c)
	var fields []string
	if ch.PreferredName != nil && strings.TrimSpace(*ch.PreferredName) != c.PreferredName {
		req.PreferredName, fields = *ch.PreferredName, append(fields, "preferred_name")
	}
	if ch.Locale != nil && *ch.Locale != c.Locale {
		req.Locale, fields = *ch.Locale, append(fields, "locale")
	}
	if ch.TimeZone != nil && *ch.TimeZone != c.TimeZone {
		if *ch.TimeZone == "" {
			return nil, &InvalidClientError{fmt.Errorf("choose a time zone")}
		}
		req.TimeZone, fields = *ch.TimeZone, append(fields, "time_zone")
	}
	if ch.Reminders != nil && *ch.Reminders != c.Reminders {
		if *ch.Reminders == "" {
			return nil, &InvalidClientError{fmt.Errorf("choose sms, email or none for the reminders")}
		}
		req.Reminders, fields = *ch.Reminders, append(fields, "reminders")
	}
	if len(fields) == 0 {
		return c, nil
	}
	return svc.storeOwnRecord(ctx, c, req, fields)
}

// ChangeContact makes a new email address or phone number the client's main one, in place of
// the previous main one. The caller has checked that the client received a code at the new
// contact.
func (svc *Service) ChangeContact(ctx context.Context, clientID int64, to PortalContact) (*Client, error) {
	c, err := svc.OwnRecord(ctx, clientID)
	if err != nil {
		return nil, err
	}
	req := clientRequestOf(c)
	field, old := "email", c.Email()
	if to.Email != "" {
		req.Emails = replaceFirst(req.Emails, to.Email)
	} else {
		field, old = "phone", c.Phone()
		req.Phones = replaceFirst(req.Phones, to.Phone)
	}
	if err = svc.moveUpcomingContact(ctx, c.ID, old, to); err != nil {
		return nil, err
	}
	return svc.storeOwnRecord(ctx, c, req, []string{field})
}

// moveUpcomingContact writes the new contact on the client's bookings still to come that used
// the old one, so that their reminders and notices reach the new address (the record is
// re-planned after). Past sessions keep what they were booked with.
func (svc *Service) moveUpcomingContact(ctx context.Context, clientID int64, old string, to PortalContact) error {
	if old == "" {
		return nil
	}
	sessions, err := svc.clients.ClientSessions(ctx, clientID)
	if err != nil {
		return fmt.Errorf("listing client %d's sessions to move their contact: %w", clientID, err)
	}
	now := svc.clock.Now()
	for _, s := range sessions {
		if s.Over() || !s.Start.After(now) {
			continue
		}
		ps, err := svc.store.Participants(ctx, s.ID)
		if err != nil {
			return fmt.Errorf("loading the participants of session %s: %w", s.ID, err)
		}
		for _, p := range ps {
			if p.ClientID != clientID {
				continue
			}
			switch {
			case to.Email != "" && p.Email == old:
				p.Email = to.Email
			case to.Phone != "" && p.Phone == old:
				p.Phone = to.Phone
			default:
				continue
			}
			p.UpdatedAt = now
			if err = svc.store.UpdateParticipant(ctx, p); err != nil {
				return fmt.Errorf("moving participant %d of session %s to the new contact: %w", p.ID, s.ID, err)
			}
		}
	}
	return nil
}

// replaceFirst puts v first in place of list's first element, without duplicates.
func replaceFirst(list []string, v string) []string {
	out := []string{v}
	for i, s := range list {
		if i > 0 && s != v {
			out = append(out, s)
		}
	}
	return out
}

func clientRequestOf(c *Client) ClientRequest {
	return ClientRequest{DisplayName: c.DisplayName, PreferredName: c.PreferredName, Emails: slices.Clone(c.Emails),
		Phones: slices.Clone(c.Phones), MatrixID: c.MatrixID, Locale: c.Locale, TimeZone: c.TimeZone,
		Professionals: slices.Clone(c.Professionals), Reminders: c.Reminders, PortalEnabled: c.PortalEnabled}
}

func (svc *Service) storeOwnRecord(ctx context.Context, old *Client, req ClientRequest, fields []string) (*Client, error) {
	c, err := NewClient(req, old.TimeZone)
	if err != nil {
		if _, ok := err.(*InvalidClientError); !ok {
			err = &InvalidClientError{err}
		}
		return nil, err
	}
	c.ID, c.CreatedAt, c.UpdatedAt = old.ID, old.CreatedAt, svc.clock.Now()
	if err = svc.clients.UpdateClient(ctx, c); err != nil {
		return nil, fmt.Errorf("storing client %d's settings: %w", c.ID, err)
	}
	_ = svc.Audit(ctx, AuditEntry{Actor: ClientActor(c.ID), Action: AuditClientSettingsChanged, Subject: ClientSubject(c.ID),
		Detail: map[string]string{"fields": strings.Join(fields, ",")}})
	if old.Reminders != c.Reminders || !slices.Equal(old.Emails, c.Emails) || !slices.Equal(old.Phones, c.Phones) {
		svc.replanClient(ctx, c.ID)
	}
	return c, nil
}

// replanClient re-plans the timed notifications of the client's sessions still to come: the
// outbox reads the reminder preference when it plans.
func (svc *Service) replanClient(ctx context.Context, clientID int64) {
	sessions, err := svc.clients.ClientSessions(ctx, clientID)
	if err != nil {
		zerolog.Ctx(ctx).Err(err).Int64("client_id", clientID).Msg("Failed to list a client's sessions to re-plan their reminders")
		return
	}
	now := svc.clock.Now()
	for _, s := range sessions {
		if !s.Over() && s.Start.After(now) {
			svc.replan(ctx, s)
		}
	}
}

// DataExport is "Download my data": what the clinic holds about a client, as they may read it.
// It holds no other person's data (not the other participants of a group session) and no
// internal token (no session IDs, room IDs, links or credential secrets).
type DataExport struct {
	ExportedAt time.Time         `json:"exported_at"`
	Record     ExportedRecord    `json:"record"`
	Sessions   []ExportedSession `json:"sessions"`
	Access     ExportedAccess    `json:"access"`
}

// ExportedRecord is the client's record.
type ExportedRecord struct {
	DisplayName   string             `json:"display_name"`
	PreferredName string             `json:"preferred_name,omitempty"`
	Emails        []string           `json:"emails"`
	Phones        []string           `json:"phones"`
	MatrixID      string             `json:"matrix_id,omitempty"`
	Language      string             `json:"language"`
	TimeZone      string             `json:"time_zone"`
	Reminders     ReminderPreference `json:"reminders"`
	Professionals []string           `json:"professionals"`
	CreatedAt     time.Time          `json:"created_at"`
	UpdatedAt     time.Time          `json:"updated_at"`
}

// ExportedSession is one of the client's sessions.
type ExportedSession struct {
	Start        time.Time `json:"start"`
	End          time.Time `json:"end"`
	TimeZone     string    `json:"time_zone"`
	Kind         Kind      `json:"kind"`
	Status       Status    `json:"status"`
	Professional string    `json:"professional"`
}

// ExportedAccess is how the client signs in, without any secret.
type ExportedAccess struct {
	Passkeys    []time.Time `json:"passkeys_added_at"`
	HasPassword bool        `json:"has_password"`
}

// ExportData assembles the client's data export and records it in the audit trail. access is
// the portal's own part (passkeys and password), which the bridge does not store.
func (svc *Service) ExportData(ctx context.Context, clientID int64, access ExportedAccess) (*DataExport, error) {
	c, err := svc.OwnRecord(ctx, clientID)
	if err != nil {
		return nil, err
	}
	sessions, err := svc.clients.ClientSessions(ctx, clientID)
	if err != nil {
		return nil, fmt.Errorf("loading client %d's sessions for their export: %w", clientID, err)
	}
	out := &DataExport{ExportedAt: svc.clock.Now().UTC(), Access: access, Sessions: []ExportedSession{},
		Record: ExportedRecord{DisplayName: c.DisplayName, PreferredName: c.PreferredName, Emails: nonNil(c.Emails),
			Phones: nonNil(c.Phones), MatrixID: c.MatrixID, Language: c.Locale, TimeZone: c.TimeZone, Reminders: c.Reminders,
			Professionals: nonNil(c.Professionals), CreatedAt: c.CreatedAt.UTC(), UpdatedAt: c.UpdatedAt.UTC()}}
	for _, s := range sessions {
		out.Sessions = append(out.Sessions, ExportedSession{Start: s.Start.UTC(), End: s.End.UTC(), TimeZone: s.TimeZone,
			Kind: s.Kind, Status: s.Status, Professional: s.Clinician})
	}
	if out.Access.Passkeys == nil {
		out.Access.Passkeys = []time.Time{}
	}
	_ = svc.Audit(ctx, AuditEntry{Actor: ClientActor(clientID), Action: AuditClientDataExported, Subject: ClientSubject(clientID),
		Detail: map[string]string{"sessions": fmt.Sprint(len(out.Sessions))}})
	return out, nil
}

func nonNil(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}
