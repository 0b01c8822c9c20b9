package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/rs/zerolog"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
)

// The client portal from the clinic's side: a clinician opens a record's portal, which sends the
// client a one-time enrolment link ("Create your access"); sends it again; or closes the portal.
// Who may: a signed-in clinician, for the records they may see (every record for an admin);
// any other record answers 404 as an unknown one does. The link goes to the client only, by
// the record's first email address (else its first mobile number): it is never in an answer,
// a log line or the audit trail, since whoever holds it can create the client's access.

// PortalEnrolmentSender delivers an enrolment link by email or SMS. The message names the clinic
// only: no client name, no session, nothing about care.
type PortalEnrolmentSender interface {
	SendPortalEnrolment(ctx context.Context, to bridge.PortalContact, link, lang string) error
}

// UseEnrolment connects the enrolment sender: until then, opening a portal answers that the
// enrolment cannot be sent.
func (srv *Server) UseEnrolment(sender PortalEnrolmentSender) { srv.enrolment = sender }

// Enrolment limits: a record gets at most enrolPerHour enrolment messages an hour, whoever asks,
// so that a client's inbox or phone cannot be flooded from the panel.
const (
	enrolPerHour = 3
	enrolWindow  = time.Hour
	sendTimeout  = 30 * time.Second
)

var (
	errNoContact = errorf(http.StatusConflict, "no_contact",
		"This client has no email address or mobile number to send the enrolment to: add one to the record first.")
	errPortalOff = errorf(http.StatusConflict, "portal_off",
		"The portal is not open for this client: enable it first.")
	errEnrolLimit = errorf(http.StatusTooManyRequests, "rate_limited",
		"The enrolment was already sent %d times in the last hour. Please try again later.", enrolPerHour)
	errEnrolNotSent = errorf(http.StatusBadGateway, "not_sent",
		"The enrolment message could not be sent. Check the client's email address or mobile number, and the clinic's email and SMS settings, then send it again.")
)

// PortalAnswer is a record after a portal action, and how the enrolment went (email or sms).
type PortalAnswer struct {
	Client ClientView `json:"client"`
	// SentBy is the channel the enrolment went by; empty when none was sent.
	SentBy string `json:"sent_by,omitempty"`
	// SignedOut is how many portal sign-ins closing the portal ended.
	SignedOut int64 `json:"signed_out,omitempty"`
}

// enrolContact is where the enrolment goes: the first email, else the first phone.
func enrolContact(c *bridge.Client) (bridge.PortalContact, string, error) {
	switch {
	case c.Email() != "":
		return bridge.PortalContact{Email: c.Email()}, "email", nil
	case c.Phone() != "":
		return bridge.PortalContact{Phone: c.Phone()}, "sms", nil
	}
	return bridge.PortalContact{}, "", errNoContact
}

// enrolKey is the rate limiter's key of a record.
func enrolKey(id int64) string { return "client:" + strconv.FormatInt(id, 10) }

// checkEnrolment says why an enrolment cannot go to the record now, or nil.
func (srv *Server) checkEnrolment(c *bridge.Client) error {
	if srv.enrolment == nil {
		return errEnrolNotSent
	}
	if _, _, err := enrolContact(c); err != nil {
		return err
	}
	if !srv.enrolLimit.allow(enrolKey(c.ID)) {
		return errEnrolLimit
	}
	return nil
}

// sendEnrolment makes a new enrolment link for the record (the older ones stop working) and
// sends it. It returns the channel it went by.
func (srv *Server) sendEnrolment(ctx context.Context, actor string, c *bridge.Client) (string, error) {
	srv.enrolLimit.fail(enrolKey(c.ID))
	to, channel, err := enrolContact(c)
	if err != nil {
		return "", err
	}
	if _, err = srv.db.PortalCode.Void(ctx, c.ID, purposeEnrol); err != nil {
		return "", fmt.Errorf("voiding client %d's older enrolment links: %w", c.ID, err)
	}
	link, err := srv.enrolLink(ctx, actor, c.ID)
	if err != nil {
		return "", err
	}
	sendCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), sendTimeout)
	defer cancel()
	if err = srv.enrolment.SendPortalEnrolment(sendCtx, to, link, c.Locale); err != nil {
		// The link never reached anyone: it is voided, and the clinician may send again.
		_, _ = srv.db.PortalCode.Void(ctx, c.ID, purposeEnrol)
		zerolog.Ctx(ctx).Err(err).Int64("client_id", c.ID).Str("channel", channel).Msg("Failed to send a portal enrolment")
		return "", errEnrolNotSent
	}
	_ = srv.svc.Audit(ctx, bridge.AuditEntry{Actor: actor, Action: bridge.AuditPortalEnrolmentSent, Subject: bridge.ClientSubject(c.ID),
		Detail: map[string]string{"channel": channel}})
	return channel, nil
}

// panelEnablePortal opens the record's portal and sends the enrolment. Nothing changes when it
// cannot be sent (no contact, too many sends): the clinician is told why.
func (srv *Server) panelEnablePortal(r *http.Request, clinician string) (any, error) {
	return srv.enrol(r, clinician, true)
}

// panelResendEnrolment sends a new enrolment link to a record whose portal is open.
func (srv *Server) panelResendEnrolment(r *http.Request, clinician string) (any, error) {
	return srv.enrol(r, clinician, false)
}

// enrol sends a record's enrolment, opening its portal first (open) or only to a portal that
// is open already.
func (srv *Server) enrol(r *http.Request, clinician string, open bool) (any, error) {
	id, err := clientID(r)
	if err != nil {
		return nil, err
	}
	ctx := r.Context()
	c, err := srv.svc.Client(ctx, clinician, id)
	if err != nil {
		return nil, err
	}
	if !open && !c.PortalEnabled {
		return nil, errPortalOff
	}
	if err = srv.checkEnrolment(c); err != nil {
		return nil, err
	}
	if open {
		if c, err = srv.svc.SetClientPortal(ctx, clinician, id, true, nil); err != nil {
			return nil, err
		}
	}
	channel, err := srv.sendEnrolment(ctx, clinician, c)
	if err != nil {
		return nil, err
	}
	return PortalAnswer{Client: clientView(c), SentBy: channel}, nil
}

// panelDisablePortal closes the record's portal: every sign-in of the client ends, on every
// device, unused enrolment links stop working, and the passkeys and password are removed, so
// that only a new enrolment opens it again. Session links keep working.
func (srv *Server) panelDisablePortal(r *http.Request, clinician string) (any, error) {
	id, err := clientID(r)
	if err != nil {
		return nil, err
	}
	ctx := r.Context()
	if _, err = srv.svc.Client(ctx, clinician, id); err != nil {
		return nil, err
	}
	n, err := srv.closePortal(ctx, id)
	if err != nil {
		return nil, err
	}
	c, err := srv.svc.SetClientPortal(ctx, clinician, id, false, map[string]string{"signed_out": strconv.FormatInt(n, 10)})
	if err != nil {
		return nil, err
	}
	return PortalAnswer{Client: clientView(c), SignedOut: n}, nil
}

// closePortal ends a client's portal sign-ins and removes their ways in; it returns how many
// sign-ins ended.
func (srv *Server) closePortal(ctx context.Context, id int64) (int64, error) {
	n, err := srv.db.PortalSession.DeleteClient(ctx, id)
	if err != nil {
		return 0, fmt.Errorf("ending client %d's portal sessions: %w", id, err)
	}
	if _, err = srv.db.PortalCode.Void(ctx, id, purposeEnrol); err != nil {
		return 0, fmt.Errorf("voiding client %d's enrolment links: %w", id, err)
	}
	creds, err := srv.db.PortalCredential.ByClient(ctx, id)
	if err != nil {
		return 0, fmt.Errorf("reading client %d's passkeys: %w", id, err)
	}
	for _, cred := range creds {
		if _, err = srv.db.PortalCredential.Delete(ctx, id, cred.CredentialID); err != nil {
			return 0, fmt.Errorf("removing a passkey of client %d: %w", id, err)
		}
	}
	if err = srv.db.PortalPassword.Delete(ctx, id); err != nil {
		return 0, fmt.Errorf("removing client %d's password: %w", id, err)
	}
	return n, nil
}

// Booked opens the portal of each newly booked client whose record has a contact and no portal
// yet, and sends them the enrolment, when portal.enrol_on_first_booking is on. It runs after
// the booking, in the background: a message that cannot go does not undo the booking.
func (srv *Server) Booked(ctx context.Context, s *bridge.Session, ps []*bridge.Participant) {
	if !srv.cfg.EnrolOnFirstBooking || srv.enrolment == nil {
		return
	}
	log := zerolog.Ctx(ctx).With().Str("session_id", s.ID).Logger()
	ctx = context.WithoutCancel(ctx)
	var ids []int64
	for _, p := range ps {
		if p.ClientID != 0 {
			ids = append(ids, p.ClientID)
		}
	}
	if len(ids) == 0 {
		return
	}
	go func() {
		for _, id := range ids {
			if err := srv.enrolOnBooking(ctx, s.Clinician, id); err != nil {
				log.Err(err).Int64("client_id", id).Msg("Failed to open the portal on a first booking")
			}
		}
	}()
}

func (srv *Server) enrolOnBooking(ctx context.Context, clinician string, id int64) error {
	c, err := srv.svc.Client(ctx, clinician, id)
	if err != nil {
		return err
	}
	if c.PortalEnabled {
		return nil
	}
	if err = srv.checkEnrolment(c); errors.Is(err, errNoContact) {
		return nil
	} else if err != nil {
		return err
	}
	if c, err = srv.svc.SetClientPortal(ctx, clinician, id, true, map[string]string{"via": "first_booking"}); err != nil {
		return err
	}
	_, err = srv.sendEnrolment(ctx, clinician, c)
	return err
}
