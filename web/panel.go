package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
)

// panelAPI wraps a panel handler: the clinician must be signed in (a cookie from a one-time
// login link or the widget); the handler gets their user ID.
func (srv *Server) panelAPI(f func(r *http.Request, clinician string) (any, error)) http.HandlerFunc {
	return srv.panelUploadAPI(func(_ http.ResponseWriter, r *http.Request, clinician string) (any, error) { return f(r, clinician) })
}

// panelUploadAPI is panelAPI for a handler that reads a large body (an upload) and needs the
// ResponseWriter for http.MaxBytesReader.
func (srv *Server) panelUploadAPI(f func(w http.ResponseWriter, r *http.Request, clinician string) (any, error)) http.HandlerFunc {
	return srv.api(func(w http.ResponseWriter, r *http.Request) (any, error) {
		in, err := srv.panelUser(r)
		if err != nil {
			return nil, err
		}
		r = r.WithContext(bridge.WithAuditVia(r.Context(), "panel"))
		if r.URL.Path == "/api/panel/logout" {
			http.SetCookie(w, &http.Cookie{Name: panelCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteStrictMode})
			if err = srv.db.WebSession.Delete(r.Context(), in.hash); err != nil {
				return nil, err
			}
			_ = srv.svc.Audit(r.Context(), bridge.AuditEntry{Actor: in.clinician, Action: bridge.AuditSignOut, Detail: map[string]string{"kind": "panel"}})
			return nil, nil
		}
		return f(w, r.WithContext(context.WithValue(r.Context(), signInKey{}, in)), in.clinician)
	})
}

type signInKey struct{}

// waitPanel is a panel's long poll: it also ends when the sign-in does, so that the page's
// next poll hears it is signed out then, not a long-poll later.
func (srv *Server) waitPanel(r *http.Request, key string, after uint64) {
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	if in, ok := r.Context().Value(signInKey{}).(*panelSignIn); ok {
		timer := srv.clock.AfterFunc(in.expires.Sub(srv.clock.Now()), cancel)
		defer timer.Stop()
	}
	srv.hub.wait(ctx, key, after)
}

func (srv *Server) panelMe(r *http.Request, clinician string) (any, error) {
	return map[string]any{"user_id": clinician, "idle_minutes": int(srv.cfg.PanelIdle.Minutes()), "clinic_time_zone": srv.cfg.ClinicTimeZone}, nil
}

func (srv *Server) panelLogout(r *http.Request, clinician string) (any, error) { return nil, nil }

// PanelSession is a session on the panel, with its participants and their links.
type PanelSession struct {
	Session      SessionView       `json:"session"`
	Participants []ParticipantView `json:"participants"`
	Waiting      int               `json:"waiting"`
	Version      uint64            `json:"version"`
	RoomID       string            `json:"room_id"`
	// CanCall: a telephone session that the bridge can place the call of ("Call now").
	CanCall bool `json:"can_call,omitempty"`
	// Call is the telephone session's latest call attempt.
	Call *CallView `json:"call,omitempty"`
	// Documents are the session's package ("Show participant documents").
	Documents []TemplateView `json:"documents,omitempty"`

	// participantIDs are the participants' row IDs, in the order of Participants.
	participantIDs []int64
}

// CallView is a telephone call attempt as the panel shows it.
type CallView struct {
	State       string `json:"state"`
	Participant int    `json:"participant"`
	// Words say where the call is, or why it did not go through, for the clinician (English);
	// Problem names why, for the panel's own words.
	Words   string `json:"words"`
	Problem string `json:"problem,omitempty"`
}

func (srv *Server) panelSession(ctx context.Context, s *bridge.Session, ps []*bridge.Participant) (*PanelSession, error) {
	out := &PanelSession{Session: srv.sessionView(s, s.TimeZone, "en"), Version: srv.hub.version(s.ID), RoomID: s.RoomID}
	if s.Kind == bridge.KindPhone {
		out.CanCall = !s.Over() && srv.svc.CanPlaceCalls(s.Clinician)
		if a := srv.svc.LatestCall(s.ID); a != nil {
			out.Call = &CallView{State: string(a.State), Participant: a.Participant, Words: a.Words(), Problem: a.ProblemCode}
		}
	}
	notices, err := srv.db.Outbox.ForSession(ctx, s.ID)
	if err != nil {
		return nil, fmt.Errorf("loading the session's notifications: %w", err)
	}
	moves, err := srv.svc.MoveRequests(ctx, s.ID)
	if err != nil {
		return nil, fmt.Errorf("loading the session's move requests: %w", err)
	}
	pays := srv.lobbyPayments(ctx, s)
	for _, p := range ps {
		view := panelPerson(s, p, ParticipantView{})
		if pay := pays[p.ID]; pay != nil {
			view.Payment = srv.paymentView(pay)
		}
		for _, n := range notices {
			if n.ParticipantID == p.ID && (n.Status == bridge.NotificationFailed || n.Status == bridge.NotificationSkipped) {
				view.Problems = append(view.Problems, NoticeProblem{Kind: string(n.Kind), Channel: string(n.Channel), Reason: n.LastError})
			}
		}
		for _, m := range moves {
			if m.ParticipantID == p.ID && m.Open(s) {
				for _, at := range m.Preferred {
					local := bridge.LocalTimeOf(&bridge.Session{Start: at, End: at, TimeZone: s.TimeZone}, bridge.Window{}, s.TimeZone, "en")
					view.MoveRequested = append(view.MoveRequested, MoveTime{At: at.UnixMilli(), Local: local})
				}
			}
		}
		link, err := srv.GuestLink(ctx, s, p)
		if err != nil {
			return nil, err
		}
		if link != "" {
			if l, _ := srv.db.GuestLink.ByParticipant(ctx, p.ID); l == nil || l.RevokedAt.IsZero() {
				view.Link = link
			}
		}
		if p.State == bridge.StateWaiting {
			out.Waiting++
		}
		out.Participants = append(out.Participants, view)
		out.participantIDs = append(out.participantIDs, p.ID)
	}
	if err = srv.lobbyDocuments(ctx, s, out); err != nil {
		return nil, err
	}
	return out, nil
}

// panelPerson is a participant's view on the panel: what their row says (name, state, phone)
// from p, the rest (link, problems, move requests, payment, documents, forms) from extras.
func panelPerson(s *bridge.Session, p *bridge.Participant, extras ParticipantView) ParticipantView {
	view := participantView(p)
	if s.Kind == bridge.KindPhone {
		view.Phone = bridge.ReadablePhone(p.Phone)
	}
	view.CanText = p.Phone != "" && !s.Over()
	view.Link, view.Problems, view.MoveRequested = extras.Link, extras.Problems, extras.MoveRequested
	view.Payment, view.Documents, view.Forms = extras.Payment, extras.Documents, extras.Forms
	return view
}

// panelSessions lists the clinician's upcoming and ongoing sessions, next first; ?after=<version>
// waits for a change to any of them.
func (srv *Server) panelSessions(r *http.Request, clinician string) (any, error) {
	if after, err := strconv.ParseUint(r.URL.Query().Get("after"), 10, 64); err == nil {
		srv.waitPanel(r, clinician, after)
	}
	version := srv.hub.version(clinician)
	sessions, err := srv.svc.Sessions(r.Context(), clinician)
	if err != nil {
		return nil, err
	}
	out := []*PanelSession{}
	for _, s := range sessions {
		view, err := srv.panelListed(r.Context(), clinician, s)
		if err != nil {
			return nil, err
		}
		out = append(out, view)
	}
	return map[string]any{"sessions": out, "version": version}, nil
}

// panelListed is a session's view in a panel's list: made again only when the session changed
// since its view was made (its version), so that a panel woken by one session's change (a
// morning rush wakes each panel for every knock of its sessions) reads that session only, and
// patched rather than made again when only its people changed (patchPanel).
func (srv *Server) panelListed(ctx context.Context, clinician string, s *bridge.Session) (*PanelSession, error) {
	version := srv.hub.version(s.ID)
	if view := srv.panelCache.get(s.ID, version); view != nil {
		return view, nil
	}
	_, ps, err := srv.svc.Lobby(ctx, clinician, s.ID)
	if err != nil {
		return nil, err
	}
	view, err := srv.panelSession(ctx, s, ps)
	if err != nil {
		return nil, err
	}
	// Stored under the version read before the session was: a change meanwhile makes the
	// next list read it again.
	srv.panelCache.put(s.ID, version, view)
	return view, nil
}

// panelCache holds the sessions' panel views with the session's version they were made at.
type panelCache struct {
	mu    sync.Mutex
	views map[string]cachedPanel
}

type cachedPanel struct {
	version uint64
	view    *PanelSession
	used    time.Time
}

// panelCacheIdle is how long an unused view is kept (sessions leave the lists when they end).
const panelCacheIdle = 10 * time.Minute

func (c *panelCache) get(id string, version uint64) *PanelSession {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.views[id]
	if !ok || e.version != version {
		return nil
	}
	e.used = time.Now()
	c.views[id] = e
	return e.view
}

func (c *panelCache) put(id string, version uint64, view *PanelSession) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.views == nil {
		c.views = map[string]cachedPanel{}
	}
	now := time.Now()
	for k, e := range c.views {
		if now.Sub(e.used) > panelCacheIdle {
			delete(c.views, k)
		}
	}
	if e, ok := c.views[id]; ok && e.version > version {
		return // patched meanwhile to a later change
	}
	c.views[id] = cachedPanel{version: version, view: view, used: now}
}

// patchPanel brings a session's cached view from version before to after with the session and
// people of a change, without reading the database: a knock, an admission or a join changes
// nothing else the view shows, and in a morning rush every panel is woken by each of them.
// Anything else (ps nil: a link, a notice, a call, documents), a new session status, someone
// added or removed, or a view not made at before drops the view: the next list makes it again.
func (srv *Server) patchPanel(s *bridge.Session, ps []*bridge.Participant, before, after uint64) {
	c := &srv.panelCache
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.views[s.ID]
	if !ok {
		return
	}
	old := e.view
	if e.version != before || ps == nil || len(ps) != len(old.participantIDs) || old.Session.Status != string(s.Status) {
		delete(c.views, s.ID)
		return
	}
	view := *old
	view.Session, view.Version, view.Waiting = srv.sessionView(s, s.TimeZone, "en"), after, 0
	view.Participants = make([]ParticipantView, len(ps))
	for i, p := range ps {
		if p.ID != old.participantIDs[i] {
			delete(c.views, s.ID)
			return
		}
		view.Participants[i] = panelPerson(s, p, old.Participants[i])
		if p.State == bridge.StateWaiting {
			view.Waiting++
		}
	}
	c.views[s.ID] = cachedPanel{version: after, view: &view, used: e.used}
}

// ScheduleForm is the New Scheduled Session form.
type ScheduleForm struct {
	Date            string `json:"date"`
	Time            string `json:"time"`
	TimeZone        string `json:"time_zone"`
	DurationMinutes int    `json:"duration_minutes"`
	Kind            string `json:"kind"`
	Admission       string `json:"admission"`
	Name            string `json:"name"`
	Invite          string `json:"invite"`
	Email           string `json:"email"`
	Phone           string `json:"phone"`
	PhoneRegion     string `json:"phone_region"`
	Locale          string `json:"locale"`
	ParticipantZone string `json:"participant_time_zone"`
	MatrixID        string `json:"matrix_id"`
	// ClientID books a known client record (from GET /api/panel/clients): the blank fields
	// are the record's.
	ClientID int64 `json:"client_id"`
	// PaymentServiceID asks for payment before joining ("Require payment"): a service of the
	// price list (GET /api/panel/services); PaymentAmount, in minor units, replaces its price
	// (0: the price).
	PaymentServiceID int64 `json:"payment_service_id,omitempty"`
	PaymentAmount    int64 `json:"payment_amount,omitempty"`
	// Documents are the templates shown to the participant before joining ("Show participant
	// documents"), from GET /api/panel/templates.
	Documents []int64 `json:"documents"`
	// Forms are the forms of the session's package (GET /api/panel/forms): each is assigned to
	// the participant's client record, tied to the session.
	Forms []int64 `json:"forms,omitempty"`
}

// fieldError is an error about one form field, which the panel shows next to it.
func fieldError(field, msg string) error {
	return &apiError{status: http.StatusBadRequest, code: "field:" + field, msg: capitalize(msg)}
}

func (f *ScheduleForm) when(now time.Time) (time.Time, time.Time, error) {
	start, err := bridge.ParseWhen(f.Date, strings.ReplaceAll(f.Time, " ", ""), f.TimeZone, now)
	if err != nil {
		field := "time"
		if strings.Contains(err.Error(), "date") {
			field = "date"
		} else if strings.Contains(err.Error(), "zone") {
			field = "time_zone"
		}
		return time.Time{}, time.Time{}, fieldError(field, err.Error())
	}
	minutes := f.DurationMinutes
	if minutes == 0 {
		minutes = 50
	}
	if minutes < 5 || minutes > 720 {
		return time.Time{}, time.Time{}, fieldError("duration_minutes", "the duration must be between 5 minutes and 12 hours")
	}
	return start, start.Add(time.Duration(minutes) * time.Minute), nil
}

// panelSchedule books a session from the form, checking each field.
func (srv *Server) panelSchedule(r *http.Request, clinician string) (any, error) {
	var f ScheduleForm
	if err := decode(r, &f); err != nil {
		return nil, err
	}
	start, end, err := f.when(srv.clock.Now())
	if err != nil {
		return nil, err
	}
	p := bridge.ParticipantRequest{
		Name: f.Name, MatrixID: f.MatrixID, Email: f.Email, Phone: f.Phone, PhoneRegion: f.PhoneRegion,
		Locale: f.Locale, TimeZone: f.ParticipantZone, Invite: bridge.InviteMode(f.Invite), ClientID: f.ClientID,
	}
	// A chosen record fills the blanks; one the clinician may not see is as unknown (404).
	if p, err = srv.svc.FromClient(r.Context(), clinician, p); err != nil {
		return nil, err
	}
	// Check the participant first, to name the field that is wrong.
	if _, err = bridge.NewParticipant(p, f.TimeZone); err != nil {
		return nil, fieldError(participantField(err.Error()), err.Error())
	}
	// Whatever the invitation, the clinician calls a telephone session's client: the number is
	// needed, and the form shows the field for it.
	if bridge.Kind(f.Kind) == bridge.KindPhone && strings.TrimSpace(p.Phone) == "" {
		return nil, fieldError("phone", "a telephone session needs the participant's phone number")
	}
	for _, id := range f.Documents {
		if _, err = srv.svc.Template(r.Context(), clinician, id); err != nil {
			return nil, fieldError("documents", "one of the chosen documents no longer exists")
		}
	}
	for _, id := range f.Forms {
		if f.ClientID == 0 {
			return nil, fieldError("forms", "forms are for a participant with a client record: choose one")
		}
		if _, err = srv.svc.Form(r.Context(), clinician, id); err != nil {
			return nil, fieldError("forms", "one of the chosen forms no longer exists")
		}
	}
	req := bridge.ScheduleRequest{
		Clinician: clinician, Start: start, End: end, TimeZone: f.TimeZone,
		Kind: bridge.Kind(f.Kind), Policy: bridge.Policy(f.Admission), Participants: []bridge.ParticipantRequest{p},
	}
	if f.PaymentServiceID != 0 {
		if !srv.svc.PaymentsEnabled() {
			return nil, fieldError("payment_service_id", "payments are not available")
		}
		req.Payment = &bridge.RequirePayment{ServiceID: f.PaymentServiceID, Amount: f.PaymentAmount}
	}
	s, err := srv.svc.Schedule(r.Context(), req)
	if err != nil {
		return nil, scheduleFieldError(err)
	}
	if len(f.Documents) > 0 {
		if err = srv.svc.SetSessionPackage(r.Context(), clinician, s.ID, f.Documents); err != nil {
			return nil, documentError(err)
		}
	}
	if len(f.Forms) > 0 {
		if err = srv.svc.SetSessionForms(r.Context(), clinician, s.ID, f.Forms); err != nil {
			return nil, formsError(err)
		}
	}
	return srv.panelView(r.Context(), clinician, s.ID)
}

// panelView is a session as the panel shows it, as it is now.
func (srv *Server) panelView(ctx context.Context, clinician, id string) (*PanelSession, error) {
	s, ps, err := srv.svc.Lobby(ctx, clinician, id)
	if err != nil {
		return nil, err
	}
	return srv.panelSession(ctx, s, ps)
}

// scheduleFieldError names the form field a refused schedule is about, so that the panel shows
// the refusal next to it; other errors pass through.
func scheduleFieldError(err error) error {
	if !errors.Is(err, bridge.ErrInvalidSchedule) {
		return err
	}
	msg := strings.TrimPrefix(err.Error(), bridge.ErrInvalidSchedule.Error()+": ")
	for _, f := range []struct{ word, field string }{
		{"over already", "date"}, {"time zone", "time_zone"}, {"12 hours", "duration_minutes"}, {"end must be", "duration_minutes"},
		{"kind", "kind"}, {"admission", "admission"}, {"service", "payment_service_id"}, {"amount", "payment_amount"},
	} {
		if strings.Contains(msg, f.word) {
			return fieldError(f.field, msg)
		}
	}
	return err
}

// participantField guesses which form field a participant error is about.
func participantField(msg string) string {
	for _, f := range []struct{ word, field string }{
		{"name", "name"}, {"email", "email"}, {"phone", "phone"}, {"mobile", "phone"},
		{"time zone", "participant_time_zone"}, {"language", "locale"}, {"invitation", "invite"}, {"Matrix", "matrix_id"},
	} {
		if strings.Contains(msg, f.word) {
			return f.field
		}
	}
	return "name"
}

// panelLobby returns one session with its lobby; ?after=<version> waits for a change.
func (srv *Server) panelLobby(r *http.Request, clinician string) (any, error) {
	id := r.PathValue("id")
	if _, _, err := srv.svc.Lobby(r.Context(), clinician, id); err != nil {
		return nil, err
	}
	if after, err := strconv.ParseUint(r.URL.Query().Get("after"), 10, 64); err == nil {
		srv.waitPanel(r, id, after)
	} else {
		// Opening the Attendees Access Panel shows the participants; its refreshes do not
		// count again.
		_ = srv.svc.Audit(r.Context(), bridge.AuditEntry{Actor: clinician, Action: bridge.AuditParticipantDataViewed, SessionID: id, Detail: map[string]string{"view": "lobby"}})
	}
	return srv.panelView(r.Context(), clinician, id)
}

// panelReschedule moves a session (Edit).
func (srv *Server) panelReschedule(r *http.Request, clinician string) (any, error) {
	var f ScheduleForm
	if err := decode(r, &f); err != nil {
		return nil, err
	}
	start, end, err := f.when(srv.clock.Now())
	if err != nil {
		return nil, err
	}
	if _, err = srv.svc.Reschedule(r.Context(), clinician, r.PathValue("id"), start, end, f.TimeZone); err != nil {
		return nil, scheduleFieldError(err)
	}
	return srv.panelView(r.Context(), clinician, r.PathValue("id"))
}

// panelAction runs an Attendees Access Panel action, or: enter (a call page token for the
// clinician, to open the call in a new tab), link (a new link for a participant, the old one
// stops working) and revoke (withdraw a participant's link).
func (srv *Server) panelAction(r *http.Request, clinician string) (any, error) {
	ctx := r.Context()
	id, action := r.PathValue("id"), r.PathValue("action")
	var req hostRequest
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	switch action {
	case "enter":
		if _, _, err := srv.svc.Lobby(ctx, clinician, id); err != nil {
			return nil, err
		}
		token, err := srv.callToken(ctx, clinician, id)
		if err != nil {
			return nil, err
		}
		return map[string]string{"url": srv.cfg.PublicURL + "/call/" + id + "#" + token}, nil
	case "link", "revoke":
		s, ps, err := srv.svc.Lobby(ctx, clinician, id)
		if err != nil {
			return nil, err
		}
		// A new or withdrawn link locks the participant out of their old one: never by
		// default, always for the participant named.
		if strings.TrimSpace(req.Participant) == "" {
			return nil, errorf(http.StatusBadRequest, "bad_request", "Say which participant (their number).")
		}
		p, err := bridge.FindParticipant(ps, req.Participant)
		if err != nil {
			return nil, err
		}
		entry := bridge.AuditEntry{Actor: clinician, Action: bridge.AuditLinkIssued, SessionID: s.ID, Subject: bridge.ParticipantSubject(p), Detail: map[string]string{"kind": "guest"}}
		if action == "revoke" {
			if err = srv.RevokeParticipantLink(ctx, p); err != nil {
				return nil, err
			}
			entry.Action = bridge.AuditLinkWithdrawn
		} else if _, err = srv.NewParticipantLink(ctx, s, p); err != nil {
			return nil, err
		}
		_ = srv.svc.Audit(ctx, entry)
	case "call":
		// The clinician's own phone rings, then the client's: the session's clinician only.
		if _, err := srv.svc.PlaceCall(ctx, clinician, id, req.Participant); err != nil {
			return nil, err
		}
	case "sms":
		// A text of the clinician's own through the outbox: the session's clinician only.
		if _, err := srv.svc.TextParticipant(ctx, clinician, id, req.Participant, req.Text); err != nil {
			return nil, err
		}
	default:
		if err := srv.hostAction(ctx, clinician, id, action, req); err != nil {
			return nil, err
		}
	}
	return srv.panelView(ctx, clinician, id)
}

// panelContacts auto-fills the participant field from the clinician's past participants.
func (srv *Server) panelContacts(r *http.Request, clinician string) (any, error) {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	if len([]rune(q)) < 1 {
		return map[string]any{"contacts": []any{}}, nil
	}
	contacts, err := srv.db.Participant.ClinicianContacts(r.Context(), clinician, q)
	if err != nil {
		return nil, err
	}
	if len(contacts) > 0 {
		_ = srv.svc.Audit(r.Context(), bridge.AuditEntry{Actor: clinician, Action: bridge.AuditParticipantDataViewed, Detail: map[string]string{"view": "contacts"}})
	}
	return map[string]any{"contacts": contacts}, nil
}
