package web

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
	"github.com/rs/zerolog"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"github.com/telehealth-bridge/telehealth-bridge/database"
)

// Passkeys (WebAuthn) for the portal: a client registers one from "Create your access" (or
// their settings) while signed in, and signs in with it without typing anything: the
// credentials are discoverable, so the browser offers the client's passkeys for this site.
// The relying party is the public URL's host, and only its origin is accepted.

const (
	ceremonyTTL = 5 * time.Minute
	// maxCeremonies bounds the memory anonymous sign-in attempts can take.
	maxCeremonies = 10000
)

// passkeys holds the WebAuthn relying party and the ceremonies in progress (begun, not
// finished). They are in memory: a ceremony lasts seconds, and one bridge serves the pages.
type passkeys struct {
	srv *Server
	rp  *webauthn.WebAuthn
	// off says why passkeys are not available (the public URL cannot be a relying party).
	off error

	mu         sync.Mutex
	ceremonies map[string]*ceremony
}

type ceremony struct {
	data webauthn.SessionData
	// clientID is the client registering a passkey; 0 for a sign-in.
	clientID int64
	expires  time.Time
}

func newPasskeys(srv *Server) *passkeys {
	p := &passkeys{srv: srv, ceremonies: map[string]*ceremony{}}
	u, err := url.Parse(srv.cfg.PublicURL)
	if err != nil || u.Hostname() == "" {
		p.off = fmt.Errorf("web.public_url %q has no host", srv.cfg.PublicURL)
		return p
	}
	if net.ParseIP(u.Hostname()) != nil {
		// Browsers refuse an IP address as a relying party ID.
		p.off = fmt.Errorf("web.public_url %q is an IP address: passkeys need a host name", srv.cfg.PublicURL)
		return p
	}
	name := srv.cfg.ClinicName
	if name == "" {
		name = "Telehealth"
	}
	p.rp, err = webauthn.New(&webauthn.Config{
		RPID: u.Hostname(), RPDisplayName: name, RPOrigins: []string{publicOrigin(srv.cfg.PublicURL)},
	})
	if err != nil {
		p.off = fmt.Errorf("setting up passkeys for %s: %w", u.Hostname(), err)
	}
	return p
}

// run forgets expired ceremonies every minute until ctx ends.
func (p *passkeys) run(ctx context.Context) {
	t := p.srv.clock.NewTicker(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.Chan():
			p.mu.Lock()
			now := p.srv.clock.Now()
			for id, c := range p.ceremonies {
				if now.After(c.expires) {
					delete(p.ceremonies, id)
				}
			}
			p.mu.Unlock()
		}
	}
}

func (p *passkeys) ready() error {
	if p.off != nil {
		return errorf(http.StatusServiceUnavailable, "passkeys_off", "Passkeys are not available on this site.")
	}
	return nil
}

func (p *passkeys) begin(data *webauthn.SessionData, clientID int64) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.ceremonies) >= maxCeremonies {
		return "", errorf(http.StatusServiceUnavailable, "busy", "Too many sign-ins at once. Please try again in a minute.")
	}
	id := newToken()
	p.ceremonies[id] = &ceremony{data: *data, clientID: clientID, expires: p.srv.clock.Now().Add(ceremonyTTL)}
	return id, nil
}

// take returns a ceremony and forgets it: each is finished once.
func (p *passkeys) take(id string) (*ceremony, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	c, ok := p.ceremonies[id]
	delete(p.ceremonies, id)
	if !ok || p.srv.clock.Now().After(c.expires) {
		return nil, false
	}
	return c, true
}

// passkeyUser is a client as WebAuthn sees them.
type passkeyUser struct {
	handle []byte
	name   string
	creds  []webauthn.Credential
}

func (u *passkeyUser) WebAuthnID() []byte                         { return u.handle }
func (u *passkeyUser) WebAuthnName() string                       { return u.name }
func (u *passkeyUser) WebAuthnDisplayName() string                { return u.name }
func (u *passkeyUser) WebAuthnCredentials() []webauthn.Credential { return u.creds }

// userHandle is the client's WebAuthn user handle: derived from the record ID with the site's
// key, so that it does not give the ID away to the authenticator, yet needs no storage.
func (srv *Server) userHandle(clientID int64) []byte {
	m := hmac.New(sha256.New, srv.cfg.SigningKey)
	fmt.Fprintf(m, "telehealth portal passkey user %d", clientID)
	return m.Sum(nil)
}

var b64url = base64.RawURLEncoding

// passkeyUserOf loads a client with their passkeys.
func (srv *Server) passkeyUserOf(ctx context.Context, clientID int64) (*passkeyUser, error) {
	name, err := srv.clients.ClientName(ctx, clientID)
	if err != nil {
		return nil, fmt.Errorf("reading the client's name: %w", err)
	}
	stored, err := srv.db.PortalCredential.ByClient(ctx, clientID)
	if err != nil {
		return nil, fmt.Errorf("reading the client's passkeys: %w", err)
	}
	u := &passkeyUser{handle: srv.userHandle(clientID), name: name}
	for _, c := range stored {
		cred, err := webauthnCredential(c)
		if err != nil {
			return nil, err
		}
		u.creds = append(u.creds, cred)
	}
	return u, nil
}

func webauthnCredential(c *database.PortalCredential) (webauthn.Credential, error) {
	id, err := b64url.DecodeString(c.CredentialID)
	if err != nil {
		return webauthn.Credential{}, fmt.Errorf("stored passkey %q: %w", c.CredentialID, err)
	}
	key, err := b64url.DecodeString(c.PublicKey)
	if err != nil {
		return webauthn.Credential{}, fmt.Errorf("stored passkey %q's key: %w", c.CredentialID, err)
	}
	aaguid, _ := b64url.DecodeString(c.AAGUID)
	cred := webauthn.Credential{
		ID: id, PublicKey: key,
		Flags:         webauthn.CredentialFlags{UserPresent: true, BackupEligible: c.BackupEligible, BackupState: c.BackupState},
		Authenticator: webauthn.Authenticator{AAGUID: aaguid, SignCount: c.SignCount},
	}
	for _, t := range c.Transports {
		cred.Transport = append(cred.Transport, protocol.AuthenticatorTransport(t))
	}
	return cred, nil
}

// ceremonyStart is what a begin endpoint answers: the ceremony to name when finishing, and
// the options for navigator.credentials.create or get.
type ceremonyStart struct {
	Ceremony string `json:"ceremony"`
	Options  any    `json:"options"`
}

// ceremonyFinish is what the page posts back: the ceremony and the browser's credential, as
// PublicKeyCredential.toJSON() gives it.
type ceremonyFinish struct {
	Ceremony   string          `json:"ceremony"`
	Credential json.RawMessage `json:"credential"`
}

// passkeyRegisterBegin starts adding a passkey to the signed-in client's access.
func (srv *Server) passkeyRegisterBegin(_ http.ResponseWriter, r *http.Request, in *portalSignIn) (any, error) {
	if err := srv.passkeys.ready(); err != nil {
		return nil, err
	}
	user, err := srv.passkeyUserOf(r.Context(), in.clientID)
	if err != nil {
		return nil, err
	}
	exclude := make([]protocol.CredentialDescriptor, 0, len(user.creds))
	for _, c := range user.creds {
		exclude = append(exclude, c.Descriptor())
	}
	creation, data, err := srv.passkeys.rp.BeginRegistration(user,
		webauthn.WithResidentKeyRequirement(protocol.ResidentKeyRequirementRequired), webauthn.WithExclusions(exclude))
	if err != nil {
		return nil, fmt.Errorf("beginning a passkey registration: %w", err)
	}
	id, err := srv.passkeys.begin(data, in.clientID)
	if err != nil {
		return nil, err
	}
	return ceremonyStart{Ceremony: id, Options: creation}, nil
}

var errPasskeyRefused = errorf(http.StatusUnauthorized, "passkey_refused", "This passkey was not accepted. Try again, or sign in with a code.")

// passkeyRegisterFinish stores the passkey the browser created, for the client who began the
// ceremony (and is still the one signed in).
func (srv *Server) passkeyRegisterFinish(_ http.ResponseWriter, r *http.Request, in *portalSignIn) (any, error) {
	if err := srv.passkeys.ready(); err != nil {
		return nil, err
	}
	var req ceremonyFinish
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	c, ok := srv.passkeys.take(req.Ceremony)
	if !ok || c.clientID != in.clientID {
		return nil, errorf(http.StatusBadRequest, "ceremony_expired", "This took too long. Please try again.")
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes(req.Credential)
	if err != nil {
		return nil, errorf(http.StatusBadRequest, "bad_credential", "The browser's answer could not be read. Please try again.")
	}
	user, err := srv.passkeyUserOf(r.Context(), in.clientID)
	if err != nil {
		return nil, err
	}
	cred, err := srv.passkeys.rp.CreateCredential(user, c.data, parsed)
	if err != nil {
		zerolog.Ctx(r.Context()).Debug().Err(err).Msg("Passkey registration refused")
		return nil, errPasskeyRefused
	}
	transports := make([]string, 0, len(cred.Transport))
	for _, t := range cred.Transport {
		transports = append(transports, string(t))
	}
	err = srv.db.PortalCredential.Insert(r.Context(), &database.PortalCredential{
		CredentialID: b64url.EncodeToString(cred.ID), ClientID: in.clientID, PublicKey: b64url.EncodeToString(cred.PublicKey),
		AAGUID: b64url.EncodeToString(cred.Authenticator.AAGUID), SignCount: cred.Authenticator.SignCount, Transports: transports,
		BackupEligible: cred.Flags.BackupEligible, BackupState: cred.Flags.BackupState, CreatedAt: srv.clock.Now(),
	})
	if err != nil {
		if existing, _ := srv.db.PortalCredential.Get(r.Context(), b64url.EncodeToString(cred.ID)); existing != nil {
			return nil, errorf(http.StatusConflict, "passkey_exists", "This passkey is already registered.")
		}
		return nil, fmt.Errorf("storing a passkey: %w", err)
	}
	_ = srv.svc.Audit(portalCtx(r), bridge.AuditEntry{Actor: bridge.ClientActor(in.clientID), Action: bridge.AuditPasskeyAdded,
		Subject: bridge.ClientActor(in.clientID)})
	return map[string]bool{"registered": true}, nil
}

// passkeyLoginBegin starts a sign-in with a discoverable passkey: no name asked, the browser
// offers the passkeys it holds for this site.
func (srv *Server) passkeyLoginBegin(_ http.ResponseWriter, r *http.Request) (any, error) {
	if err := srv.portalReady(); err != nil {
		return nil, err
	}
	if err := srv.passkeys.ready(); err != nil {
		return nil, err
	}
	if !srv.portal.failPerIP.allow(srv.limiter.key(r)) {
		return nil, errTooManyAttempts
	}
	assertion, data, err := srv.passkeys.rp.BeginDiscoverableLogin(webauthn.WithUserVerification(protocol.VerificationPreferred))
	if err != nil {
		return nil, fmt.Errorf("beginning a passkey sign-in: %w", err)
	}
	id, err := srv.passkeys.begin(data, 0)
	if err != nil {
		return nil, err
	}
	return ceremonyStart{Ceremony: id, Options: assertion}, nil
}

// passkeyLoginFinish checks the browser's assertion and signs in the client whose passkey it
// is. The passkey is found by its credential ID, and the user handle the authenticator gives
// must be that client's.
func (srv *Server) passkeyLoginFinish(w http.ResponseWriter, r *http.Request) (any, error) {
	if err := srv.portalReady(); err != nil {
		return nil, err
	}
	if err := srv.passkeys.ready(); err != nil {
		return nil, err
	}
	ip := srv.limiter.key(r)
	if !srv.portal.failPerIP.allow(ip) {
		return nil, errTooManyAttempts
	}
	var req ceremonyFinish
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	c, ok := srv.passkeys.take(req.Ceremony)
	if !ok || c.clientID != 0 {
		return nil, errorf(http.StatusBadRequest, "ceremony_expired", "This took too long. Please try again.")
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes(req.Credential)
	if err != nil {
		srv.portal.failPerIP.fail(ip)
		return nil, errorf(http.StatusBadRequest, "bad_credential", "The browser's answer could not be read. Please try again.")
	}
	var stored *database.PortalCredential
	handler := func(rawID, userHandle []byte) (webauthn.User, error) {
		s, err := srv.db.PortalCredential.Get(r.Context(), b64url.EncodeToString(rawID))
		if err != nil {
			return nil, err
		}
		if s == nil {
			return nil, errors.New("unknown passkey")
		}
		stored = s
		if !hmac.Equal(userHandle, srv.userHandle(s.ClientID)) {
			return nil, errors.New("the user handle is not the passkey's client's")
		}
		return srv.passkeyUserOf(r.Context(), s.ClientID)
	}
	_, cred, err := srv.passkeys.rp.ValidatePasskeyLogin(handler, c.data, parsed)
	if err == nil && cred.Authenticator.CloneWarning {
		err = errors.New("the signature counter went backwards: a cloned authenticator?")
	}
	if err != nil {
		srv.portal.failPerIP.fail(ip)
		if stored != nil {
			srv.refuseKnown(r, stored.ClientID, bridge.PortalByPasskey, "passkey_refused")
		}
		zerolog.Ctx(r.Context()).Debug().Err(err).Msg("Passkey sign-in refused")
		return nil, errPasskeyRefused
	}
	if err = srv.db.PortalCredential.Used(r.Context(), stored.CredentialID, cred.Authenticator.SignCount, cred.Flags.BackupState, srv.clock.Now()); err != nil {
		return nil, fmt.Errorf("recording a passkey's use: %w", err)
	}
	if err = srv.signInPortal(w, r, stored.ClientID, bridge.PortalByPasskey); err != nil {
		return nil, err
	}
	return map[string]bool{"signed_in": true}, nil
}
