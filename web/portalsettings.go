package web

import (
	"context"
	"crypto/hmac"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"github.com/telehealth-bridge/telehealth-bridge/database"
)

// The portal's Settings: the signed-in client reads and changes their own record, their
// passkeys and password, and downloads their data. Who may use these doors: only the client
// signed in to the portal (srv.portalAPI), and only on their own record, which is the
// sign-in's: no endpoint takes a client ID, and a passkey ID of another client matches
// nothing (the delete is keyed by the signed-in client too).

const (
	// purposeContact is a code sent to a new email address or phone before it replaces the
	// client's; purposePassword a code sent to the client's own contact to change their
	// password without the current one.
	purposeContact  = "contact_change"
	purposePassword = "password_change"
)

// ConfirmationCodeSender sends a code that confirms a change in Settings (its words say so, not
// "sign in"). A code sender without it sends the sign-in code's words.
type ConfirmationCodeSender interface {
	SendConfirmationCode(ctx context.Context, to bridge.PortalContact, code, lang string) error
}

// PortalSettings is what the Settings page shows.
type PortalSettings struct {
	DisplayName   string                    `json:"display_name"`
	PreferredName string                    `json:"preferred_name"`
	Email         string                    `json:"email"`
	Phone         string                    `json:"phone"`
	Language      string                    `json:"language"`
	TimeZone      string                    `json:"time_zone"`
	Reminders     bridge.ReminderPreference `json:"reminders"`
	Passkeys      []PortalPasskey           `json:"passkeys"`
	HasPassword   bool                      `json:"has_password"`
}

// PortalPasskey is one of the client's passkeys; ID is the WebAuthn credential ID, which is
// public (the browser shows it to any site that asks for it).
type PortalPasskey struct {
	ID         string     `json:"id"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
}

func (srv *Server) settingsOf(ctx context.Context, clientID int64) (*PortalSettings, error) {
	c, err := srv.svc.OwnRecord(ctx, clientID)
	if err != nil {
		return nil, fmt.Errorf("reading the client's record: %w", err)
	}
	creds, err := srv.db.PortalCredential.ByClient(ctx, clientID)
	if err != nil {
		return nil, fmt.Errorf("listing the client's passkeys: %w", err)
	}
	hash, err := srv.db.PortalPassword.Get(ctx, clientID)
	if err != nil {
		return nil, fmt.Errorf("reading the client's password: %w", err)
	}
	out := &PortalSettings{DisplayName: c.DisplayName, PreferredName: c.PreferredName, Email: c.Email(), Phone: c.Phone(),
		Language: c.Locale, TimeZone: c.TimeZone, Reminders: c.Reminders, Passkeys: []PortalPasskey{}, HasPassword: hash != ""}
	for _, cr := range creds {
		pk := PortalPasskey{ID: cr.CredentialID, CreatedAt: cr.CreatedAt.UTC()}
		if !cr.LastUsedAt.IsZero() {
			used := cr.LastUsedAt.UTC()
			pk.LastUsedAt = &used
		}
		out.Passkeys = append(out.Passkeys, pk)
	}
	return out, nil
}

func (srv *Server) portalSettings(_ http.ResponseWriter, r *http.Request, in *portalSignIn) (any, error) {
	return srv.settingsOf(r.Context(), in.clientID)
}

type settingsChange struct {
	PreferredName *string                    `json:"preferred_name"`
	Language      *string                    `json:"language"`
	TimeZone      *string                    `json:"time_zone"`
	Reminders     *bridge.ReminderPreference `json:"reminders"`
}

// invalidSettings turns a refused change into an answer that says why.
func invalidSettings(err error) error {
	var invalid *bridge.InvalidClientError
	if errors.As(err, &invalid) {
		return errorf(http.StatusBadRequest, "invalid", "%s", capitalize(invalid.Error())+".")
	}
	return err
}

// portalChangeSettings changes the preferred name, language, time zone or reminders.
func (srv *Server) portalChangeSettings(_ http.ResponseWriter, r *http.Request, in *portalSignIn) (any, error) {
	var req settingsChange
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	_, err := srv.svc.ChangeSettings(portalCtx(r), in.clientID, bridge.SettingsChange{PreferredName: req.PreferredName,
		Locale: req.Language, TimeZone: req.TimeZone, Reminders: req.Reminders})
	if err != nil {
		return nil, invalidSettings(err)
	}
	return srv.settingsOf(r.Context(), in.clientID)
}

// sendSettingsCode stores a code for the signed-in client under lookup and sends it to the
// contact, within the code limits (per client address, and per client and purpose).
func (srv *Server) sendSettingsCode(r *http.Request, clientID int64, purpose, lookup string, to bridge.PortalContact, lang string) error {
	ip := srv.limiter.key(r)
	if !srv.portal.codePerIP.allow(ip) || !srv.portal.codePerContact.allow(lookup) {
		return errTooManyAttempts
	}
	srv.portal.codePerIP.fail(ip)
	srv.portal.codePerContact.fail(lookup)
	code := newCode()
	now := srv.clock.Now()
	err := srv.db.PortalCode.Put(r.Context(), &database.PortalCode{
		Lookup: lookup, ClientID: clientID, Purpose: purpose, CodeHash: srv.keyedHash("code", lookup, code),
		CreatedAt: now, ExpiresAt: now.Add(codeTTL),
	})
	if err != nil {
		return fmt.Errorf("storing a settings code: %w", err)
	}
	if srv.codes == nil {
		return errorf(http.StatusServiceUnavailable, "codes_off", "Codes cannot be sent now. Please ask your clinic.")
	}
	if lang != "fr" {
		lang = "en"
	}
	log := zerolog.Ctx(r.Context()).With().Int64("client_id", clientID).Str("purpose", purpose).Logger()
	send := srv.codes.SendPortalCode
	if c, ok := srv.codes.(ConfirmationCodeSender); ok {
		send = c.SendConfirmationCode
	}
	go func(ctx context.Context) {
		if err := send(ctx, to, code, lang); err != nil {
			log.Err(err).Msg("Failed to send a portal settings code")
		}
	}(context.WithoutCancel(r.Context()))
	return nil
}

// takeSettingsCode spends the signed-in client's code under lookup if it is right; a wrong
// one counts against the code (codeAttempts), the lookup and the client address.
func (srv *Server) takeSettingsCode(r *http.Request, clientID int64, purpose, lookup, code string) error {
	ip := srv.limiter.key(r)
	if !srv.portal.failPerIP.allow(ip) || !srv.portal.failPerContact.allow(lookup) {
		return errTooManyAttempts
	}
	c, err := srv.db.PortalCode.Get(r.Context(), lookup)
	if err != nil {
		return fmt.Errorf("reading a settings code: %w", err)
	}
	if c == nil || c.Purpose != purpose || c.ClientID != clientID || !srv.clock.Now().Before(c.ExpiresAt) {
		srv.portal.failPerIP.fail(ip)
		return errCodeExpired
	}
	if c.Attempts >= codeAttempts {
		return errCodeSpent
	}
	hash := srv.keyedHash("code", lookup, strings.Join(strings.Fields(code), ""))
	if hmac.Equal([]byte(hash), []byte(c.CodeHash)) {
		taken, err := srv.db.PortalCode.Take(r.Context(), lookup, hash, codeAttempts)
		if err != nil {
			return fmt.Errorf("using a settings code: %w", err)
		}
		if taken == nil || taken.ClientID != clientID {
			return errCodeExpired
		}
		return nil
	}
	srv.portal.failPerIP.fail(ip)
	srv.portal.failPerContact.fail(lookup)
	n, err := srv.db.PortalCode.Fail(r.Context(), lookup)
	if err != nil {
		return fmt.Errorf("counting a wrong code: %w", err)
	}
	if n >= codeAttempts {
		if err = srv.db.PortalCode.Delete(r.Context(), lookup); err != nil {
			return fmt.Errorf("spending a code: %w", err)
		}
		return errCodeSpent
	}
	return errCodeWrong
}

// contactLookup keys a contact-change code by the client and the new contact: a code sent for
// one client's change never completes another's.
func (srv *Server) contactLookup(clientID int64, contact bridge.PortalContact) string {
	return srv.keyedHash("code lookup", purposeContact, strconv.FormatInt(clientID, 10), contact.String())
}

// portalContactCode sends a code to the new email address or phone the client wants.
func (srv *Server) portalContactCode(_ http.ResponseWriter, r *http.Request, in *portalSignIn) (any, error) {
	var req codeRequest
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	contact, err := portalContact(req.Contact)
	if err != nil {
		return nil, err
	}
	if err = srv.sendSettingsCode(r, in.clientID, purposeContact, srv.contactLookup(in.clientID, contact), contact, req.Lang); err != nil {
		return nil, err
	}
	return map[string]any{"sent": true}, nil
}

// portalContactVerify makes the new contact the client's once they typed the code it received.
func (srv *Server) portalContactVerify(_ http.ResponseWriter, r *http.Request, in *portalSignIn) (any, error) {
	var req codeVerify
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	contact, err := portalContact(req.Contact)
	if err != nil {
		return nil, err
	}
	if err = srv.takeSettingsCode(r, in.clientID, purposeContact, srv.contactLookup(in.clientID, contact), req.Code); err != nil {
		return nil, err
	}
	if _, err = srv.svc.ChangeContact(portalCtx(r), in.clientID, contact); err != nil {
		return nil, invalidSettings(err)
	}
	return srv.settingsOf(r.Context(), in.clientID)
}

type passkeyRemove struct {
	ID string `json:"id"`
}

// portalRemovePasskey removes one of the signed-in client's passkeys.
func (srv *Server) portalRemovePasskey(_ http.ResponseWriter, r *http.Request, in *portalSignIn) (any, error) {
	var req passkeyRemove
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	ok, err := srv.db.PortalCredential.Delete(r.Context(), in.clientID, req.ID)
	if err != nil {
		return nil, fmt.Errorf("removing a passkey: %w", err)
	}
	if !ok {
		return nil, errorf(http.StatusNotFound, "not_found", "There is no such passkey.")
	}
	_ = srv.svc.Audit(portalCtx(r), bridge.AuditEntry{Actor: bridge.ClientActor(in.clientID), Action: bridge.AuditPasskeyRemoved,
		Subject: bridge.ClientActor(in.clientID)})
	return srv.settingsOf(r.Context(), in.clientID)
}

func (srv *Server) passwordLookup(clientID int64) string {
	return srv.keyedHash("code lookup", purposePassword, strconv.FormatInt(clientID, 10))
}

// portalPasswordCode sends a code to the client's own main email (or phone) for changing the
// password without the current one.
func (srv *Server) portalPasswordCode(_ http.ResponseWriter, r *http.Request, in *portalSignIn) (any, error) {
	var req struct {
		Lang string `json:"lang"`
	}
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	c, err := srv.svc.OwnRecord(r.Context(), in.clientID)
	if err != nil {
		return nil, fmt.Errorf("reading the client's record: %w", err)
	}
	to := bridge.PortalContact{Email: c.Email()}
	if to.Email == "" {
		to.Phone = c.Phone()
	}
	if to.String() == "" {
		return nil, errorf(http.StatusConflict, "no_contact", "Your record has no email address or phone number to send a code to.")
	}
	if err = srv.sendSettingsCode(r, in.clientID, purposePassword, srv.passwordLookup(in.clientID), to, req.Lang); err != nil {
		return nil, err
	}
	return map[string]any{"sent": true}, nil
}

type passwordChange struct {
	Current  string `json:"current"`
	Code     string `json:"code"`
	Password string `json:"password"`
}

var errCurrentPasswordWrong = errorf(http.StatusUnauthorized, "password_wrong", "Your current password is not right.")

// portalChangePassword sets a new password for a client who proves it is them again: with
// their current password, or a code just sent to their own contact (for those who have none,
// or forgot it). A sign-in left open on a shared computer cannot change it. The client's other
// sign-ins end.
func (srv *Server) portalChangePassword(_ http.ResponseWriter, r *http.Request, in *portalSignIn) (any, error) {
	var req passwordChange
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	if err := bridge.CheckPassword(req.Password); err != nil {
		return nil, errorf(http.StatusBadRequest, "weak_password", "%s", capitalize(err.Error())+".")
	}
	switch {
	case req.Code != "":
		if err := srv.takeSettingsCode(r, in.clientID, purposePassword, srv.passwordLookup(in.clientID), req.Code); err != nil {
			return nil, err
		}
	default:
		key := srv.passwordLookup(in.clientID)
		ip := srv.limiter.key(r)
		if !srv.portal.failPerIP.allow(ip) || !srv.portal.failPerContact.allow(key) {
			return nil, errTooManyAttempts
		}
		hash, err := srv.db.PortalPassword.Get(r.Context(), in.clientID)
		if err != nil {
			return nil, fmt.Errorf("reading the client's password: %w", err)
		}
		if !bridge.VerifyPassword(req.Current, hash) {
			srv.portal.failPerIP.fail(ip)
			srv.portal.failPerContact.fail(key)
			return nil, errCurrentPasswordWrong
		}
	}
	hash, err := bridge.HashPassword(req.Password)
	if err != nil {
		return nil, err
	}
	if err = srv.db.PortalPassword.Set(r.Context(), in.clientID, hash, srv.clock.Now()); err != nil {
		return nil, fmt.Errorf("storing a client's password: %w", err)
	}
	// Whoever knew the old password may be signed in elsewhere: only this device stays.
	ended, err := srv.db.PortalSession.DeleteOthers(r.Context(), in.clientID, in.hash)
	if err != nil {
		return nil, fmt.Errorf("ending the client's other portal sessions: %w", err)
	}
	_ = srv.svc.Audit(portalCtx(r), bridge.AuditEntry{Actor: bridge.ClientActor(in.clientID), Action: bridge.AuditPasswordSet,
		Subject: bridge.ClientActor(in.clientID), Detail: map[string]string{"from": "settings", "other_sessions_ended": fmt.Sprint(ended)}})
	return srv.settingsOf(r.Context(), in.clientID)
}

// portalExport is "Download my data": a JSON file of the client's own record, sessions and
// settings.
func (srv *Server) portalExport(w http.ResponseWriter, r *http.Request, in *portalSignIn) (any, error) {
	creds, err := srv.db.PortalCredential.ByClient(r.Context(), in.clientID)
	if err != nil {
		return nil, fmt.Errorf("listing the client's passkeys: %w", err)
	}
	hash, err := srv.db.PortalPassword.Get(r.Context(), in.clientID)
	if err != nil {
		return nil, fmt.Errorf("reading the client's password: %w", err)
	}
	access := bridge.ExportedAccess{HasPassword: hash != ""}
	for _, c := range creds {
		access.Passkeys = append(access.Passkeys, c.CreatedAt.UTC())
	}
	out, err := srv.svc.ExportData(portalCtx(r), in.clientID, access)
	if err != nil {
		return nil, err
	}
	w.Header().Set("Content-Disposition", `attachment; filename="my-data.json"`)
	w.Header().Set("Cache-Control", "no-store")
	return out, nil
}
