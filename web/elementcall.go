package web

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"github.com/telehealth-bridge/telehealth-bridge/media/livekit"
)

// Element Call's token service: the API of MSC4195 (element-hq/lk-jwt-service) that Element
// Call and Element X call at the LiveKit focus's livekit_service_url. A Matrix client proves
// who it is with an OpenID token, checked with its homeserver as the widget's is, and gets a
// LiveKit token only if the lobby let it into the session whose room the call is in. Answers
// are Matrix-style errors, as Element Call expects.

// openIDToken is the OpenID token a Matrix client got from its homeserver.
type openIDToken struct {
	AccessToken      string `json:"access_token"`
	TokenType        string `json:"token_type"`
	MatrixServerName string `json:"matrix_server_name"`
	ExpiresIn        int    `json:"expires_in"`
}

// rtcMember is the MatrixRTC membership the client will publish.
type rtcMember struct {
	ID              string `json:"id"`
	ClaimedUserID   string `json:"claimed_user_id"`
	ClaimedDeviceID string `json:"claimed_device_id"`
}

// sfuRequest is POST /get_token's body.
type sfuRequest struct {
	RoomID      string      `json:"room_id"`
	SlotID      string      `json:"slot_id"`
	OpenIDToken openIDToken `json:"openid_token"`
	Member      rtcMember   `json:"member"`
	// Delayed leave events are the homeserver's business here: the bridge hands them to no
	// one, and accepts the fields so that clients sending them are not refused.
	DelayID       string `json:"delay_id,omitempty"`
	DelayTimeout  int    `json:"delay_timeout,omitempty"`
	DelayCsAPIURL string `json:"delay_cs_api_url,omitempty"`
}

// legacySFURequest is POST /sfu/get's body (older Element Call).
type legacySFURequest struct {
	Room          string      `json:"room"`
	OpenIDToken   openIDToken `json:"openid_token"`
	DeviceID      string      `json:"device_id"`
	DelayID       string      `json:"delay_id,omitempty"`
	DelayTimeout  int         `json:"delay_timeout,omitempty"`
	DelayCsAPIURL string      `json:"delay_cs_api_url,omitempty"`
}

// SFUAccess is the answer: the LiveKit server and a token for the call's room.
type SFUAccess struct {
	URL string `json:"url"`
	JWT string `json:"jwt"`
}

// matrixError is a Matrix-style error answer.
type matrixError struct {
	status  int
	ErrCode string `json:"errcode"`
	Err     string `json:"error"`
}

func (e *matrixError) Error() string { return e.Err }

func matrixErr(status int, code, msg string) *matrixError {
	return &matrixError{status: status, ErrCode: code, Err: msg}
}

var (
	errECBadJSON      = matrixErr(http.StatusBadRequest, "M_BAD_JSON", "The request is missing the room, the member or the OpenID token.")
	errECUnauthorized = matrixErr(http.StatusUnauthorized, "M_UNAUTHORIZED", "The OpenID token could not be checked with your homeserver.")
	// One answer for an unknown room, someone not let in and a session over: it must not
	// tell which rooms are sessions.
	errECForbidden = matrixErr(http.StatusForbidden, "M_FORBIDDEN", "You have not been let into this session's call.")
)

// elementCall wraps a token endpoint: CORS for any origin (Element Call runs on its own
// site and sends no cookies: the OpenID token in the body is the credential), the rate
// limit of OpenID sign-ins, and Matrix-style errors.
func (srv *Server) elementCall(f func(r *http.Request, ip string) (*SFUAccess, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		corsAnyOrigin(w)
		if srv.livekit == nil {
			writeJSON(w, http.StatusNotFound, matrixErr(http.StatusNotFound, "M_NOT_FOUND", "Calls on this bridge do not go through LiveKit."))
			return
		}
		ip := srv.limiter.key(r)
		if !srv.limiter.allow(ip) {
			writeJSON(w, http.StatusTooManyRequests, matrixErr(http.StatusTooManyRequests, "M_LIMIT_EXCEEDED", "Too many attempts. Please wait a minute."))
			return
		}
		out, err := f(r, ip)
		var me *matrixError
		switch {
		case err == nil:
			writeJSON(w, http.StatusOK, out)
		case errors.As(err, &me):
			writeJSON(w, me.status, me)
		default:
			srv.log.Err(err).Msg("Failed to issue a LiveKit token to Element Call")
			writeJSON(w, http.StatusInternalServerError, matrixErr(http.StatusInternalServerError, "M_UNKNOWN", "The token could not be issued."))
		}
	}
}

func corsAnyOrigin(w http.ResponseWriter) {
	w.Header().Set("Access-Control-Allow-Origin", "*")
	w.Header().Set("Access-Control-Allow-Methods", "POST")
	w.Header().Set("Access-Control-Allow-Headers", "Content-Type")
}

// elementCallPreflight answers browsers' CORS preflight of the token endpoints.
func (srv *Server) elementCallPreflight(w http.ResponseWriter, _ *http.Request) {
	corsAnyOrigin(w)
	w.WriteHeader(http.StatusNoContent)
}

// elementCallNotFound answers the token service's other paths with a 404 that Element Call can
// read: it probes POST <focus>/delegate_delayed_leave (lk-jwt-service's delegation of delayed
// leave events, which the bridge does not offer) and takes a readable 404 as "not supported";
// without CORS the browser hides the answer and Element Call logs a network error instead.
func (srv *Server) elementCallNotFound(w http.ResponseWriter, _ *http.Request) {
	corsAnyOrigin(w)
	writeJSON(w, http.StatusNotFound, matrixErr(http.StatusNotFound, "M_NOT_FOUND", "This token service has no such endpoint."))
}

// elementCallToken answers POST /livekit/jwt/get_token.
func (srv *Server) elementCallToken(r *http.Request, ip string) (*SFUAccess, error) {
	var req sfuRequest
	if err := decodeLenient(r, &req); err != nil || req.RoomID == "" || req.SlotID == "" || req.Member.ID == "" ||
		req.Member.ClaimedUserID == "" || req.Member.ClaimedDeviceID == "" {
		return nil, errECBadJSON
	}
	userID, err := srv.elementCallUser(r.Context(), ip, req.OpenIDToken)
	if err != nil {
		return nil, err
	}
	if req.Member.ClaimedUserID != userID {
		srv.limiter.fail(ip)
		return nil, errECUnauthorized
	}
	if req.SlotID != livekit.RoomSlot {
		// A session room has one call; another slot would be a call beside it.
		return nil, errECForbidden
	}
	identity := livekit.MemberIdentity(userID, req.Member.ClaimedDeviceID, req.Member.ID)
	return srv.elementCallAccess(r.Context(), ip, req.RoomID, userID, identity)
}

// elementCallLegacyToken answers POST /livekit/jwt/sfu/get, the room's one call.
func (srv *Server) elementCallLegacyToken(r *http.Request, ip string) (*SFUAccess, error) {
	var req legacySFURequest
	if err := decodeLenient(r, &req); err != nil || req.Room == "" || req.DeviceID == "" {
		return nil, errECBadJSON
	}
	userID, err := srv.elementCallUser(r.Context(), ip, req.OpenIDToken)
	if err != nil {
		return nil, err
	}
	// lk-jwt-service's identity for this endpoint: the user and their device.
	return srv.elementCallAccess(r.Context(), ip, req.Room, userID, userID+":"+req.DeviceID)
}

// elementCallUser is the Matrix user an OpenID token belongs to, asked of their homeserver.
func (srv *Server) elementCallUser(ctx context.Context, ip string, t openIDToken) (string, error) {
	if t.AccessToken == "" || t.MatrixServerName == "" {
		return "", errECBadJSON
	}
	if srv.openid == nil {
		return "", matrixErr(http.StatusServiceUnavailable, "M_UNKNOWN", "OpenID tokens cannot be checked on this bridge.")
	}
	userID, err := srv.openid.VerifyOpenID(ctx, t.AccessToken, t.MatrixServerName)
	if err != nil {
		srv.limiter.fail(ip)
		// A fixed reason, never err: the federation client's errors quote the URL with the token.
		srv.log.Info().Str("reason", "the homeserver did not confirm the token").Str("server_name", t.MatrixServerName).Msg("Refused an OpenID token from Element Call")
		return "", errECUnauthorized
	}
	return userID, nil
}

// elementCallAccess gives a token for the Matrix room's call to a user the lobby let in: the
// session's clinician, or a participant in the session (a joined member of its room).
func (srv *Server) elementCallAccess(ctx context.Context, ip, roomID, userID, identity string) (*SFUAccess, error) {
	s, err := srv.svc.SessionByRoom(ctx, roomID)
	if errors.Is(err, bridge.ErrNotFound) {
		srv.limiter.fail(ip)
		return nil, errECForbidden
	} else if err != nil {
		return nil, err
	}
	s, ps, err := srv.svc.Lobby(ctx, "", s.ID)
	if err != nil {
		return nil, err
	}
	host := userID == s.Clinician
	admitted := host
	for _, p := range ps {
		admitted = admitted || (p.MatrixID == userID && p.State == bridge.StateInSession)
	}
	if !admitted || s.Over() {
		srv.log.Info().Str("session_id", s.ID).Msg("Refused a LiveKit token to an Element Call user not let in")
		return nil, errECForbidden
	}
	token, err := srv.livekit.Token(s.RoomID, identity, userID, host)
	if err != nil {
		return nil, err
	}
	return &SFUAccess{URL: srv.livekit.URL(), JWT: token}, nil
}

// decodeLenient reads a JSON body of at most maxBody bytes, ignoring fields it does not know:
// Element Call's requests grow with the MSC.
func decodeLenient(r *http.Request, v any) error {
	return json.NewDecoder(http.MaxBytesReader(nil, r.Body, maxBody)).Decode(v)
}
