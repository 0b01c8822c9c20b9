package web

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
)

// The portal's public sign-up (/portal/signup, when portal.signup is on). Who may use it:
// anyone, within the code limits of the sign-in (per client address and per contact, shared
// with it). Someone new proves they hold an email address or a phone number with a code and
// becomes a prospect, signed in to a portal that shows them only that the clinic will confirm
// their account; every other portal door refuses them (errProspectWaiting) until a clinician
// links them to a client record. The request for a code answers the same, after the same work,
// whether the contact is a client's, a prospect's or no one's; a client's contact goes on into
// their own sign-in (the code signs them in to their record, no second record is made).

var errSignUpClosed = errorf(http.StatusNotFound, "signup_closed", "This clinic does not take sign-ups online. Please contact the clinic.")

// signUpOpen refuses sign-up requests when the clinic has not opened it.
func (srv *Server) signUpOpen() error {
	if !srv.cfg.PortalSignUp {
		return errSignUpClosed
	}
	return srv.portalReady()
}

// SignUpForm is the sign-up page's form.
type SignUpForm struct {
	Name     string `json:"name"`
	Contact  string `json:"contact"`
	Lang     string `json:"lang"`
	TimeZone string `json:"time_zone"`
	// Code is the one-time code, on the second step.
	Code string `json:"code,omitempty"`
}

// read checks the form's fields; the contact is checked as the sign-in checks it.
func (f *SignUpForm) read() (bridge.SignUpRequest, error) {
	contact, err := portalContact(f.Contact)
	if err != nil {
		return bridge.SignUpRequest{}, err
	}
	if f.Lang != "fr" {
		f.Lang = "en"
	}
	req, err := bridge.CheckSignUp(bridge.SignUpRequest{Name: f.Name, Contact: contact, Locale: f.Lang, TimeZone: f.TimeZone})
	if err != nil {
		field := "name"
		switch msg := err.Error(); {
		case strings.Contains(msg, "time zone"):
			field = "time_zone"
		case strings.Contains(msg, "language"):
			field = "lang"
		}
		return req, fieldError(field, capitalize(err.Error())+".")
	}
	return req, nil
}

// portalSignUpOpen tells the page whether the clinic takes sign-ups (404 if not).
func (srv *Server) portalSignUpOpen(_ http.ResponseWriter, _ *http.Request) (any, error) {
	if err := srv.signUpOpen(); err != nil {
		return nil, err
	}
	return map[string]bool{"open": true}, nil
}

// portalSignUpCode sends the code that proves the contact: a sign-in code when a client's
// record holds it, a sign-up code otherwise. One answer for all, as the sign-in's.
func (srv *Server) portalSignUpCode(_ http.ResponseWriter, r *http.Request) (any, error) {
	if err := srv.signUpOpen(); err != nil {
		return nil, err
	}
	var f SignUpForm
	if err := decode(r, &f); err != nil {
		return nil, err
	}
	req, err := f.read()
	if err != nil {
		return nil, err
	}
	if err = srv.allowCode(r, req.Contact); err != nil {
		return nil, err
	}
	clientID, known, err := srv.clients.ClientByContact(r.Context(), req.Contact.String())
	if err != nil {
		return nil, fmt.Errorf("looking a contact up in the client records: %w", err)
	}
	if known {
		err = srv.issueCode(r, req.Contact, purposeSignIn, clientID, true, f.Lang)
	} else {
		err = srv.issueCode(r, req.Contact, purposeSignUp, 0, true, f.Lang)
	}
	if err != nil {
		return nil, err
	}
	return map[string]any{"sent": true, "message": portalSignUpSentMessage}, nil
}

// portalSignUpSentMessage is the one answer to a sign-up's code request.
const portalSignUpSentMessage = "A 6-digit code is on its way to this address or number. It works for 10 minutes."

// portalSignUpVerify checks the code. A client's contact signs in to their record; anyone
// else becomes a prospect (the one already waiting with that contact, if any) and is signed in
// as one.
func (srv *Server) portalSignUpVerify(w http.ResponseWriter, r *http.Request) (any, error) {
	if err := srv.signUpOpen(); err != nil {
		return nil, err
	}
	var f SignUpForm
	if err := decode(r, &f); err != nil {
		return nil, err
	}
	req, err := f.read()
	if err != nil {
		return nil, err
	}
	_, known, err := srv.clients.ClientByContact(r.Context(), req.Contact.String())
	if err != nil {
		return nil, fmt.Errorf("looking a contact up in the client records: %w", err)
	}
	if known {
		taken, err := srv.spendCode(r, req.Contact, purposeSignIn, f.Code)
		if err != nil {
			return nil, err
		}
		if err = srv.signInPortal(w, r, taken.ClientID, bridge.PortalByCode); err != nil {
			return nil, err
		}
		return map[string]bool{"signed_in": true, "prospect": false}, nil
	}
	if _, err = srv.spendCode(r, req.Contact, purposeSignUp, f.Code); err != nil {
		return nil, err
	}
	p, err := srv.svc.SignUp(portalCtx(r), req)
	if err != nil {
		return nil, fmt.Errorf("recording a sign-up: %w", err)
	}
	if err = srv.startPortalSession(w, r, &portalSignIn{prospectID: p.ID}, bridge.PortalByCode); err != nil {
		return nil, err
	}
	return map[string]bool{"signed_in": true, "prospect": true}, nil
}

// waitingProspect is the prospect waiting with the contact, or nil (also when the bridge keeps
// no prospects).
func (srv *Server) waitingProspect(r *http.Request, contact bridge.PortalContact) (*bridge.Prospect, error) {
	p, err := srv.svc.WaitingProspect(r.Context(), contact)
	if err != nil {
		return nil, fmt.Errorf("looking for a waiting prospect: %w", err)
	}
	return p, nil
}

// prospectLinked looks at a prospect's portal sign-in: linked to a record since, it becomes
// that client's sign-in; dismissed, it ends. A prospect still waiting passes as one.
func (srv *Server) prospectLinked(r *http.Request, in *portalSignIn) error {
	signedOut := errorf(http.StatusUnauthorized, "signed_out", "Please sign in.")
	if in.prospectID == 0 {
		return signedOut
	}
	p, err := srv.svc.ProspectForPortal(r.Context(), in.prospectID)
	if err != nil && !errors.Is(err, bridge.ErrProspectNotFound) {
		return fmt.Errorf("reading a signed-in prospect: %w", err)
	}
	switch {
	case err == nil && p.Status == bridge.ProspectWaiting:
		return nil
	case err == nil && p.Status == bridge.ProspectLinked && p.ClientID != 0:
		if err = srv.db.PortalSession.BecomeClient(r.Context(), in.hash, p.ClientID); err != nil {
			return fmt.Errorf("turning a prospect's sign-in into their record's: %w", err)
		}
		in.clientID = p.ClientID
		_ = srv.svc.Audit(portalCtx(r), bridge.AuditEntry{Actor: bridge.ClientActor(p.ClientID), Action: bridge.AuditSignIn,
			Subject: bridge.ClientActor(p.ClientID), Detail: map[string]string{"kind": "portal", "by": "prospect_linked", "prospect": fmt.Sprint(p.ID)}})
		return nil
	default:
		if err = srv.db.PortalSession.Delete(r.Context(), in.hash); err != nil {
			return fmt.Errorf("ending a dismissed prospect's sign-in: %w", err)
		}
		return signedOut
	}
}
