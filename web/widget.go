package web

import (
	"context"
	"errors"
	"net/http"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
)

// OpenIDVerifier checks an OpenID token that Element handed to the widget and returns the
// Matrix user it belongs to.
type OpenIDVerifier interface {
	VerifyOpenID(ctx context.Context, accessToken, serverName string) (userID string, err error)
}

type widgetLoginRequest struct {
	AccessToken      string `json:"access_token"`
	MatrixServerName string `json:"matrix_server_name"`
	// SessionID is the session whose call page the widget shows (empty for the panel).
	SessionID string `json:"session_id"`
	// Panel asks for a panel sign-in as well (the clinician's panel opened as a widget).
	Panel bool `json:"panel"`
}

// WidgetLogin is the widget's sign-in: tokens the page keeps (a widget is in a frame, where
// cookies of its own site are not sent).
type WidgetLogin struct {
	UserID     string `json:"user_id"`
	CallToken  string `json:"call_token,omitempty"`
	PanelToken string `json:"panel_token,omitempty"`
}

// widgetLogin signs a Matrix user in from the widget with the OpenID token Element gave it:
// the bridge asks the user's homeserver who the token belongs to.
func (srv *Server) widgetLogin(w http.ResponseWriter, r *http.Request) (any, error) {
	var req widgetLoginRequest
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	ip := srv.limiter.key(r)
	if !srv.limiter.allow(ip) {
		return nil, errorf(http.StatusTooManyRequests, "rate_limited", "Too many attempts. Please wait a minute and try again.")
	}
	if req.AccessToken == "" || req.MatrixServerName == "" {
		return nil, errorf(http.StatusBadRequest, "bad_request", "The OpenID token or its server name is missing.")
	}
	if srv.openid == nil {
		return nil, errorf(http.StatusServiceUnavailable, "no_openid", "Signing in from Element is not available.")
	}
	userID, err := srv.openid.VerifyOpenID(r.Context(), req.AccessToken, req.MatrixServerName)
	if err != nil {
		srv.limiter.fail(ip)
		// A fixed reason, never err: the federation client's errors quote the URL with the token.
		srv.log.Info().Str("reason", "the homeserver did not confirm the token").Str("server_name", req.MatrixServerName).Msg("Refused an OpenID token")
		return nil, errorf(http.StatusForbidden, "openid_refused", "Element's sign-in could not be checked with your homeserver.")
	}
	out := &WidgetLogin{UserID: userID}
	// Who signs in, or is refused, once the homeserver has said who they are. Refusals of
	// unverified tokens are not recorded: anyone can send those, and the trail is never pruned.
	ctx := bridge.WithAuditVia(r.Context(), "widget")
	if req.SessionID != "" {
		// An unknown session is answered as one the user is not booked on: the answer must
		// not tell which session IDs exist.
		notBooked := errorf(http.StatusForbidden, "not_booked", "You are not booked on this session.")
		s, ps, err := srv.svc.Lobby(r.Context(), "", req.SessionID)
		if errors.Is(err, bridge.ErrNotFound) {
			srv.limiter.fail(ip)
			return nil, notBooked
		} else if err != nil {
			return nil, err
		}
		allowed := userID == s.Clinician
		for _, p := range ps {
			allowed = allowed || p.MatrixID == userID
		}
		if !allowed {
			srv.limiter.fail(ip)
			_ = srv.svc.Audit(ctx, bridge.AuditEntry{Actor: userID, Action: bridge.AuditSignInRefused, SessionID: s.ID, Detail: map[string]string{"kind": "call", "reason": "not_booked"}})
			return nil, notBooked
		}
		if out.CallToken, err = srv.callToken(r.Context(), userID, s.ID); err != nil {
			return nil, err
		}
		_ = srv.svc.Audit(ctx, bridge.AuditEntry{Actor: userID, Action: bridge.AuditSignIn, SessionID: s.ID, Detail: map[string]string{"kind": "call"}})
	}
	if req.Panel {
		if srv.cfg.IsClinician == nil || !srv.cfg.IsClinician(userID) {
			_ = srv.svc.Audit(ctx, bridge.AuditEntry{Actor: userID, Action: bridge.AuditSignInRefused, Detail: map[string]string{"kind": "panel", "reason": "not_clinician"}})
			return nil, errorf(http.StatusForbidden, "not_clinician", "Only the clinic's clinicians can use the panel.")
		}
		token, err := srv.newWebSession(r.Context(), kindPanel, userID, "", srv.cfg.PanelIdle)
		if err != nil {
			return nil, err
		}
		out.PanelToken = token
		_ = srv.svc.Audit(ctx, bridge.AuditEntry{Actor: userID, Action: bridge.AuditSignIn, Detail: map[string]string{"kind": "panel"}})
	}
	return out, nil
}
