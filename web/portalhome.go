package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
)

// The portal's home: GET /api/portal/home, for the client signed in to the portal (portalAPI)
// and about them alone. Their sessions are those whose participant row points at their client
// record: never found by email or phone, so a parent's address shared by two siblings never
// shows one sibling the other's sessions. A signed-in client without a record (or whose record
// is gone) gets an empty home, not an error.

// pastSessionsShown is how many past sessions the home lists, latest first: the rest belong to
// "Download my data".
const pastSessionsShown = 50

// PortalHome answers GET /api/portal/home.
type PortalHome struct {
	Name string `json:"name"`
	// Locale and TimeZone are the client's (their record's), in which every time is written.
	Locale   string `json:"locale"`
	TimeZone string `json:"time_zone"`
	// Upcoming are the sessions not over yet, soonest first; the first one still to be held is
	// marked Next. Past are the others, latest first.
	Upcoming      []PortalSession      `json:"upcoming"`
	Past          []PortalSession      `json:"past"`
	Professionals []PortalProfessional `json:"professionals"`
	Clinic        ClinicView           `json:"clinic"`
	// Messages sums up the client's Messages thread, from the database alone (no homeserver
	// round trip on the home).
	Messages PortalMessagesSummary `json:"messages"`
}

// PortalMessagesSummary is the home's view of the Messages thread: how many of the
// professionals' messages are unread, and when the latest message was sent (Unix ms, 0: none).
type PortalMessagesSummary struct {
	Unread int   `json:"unread"`
	LastAt int64 `json:"last_at"`
}

// PortalSession is one of the client's sessions as their portal shows it.
type PortalSession struct {
	Session SessionView `json:"session"`
	// Next: the next session the client is expected at.
	Next bool `json:"next,omitempty"`
	// CanJoin: a video session whose waiting room is open now (from the window's opening).
	CanJoin bool `json:"can_join,omitempty"`
	// Link is the client's own guest link, for an upcoming video session they join from the web
	// (not for someone booked with their own Matrix account, who joins from their Matrix client).
	Link string `json:"link,omitempty"`
	// CallsYou is who will call, for a telephone session: the professional.
	CallsYou string `json:"calls_you,omitempty"`
	// CanCancel and CanMove: the client may cancel this session, or ask to move it, from the
	// portal (POST /api/portal/sessions/{id}/cancel and /move).
	CanCancel bool `json:"can_cancel,omitempty"`
	CanMove   bool `json:"can_move,omitempty"`
	// MoveSlots: the session can move into one of its professional's free slots, of this type.
	MoveSlots *MoveSlots `json:"move_slots,omitempty"`
	// CallClinic: the clinic takes changes online, but this session is too close now: the
	// portal shows the clinic's phone instead.
	CallClinic bool `json:"call_clinic,omitempty"`
	// MoveRequested are the times the client asked to move the session to, while the
	// clinician has not moved it.
	MoveRequested []MoveTime `json:"move_requested,omitempty"`
}

// PortalProfessional is a professional assigned to the client, by the name clients see.
type PortalProfessional struct {
	Name string `json:"name"`
	// Avatar is where their picture is (GET /api/portal/professionals/{n}/avatar, n their
	// place in the client's record), when the bridge can fetch Matrix avatars; it answers 404
	// for a professional without one, and the portal shows their initials.
	Avatar string `json:"avatar,omitempty"`
}

func (srv *Server) portalHome(_ http.ResponseWriter, r *http.Request, in *portalSignIn) (any, error) {
	ctx := r.Context()
	home := PortalHome{Upcoming: []PortalSession{}, Past: []PortalSession{}, Professionals: []PortalProfessional{},
		Clinic: ClinicView{Name: srv.cfg.ClinicName, Phone: srv.cfg.ClinicPhone}}
	c, err := srv.db.Client.Get(ctx, in.clientID)
	if errors.Is(err, bridge.ErrClientNotFound) {
		home.Name, _ = srv.clients.ClientName(ctx, in.clientID)
		home.Locale, home.TimeZone = homeLanguage(r, ""), homeZone(r, "")
		return home, nil
	} else if err != nil {
		return nil, fmt.Errorf("reading the client's record: %w", err)
	}
	home.Name = c.Name()
	thread, err := srv.db.MessageThread.Get(ctx, c.ID)
	if err != nil {
		return nil, fmt.Errorf("reading the client's Messages thread: %w", err)
	}
	home.Messages = PortalMessagesSummary{Unread: thread.Unread}
	if !thread.LastAt.IsZero() {
		home.Messages.LastAt = thread.LastAt.UnixMilli()
	}
	home.Locale, home.TimeZone = homeLanguage(r, c.Locale), homeZone(r, c.TimeZone)
	for i, pro := range c.Professionals {
		if name := srv.clinicianName(ctx, pro); name != "" {
			item := PortalProfessional{Name: name}
			if srv.avatars != nil {
				item.Avatar = fmt.Sprintf("/api/portal/professionals/%d/avatar", i)
			}
			home.Professionals = append(home.Professionals, item)
		}
	}
	sessions, err := srv.db.Client.Sessions(ctx, c.ID)
	if err != nil {
		return nil, fmt.Errorf("reading the client's sessions: %w", err)
	}
	rows, err := srv.db.Participant.ByClient(ctx, c.ID)
	if err != nil {
		return nil, fmt.Errorf("reading the client's places in their sessions: %w", err)
	}
	mine := make(map[string]*bridge.Participant, len(rows))
	for _, p := range rows {
		mine[p.SessionID] = p
	}
	now := srv.clock.Now()
	cc := srv.newChangeContext(c)
	for _, s := range sessions { // latest first
		p := mine[s.ID]
		if p == nil || p.ClientID != c.ID {
			continue // a session is shown only through the client's own place in it
		}
		item, upcoming, err := srv.portalSession(ctx, s, p, cc, home.TimeZone, home.Locale, now)
		if err != nil {
			return nil, err
		}
		if upcoming {
			home.Upcoming = append(home.Upcoming, *item)
		} else if len(home.Past) < pastSessionsShown {
			home.Past = append(home.Past, *item)
		}
	}
	slices.Reverse(home.Upcoming) // soonest first
	for i := range home.Upcoming {
		if home.Upcoming[i].Session.Status != string(bridge.StatusCancelled) {
			home.Upcoming[i].Next = true
			break
		}
	}
	return home, nil
}

// portalSession is the session as the client p sees it, and whether it is still to come.
func (srv *Server) portalSession(ctx context.Context, s *bridge.Session, p *bridge.Participant, cc *changeContext, zone, locale string, now time.Time) (*PortalSession, bool, error) {
	view := srv.sessionView(s, zone, locale)
	view.ClinicianName = srv.clinicianName(ctx, s.Clinician)
	item := &PortalSession{Session: view}
	// A session is to come until its waiting room closes (one running late can still be joined)
	// or it is ended. A cancelled one whose time has not come stays among them, said cancelled:
	// the client looking for it finds it where they expect it.
	upcoming := now.Before(s.Closes(srv.svc.Window())) && s.Status != bridge.StatusEnded
	if !upcoming || s.Over() {
		return item, upcoming, nil
	}
	ps, err := srv.db.Participant.ForSession(ctx, s.ID)
	if err != nil {
		return nil, false, fmt.Errorf("reading the participants of session %s: %w", s.ID, err)
	}
	if err = srv.sessionChanges(ctx, item, s, p, ps, cc, zone, locale, now); err != nil {
		return nil, false, err
	}
	if s.Kind == bridge.KindPhone {
		item.CallsYou = view.ClinicianName
		return item, true, nil
	}
	if item.Link, err = srv.GuestLink(ctx, s, p); err != nil {
		return nil, false, fmt.Errorf("making the client's link to session %s: %w", s.ID, err)
	}
	item.CanJoin = item.Link != "" && s.AcceptsKnocks(now, srv.svc.Window())
	return item, true, nil
}

// homeLanguage is the language the home is written in: the page's (?lang=, when the client
// chose one), else their record's; "" when neither says, and the page keeps its own.
func homeLanguage(r *http.Request, record string) string {
	switch lang := r.URL.Query().Get("lang"); lang {
	case "en", "fr":
		return lang
	}
	return record
}

// homeZone is where the home writes times: the client's record's zone, else the browser's
// (?zone=), else UTC.
func homeZone(r *http.Request, record string) string {
	for _, z := range []string{record, r.URL.Query().Get("zone")} {
		if _, err := time.LoadLocation(z); err == nil && z != "" && z != "Local" {
			return z
		}
	}
	return "UTC"
}

// portalOwns reports whether the client signed in to the portal with the request (its cookie)
// is clientID: a session page then offers the portal. It renews nothing and refuses nothing.
func (srv *Server) portalOwns(r *http.Request, clientID int64) bool {
	if clientID == 0 || srv.clients == nil {
		return false
	}
	cookie, err := r.Cookie(portalCookie)
	if err != nil || cookie.Value == "" {
		return false
	}
	ps, err := srv.db.PortalSession.Get(r.Context(), hashToken(cookie.Value))
	now := srv.clock.Now()
	return err == nil && ps != nil && now.Before(ps.IdleExpiresAt) && now.Before(ps.ExpiresAt) && ps.ClientID == clientID
}

// guestPage serves a session link's page, /g/{token}. A client signed in to the portal who
// opens a link of one of their own places lands in the portal, on that session; any other link
// (someone else's, or in a browser where nobody is signed in) keeps its page: a browser never
// shows one person's portal on another's link. ?from=portal is the portal's own way to the
// page (its Join), which stays.
func (srv *Server) guestPage() http.HandlerFunc {
	page := srv.page("guest.html")
	return func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("from") != "portal" {
			if id, ok := srv.portalLanding(r, r.PathValue("token")); ok {
				http.Redirect(w, r, "/portal?"+url.Values{"session": {id}}.Encode()+"#sessions", http.StatusSeeOther)
				return
			}
		}
		page(w, r)
	}
}

// portalLanding is the session of a link that is the signed-in client's own. It counts
// nothing against the visitor: the page's API refuses bad links, and throttles forged ones.
func (srv *Server) portalLanding(r *http.Request, token string) (string, bool) {
	if srv.clients == nil {
		return "", false
	}
	if c, err := r.Cookie(portalCookie); err != nil || c.Value == "" {
		return "", false
	}
	sessionID, ok := srv.verifyGuestToken(token)
	if !ok {
		return "", false
	}
	link, err := srv.db.GuestLink.ByHash(r.Context(), hashToken(token))
	if err != nil || link == nil || link.SessionID != sessionID || !link.RevokedAt.IsZero() {
		return "", false
	}
	ps, err := srv.db.Participant.ForSession(r.Context(), sessionID)
	if err != nil {
		return "", false
	}
	for _, p := range ps {
		if p.ID == link.ParticipantID {
			return sessionID, srv.portalOwns(r, p.ClientID)
		}
	}
	return "", false
}
