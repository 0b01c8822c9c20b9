package web

import (
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
)

// Self-scheduling from the client portal: GET /api/portal/slots and POST /api/portal/book.
// Both are for a client signed in to the portal, and only with the professionals assigned to
// them; anyone else's professional, an unknown one and one who takes no bookings online get
// the same 404, so the portal tells nobody who is a professional. The client is booked from
// their record (name, contacts, language, zone), never from what the request says.

// PortalBookers says who is signed in to the portal, as booking needs them. Portal sign-in
// provides it from the client records (web/portalbook.go).
type PortalBookers interface {
	// PortalBooker is the client signed in with the request; an error refuses it:
	// ErrPortalSignedOut (or an *apiError of 401) when nobody is.
	PortalBooker(r *http.Request) (*PortalBooker, error)
}

// ErrPortalSignedOut: nobody is signed in to the portal with the request.
var ErrPortalSignedOut = errors.New("please sign in")

// PortalBooker is a signed-in client, as booking needs them.
type PortalBooker struct {
	// ClientID is their record (kept with the booking).
	ClientID int64
	// Booking is how to book them: name, contacts, language, zone, invitation.
	Booking bridge.ParticipantRequest
	// Professionals are the clinicians they may book with (their assigned professionals).
	Professionals []string
}

// PortalBooking serves the portal's self-scheduling API for the clients that bookers signs in.
func (srv *Server) PortalBooking(bookers PortalBookers) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/portal/slots", srv.portalAPIFor(bookers, srv.portalSlots))
	mux.HandleFunc("POST /api/portal/book", srv.portalAPIFor(bookers, srv.portalBook))
	mux.HandleFunc("GET /api/portal/professionals", srv.portalAPIFor(bookers, srv.portalProfessionals))
	return mux
}

func (srv *Server) portalAPIFor(bookers PortalBookers, f func(r *http.Request, who *PortalBooker) (any, error)) http.HandlerFunc {
	return srv.api(func(w http.ResponseWriter, r *http.Request) (any, error) {
		who, err := bookers.PortalBooker(r)
		if errors.Is(err, ErrPortalSignedOut) {
			return nil, errorf(http.StatusUnauthorized, "signed_out", "Please sign in.")
		} else if err != nil {
			return nil, err
		}
		r = r.WithContext(bridge.WithAuditVia(r.Context(), "portal"))
		result, err := f(r, who)
		return result, slotError(err)
	})
}

// slotError turns the refusals of self-scheduling into what the client reads.
func slotError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, bridge.ErrSelfSchedulingOff):
		return errorf(http.StatusNotFound, "not_bookable", "%s.", capitalize(bridge.ErrSelfSchedulingOff.Error()))
	case errors.Is(err, bridge.ErrSessionTypeUnknown):
		return errorf(http.StatusNotFound, "unknown_type", "%s.", capitalize(bridge.ErrSessionTypeUnknown.Error()))
	case errors.Is(err, bridge.ErrSlotTaken):
		return errorf(http.StatusConflict, "slot_taken", "%s.", capitalize(bridge.ErrSlotTaken.Error()))
	case errors.Is(err, bridge.ErrSlotTooSoon):
		return errorf(http.StatusConflict, "too_soon", "%s.", capitalize(bridge.ErrSlotTooSoon.Error()))
	case errors.Is(err, bridge.ErrSlotBeyondHorizon):
		return errorf(http.StatusConflict, "too_far", "%s.", capitalize(bridge.ErrSlotBeyondHorizon.Error()))
	case errors.Is(err, bridge.ErrSlotUnavailable):
		return errorf(http.StatusConflict, "unavailable", "%s.", capitalize(bridge.ErrSlotUnavailable.Error()))
	}
	return err
}

// mayBook refuses a professional the client is not assigned to, as an unknown one.
func (who *PortalBooker) mayBook(clinician string) error {
	if clinician == "" || !slices.Contains(who.Professionals, clinician) {
		return bridge.ErrSelfSchedulingOff
	}
	return nil
}

// zone is where the client reads times: ?zone= (the browser's), else their record's, else UTC.
func (who *PortalBooker) zone(r *http.Request) (*time.Location, string) {
	for _, z := range []string{r.URL.Query().Get("zone"), who.Booking.TimeZone} {
		if loc, err := time.LoadLocation(z); err == nil && z != "" && z != "Local" {
			return loc, z
		}
	}
	return time.UTC, "UTC"
}

// SlotView is a free slot as the portal shows it, in the client's zone and language.
type SlotView struct {
	// Start and End are Unix milliseconds: what POST /api/portal/book takes back.
	Start int64 `json:"start"`
	End   int64 `json:"end"`
	// Day is the slot's date in the client's zone (YYYY-MM-DD), to group slots by day.
	Day   string           `json:"day"`
	Local bridge.LocalTime `json:"local"`
}

// SlotsView answers GET /api/portal/slots.
type SlotsView struct {
	Clinician string          `json:"clinician"`
	Type      SessionTypeForm `json:"type"`
	TimeZone  string          `json:"time_zone"`
	Slots     []SlotView      `json:"slots"`
}

// parseInstant reads ?from= and ?to=: Unix milliseconds, RFC 3339, or a date (midnight in the
// client's zone).
func parseInstant(s string, loc *time.Location) (time.Time, bool) {
	if ms, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.UnixMilli(ms), true
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, true
	}
	if t, err := time.ParseInLocation(time.DateOnly, s, loc); err == nil {
		return t, true
	}
	return time.Time{}, false
}

// portalSlots lists a professional's free slots of one type: ?clinician=&type=&from=&to=
// (from defaults to now, to to 14 days after from).
func (srv *Server) portalSlots(r *http.Request, who *PortalBooker) (any, error) {
	q := r.URL.Query()
	clinician := strings.TrimSpace(q.Get("clinician"))
	if err := who.mayBook(clinician); err != nil {
		return nil, err
	}
	typeID, err := strconv.ParseInt(q.Get("type"), 10, 64)
	if err != nil {
		return nil, bridge.ErrSessionTypeUnknown
	}
	loc, zone := who.zone(r)
	from, to := srv.clock.Now(), time.Time{}
	if v := q.Get("from"); v != "" {
		var ok bool
		if from, ok = parseInstant(v, loc); !ok {
			return nil, errorf(http.StatusBadRequest, "bad_request", "from must be a date (2026-12-01), an RFC 3339 time or Unix milliseconds.")
		}
	}
	to = from.Add(14 * 24 * time.Hour)
	if v := q.Get("to"); v != "" {
		var ok bool
		if to, ok = parseInstant(v, loc); !ok {
			return nil, errorf(http.StatusBadRequest, "bad_request", "to must be a date (2026-12-15), an RFC 3339 time or Unix milliseconds.")
		}
	}
	slots, err := srv.svc.FreeSlots(r.Context(), clinician, typeID, from, to, loc)
	if err != nil {
		return nil, err
	}
	av, err := srv.svc.Availability(r.Context(), clinician, defaultAvailabilityZone)
	if err != nil {
		return nil, err
	}
	t, _ := av.Type(typeID)
	out := SlotsView{Clinician: clinician, TimeZone: zone, Slots: []SlotView{},
		Type: SessionTypeForm{ID: t.ID, Name: t.Name, DurationMinutes: int(t.Duration / time.Minute), Kind: string(t.Kind)}}
	for _, s := range slots {
		local := bridge.LocalTimeOf(&bridge.Session{Start: s.Start, End: s.End, TimeZone: zone}, bridge.Window{}, zone, who.Booking.Locale)
		out.Slots = append(out.Slots, SlotView{Start: s.Start.UnixMilli(), End: s.End.UnixMilli(), Day: s.Start.Format(time.DateOnly), Local: local})
	}
	return out, nil
}

// BookForm is a client's booking of a slot.
type BookForm struct {
	Clinician string `json:"clinician"`
	Type      int64  `json:"type"`
	// Start is the slot's start in Unix milliseconds, as GET /api/portal/slots gave it.
	Start int64 `json:"start"`
}

// portalBook books a slot for the signed-in client and returns the session in their zone.
func (srv *Server) portalBook(r *http.Request, who *PortalBooker) (any, error) {
	var f BookForm
	if err := decode(r, &f); err != nil {
		return nil, err
	}
	clinician := strings.TrimSpace(f.Clinician)
	if err := who.mayBook(clinician); err != nil {
		return nil, err
	}
	s, err := srv.svc.BookSlot(r.Context(), who.Booking, who.ClientID, clinician, f.Type, time.UnixMilli(f.Start))
	if s == nil {
		return nil, err
	}
	if err != nil {
		// A booked session whose room waits for start-up is booked all the same.
		zerolog.Ctx(r.Context()).Err(err).Str("session_id", s.ID).Msg("A client's booking is stored but not complete")
	}
	_, zone := who.zone(r)
	return map[string]any{"session": srv.sessionView(s, zone, who.Booking.Locale)}, nil
}
