package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/rs/zerolog"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
)

// The client's changes to their own sessions, from My sessions: POST
// /api/portal/sessions/{id}/cancel and /move. Who may use them: a client signed in to the
// portal (401 otherwise), on a session they hold a place in through their record; any other
// session, an unknown one and one of another client's all get the same 404. What they may do
// is the clinic's (portal.client_cancel, portal.cancel_notice) and the session's (not started,
// not shared with other people for a cancel or a move into a slot).

// MoveSlots says where the portal finds the free slots a session can move into: GET
// /api/portal/slots?clinician=&type=.
type MoveSlots struct {
	Clinician string `json:"clinician"`
	Type      int64  `json:"type"`
}

// MoveTime is a time the client asked to move a session to, in their zone.
type MoveTime struct {
	// At is Unix milliseconds.
	At    int64            `json:"at"`
	Local bridge.LocalTime `json:"local"`
}

// changeContext is what the home needs to say what a client may change: their professionals,
// and each one's availability, read once per home.
type changeContext struct {
	professionals []string
	types         map[string][]bridge.SessionType // nil: no bookings online
}

func (srv *Server) newChangeContext(c *bridge.Client) *changeContext {
	return &changeContext{professionals: c.Professionals, types: map[string][]bridge.SessionType{}}
}

// moveType is the type of the professional's self-scheduling that s can move into: same kind,
// same length; 0 when there is none (or they take no bookings online, or are not the client's).
func (cc *changeContext) moveType(ctx context.Context, srv *Server, s *bridge.Session) int64 {
	if cc == nil || !slices.Contains(cc.professionals, s.Clinician) {
		return 0
	}
	types, ok := cc.types[s.Clinician]
	if !ok {
		av, err := srv.svc.Availability(ctx, s.Clinician, defaultAvailabilityZone)
		if err != nil {
			zerolog.Ctx(ctx).Err(err).Msg("Failed to read a professional's availability for a move")
		} else if av.SelfScheduling {
			types = av.Types
		}
		cc.types[s.Clinician] = types
	}
	for _, t := range types {
		if t.Kind == s.Kind && t.Duration == s.End.Sub(s.Start) {
			return t.ID
		}
	}
	return 0
}

// sessionChanges fills in what the client may change in an upcoming session, and the move they
// asked for that the clinician has not answered yet.
func (srv *Server) sessionChanges(ctx context.Context, item *PortalSession, s *bridge.Session, p *bridge.Participant, ps []*bridge.Participant, cc *changeContext, zone, locale string, now time.Time) error {
	reqs, err := srv.svc.MoveRequests(ctx, s.ID)
	if err != nil {
		return fmt.Errorf("reading the move requests of session %s: %w", s.ID, err)
	}
	for _, r := range reqs {
		if r.ParticipantID != p.ID || !r.Open(s) {
			continue
		}
		for _, t := range r.Preferred {
			local := bridge.LocalTimeOf(&bridge.Session{Start: t, End: t, TimeZone: s.TimeZone}, bridge.Window{}, zone, locale)
			item.MoveRequested = append(item.MoveRequested, MoveTime{At: t.UnixMilli(), Local: local})
		}
	}
	switch err := srv.svc.ClientChangeable(s, p, now); {
	case errors.Is(err, bridge.ErrChangeTooLate):
		item.CallClinic = true
		return nil
	case err != nil:
		return nil
	}
	item.CanMove = true
	if slices.ContainsFunc(ps, func(o *bridge.Participant) bool { return o.ClientID != p.ClientID && o.State != bridge.StateRemoved }) {
		return nil // shared: the others' session too; only a request to move
	}
	item.CanCancel = true
	if t := cc.moveType(ctx, srv, s); t != 0 {
		item.MoveSlots = &MoveSlots{Clinician: s.Clinician, Type: t}
	}
	return nil
}

// changeError turns the refusals of a client's change into what they read. Another client's
// session is not found, as one that does not exist.
func (srv *Server) changeError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, bridge.ErrNotYourSession), errors.Is(err, bridge.ErrNotFound):
		return errorf(http.StatusNotFound, "not_found", "There is no such session.")
	case errors.Is(err, bridge.ErrChangeTooLate):
		if srv.cfg.ClinicPhone != "" {
			return errorf(http.StatusConflict, "too_late", "It is too late to change this session online. Please call the clinic: %s.", srv.cfg.ClinicPhone)
		}
		return errorf(http.StatusConflict, "too_late", "It is too late to change this session online. Please call the clinic.")
	case errors.Is(err, bridge.ErrClientChangesOff):
		return errorf(http.StatusForbidden, "changes_off", "%s.", capitalize(err.Error()))
	case errors.Is(err, bridge.ErrSessionStarted):
		return errorf(http.StatusConflict, "started", "%s: it can no longer be changed.", capitalize(err.Error()))
	case errors.Is(err, bridge.ErrSharedSession):
		return errorf(http.StatusConflict, "shared", "%s.", capitalize(err.Error()))
	case errors.Is(err, bridge.ErrMoveType):
		return errorf(http.StatusConflict, "wrong_type", "%s.", capitalize(err.Error()))
	}
	return slotError(err)
}

// portalCancel cancels one of the signed-in client's sessions.
func (srv *Server) portalCancel(_ http.ResponseWriter, r *http.Request, in *portalSignIn) (any, error) {
	s, err := srv.svc.CancelAsClient(portalCtx(r), in.clientID, r.PathValue("id"))
	if err != nil {
		return nil, srv.changeError(err)
	}
	return map[string]any{"cancelled": true, "session_id": s.ID}, nil
}

// MoveForm is a client's move of a session: either up to three preferred times (Times, Unix
// milliseconds) for the clinician, or a free slot (Type and Start, as GET /api/portal/slots
// gave them) to move into now.
type MoveForm struct {
	Times []int64 `json:"times,omitempty"`
	Type  int64   `json:"type,omitempty"`
	Start int64   `json:"start,omitempty"`
}

// portalMove asks to move one of the signed-in client's sessions, or moves it into a free slot.
func (srv *Server) portalMove(_ http.ResponseWriter, r *http.Request, in *portalSignIn) (any, error) {
	var f MoveForm
	if err := decode(r, &f); err != nil {
		return nil, err
	}
	ctx := portalCtx(r)
	id := r.PathValue("id")
	if f.Start == 0 {
		if len(f.Times) == 0 || len(f.Times) > bridge.MaxMoveTimes {
			return nil, errorf(http.StatusBadRequest, "bad_times", "Choose one to %d times that would suit you.", bridge.MaxMoveTimes)
		}
		times := make([]time.Time, len(f.Times))
		for i, ms := range f.Times {
			times[i] = time.UnixMilli(ms)
		}
		req, err := srv.svc.RequestMove(ctx, in.clientID, id, times)
		if errors.Is(err, bridge.ErrInvalidSchedule) {
			return nil, errorf(http.StatusBadRequest, "bad_times", "Each time must be in the future, within a year.")
		} else if err != nil {
			return nil, srv.changeError(err)
		}
		// The clinician's panel, following the session, shows the request at once.
		if s, err := srv.svc.Session(ctx, id); err == nil {
			srv.hub.LobbyChanged(s, nil)
		}
		return map[string]any{"requested": true, "times": len(req.Preferred)}, nil
	}
	c, err := srv.db.Client.Get(ctx, in.clientID)
	if errors.Is(err, bridge.ErrClientNotFound) {
		return nil, srv.changeError(bridge.ErrNotYourSession) // no record, no sessions
	} else if err != nil {
		return nil, fmt.Errorf("reading the signed-in client's record: %w", err)
	}
	old, err := srv.svc.Session(ctx, id)
	if err != nil {
		return nil, srv.changeError(bridge.ErrNotYourSession)
	}
	// Only into a slot of one of the client's own professionals, as a booking; the bridge
	// checks the session is theirs.
	if !slices.Contains(c.Professionals, old.Clinician) {
		if _, _, lookErr := srv.clientPlaceOf(ctx, in.clientID, id); lookErr != nil {
			return nil, srv.changeError(lookErr)
		}
		return nil, srv.changeError(bridge.ErrSelfSchedulingOff)
	}
	moved, err := srv.svc.MoveToSlot(ctx, bookingOf(c), c.ID, id, f.Type, time.UnixMilli(f.Start))
	if err != nil {
		return nil, srv.changeError(err)
	}
	zone := homeZone(r, c.TimeZone)
	return map[string]any{"moved": true, "session": srv.sessionView(moved, zone, homeLanguage(r, c.Locale))}, nil
}

// clientPlaceOf is the client's place in a session, or ErrNotYourSession.
func (srv *Server) clientPlaceOf(ctx context.Context, clientID int64, id string) (*bridge.Session, *bridge.Participant, error) {
	s, ps, err := srv.svc.Lobby(ctx, "", id)
	if err != nil {
		return nil, nil, bridge.ErrNotYourSession
	}
	for _, p := range ps {
		if p.ClientID == clientID && clientID != 0 {
			return s, p, nil
		}
	}
	return nil, nil, bridge.ErrNotYourSession
}
