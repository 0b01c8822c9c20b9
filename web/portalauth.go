package web

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/big"
	"net/http"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"github.com/telehealth-bridge/telehealth-bridge/database"
)

// ClientDirectory is the clinic's client records, as portal sign-in needs them. The records
// journey implements it; sign-in knows a client only by the record's ID.
type ClientDirectory interface {
	// ClientByContact finds the client whose record holds the email address (lower case) or
	// phone number (E.164). ok is false when no record does.
	ClientByContact(ctx context.Context, contact string) (id int64, ok bool, err error)
	// ClientName is the name the portal greets the client by (their preferred or display name).
	ClientName(ctx context.Context, id int64) (string, error)
}

// PortalGate is the part of the client directory that knows the portals the clinic closed
// (the panel's "Disable the portal"): no sign-in opens one. A directory without it closes none.
type PortalGate interface {
	PortalClosed(ctx context.Context, id int64) (bool, error)
}

var errPortalClosed = errorf(http.StatusForbidden, "portal_closed", "Your clinic has closed your access to the portal. Please contact your clinic.")

// PortalCodeSender delivers a one-time sign-in code by email or SMS. The message says only
// that it is a code for the clinic's portal: no name, no reason for visit.
type PortalCodeSender interface {
	SendPortalCode(ctx context.Context, to bridge.PortalContact, code, lang string) error
}

// Portal sign-in rules.
const (
	portalCookie = "telehealth_portal"
	codeDigits   = 6
	codeTTL      = 10 * time.Minute
	// codeAttempts wrong guesses spend a code: 5 in 10^6, then a new code is needed.
	codeAttempts = 5
	enrolTTL     = 7 * 24 * time.Hour

	purposeSignIn = "sign_in"
	purposeEnrol  = "enrol"
	// purposeSignUp: a code that proves a new person holds the contact (portalsignup.go).
	purposeSignUp = "sign_up"
)

// portalLimits bound how fast anyone can ask for codes or guess them. Codes: 3 per contact and
// 10 per client address in 15 minutes. Guesses (codes and passwords): 10 wrong per contact and
// 20 per client address in 15 minutes, besides the 5 per code.
type portalLimits struct {
	codePerContact, codePerIP *limiter
	failPerContact, failPerIP *limiter
}

func newPortalLimits(srv *Server) *portalLimits {
	const window = 15 * time.Minute
	trusted := srv.cfg.TrustedProxies
	return &portalLimits{
		codePerContact: newLimiter(srv.clock, 3, window, nil),
		codePerIP:      newLimiter(srv.clock, 10, window, trusted),
		failPerContact: newLimiter(srv.clock, 10, window, nil),
		failPerIP:      newLimiter(srv.clock, 20, window, trusted),
	}
}

func (l *portalLimits) run(ctx context.Context) {
	for _, lim := range []*limiter{l.codePerContact, l.codePerIP, l.failPerContact, l.failPerIP} {
		go lim.run(ctx)
	}
}

var errTooManyAttempts = errorf(http.StatusTooManyRequests, "rate_limited", "Too many attempts. Please wait a few minutes and try again.")

// UsePortal connects the client records and the code sender: until then, the portal's sign-in
// answers that it is not available.
func (srv *Server) UsePortal(clients ClientDirectory, codes PortalCodeSender) {
	srv.clients, srv.codes = clients, codes
}

// keyedHash is an HMAC of the parts with a key derived from the signing key for the purpose,
// hex: codes (10^6 of them) and contacts are not stored in a form one could reverse by trying
// every value without the key.
func (srv *Server) keyedHash(label string, parts ...string) string {
	k := hmac.New(sha256.New, srv.cfg.SigningKey)
	k.Write([]byte("telehealth portal " + label))
	m := hmac.New(sha256.New, k.Sum(nil))
	for _, p := range parts {
		fmt.Fprintf(m, "%d:%s", len(p), p)
	}
	return hex.EncodeToString(m.Sum(nil))
}

// portalContact reads an email address or an international phone number.
func portalContact(s string) (bridge.PortalContact, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "@") {
		email, err := bridge.ValidateEmail(s)
		if err != nil {
			return bridge.PortalContact{}, errorf(http.StatusBadRequest, "bad_contact", "Enter your email address or your phone number with its country code (+33…).")
		}
		return bridge.PortalContact{Email: email}, nil
	}
	phone, err := bridge.ValidatePhone(s, "")
	if err != nil {
		return bridge.PortalContact{}, errorf(http.StatusBadRequest, "bad_contact", "Enter your email address or your phone number with its country code (+33…).")
	}
	return bridge.PortalContact{Phone: phone}, nil
}

func (srv *Server) portalReady() error {
	if srv.clients == nil {
		return errorf(http.StatusServiceUnavailable, "portal_off", "The client portal is not available.")
	}
	return nil
}

// portalSignIn is a client signed in to the portal, as a request found them: or a prospect
// (clientID 0), whom only portalSignedIn lets through.
type portalSignIn struct {
	clientID   int64
	prospectID int64
	hash       string
}

// actor is the audit actor of the sign-in.
func (in *portalSignIn) actor() string {
	if in.clientID == 0 && in.prospectID != 0 {
		return bridge.ProspectActor(in.prospectID)
	}
	return bridge.ClientActor(in.clientID)
}

// signInPortal starts a portal session for the client: a cookie only this site's pages send
// (SameSite=Strict) and scripts cannot read (HttpOnly), Secure on https. It records the
// sign-in.
func (srv *Server) signInPortal(w http.ResponseWriter, r *http.Request, clientID int64, kind bridge.PortalSignInKind) error {
	if gate, ok := srv.clients.(PortalGate); ok {
		closed, err := gate.PortalClosed(r.Context(), clientID)
		if err != nil {
			return fmt.Errorf("reading whether client %d's portal is closed: %w", clientID, err)
		}
		if closed {
			srv.refuseKnown(r, clientID, kind, "portal_closed")
			return errPortalClosed
		}
	}
	return srv.startPortalSession(w, r, &portalSignIn{clientID: clientID}, kind)
}

// startPortalSession signs in a client, or a prospect (clientID 0, prospectID set).
func (srv *Server) startPortalSession(w http.ResponseWriter, r *http.Request, in *portalSignIn, kind bridge.PortalSignInKind) error {
	// A sign-in the browser already had (perhaps another client's, on a shared computer) ends:
	// one browser, one sign-in, and no token set before the sign-in survives it.
	if old, err := r.Cookie(portalCookie); err == nil && old.Value != "" {
		if err = srv.db.PortalSession.Delete(r.Context(), hashToken(old.Value)); err != nil {
			return fmt.Errorf("ending the browser's previous portal session: %w", err)
		}
	}
	token := newToken()
	now := srv.clock.Now()
	err := srv.db.PortalSession.Insert(r.Context(), &database.PortalSession{
		TokenHash: hashToken(token), ClientID: in.clientID, ProspectID: in.prospectID, CreatedAt: now, LastSeen: now,
		IdleExpiresAt: now.Add(srv.cfg.PortalIdle), ExpiresAt: now.Add(srv.cfg.PortalMaxAge),
	})
	if err != nil {
		return fmt.Errorf("storing a portal session: %w", err)
	}
	http.SetCookie(w, &http.Cookie{
		Name: portalCookie, Value: token, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode,
		Secure: strings.HasPrefix(srv.cfg.PublicURL, "https://"), MaxAge: int(srv.cfg.PortalMaxAge.Seconds()),
	})
	_ = srv.svc.Audit(portalCtx(r), bridge.AuditEntry{Actor: in.actor(), Action: bridge.AuditSignIn,
		Subject: in.actor(), Detail: map[string]string{"kind": "portal", "by": string(kind), "ip": srv.limiter.key(r)}})
	return nil
}

func portalCtx(r *http.Request) context.Context { return bridge.WithAuditVia(r.Context(), "portal") }

// refuseKnown records a refused sign-in of a known client. Unknown contacts leave no trace:
// the trail names clients, and an address no record holds is no one's.
func (srv *Server) refuseKnown(r *http.Request, clientID int64, kind bridge.PortalSignInKind, reason string) {
	if clientID == 0 {
		return
	}
	_ = srv.svc.Audit(portalCtx(r), bridge.AuditEntry{Actor: "anonymous", Action: bridge.AuditSignInRefused,
		Subject: bridge.ClientActor(clientID), Detail: map[string]string{"kind": "portal", "by": string(kind), "reason": reason, "ip": srv.limiter.key(r)}})
}

func clearPortalCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: portalCookie, Value: "", Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode, MaxAge: -1})
}

// errProspectWaiting is every portal door's answer to a prospect: nothing is theirs to see
// until a clinician links them to a client record.
var errProspectWaiting = errorf(http.StatusForbidden, "prospect_waiting", "Your clinic will confirm your account. Your sessions will show here once it has.")

// portalClient returns the client signed in to the portal; a prospect still waiting is
// refused (errProspectWaiting). A sign-in ends after portal.idle without a person's request (a
// long poll, a GET with ?after=, does not count) and after portal.max_age in all.
func (srv *Server) portalClient(r *http.Request) (*portalSignIn, error) {
	in, err := srv.portalSignedIn(r)
	if err != nil {
		return nil, err
	}
	if in.clientID == 0 {
		return nil, errProspectWaiting
	}
	return in, nil
}

// portalSignedIn returns whoever is signed in to the portal: a client, or a prospect. A
// prospect a clinician linked meanwhile becomes the record's client here, on this request; a
// dismissed one is signed out.
func (srv *Server) portalSignedIn(r *http.Request) (*portalSignIn, error) {
	cookie, err := r.Cookie(portalCookie)
	if err != nil || cookie.Value == "" {
		return nil, errorf(http.StatusUnauthorized, "signed_out", "Please sign in.")
	}
	hash := hashToken(cookie.Value)
	ps, err := srv.db.PortalSession.Get(r.Context(), hash)
	if err != nil {
		return nil, fmt.Errorf("reading a portal session: %w", err)
	}
	now := srv.clock.Now()
	if ps == nil || !now.Before(ps.IdleExpiresAt) || !now.Before(ps.ExpiresAt) {
		return nil, errorf(http.StatusUnauthorized, "signed_out", "Your sign-in has expired. Please sign in again.")
	}
	in := &portalSignIn{clientID: ps.ClientID, prospectID: ps.ProspectID, hash: hash}
	if in.clientID == 0 {
		if err = srv.prospectLinked(r, in); err != nil {
			return nil, err
		}
	}
	if r.Method == http.MethodGet && r.URL.Query().Has("after") {
		return in, nil
	}
	if err = srv.db.PortalSession.Touch(r.Context(), hash, now, now.Add(srv.cfg.PortalIdle)); err != nil {
		return nil, fmt.Errorf("renewing a portal session: %w", err)
	}
	return in, nil
}

// portalAPI wraps a handler for a signed-in client; a prospect is refused.
func (srv *Server) portalAPI(f func(w http.ResponseWriter, r *http.Request, in *portalSignIn) (any, error)) http.HandlerFunc {
	return srv.portalDoor(srv.portalClient, f)
}

// portalAnyAPI wraps a handler that a prospect may use too (signing out).
func (srv *Server) portalAnyAPI(f func(w http.ResponseWriter, r *http.Request, in *portalSignIn) (any, error)) http.HandlerFunc {
	return srv.portalDoor(srv.portalSignedIn, f)
}

func (srv *Server) portalDoor(who func(*http.Request) (*portalSignIn, error), f func(w http.ResponseWriter, r *http.Request, in *portalSignIn) (any, error)) http.HandlerFunc {
	return srv.api(func(w http.ResponseWriter, r *http.Request) (any, error) {
		if err := srv.portalReady(); err != nil {
			return nil, err
		}
		in, err := who(r)
		if err != nil {
			return nil, err
		}
		return f(w, r, in)
	})
}

// PortalMe is the signed-in client as the portal shows them.
type PortalMe struct {
	ClientID    int64  `json:"client_id"`
	Name        string `json:"name"`
	Passkeys    int    `json:"passkeys"`
	HasPassword bool   `json:"has_password"`
}

func (srv *Server) portalMe(_ http.ResponseWriter, r *http.Request, in *portalSignIn) (any, error) {
	name, err := srv.clients.ClientName(r.Context(), in.clientID)
	if err != nil {
		return nil, fmt.Errorf("reading the client's name: %w", err)
	}
	n, err := srv.db.PortalCredential.Count(r.Context(), in.clientID)
	if err != nil {
		return nil, fmt.Errorf("counting the client's passkeys: %w", err)
	}
	hash, err := srv.db.PortalPassword.Get(r.Context(), in.clientID)
	if err != nil {
		return nil, fmt.Errorf("reading the client's password: %w", err)
	}
	return PortalMe{ClientID: in.clientID, Name: name, Passkeys: n, HasPassword: hash != ""}, nil
}

func (srv *Server) portalLogout(w http.ResponseWriter, r *http.Request, in *portalSignIn) (any, error) {
	if err := srv.db.PortalSession.Delete(r.Context(), in.hash); err != nil {
		return nil, fmt.Errorf("ending a portal session: %w", err)
	}
	clearPortalCookie(w)
	_ = srv.svc.Audit(portalCtx(r), bridge.AuditEntry{Actor: in.actor(), Action: bridge.AuditSignOut,
		Subject: in.actor(), Detail: map[string]string{"kind": "portal"}})
	return map[string]bool{"signed_out": true}, nil
}

// portalLogoutEverywhere ends every portal session of the client, on every device.
func (srv *Server) portalLogoutEverywhere(w http.ResponseWriter, r *http.Request, in *portalSignIn) (any, error) {
	n, err := srv.db.PortalSession.DeleteClient(r.Context(), in.clientID)
	if err != nil {
		return nil, fmt.Errorf("ending a client's portal sessions: %w", err)
	}
	clearPortalCookie(w)
	_ = srv.svc.Audit(portalCtx(r), bridge.AuditEntry{Actor: bridge.ClientActor(in.clientID), Action: bridge.AuditSignOut,
		Subject: bridge.ClientActor(in.clientID), Detail: map[string]string{"kind": "portal", "scope": "everywhere", "sessions": fmt.Sprint(n)}})
	return map[string]bool{"signed_out": true}, nil
}

// --- one-time codes ---

type codeRequest struct {
	Contact string `json:"contact"`
	Lang    string `json:"lang,omitempty"`
}

// portalCodeSentMessage is the one answer to a code request, whether the contact is known or not.
const portalCodeSentMessage = "If this address or number is in your clinic's records, a 6-digit code is on its way. It works for 10 minutes."

// portalRequestCode sends a sign-in code to a client's email or phone. Its answer, and the
// time it takes, are the same for a contact no record holds: a code row is stored for it too
// (for no client), and the sending happens after the answer.
func (srv *Server) portalRequestCode(_ http.ResponseWriter, r *http.Request) (any, error) {
	if err := srv.portalReady(); err != nil {
		return nil, err
	}
	var req codeRequest
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	contact, err := portalContact(req.Contact)
	if err != nil {
		return nil, err
	}
	if err = srv.allowCode(r, contact); err != nil {
		return nil, err
	}
	clientID, known, err := srv.clients.ClientByContact(r.Context(), contact.String())
	if err != nil {
		return nil, fmt.Errorf("looking a contact up in the client records: %w", err)
	}
	if !known {
		clientID = 0
	}
	// A prospect waiting with the contact signs in again with a sign-up code. The lookup is
	// made for every contact, so that it takes no more time for one than for another.
	p, err := srv.waitingProspect(r, contact)
	if err != nil {
		return nil, err
	}
	if !known && p != nil {
		err = srv.issueCode(r, contact, purposeSignUp, 0, true, req.Lang)
	} else {
		err = srv.issueCode(r, contact, purposeSignIn, clientID, known, req.Lang)
	}
	if err != nil {
		return nil, err
	}
	return map[string]any{"sent": true, "message": portalCodeSentMessage}, nil
}

// codeLookup is where the code of a purpose sent to a contact is kept.
func (srv *Server) codeLookup(purpose string, contact bridge.PortalContact) string {
	return srv.keyedHash("code lookup", purpose, contact.String())
}

// allowCode counts a request for a code to the contact against the limits (per client
// address, per contact), whatever the code is for: sign-in and sign-up share them.
func (srv *Server) allowCode(r *http.Request, contact bridge.PortalContact) error {
	key := srv.codeLookup(purposeSignIn, contact)
	ip := srv.limiter.key(r)
	if !srv.portal.codePerIP.allow(ip) || !srv.portal.codePerContact.allow(key) {
		return errTooManyAttempts
	}
	srv.portal.codePerIP.fail(ip)
	srv.portal.codePerContact.fail(key)
	return nil
}

// issueCode stores a new code of the purpose for the contact (replacing a live one) and, when
// send, sends it after the answer: the time the request takes does not tell whether it went.
func (srv *Server) issueCode(r *http.Request, contact bridge.PortalContact, purpose string, clientID int64, send bool, lang string) error {
	lookup := srv.codeLookup(purpose, contact)
	code := newCode()
	now := srv.clock.Now()
	err := srv.db.PortalCode.Put(r.Context(), &database.PortalCode{
		Lookup: lookup, ClientID: clientID, Purpose: purpose, CodeHash: srv.keyedHash("code", lookup, code),
		CreatedAt: now, ExpiresAt: now.Add(codeTTL),
	})
	if err != nil {
		return fmt.Errorf("storing a %s code: %w", purpose, err)
	}
	if send && srv.codes != nil {
		if lang != "fr" {
			lang = "en"
		}
		log := zerolog.Ctx(r.Context()).With().Int64("client_id", clientID).Str("purpose", purpose).Logger()
		go func(ctx context.Context) {
			if err := srv.codes.SendPortalCode(ctx, contact, code, lang); err != nil {
				log.Err(err).Msg("Failed to send a portal code")
			}
		}(context.WithoutCancel(r.Context()))
	}
	return nil
}

// newCode draws a 6-digit code, uniformly.
func newCode() string {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	return fmt.Sprintf("%0*d", codeDigits, n.Int64())
}

type codeVerify struct {
	Contact string `json:"contact"`
	Code    string `json:"code"`
}

var (
	errCodeWrong   = errorf(http.StatusUnauthorized, "code_wrong", "This code is not the right one. Check it and try again.")
	errCodeExpired = errorf(http.StatusUnauthorized, "code_expired", "This code has expired or was replaced. Ask for a new one.")
	errCodeSpent   = errorf(http.StatusUnauthorized, "code_spent", "Too many wrong codes. Ask for a new one.")
)

// portalVerifyCode signs a client in with the code sent to their contact. A code only ever
// signs in the client it was sent for (it is found by the contact it went to), works once,
// and dies after codeAttempts wrong guesses.
func (srv *Server) portalVerifyCode(w http.ResponseWriter, r *http.Request) (any, error) {
	if err := srv.portalReady(); err != nil {
		return nil, err
	}
	var req codeVerify
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	contact, err := portalContact(req.Contact)
	if err != nil {
		return nil, err
	}
	_, known, err := srv.clients.ClientByContact(r.Context(), contact.String())
	if err != nil {
		return nil, fmt.Errorf("looking a contact up in the client records: %w", err)
	}
	p, err := srv.waitingProspect(r, contact)
	if err != nil {
		return nil, err
	}
	if !known && p != nil {
		if _, err = srv.spendCode(r, contact, purposeSignUp, req.Code); err != nil {
			return nil, err
		}
		if err = srv.startPortalSession(w, r, &portalSignIn{prospectID: p.ID}, bridge.PortalByCode); err != nil {
			return nil, err
		}
		return map[string]bool{"signed_in": true}, nil
	}
	taken, err := srv.spendCode(r, contact, purposeSignIn, req.Code)
	if err != nil {
		return nil, err
	}
	if err = srv.signInPortal(w, r, taken.ClientID, bridge.PortalByCode); err != nil {
		return nil, err
	}
	return map[string]bool{"signed_in": true}, nil
}

// spendCode checks a code of the purpose sent to the contact and, when it is the right one,
// spends it. Guesses count against the limits (per client address, per contact: sign-in and
// sign-up share them) and against the code itself. A sign-in code for no client (the contact
// is unknown) never passes, even guessed right: it counts as a wrong guess, like any other. A
// sign-up code is for no client by nature.
func (srv *Server) spendCode(r *http.Request, contact bridge.PortalContact, purpose, code string) (*database.PortalCode, error) {
	lookup := srv.codeLookup(purpose, contact)
	key := srv.codeLookup(purposeSignIn, contact)
	ip := srv.limiter.key(r)
	if !srv.portal.failPerIP.allow(ip) || !srv.portal.failPerContact.allow(key) {
		return nil, errTooManyAttempts
	}
	code = strings.Join(strings.Fields(code), "")
	c, err := srv.db.PortalCode.Get(r.Context(), lookup)
	if err != nil {
		return nil, fmt.Errorf("reading a %s code: %w", purpose, err)
	}
	if c == nil || c.Purpose != purpose || !srv.clock.Now().Before(c.ExpiresAt) {
		srv.portal.failPerIP.fail(ip)
		return nil, errCodeExpired
	}
	if c.Attempts >= codeAttempts {
		return nil, errCodeSpent
	}
	hash := srv.keyedHash("code", lookup, code)
	if hmac.Equal([]byte(hash), []byte(c.CodeHash)) && (c.ClientID != 0 || purpose == purposeSignUp) {
		taken, err := srv.db.PortalCode.Take(r.Context(), lookup, hash, codeAttempts)
		if err != nil {
			return nil, fmt.Errorf("using a %s code: %w", purpose, err)
		}
		if taken == nil {
			return nil, errCodeExpired // used by a request that raced this one
		}
		return taken, nil
	}
	srv.portal.failPerIP.fail(ip)
	srv.portal.failPerContact.fail(key)
	n, err := srv.db.PortalCode.Fail(r.Context(), lookup)
	if err != nil {
		return nil, fmt.Errorf("counting a wrong code: %w", err)
	}
	srv.refuseKnown(r, c.ClientID, bridge.PortalByCode, "wrong_code")
	if n >= codeAttempts {
		if err = srv.db.PortalCode.Delete(r.Context(), lookup); err != nil {
			return nil, fmt.Errorf("spending a code: %w", err)
		}
		return nil, errCodeSpent
	}
	return nil, errCodeWrong
}

// --- passwords ---

type passwordSignIn struct {
	Contact  string `json:"contact"`
	Password string `json:"password"`
}

var errPasswordWrong = errorf(http.StatusUnauthorized, "password_wrong", "The address or the password is not right.")

// portalPasswordSignIn signs a client in with their contact and password. An unknown contact,
// a client without a password and a wrong password get the same answer after the same work
// (one argon2id check).
func (srv *Server) portalPasswordSignIn(w http.ResponseWriter, r *http.Request) (any, error) {
	if err := srv.portalReady(); err != nil {
		return nil, err
	}
	var req passwordSignIn
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	contact, err := portalContact(req.Contact)
	if err != nil {
		return nil, err
	}
	key := srv.keyedHash("password lookup", contact.String())
	ip := srv.limiter.key(r)
	if !srv.portal.failPerIP.allow(ip) || !srv.portal.failPerContact.allow(key) {
		return nil, errTooManyAttempts
	}
	clientID, known, err := srv.clients.ClientByContact(r.Context(), contact.String())
	if err != nil {
		return nil, fmt.Errorf("looking a contact up in the client records: %w", err)
	}
	hash := ""
	if known {
		if hash, err = srv.db.PortalPassword.Get(r.Context(), clientID); err != nil {
			return nil, fmt.Errorf("reading a client's password: %w", err)
		}
	}
	if !bridge.VerifyPassword(req.Password, hash) {
		srv.portal.failPerIP.fail(ip)
		srv.portal.failPerContact.fail(key)
		if known {
			srv.refuseKnown(r, clientID, bridge.PortalByPassword, "wrong_password")
		}
		return nil, errPasswordWrong
	}
	if err = srv.signInPortal(w, r, clientID, bridge.PortalByPassword); err != nil {
		return nil, err
	}
	return map[string]bool{"signed_in": true}, nil
}

type passwordSet struct {
	Password string `json:"password"`
}

// portalSetPassword sets or replaces the signed-in client's password.
func (srv *Server) portalSetPassword(_ http.ResponseWriter, r *http.Request, in *portalSignIn) (any, error) {
	var req passwordSet
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	if err := bridge.CheckPassword(req.Password); err != nil {
		return nil, errorf(http.StatusBadRequest, "weak_password", "%s", capitalize(err.Error())+".")
	}
	hash, err := bridge.HashPassword(req.Password)
	if err != nil {
		return nil, err
	}
	if err = srv.db.PortalPassword.Set(r.Context(), in.clientID, hash, srv.clock.Now()); err != nil {
		return nil, fmt.Errorf("storing a client's password: %w", err)
	}
	_ = srv.svc.Audit(portalCtx(r), bridge.AuditEntry{Actor: bridge.ClientActor(in.clientID), Action: bridge.AuditPasswordSet,
		Subject: bridge.ClientActor(in.clientID)})
	return map[string]bool{"password_set": true}, nil
}

// --- enrolment links ---

// PortalEnrolLink is a one-time link that opens "Create your access" for a client: the clinic
// sends it by email or SMS when it enables the portal for the record. The token is in the
// address's fragment, which browsers never send to servers (nor mail scanners fetch); the
// page posts it.
func (srv *Server) PortalEnrolLink(ctx context.Context, clientID int64) (string, error) {
	return srv.enrolLink(ctx, "", clientID)
}

// enrolLink is PortalEnrolLink made by actor (a clinician; "" for the bridge itself), as the
// audit trail records it.
func (srv *Server) enrolLink(ctx context.Context, actor string, clientID int64) (string, error) {
	if clientID <= 0 {
		return "", fmt.Errorf("no client record %d", clientID)
	}
	token := newToken()
	now := srv.clock.Now()
	err := srv.db.PortalCode.Put(ctx, &database.PortalCode{
		Lookup: srv.keyedHash("enrol", token), ClientID: clientID, Purpose: purposeEnrol,
		CreatedAt: now, ExpiresAt: now.Add(enrolTTL),
	})
	if err != nil {
		return "", fmt.Errorf("storing an enrolment link: %w", err)
	}
	_ = srv.svc.Audit(ctx, bridge.AuditEntry{Actor: actor, Action: bridge.AuditLinkIssued, Subject: bridge.ClientActor(clientID), Detail: map[string]string{"kind": "portal_enrol"}})
	return srv.cfg.PublicURL + "/portal/enrol#" + token, nil
}

type enrolRequest struct {
	Token string `json:"token"`
}

// portalEnrol spends an enrolment link and signs the client in, to create their access.
func (srv *Server) portalEnrol(w http.ResponseWriter, r *http.Request) (any, error) {
	if err := srv.portalReady(); err != nil {
		return nil, err
	}
	var req enrolRequest
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	ip := srv.limiter.key(r)
	if !srv.portal.failPerIP.allow(ip) {
		return nil, errTooManyAttempts
	}
	c, err := srv.db.PortalCode.Take(r.Context(), srv.keyedHash("enrol", req.Token), "", 1)
	if err != nil {
		return nil, fmt.Errorf("using an enrolment link: %w", err)
	}
	if c == nil || c.Purpose != purposeEnrol || !srv.clock.Now().Before(c.ExpiresAt) {
		srv.portal.failPerIP.fail(ip)
		return nil, errorf(http.StatusGone, "link_used", "This link was already used or has expired. Sign in with a code, or ask your clinic for a new link.")
	}
	if err = srv.signInPortal(w, r, c.ClientID, bridge.PortalByEnrolment); err != nil {
		return nil, err
	}
	return map[string]bool{"signed_in": true}, nil
}
