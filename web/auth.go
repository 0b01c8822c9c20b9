package web

import (
	"context"
	"crypto/rand"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"github.com/telehealth-bridge/telehealth-bridge/database"
)

// Kinds of web sessions.
const (
	kindLogin = "login" // one-time link from !login, exchanged for a panel sign-in
	kindJoin  = "join"  // one-time link from !join, exchanged for a call page sign-in
	kindPanel = "panel" // a clinician signed in to the panel (a cookie)
	kindCall  = "call"  // a Matrix user signed in to one session's call page (a bearer token)
)

const (
	oneTimeLinkTTL = 15 * time.Minute
	panelMaxAge    = 12 * time.Hour
	panelCookie    = "telehealth_panel"
)

func newToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return b64.EncodeToString(b)
}

// newWebSession stores a web session and returns its token.
func (srv *Server) newWebSession(ctx context.Context, kind, userID, sessionID string, ttl time.Duration) (string, error) {
	token := newToken()
	now := srv.clock.Now()
	err := srv.db.WebSession.Insert(ctx, &database.WebSession{
		TokenHash: hashToken(token), Kind: kind, UserID: userID, SessionID: sessionID,
		CreatedAt: now, ExpiresAt: now.Add(ttl), LastSeen: now,
	})
	if err != nil {
		return "", fmt.Errorf("storing a web session: %w", err)
	}
	return token, nil
}

// LoginLink is a one-time link that signs the clinician in to the panel (the bot sends it
// in their control room).
func (srv *Server) LoginLink(ctx context.Context, clinician string) (string, error) {
	token, err := srv.newWebSession(ctx, kindLogin, clinician, "", oneTimeLinkTTL)
	if err != nil {
		return "", err
	}
	_ = srv.svc.Audit(ctx, bridge.AuditEntry{Actor: clinician, Action: bridge.AuditLinkIssued, Subject: clinician, Detail: map[string]string{"kind": "login"}})
	return srv.cfg.PublicURL + "/l/" + token, nil
}

// JoinLink is a one-time link to a session's call page for a Matrix user (for clients
// without widgets, such as Element X).
func (srv *Server) JoinLink(ctx context.Context, userID, sessionID string) (string, error) {
	token, err := srv.newWebSession(ctx, kindJoin, userID, sessionID, oneTimeLinkTTL)
	if err != nil {
		return "", err
	}
	_ = srv.svc.Audit(ctx, bridge.AuditEntry{Actor: userID, Action: bridge.AuditLinkIssued, SessionID: sessionID, Subject: userID, Detail: map[string]string{"kind": "join"}})
	return srv.cfg.PublicURL + "/j/" + token, nil
}

// WidgetURL is the call page as a widget of a session's room. Element replaces the $-variables.
func (srv *Server) WidgetURL(sessionID string) string {
	return srv.cfg.PublicURL + "/widget?session=" + sessionID + "&user=$matrix_user_id&lang=$org.matrix.msc2873.client_language"
}

// linkPage is what a GET of a one-time link shows: a button that posts back to the same
// address. Nothing is looked up or spent.
func (srv *Server) linkPage(button, text string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		lang := browserLang(r)
		title := inLang(lang, "Telehealth")
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = fmt.Fprintf(w, `<!doctype html><html lang="%s"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">`+
			`<meta name="robots" content="noindex"><title>%s</title><link rel="stylesheet" href="/assets/style.css"><link rel="icon" href="data:,"></head>`+
			`<body><main class="card"><h1>%s</h1><p id="message">%s</p>`+
			`<form method="post"><button id="continue" class="primary" type="submit">%s</button></form></main></body></html>`,
			lang, html.EscapeString(title), html.EscapeString(title), html.EscapeString(inLang(lang, text)), html.EscapeString(inLang(lang, button)))
	}
}

// sameOrigin refuses a link's POST from another site: a page elsewhere could post its own
// login link and sign the visitor in to the attacker's panel. Browsers send Sec-Fetch-Site
// (or at least Origin) on every POST; a client sending neither is not a browser.
func (srv *Server) sameOrigin(r *http.Request) bool {
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" {
		return site == "same-origin"
	}
	if origin := r.Header.Get("Origin"); origin != "" {
		return origin == publicOrigin(srv.cfg.PublicURL)
	}
	return true
}

// publicOrigin is scheme://host[:port] of the public URL.
func publicOrigin(publicURL string) string {
	u, err := url.Parse(publicURL)
	if err != nil {
		return publicURL
	}
	return u.Scheme + "://" + u.Host
}

// serveLoginLink exchanges a one-time login link for a panel cookie.
func (srv *Server) serveLoginLink(w http.ResponseWriter, r *http.Request) {
	if !srv.sameOrigin(r) {
		srv.linkErrorPage(w, r, errorf(http.StatusForbidden, "cross_site", "Open the link itself, not from another site."))
		return
	}
	ws, err := srv.takeOneTime(r, kindLogin)
	if err != nil {
		srv.linkErrorPage(w, r, err)
		return
	}
	if err = srv.signInPanel(w, r, ws.UserID); err != nil {
		srv.log.Err(err).Msg("Failed to sign a clinician in")
		http.Error(w, "Something went wrong on our side. Please try again.", http.StatusInternalServerError)
		return
	}
	_ = srv.svc.Audit(bridge.WithAuditVia(r.Context(), "link"), bridge.AuditEntry{Actor: ws.UserID, Action: bridge.AuditSignIn, Detail: map[string]string{"kind": "panel"}})
	http.Redirect(w, r, "/panel", http.StatusSeeOther)
}

// serveJoinLink exchanges a one-time join link for a call page token, handed to the page in
// the address's fragment (never sent to servers, never logged).
func (srv *Server) serveJoinLink(w http.ResponseWriter, r *http.Request) {
	if !srv.sameOrigin(r) {
		srv.linkErrorPage(w, r, errorf(http.StatusForbidden, "cross_site", "Open the link itself, not from another site."))
		return
	}
	ws, err := srv.takeOneTime(r, kindJoin)
	if err != nil {
		srv.linkErrorPage(w, r, err)
		return
	}
	token, err := srv.callToken(r.Context(), ws.UserID, ws.SessionID)
	if err != nil {
		srv.log.Err(err).Msg("Failed to sign a Matrix user in to a call")
		http.Error(w, "Something went wrong on our side. Please try again.", http.StatusInternalServerError)
		return
	}
	_ = srv.svc.Audit(bridge.WithAuditVia(r.Context(), "link"), bridge.AuditEntry{Actor: ws.UserID, Action: bridge.AuditSignIn, SessionID: ws.SessionID, Detail: map[string]string{"kind": "call"}})
	http.Redirect(w, r, "/call/"+ws.SessionID+"#"+token, http.StatusSeeOther)
}

func (srv *Server) takeOneTime(r *http.Request, kind string) (*database.WebSession, error) {
	ip := srv.limiter.key(r)
	if !srv.limiter.allow(ip) {
		return nil, errorf(http.StatusTooManyRequests, "rate_limited", "Too many attempts. Please wait a minute and try again.")
	}
	ws, err := srv.db.WebSession.Take(r.Context(), hashToken(r.PathValue("token")), kind)
	if err != nil {
		return nil, err
	}
	if ws == nil || srv.clock.Now().After(ws.ExpiresAt) {
		srv.limiter.fail(ip)
		return nil, errorf(http.StatusGone, "link_used", "This link was already used or has expired. Ask the bot for a new one.")
	}
	return ws, nil
}

// linkErrorPage shows a plain page for a link that does not work.
func (srv *Server) linkErrorPage(w http.ResponseWriter, r *http.Request, err error) {
	status, msg := http.StatusInternalServerError, "Something went wrong on our side. Please try again."
	if ae, ok := err.(*apiError); ok {
		status, msg = ae.status, ae.msg
	}
	lang := browserLang(r)
	title := html.EscapeString(inLang(lang, "Telehealth"))
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = fmt.Fprintf(w, `<!doctype html><html lang="%s"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">`+
		`<title>%s</title><link rel="stylesheet" href="/assets/style.css"><link rel="icon" href="data:,"></head><body><main class="card"><h1>%s</h1><p id="message">%s</p></main></body></html>`,
		lang, title, title, html.EscapeString(inLang(lang, msg)))
}

// callToken signs a Matrix user in to one session's call page until the session's links expire.
func (srv *Server) callToken(ctx context.Context, userID, sessionID string) (string, error) {
	s, err := srv.svc.Session(ctx, sessionID)
	if err != nil {
		return "", err
	}
	ttl := s.End.Add(srv.cfg.LinkGrace).Sub(srv.clock.Now())
	if ttl <= 0 {
		return "", errorf(http.StatusGone, "session_over", "This session is over.")
	}
	return srv.newWebSession(ctx, kindCall, userID, sessionID, ttl)
}

func (srv *Server) signInPanel(w http.ResponseWriter, r *http.Request, clinician string) error {
	token, err := srv.newWebSession(r.Context(), kindPanel, clinician, "", srv.cfg.PanelIdle)
	if err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{
		Name: panelCookie, Value: token, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode,
		Secure: strings.HasPrefix(srv.cfg.PublicURL, "https://"), MaxAge: int(panelMaxAge.Seconds()),
	})
	return nil
}

// panelSignIn is a panel sign-in as a request found it.
type panelSignIn struct {
	clinician string
	hash      string
	expires   time.Time
}

// panelUser returns the clinician signed in to the panel, ending the sign-in after PanelIdle
// without activity (or panelMaxAge in all). Only a person's requests renew it: a long poll
// (a GET with ?after=) is the page following changes by itself, and an unattended panel must
// not stay signed in because it is open.
func (srv *Server) panelUser(r *http.Request) (*panelSignIn, error) {
	// A cookie on the panel's own page; a bearer token when the panel is a widget in Element,
	// whose frame does not get the site's cookies.
	token, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if cookie, err := r.Cookie(panelCookie); err == nil && cookie.Value != "" {
		token = cookie.Value
	}
	if token == "" {
		return nil, errorf(http.StatusUnauthorized, "signed_out", "Please sign in: send !login to the bot in your control room.")
	}
	hash := hashToken(token)
	ws, err := srv.db.WebSession.Get(r.Context(), hash)
	if err != nil {
		return nil, err
	}
	now := srv.clock.Now()
	if ws == nil || ws.Kind != kindPanel || !now.Before(ws.ExpiresAt) || now.Sub(ws.CreatedAt) > panelMaxAge ||
		srv.cfg.IsClinician == nil || !srv.cfg.IsClinician(ws.UserID) {
		return nil, errorf(http.StatusUnauthorized, "signed_out", "Your sign-in has expired. Send !login to the bot for a new link.")
	}
	in := &panelSignIn{clinician: ws.UserID, hash: hash, expires: ws.ExpiresAt}
	if r.Method == http.MethodGet && r.URL.Query().Has("after") {
		return in, nil
	}
	in.expires = now.Add(srv.cfg.PanelIdle)
	if err = srv.db.WebSession.Touch(r.Context(), hash, now, in.expires); err != nil {
		return nil, err
	}
	return in, nil
}

// viewer is who is on a call or participant page.
type viewer struct {
	session     *bridge.Session
	participant *bridge.Participant // nil for the clinician
	// userID is the Matrix user: the participant's account or ghost, or the clinician.
	userID string
	host   bool
	guest  bool
	status linkStatus
	// lang is the page's language (?lang=en|fr), for a viewer without a booked one.
	lang string
	// inPortal: a guest whose link is their own as the client signed in to the portal.
	inPortal bool
}

// viewerFrom identifies the page's visitor from its bearer token: a guest link token, or a
// call token from a join link or the widget.
func (srv *Server) viewerFrom(r *http.Request) (*viewer, error) {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || token == "" {
		return nil, errorf(http.StatusUnauthorized, "signed_out", "This page needs the link from your invitation.")
	}
	if strings.Count(token, ".") == 2 {
		s, p, status, err := srv.guestFromToken(r, token)
		if err != nil {
			return &viewer{session: s, participant: p, status: status, guest: true}, err
		}
		return &viewer{session: s, participant: p, userID: p.MatrixID, guest: true, inPortal: srv.portalOwns(r, p.ClientID)}, nil
	}
	ws, err := srv.db.WebSession.Get(r.Context(), hashToken(token))
	if err != nil {
		return nil, err
	}
	if ws == nil || ws.Kind != kindCall || srv.clock.Now().After(ws.ExpiresAt) {
		srv.limiter.fail(srv.limiter.key(r))
		return nil, errorf(http.StatusUnauthorized, "signed_out", "Your link to this call has expired. Ask the bot for a new one.")
	}
	s, ps, err := srv.svc.Lobby(r.Context(), "", ws.SessionID)
	if err != nil {
		return nil, err
	}
	v := &viewer{session: s, userID: ws.UserID, host: ws.UserID == s.Clinician}
	if lang := r.URL.Query().Get("lang"); lang == "en" || lang == "fr" {
		v.lang = lang
	}
	for _, p := range ps {
		if p.MatrixID == ws.UserID {
			v.participant = p
		}
	}
	return v, nil
}
