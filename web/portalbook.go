package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
)

// Self-scheduling behind the portal's sign-in: the client signed in with the request's cookie
// books from their own record. Who may use each door: only a signed-in client (401 otherwise),
// and only with the professionals assigned to their record (404 for any other, as for an
// unknown one); the booking is always for the cookie's client, whatever the request says.

// portalRecords reads a client's record; the database's client records answer it.
type portalRecords interface {
	Get(ctx context.Context, id int64) (*bridge.Client, error)
}

// signedInBookers are the clients signed in to the portal, booked from their records.
type signedInBookers struct {
	srv     *Server
	records portalRecords
}

var _ PortalBookers = signedInBookers{}

// PortalBooker is the client of the request's portal sign-in, from their record: a booking
// names the record (ParticipantRequest.ClientID), so the participant row points at it.
func (b signedInBookers) PortalBooker(r *http.Request) (*PortalBooker, error) {
	if err := b.srv.portalReady(); err != nil {
		return nil, err
	}
	in, err := b.srv.portalClient(r)
	if err != nil {
		return nil, err
	}
	c, err := b.records.Get(r.Context(), in.clientID)
	if errors.Is(err, bridge.ErrClientNotFound) {
		// A record deleted under a live sign-in signs nobody in.
		return nil, ErrPortalSignedOut
	} else if err != nil {
		return nil, fmt.Errorf("reading the signed-in client's record: %w", err)
	}
	booking := bookingOf(c)
	return &PortalBooker{ClientID: c.ID, Booking: booking, Professionals: c.Professionals}, nil
}

// bookingOf is how a client is booked from their record: a booking names the record
// (ParticipantRequest.ClientID), so the participant row points at it.
func bookingOf(c *bridge.Client) bridge.ParticipantRequest {
	booking := bridge.ParticipantRequest{
		ClientID: c.ID, Name: c.DisplayName, Email: c.Email(), Phone: c.Phone(),
		MatrixID: c.MatrixID, Locale: c.Locale, TimeZone: c.TimeZone,
	}
	// The confirmation goes the way the client wants their reminders; without a preference
	// (or "none": a booking they made still deserves its confirmation) BookSlot picks email,
	// else a text message.
	switch {
	case c.Reminders == bridge.RemindSMS && booking.Phone != "":
		booking.Invite = bridge.InviteSMS
	case c.Reminders == bridge.RemindEmail && booking.Email != "":
		booking.Invite = bridge.InviteEmail
	}
	return booking
}

// portalBooking is the self-scheduling API for the clients signed in to the portal.
func (srv *Server) portalBooking() http.Handler {
	return srv.PortalBooking(signedInBookers{srv: srv, records: srv.db.Client})
}

// BookableProfessional is one of the client's professionals who takes bookings online, with
// the session types a client may book.
type BookableProfessional struct {
	UserID string            `json:"user_id"`
	Name   string            `json:"name"`
	Types  []SessionTypeForm `json:"types"`
}

// portalProfessionals lists the client's assigned professionals who take bookings online
// (self-scheduling on, at least one session type); the others are left out, not named.
func (srv *Server) portalProfessionals(r *http.Request, who *PortalBooker) (any, error) {
	out := []BookableProfessional{}
	for _, pro := range who.Professionals {
		av, err := srv.svc.Availability(r.Context(), pro, defaultAvailabilityZone)
		if err != nil {
			return nil, fmt.Errorf("loading a professional's availability: %w", err)
		}
		if !av.SelfScheduling || len(av.Types) == 0 {
			continue
		}
		p := BookableProfessional{UserID: pro, Name: srv.clinicianName(r.Context(), pro), Types: []SessionTypeForm{}}
		for _, t := range av.Types {
			p.Types = append(p.Types, SessionTypeForm{ID: t.ID, Name: t.Name, DurationMinutes: int(t.Duration / time.Minute), Kind: string(t.Kind)})
		}
		out = append(out, p)
	}
	return map[string]any{"professionals": out}, nil
}
