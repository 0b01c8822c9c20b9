package web

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
)

// SessionView is a session as the pages show it.
type SessionView struct {
	ID               string `json:"id"`
	Status           string `json:"status"`
	Kind             string `json:"kind"`
	Start            int64  `json:"start"`
	End              int64  `json:"end"`
	Opens            int64  `json:"opens"`
	TimeZone         string `json:"time_zone"`
	Policy           string `json:"admission"`
	ClinicianPresent bool   `json:"clinician_present"`
	LobbyMessage     string `json:"lobby_message,omitempty"`
	// ClinicianName is the clinician's display name, as clients see it.
	ClinicianName string `json:"clinician_name,omitempty"`
	// Local is the schedule written for the viewer, in their zone and language.
	Local bridge.LocalTime `json:"local"`
}

// ParticipantView is a participant as the pages show them.
type ParticipantView struct {
	Number int `json:"number"`
	// Name is the name to show: the one they typed when they knocked, else the booked one.
	Name  string `json:"name"`
	State string `json:"state"`
	// BookedName is the name the clinician booked; JoinedName the one the participant typed
	// when they asked to join, when it differs ("Jane Doe — joined as Jane").
	BookedName string `json:"booked_name"`
	JoinedName string `json:"joined_name,omitempty"`
	// Link is the participant's guest link (the clinician's panel only).
	Link string `json:"link,omitempty"`
	// Phone is the number to call in a telephone session, readable (the clinician's panel only).
	Phone string `json:"phone,omitempty"`
	// CanText: the clinician may text them a message of their own (they have a phone number).
	CanText bool `json:"can_text,omitempty"`
	// Problems are the notifications that did not reach them, and why (the panel only).
	Problems []NoticeProblem `json:"problems,omitempty"`
	// MoveRequested are the times they asked from the portal to move the session to, in the
	// session's zone, until it is moved or called off (the panel only).
	MoveRequested []MoveTime `json:"move_requested,omitempty"`
	// Payment is what they owe before joining and where it is (the clinician's views only).
	Payment *PaymentView `json:"payment,omitempty"`
	// Documents is "acknowledged" or "not_acknowledged" when the session's package has
	// documents to acknowledge (the panel only).
	Documents string `json:"documents,omitempty"`
	// Forms is "forms_done" or "forms_not_done" when the session's package gave them forms
	// (the panel only).
	Forms string `json:"forms,omitempty"`
}

// NoticeProblem is a confirmation or reminder that was not sent.
type NoticeProblem struct {
	Kind    string `json:"kind"`
	Channel string `json:"channel"`
	Reason  string `json:"reason"`
}

// CallState is what a call or participant page shows, and the version to wait on for the next.
type CallState struct {
	Version uint64      `json:"version"`
	Session SessionView `json:"session"`
	Me      MeView      `json:"me"`
	// Lobby is the waiting list and who is in, for the clinician.
	Lobby []ParticipantView `json:"lobby,omitempty"`
	// People name the call's members by their user IDs (the IDs the signalling speaks of),
	// for those who may be in the call: tiles carry names, never roles.
	People []PersonView `json:"people,omitempty"`
	// Clinic is whom to contact: every client page shows it.
	Clinic ClinicView `json:"clinic"`
}

// PersonView is someone who may be in the call.
type PersonView struct {
	UserID string `json:"user_id"`
	Name   string `json:"name"`
	Host   bool   `json:"host,omitempty"`
}

// ClinicView is the clinic as its clients see it (notifications.clinic_name and clinic_phone).
type ClinicView struct {
	Name  string `json:"name"`
	Phone string `json:"phone,omitempty"`
}

// MeView is the viewer.
type MeView struct {
	Name     string `json:"name"`
	Number   int    `json:"number,omitempty"`
	State    string `json:"state"`
	Host     bool   `json:"host"`
	Guest    bool   `json:"guest"`
	Locale   string `json:"locale"`
	TimeZone string `json:"time_zone"`
	// CanKnock: the lobby is open and they may ask to enter from this page.
	CanKnock bool `json:"can_knock"`
	// CanJoinCall: they are let in and may connect to the call now.
	CanJoinCall bool `json:"can_join_call"`
	// CanPrepareCall: they knocked and wait (or were just let in): their page may connect to
	// the call ahead (POST /api/call/prepare), so that being let in is quick.
	CanPrepareCall bool `json:"can_prepare_call,omitempty"`
	// PhoneMasked is the number a telephone session calls, masked ("+33 6 •• •• •• 12"): the
	// participant's own, so that they recognise it; a forwarded link does not give it away.
	PhoneMasked string `json:"phone_masked,omitempty"`
	// InPortal: the guest is the client signed in to the portal in this browser, and the page
	// offers their portal.
	InPortal bool `json:"in_portal,omitempty"`
	// Payment is what they owe before the session ("Payment required" and Pay), or none.
	Payment *PaymentView `json:"payment,omitempty"`
}

func (srv *Server) sessionView(s *bridge.Session, zone, locale string) SessionView {
	w := srv.svc.Window()
	return SessionView{
		ID: s.ID, Status: string(s.Status), Kind: string(s.Kind),
		Start: s.Start.UnixMilli(), End: s.End.UnixMilli(), Opens: s.Opens(w).UnixMilli(),
		TimeZone: s.TimeZone, Policy: string(s.Policy), ClinicianPresent: s.ClinicianPresent,
		LobbyMessage: s.LobbyMessage, Local: bridge.LocalTimeOf(s, w, zone, locale),
	}
}

func participantView(p *bridge.Participant) ParticipantView {
	view := ParticipantView{Number: p.Number, Name: p.DisplayName(), State: string(p.State), BookedName: p.Name}
	if p.KnockName != "" && p.KnockName != p.Name {
		view.JoinedName = p.KnockName
	}
	return view
}

// state builds the viewer's state from the session as it is now.
func (srv *Server) state(ctx context.Context, v *viewer) (*CallState, error) {
	version := srv.hub.version(v.session.ID)
	s, ps, err := srv.svc.Lobby(ctx, "", v.session.ID)
	if err != nil {
		return nil, err
	}
	zone, locale := s.TimeZone, "en"
	me := MeView{Host: v.host, Guest: v.guest}
	if v.participant != nil {
		for _, p := range ps {
			if p.ID == v.participant.ID {
				v.participant = p
			}
		}
		p := v.participant
		zone, locale = p.TimeZone, p.Locale
		me.Name, me.Number, me.State = p.DisplayName(), p.Number, string(p.State)
		me.InPortal = v.guest && v.inPortal
		// A telephone session has no waiting room to enter: the clinician calls.
		me.CanKnock = v.guest && s.Kind != bridge.KindPhone && s.AcceptsKnocks(srv.clock.Now(), srv.svc.Window()) &&
			slices.Contains([]bridge.LobbyState{bridge.StateBooked, bridge.StateDenied, bridge.StateLeft}, p.State)
		me.CanJoinCall = p.State == bridge.StateInSession && !s.Over()
		me.Payment = srv.myPayment(ctx, p)
		// Not on LiveKit: its token opens the room itself, so nobody gets one before being let
		// in (the page connects once the state says they are in).
		me.CanPrepareCall = p.MatrixID != "" && s.Kind != bridge.KindPhone && !s.Over() && srv.livekit == nil &&
			(p.State == bridge.StateWaiting || p.State == bridge.StateAdmitted)
		if s.Kind == bridge.KindPhone {
			me.PhoneMasked = bridge.MaskPhone(p.Phone)
		}
	}
	if v.host {
		me.State, me.CanJoinCall = "host", !s.Over()
	}
	if v.participant == nil && v.lang != "" {
		// The clinician has no booked language: their page says which (the panel's).
		locale = v.lang
	}
	me.Locale, me.TimeZone = locale, zone
	st := &CallState{Version: version, Session: srv.sessionView(s, zone, locale), Me: me,
		Clinic: ClinicView{Name: srv.cfg.ClinicName, Phone: srv.cfg.ClinicPhone}}
	st.Session.ClinicianName = srv.clinicianName(ctx, s.Clinician)
	if v.host {
		pays := srv.lobbyPayments(ctx, s)
		for _, p := range ps {
			view := participantView(p)
			if pay := pays[p.ID]; pay != nil {
				view.Payment = srv.paymentView(pay)
			}
			st.Lobby = append(st.Lobby, view)
		}
	}
	if me.CanJoinCall {
		// Only those let in see who else is: the names of people let in, and the clinician's.
		st.People = append(st.People, PersonView{UserID: s.Clinician, Name: st.Session.ClinicianName, Host: true})
		for _, p := range ps {
			if p.MatrixID != "" && (p.State == bridge.StateAdmitted || p.State == bridge.StateInSession) {
				st.People = append(st.People, PersonView{UserID: p.MatrixID, Name: p.DisplayName()})
			}
		}
	}
	return st, nil
}

// callState answers GET /api/call/state?after=<version>: at once if the session changed since
// that version, else when it changes (a long poll), so a waiting page moves on when admitted.
func (srv *Server) callState(w http.ResponseWriter, r *http.Request) (any, error) {
	v, err := srv.viewerFrom(r)
	if err != nil {
		return nil, err
	}
	srv.prepareGuest(r.Context(), v)
	if after, err := strconv.ParseUint(r.URL.Query().Get("after"), 10, 64); err == nil {
		srv.hub.wait(r.Context(), v.session.ID, after)
	}
	return srv.state(r.Context(), v)
}

// prepareGuest makes a guest's ghost ready when their page first opens, in the background,
// so that their knock later is one homeserver call instead of four (issue 19's morning rush).
func (srv *Server) prepareGuest(ctx context.Context, v *viewer) {
	s, p := v.session, v.participant
	if !v.guest || p == nil || srv.guests == nil || s.Over() || s.Kind == bridge.KindPhone || s.RoomID == "" ||
		p.State == bridge.StateRemoved || (p.MatrixID != "" && !srv.guests.IsGhost(p.MatrixID)) {
		return
	}
	if _, done := srv.prepared.LoadOrStore(p.ID, true); done {
		return
	}
	session, copied := *s, *p
	ctx = context.WithoutCancel(ctx)
	go func() {
		if err := srv.guests.PrepareGuest(ctx, &session, &copied); err != nil {
			srv.prepared.Delete(copied.ID) // the next poll tries again; the knock does it anyway
			srv.log.Warn().Err(err).Msg("Failed to make a guest's ghost ready")
		}
	}()
}

type knockRequest struct {
	Name string `json:"name"`
}

// callKnock puts a web-link guest in the waiting room under the name they confirmed: their
// ghost knocks on the session room. The server checks the join window whatever the page says.
func (srv *Server) callKnock(w http.ResponseWriter, r *http.Request) (any, error) {
	v, err := srv.viewerFrom(r)
	if err != nil {
		return nil, err
	}
	var req knockRequest
	if err = decode(r, &req); err != nil {
		return nil, err
	}
	name, err := bridge.ValidateName(req.Name)
	if err != nil {
		return nil, errorf(http.StatusBadRequest, "bad_name", "%s", capitalize(err.Error()))
	}
	if !v.guest {
		return nil, errorf(http.StatusConflict, "use_matrix", "Ask to join from your Matrix app: open the session's room and request to join.")
	}
	s, p := v.session, v.participant
	now := srv.clock.Now()
	switch {
	case s.Over():
		return nil, errorf(http.StatusConflict, "session_over", "This session is over.")
	case s.Kind == bridge.KindPhone:
		return nil, errorf(http.StatusConflict, "phone_session", "This is a telephone session: your clinician will call you.")
	case !s.AcceptsKnocks(now, srv.svc.Window()):
		return nil, errorf(http.StatusConflict, "too_early", "The waiting room opens at %s.", bridge.LocalTimeOf(s, srv.svc.Window(), p.TimeZone, p.Locale).Opens)
	case p.State == bridge.StateRemoved:
		return nil, errorf(http.StatusForbidden, "removed", "The clinician removed you from this session.")
	case p.MatrixID != "" && !srv.guests.IsGhost(p.MatrixID):
		return nil, errorf(http.StatusConflict, "use_matrix", "You are booked with your Matrix account: join from your Matrix app.")
	}
	if p.Active() {
		// Already waiting or let in (a reload, a second tab): no second knock.
		return srv.state(r.Context(), v)
	}
	before, received := p.State, time.Now()
	if err = srv.guests.GuestKnock(r.Context(), s, p, name); err != nil {
		return nil, err
	}
	srv.knockTimed("web_stored", received)
	st, err := srv.waitFor(r.Context(), v, func(st *CallState) bool { return st.Me.State != string(before) })
	if err == nil {
		srv.knockTimed("web_answered", received)
	}
	return st, err
}

// knockTimed records a stage of a guest's knock, from when the request came in (real time).
func (srv *Server) knockTimed(stage string, received time.Time) {
	if srv.KnockTimer != nil {
		srv.KnockTimer(stage, time.Since(received))
	}
}

// waitFor returns the viewer's state once cond holds, or after a short while: a page that
// acted sees the result at once instead of on its next poll.
func (srv *Server) waitFor(ctx context.Context, v *viewer, cond func(*CallState) bool) (*CallState, error) {
	waitCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	for {
		st, err := srv.state(ctx, v)
		if err != nil || cond(st) || waitCtx.Err() != nil {
			return st, err
		}
		srv.hub.wait(waitCtx, v.session.ID, st.Version)
	}
}

// CallAccess is what a page needs to connect to the call.
type CallAccess struct {
	Credential string      `json:"credential"`
	WebSocket  string      `json:"ws_url"`
	ICEServers []ICEServer `json:"ice_servers"`
	UserID     string      `json:"user_id"`
	Host       bool        `json:"host"`
	// Session is the call to join with the credential: only for a connection check, whose
	// call is the person's own and empty.
	Session string `json:"session,omitempty"`
	// LiveKit is the session's LiveKit room, when calls go through LiveKit.
	LiveKit *LiveKitAccess `json:"livekit,omitempty"`
}

// LiveKitWebDevice is the MatrixRTC device of a web guest's call page (media/livekit's
// WebDevice; web does not depend on the backend).
const LiveKitWebDevice = "WEB"

// LiveKitAccess is how to connect to a session's LiveKit room.
type LiveKitAccess struct {
	URL string `json:"url"`
	// Token opens that room only, for a few minutes (a connection, once made, lasts).
	Token string `json:"token"`
}

// CheckSessionPrefix starts the IDs of connection-check calls: a call with nobody else in
// it, that forwards nothing, to see that ICE reaches the SFU's media port (or its TURN
// server). Session IDs never contain a dash, so no check can be a real session's call.
const CheckSessionPrefix = "check-"

// callCheck answers POST /api/call/check, for "Test my setup": a credential for a call of the
// person's own (check-<hash of who they are>), the ICE servers they would get, and the
// socket. Anyone holding a valid link of the session, before or after being let in, may check.
func (srv *Server) callCheck(w http.ResponseWriter, r *http.Request) (any, error) {
	v, err := srv.viewerFrom(r)
	if err != nil {
		return nil, err
	}
	if v.session.Over() {
		return nil, errorf(http.StatusConflict, "session_over", "This session is over.")
	}
	if srv.calls == nil {
		return nil, errorf(http.StatusServiceUnavailable, "no_calls", "Calls are not available on this bridge.")
	}
	// The checker is named after their viewer, never a Matrix user of the session's room, and
	// has one check call: a new check replaces the last (the SFU keeps one connection per
	// user and call), so nobody holds several.
	user := "check:" + v.session.ID
	if v.participant != nil {
		user += ":" + strconv.FormatInt(v.participant.ID, 10)
	} else {
		user += ":" + v.userID
	}
	sum := sha256.Sum256([]byte(user))
	session := CheckSessionPrefix + hex.EncodeToString(sum[:12])
	cred, err := srv.calls.Credential(session, user, false)
	if err != nil {
		return nil, err
	}
	ws := "ws" + srv.cfg.PublicURL[len("http"):] + "/call/ws"
	servers := srv.calls.ICEServers(v.session, user)
	if servers == nil {
		servers = []ICEServer{}
	}
	return &CallAccess{Credential: cred, WebSocket: ws, ICEServers: servers, UserID: user, Session: session}, nil
}

// callJoin gives a call credential to the clinician and to participants who are in the session
// (joined members of its room): nobody else gets one.
func (srv *Server) callJoin(w http.ResponseWriter, r *http.Request) (any, error) {
	v, err := srv.viewerFrom(r)
	if err != nil {
		return nil, err
	}
	st, err := srv.state(r.Context(), v)
	if err != nil {
		return nil, err
	}
	if !st.Me.CanJoinCall {
		if v.session.Over() {
			return nil, errorf(http.StatusConflict, "session_over", "This session is over.")
		}
		return nil, errorf(http.StatusForbidden, "not_admitted", "The clinician has not let you in yet.")
	}
	if srv.calls == nil && srv.livekit == nil {
		return nil, errorf(http.StatusServiceUnavailable, "no_calls", "Calls are not available on this bridge.")
	}
	// Always a list, empty without TURN: a page passes it as RTCConfiguration.iceServers,
	// which refuses null.
	access := &CallAccess{ICEServers: []ICEServer{}, UserID: v.userID, Host: v.host}
	if srv.calls != nil {
		cred, err := srv.calls.Credential(v.session.ID, v.userID, v.host)
		if err != nil {
			return nil, err
		}
		access.Credential, access.WebSocket = cred, "ws"+srv.cfg.PublicURL[len("http"):]+"/call/ws"
		if ice := srv.calls.ICEServers(v.session, v.userID); ice != nil {
			access.ICEServers = ice
		}
	}
	if srv.livekit != nil {
		if v.session.RoomID == "" {
			return nil, errorf(http.StatusServiceUnavailable, "no_room", "The session's call is not ready yet. Please try again in a moment.")
		}
		// The page's identity is the Matrix user, so that the clinician's tiles and removal
		// name the same person as the room does; a web guest's ghost connects as its device
		// WEB (<ghost>:WEB), the identity Element Call derives from the membership the bridge
		// writes for them once connected (media/livekit). The token's user attribute stays the
		// ghost: tiles, presence and removal read it.
		identity := v.userID
		if !v.host && srv.guests != nil && srv.guests.IsGhost(v.userID) {
			identity = v.userID + ":" + LiveKitWebDevice
		}
		token, err := srv.livekit.Token(v.session.RoomID, identity, v.userID, v.host)
		if err != nil {
			return nil, err
		}
		access.LiveKit = &LiveKitAccess{URL: srv.livekit.URL(), Token: token}
	}
	return access, nil
}

// callPrepare answers POST /api/call/prepare: a waiting credential, for the participant who
// knocked on this session and waits (me.can_prepare_call), in the shape of /api/call/join. Its
// connection is in no call: nothing is forwarded to or from it until the bridge lets them in
// and the page asks to enter; a denial, removal or withdrawn knock closes it.
func (srv *Server) callPrepare(w http.ResponseWriter, r *http.Request) (any, error) {
	v, err := srv.viewerFrom(r)
	if err != nil {
		return nil, err
	}
	st, err := srv.state(r.Context(), v)
	if err != nil {
		return nil, err
	}
	if !st.Me.CanPrepareCall {
		if v.session.Over() {
			return nil, errorf(http.StatusConflict, "session_over", "This session is over.")
		}
		return nil, errorf(http.StatusForbidden, "not_waiting", "Only someone waiting to be let in can connect ahead.")
	}
	if srv.calls == nil {
		return nil, errorf(http.StatusServiceUnavailable, "no_calls", "Calls are not available on this bridge.")
	}
	cred, err := srv.calls.WaitingCredential(v.session.ID, v.userID)
	if err != nil {
		return nil, err
	}
	ice := srv.calls.ICEServers(v.session, v.userID)
	if ice == nil {
		ice = []ICEServer{}
	}
	return &CallAccess{Credential: cred, WebSocket: "ws" + srv.cfg.PublicURL[len("http"):] + "/call/ws", ICEServers: ice, UserID: v.userID}, nil
}

// callLeave takes a guest out of the session: their ghost leaves the room. Matrix users stay
// members of the room; leaving the call only closes their connection.
func (srv *Server) callLeave(w http.ResponseWriter, r *http.Request) (any, error) {
	v, err := srv.viewerFrom(r)
	if err != nil {
		return nil, err
	}
	if v.guest && v.participant.MatrixID != "" && v.participant.Active() {
		before := v.participant.State
		if err = srv.guests.GuestLeave(r.Context(), v.session, v.participant); err != nil {
			return nil, err
		}
		// The page shows what happened (left, and may ask again) once the leave is applied.
		return srv.waitFor(r.Context(), v, func(st *CallState) bool { return st.Me.State != string(before) })
	}
	return srv.state(r.Context(), v)
}

// SessionListItem is one of a participant's sessions on their "My sessions" page.
type SessionListItem struct {
	Session SessionView `json:"session"`
	State   string      `json:"state"`
	// CanJoin: its waiting room is open now.
	CanJoin bool   `json:"can_join"`
	Link    string `json:"link"`
}

// samePerson says whether two participant records are the same person: the same name (case
// and spacing aside) and a shared email address or phone number, and no contact that differs.
// A shared contact alone is not enough: siblings booked with a parent's email address are
// different people, and neither may see or use the other's sessions.
func samePerson(a, b *bridge.Participant) bool {
	if a.ID == b.ID {
		return true
	}
	if normalName(a.Name) != normalName(b.Name) {
		return false
	}
	emailShared := a.Email != "" && strings.EqualFold(a.Email, b.Email)
	phoneShared := a.Phone != "" && a.Phone == b.Phone
	emailDiffers := a.Email != "" && b.Email != "" && !strings.EqualFold(a.Email, b.Email)
	phoneDiffers := a.Phone != "" && b.Phone != "" && a.Phone != b.Phone
	return (emailShared || phoneShared) && !emailDiffers && !phoneDiffers
}

func normalName(name string) string {
	return strings.ToLower(strings.Join(strings.Fields(name), " "))
}

// callSessions lists the guest's upcoming sessions with this clinic, next first: every
// session of the same person (samePerson), never another's who shares a contact.
func (srv *Server) callSessions(w http.ResponseWriter, r *http.Request) (any, error) {
	v, err := srv.viewerFrom(r)
	if err != nil {
		return nil, err
	}
	if !v.guest {
		return nil, errorf(http.StatusForbidden, "guests_only", "This list is for links from an invitation.")
	}
	p := v.participant
	ctx := r.Context()
	mine, err := srv.db.Participant.ByContact(ctx, p.Email, p.Phone)
	if err != nil {
		return nil, err
	}
	mine = slices.DeleteFunc(mine, func(q *bridge.Participant) bool { return !samePerson(p, q) })
	if !slices.ContainsFunc(mine, func(q *bridge.Participant) bool { return q.ID == p.ID }) {
		mine = append(mine, p)
	}
	now := srv.clock.Now()
	var items []SessionListItem
	for _, q := range mine {
		s, err := srv.svc.Session(ctx, q.SessionID)
		if errors.Is(err, bridge.ErrNotFound) {
			continue
		} else if err != nil {
			return nil, err
		}
		if s.Over() || now.After(s.End) {
			continue
		}
		link, err := srv.ParticipantLink(ctx, s, q)
		if err != nil {
			return nil, err
		}
		items = append(items, SessionListItem{
			Session: srv.sessionView(s, q.TimeZone, q.Locale), State: string(q.State),
			CanJoin: s.Kind != bridge.KindPhone && s.AcceptsKnocks(now, srv.svc.Window()), Link: link,
		})
	}
	slices.SortFunc(items, func(a, b SessionListItem) int { return int(a.Session.Start - b.Session.Start) })
	return map[string]any{"sessions": items}, nil
}

type hostRequest struct {
	Participant string `json:"participant"`
	Text        string `json:"text"`
}

// callHost runs the clinician's Attendees Access Panel actions from the call page.
func (srv *Server) callHost(w http.ResponseWriter, r *http.Request) (any, error) {
	v, err := srv.viewerFrom(r)
	if err != nil {
		return nil, err
	}
	if !v.host {
		return nil, errorf(http.StatusForbidden, "host_only", "Only the clinician can do this.")
	}
	var req hostRequest
	if err = decode(r, &req); err != nil {
		return nil, err
	}
	if err = srv.hostAction(bridge.WithAuditVia(r.Context(), "call"), v.session.Clinician, v.session.ID, r.PathValue("action"), req); err != nil {
		return nil, err
	}
	return srv.state(r.Context(), v)
}

// hostAction is an Attendees Access Panel action, from the call page or the panel.
func (srv *Server) hostAction(ctx context.Context, actor, sessionID, action string, req hostRequest) error {
	err := srv.svc.HostAction(ctx, actor, sessionID, action, req.Participant, req.Text)
	if errors.Is(err, bridge.ErrUnknownAction) {
		return errorf(http.StatusNotFound, "unknown_action", "Unknown action %q.", action)
	}
	if err != nil {
		return paymentError(err)
	}
	return nil
}
