// Package web serves the bridge's public pages and their JSON API: the participant's page
// from their guest link (session time, waiting room, call), the call page for Matrix users and
// the clinician, the clinician's panel, and the Element widget. Pages are embedded static
// files; everything they know comes from the API, which reads and acts through the session
// domain.
package web

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/rs/zerolog"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"github.com/telehealth-bridge/telehealth-bridge/database"
)

//go:embed assets
var assets embed.FS

// Guests is the Matrix side of web-link guests: their ghost users.
type Guests interface {
	// GuestKnock makes the participant's ghost (created if needed) knock with the name.
	GuestKnock(ctx context.Context, s *bridge.Session, p *bridge.Participant, name string) error
	// PrepareGuest makes the participant's ghost ready (registered, named) ahead of their
	// knock, so that the knock is one homeserver call.
	PrepareGuest(ctx context.Context, s *bridge.Session, p *bridge.Participant) error
	// GuestLeave makes the participant's ghost leave the session room.
	GuestLeave(ctx context.Context, s *bridge.Session, p *bridge.Participant) error
	// IsGhost reports whether a user is one of the bridge's guest ghosts.
	IsGhost(userID string) bool
}

// Calls is the SFU, as the pages need it.
type Calls interface {
	// Credential issues a short-lived call credential for a member of a session.
	Credential(sessionID, userID string, host bool) (string, error)
	// WaitingCredential issues a short-lived waiting credential for a participant who knocked:
	// it connects ahead of admission, and forwards nothing until they are let in.
	WaitingCredential(sessionID, userID string) (string, error)
	// ICEServers are the STUN/TURN servers to give this user's browser, with credentials
	// that end with the session.
	ICEServers(s *bridge.Session, userID string) []ICEServer
}

// LiveKit is the token service of the LiveKit media backend (media.backend: livekit).
type LiveKit interface {
	// URL is the LiveKit server's address for clients.
	URL() string
	// Token is an access token to the LiveKit room of a Matrix room's call, for a user the
	// caller checked is let in; only the clinician's (host) may moderate.
	Token(matrixRoomID, identity, userID string, host bool) (string, error)
}

// ICEServer is one entry of RTCConfiguration.iceServers.
type ICEServer struct {
	URLs       []string `json:"urls"`
	Username   string   `json:"username,omitempty"`
	Credential string   `json:"credential,omitempty"`
}

// Config is the web server's part of the bridge config.
type Config struct {
	// PublicURL is how browsers reach the pages, without a trailing slash.
	PublicURL string
	// Listen is the address to listen on.
	Listen string
	// SigningKey signs guest links and derives their tokens.
	SigningKey []byte
	// LinkGrace is how long after a session's end its guest links keep working.
	LinkGrace time.Duration
	// PanelIdle is how long a panel sign-in lasts without activity.
	PanelIdle time.Duration
	// IsClinician says who may use the panel.
	IsClinician func(userID string) bool
	// TrustedProxies are the reverse proxies whose X-Forwarded-For is believed (none by default).
	TrustedProxies []netip.Prefix
	// ElementOrigins are the Matrix clients' origins that may frame the widget.
	ElementOrigins []string
	// ClinicName and ClinicPhone are whom clients are told to contact (notifications.clinic_name
	// and clinic_phone); the phone may be empty.
	ClinicName, ClinicPhone string
	// ClinicTimeZone is offered first when booking (empty: the clinician's browser zone).
	ClinicTimeZone string
	// PortalIdle and PortalMaxAge end a client's portal sign-in after inactivity, and in all
	// (portal.idle and portal.max_age).
	PortalIdle, PortalMaxAge time.Duration
	// EnrolOnFirstBooking opens a newly booked client's portal and sends the enrolment
	// (portal.enrol_on_first_booking).
	EnrolOnFirstBooking bool
	// PortalSignUp opens the public sign-up page (portal.signup).
	PortalSignUp bool
	// Middleware, if set, wraps every route (the metrics' timing).
	Middleware func(http.Handler) http.Handler
	// DocumentMaxSize is the largest document uploaded or served (documents.max_size).
	DocumentMaxSize int64
}

// ClinicianNames gives the name a clinician shows participants (their Matrix display name).
type ClinicianNames interface {
	ClinicianName(ctx context.Context, userID string) (string, error)
}

// Server is the public web server.
type Server struct {
	cfg    Config
	log    zerolog.Logger
	db     *database.Database
	svc    *bridge.Service
	clock  clockwork.Clock
	guests Guests
	calls  Calls
	// Signalling is the SFU's WebSocket handler, mounted at /call/ws.
	signalling http.Handler
	// extra holds handlers other parts mount (the SMS provider's webhooks).
	extra map[string]http.Handler
	// openid verifies Element's OpenID tokens.
	openid OpenIDVerifier
	// livekit issues LiveKit tokens when calls go through LiveKit; nil with the embedded SFU.
	livekit LiveKit
	// names gives clinicians' display names, cached in nameCache (every long poll shows one).
	names     ClinicianNames
	nameCache nameCache

	hub *hub
	// panelCache keeps the panel lists' session views (panelListed).
	panelCache panelCache
	// KnockTimer, if set, hears how long a guest's knock took (stages "web_stored" and
	// "web_answered"). Set it before serving.
	KnockTimer func(stage string, d time.Duration)
	// prepared holds the participants whose ghost was made ready when their page opened.
	prepared sync.Map
	limiter  *limiter
	// chat is the in-call chat's Matrix side; chatLimit counts each sender's messages.
	chat      Chat
	chatLimit *limiter
	// threads are the clients' Messages threads (web/messages.go).
	threads Threads
	// documents is the media repository and the Messages rooms' files (documents.go).
	documents Documents
	server    *http.Server
	// clients and codes are the client records and the code sender of the portal's sign-in;
	// portal limits its attempts, passkeys its WebAuthn ceremonies.
	clients  ClientDirectory
	codes    PortalCodeSender
	portal   *portalLimits
	passkeys *passkeys
	// enrolment sends the portal's enrolment links; enrolLimit counts them per record.
	enrolment  PortalEnrolmentSender
	enrolLimit *limiter
	// avatars fetches professionals' pictures, kept in avatarCache.
	avatars     Avatars
	avatarCache avatarCache
	// stop ends the background work Start began (the limiter's sweep).
	stop context.CancelFunc
}

var _ bridge.Watcher = (*hub)(nil)

// New prepares the web server; Start serves it.
func New(cfg Config, db *database.Database, svc *bridge.Service, clock clockwork.Clock, log zerolog.Logger) *Server {
	if cfg.LinkGrace == 0 {
		cfg.LinkGrace = 2 * time.Hour
	}
	if cfg.PanelIdle == 0 {
		cfg.PanelIdle = 30 * time.Minute
	}
	srv := &Server{
		cfg: cfg, log: log.With().Str("component", "web").Logger(), db: db, svc: svc, clock: clock,
		hub: newHub(), limiter: newLimiter(clock, 20, time.Minute, cfg.TrustedProxies),
		chatLimit: newLimiter(clock, chatBurst, chatWindow, nil), extra: map[string]http.Handler{},
	}
	if srv.cfg.PortalIdle == 0 {
		srv.cfg.PortalIdle = 30 * time.Minute
	}
	if srv.cfg.PortalMaxAge == 0 {
		srv.cfg.PortalMaxAge = 12 * time.Hour
	}
	srv.portal = newPortalLimits(srv)
	srv.passkeys = newPasskeys(srv)
	srv.enrolLimit = newLimiter(clock, enrolPerHour, enrolWindow, nil)
	srv.hub.onLobby = srv.patchPanel
	svc.Watch(srv.hub)
	return srv
}

// Use connects the Matrix side, the SFU and its signalling handler, and the OpenID verifier.
func (srv *Server) Use(guests Guests, calls Calls, signalling http.Handler, openid OpenIDVerifier) {
	srv.guests, srv.calls, srv.signalling, srv.openid = guests, calls, signalling, openid
}

// UseNames connects where clinicians' display names come from (the Matrix side).
func (srv *Server) UseNames(names ClinicianNames) { srv.names = names }

// NotificationProblem shows the panels following the session that a notification to a
// participant was not sent (the clinician's control room hears of it from the Matrix side).
func (srv *Server) NotificationProblem(s *bridge.Session) { srv.hub.LobbyChanged(s, nil) }

// CallChanged wakes the panels following a session whose telephone call moved.
func (srv *Server) CallChanged(_ context.Context, s *bridge.Session, _ *bridge.CallAttempt) {
	srv.hub.LobbyChanged(s, nil)
}

// UseLiveKit makes the bridge the token service of a LiveKit server: /api/call/join answers
// with a LiveKit token too, and Element Call gets its tokens from /livekit/jwt/.
func (srv *Server) UseLiveKit(lk LiveKit) { srv.livekit = lk }

// Mount serves another part's handler at a path (before Start).
func (srv *Server) Mount(path string, h http.Handler) { srv.extra[path] = h }

// Handler is every route of the public site.
func (srv *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	static, _ := fs.Sub(assets, "assets")
	mux.Handle("GET /assets/", http.StripPrefix("/assets/", http.FileServerFS(static)))

	// Pages. Each is a static file; the token stays in the address, read by the page's script.
	mux.HandleFunc("GET /g/{token}", srv.guestPage())
	mux.HandleFunc("GET /g/{token}/sessions", srv.page("guest.html"))
	mux.HandleFunc("GET /g/{token}/setup", srv.page("guest.html"))
	mux.HandleFunc("GET /call/{session}", srv.page("call.html"))
	mux.HandleFunc("GET /widget", srv.page("call.html"))
	mux.HandleFunc("GET /panel", srv.page("panel.html"))
	// One-time links: a GET only shows a button (link previewers and mail scanners fetch
	// links too); the person's click POSTs, and that spends the token.
	mux.HandleFunc("GET /j/{token}", srv.linkPage("Open the call", "Open the session's call page. This link works once."))
	mux.HandleFunc("GET /l/{token}", srv.linkPage("Sign in", "Sign in to the clinician's panel. This link works once."))
	mux.HandleFunc("POST /j/{token}", srv.serveJoinLink)
	mux.HandleFunc("POST /l/{token}", srv.serveLoginLink)
	mux.HandleFunc("GET /portal", srv.page("portal.html"))
	mux.HandleFunc("GET /portal/enrol", srv.page("portal.html"))
	mux.HandleFunc("GET /portal/signup", srv.page("portal.html"))
	mux.HandleFunc("GET /paid", srv.page("paid.html"))
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/panel", http.StatusFound) })

	// The participant's and the call page's API.
	mux.HandleFunc("GET /api/call/state", srv.api(srv.callState))
	mux.HandleFunc("POST /api/call/knock", srv.api(srv.callKnock))
	mux.HandleFunc("POST /api/call/join", srv.api(srv.callJoin))
	mux.HandleFunc("POST /api/call/check", srv.api(srv.callCheck))
	mux.HandleFunc("POST /api/call/prepare", srv.api(srv.callPrepare))
	mux.HandleFunc("POST /api/call/leave", srv.api(srv.callLeave))
	mux.HandleFunc("POST /api/call/pay", srv.api(srv.callPay))
	mux.HandleFunc("GET /api/call/sessions", srv.api(srv.callSessions))
	mux.HandleFunc("POST /api/call/host/{action}", srv.api(srv.callHost))
	mux.HandleFunc("GET /api/call/chat", srv.api(srv.callChat))
	mux.HandleFunc("POST /api/call/chat", srv.api(srv.callChatSend))
	mux.HandleFunc("POST /api/widget/login", srv.api(srv.widgetLogin))
	// Element Call's token service (MSC4195, lk-jwt-service's API), under the path the
	// homeserver's .well-known names as the LiveKit focus's livekit_service_url.
	mux.HandleFunc("POST /livekit/jwt/get_token", srv.elementCall(srv.elementCallToken))
	mux.HandleFunc("POST /livekit/jwt/sfu/get", srv.elementCall(srv.elementCallLegacyToken))
	mux.HandleFunc("OPTIONS /livekit/jwt/", srv.elementCallPreflight)
	mux.HandleFunc("/livekit/jwt/", srv.elementCallNotFound)

	// The clinician's panel.
	mux.HandleFunc("GET /api/panel/me", srv.panelAPI(srv.panelMe))
	mux.HandleFunc("POST /api/panel/logout", srv.panelAPI(srv.panelLogout))
	mux.HandleFunc("GET /api/panel/sessions", srv.panelAPI(srv.panelSessions))
	mux.HandleFunc("POST /api/panel/sessions", srv.panelAPI(srv.panelSchedule))
	mux.HandleFunc("GET /api/panel/sessions/{id}", srv.panelAPI(srv.panelLobby))
	mux.HandleFunc("PUT /api/panel/sessions/{id}", srv.panelAPI(srv.panelReschedule))
	mux.HandleFunc("POST /api/panel/sessions/{id}/{action}", srv.panelAPI(srv.panelAction))
	mux.HandleFunc("GET /api/panel/contacts", srv.panelAPI(srv.panelContacts))
	mux.HandleFunc("GET /api/panel/clients", srv.panelAPI(srv.panelClients))
	mux.HandleFunc("POST /api/panel/clients", srv.panelAPI(srv.panelCreateClient))
	mux.HandleFunc("GET /api/panel/clients/{id}", srv.panelAPI(srv.panelClient))
	mux.HandleFunc("PUT /api/panel/clients/{id}", srv.panelAPI(srv.panelUpdateClient))
	mux.HandleFunc("POST /api/panel/clients/{id}/portal", srv.panelAPI(srv.panelEnablePortal))
	mux.HandleFunc("DELETE /api/panel/clients/{id}/portal", srv.panelAPI(srv.panelDisablePortal))
	mux.HandleFunc("POST /api/panel/clients/{id}/enrolment", srv.panelAPI(srv.panelResendEnrolment))
	mux.HandleFunc("GET /api/panel/clients/{id}/forms", srv.panelAPI(srv.panelClientForms))
	mux.HandleFunc("POST /api/panel/clients/{id}/forms", srv.panelAPI(srv.panelAssignForm))
	mux.HandleFunc("GET /api/panel/assignments/{id}", srv.panelAPI(srv.panelAssignment))
	// The clinic's forms (web/forms.go).
	mux.HandleFunc("GET /api/panel/forms", srv.panelAPI(srv.panelForms))
	mux.HandleFunc("POST /api/panel/forms", srv.panelAPI(srv.panelSaveForm))
	mux.HandleFunc("GET /api/panel/forms/{id}", srv.panelAPI(srv.panelForm))
	mux.HandleFunc("PUT /api/panel/forms/{id}", srv.panelAPI(srv.panelSaveForm))
	mux.HandleFunc("GET /api/panel/availability", srv.panelAPI(srv.panelAvailability))
	mux.HandleFunc("PUT /api/panel/availability", srv.panelAPI(srv.panelSetAvailability))
	mux.HandleFunc("GET /api/panel/prospects", srv.panelAPI(srv.panelProspects))
	mux.HandleFunc("GET /api/panel/services", srv.panelAPI(srv.panelServices))
	mux.HandleFunc("POST /api/panel/services", srv.panelAPI(srv.panelSaveService))
	mux.HandleFunc("PUT /api/panel/services/{id}", srv.panelAPI(srv.panelSaveService))
	mux.HandleFunc("POST /api/panel/prospects/{id}/{action}", srv.panelAPI(srv.panelProspectAction))
	// The client portal's sign-in (web/portalauth.go, web/portalpasskey.go).
	mux.HandleFunc("POST /api/portal/auth/code", srv.api(srv.portalRequestCode))
	mux.HandleFunc("POST /api/portal/auth/code/verify", srv.api(srv.portalVerifyCode))
	mux.HandleFunc("POST /api/portal/auth/password", srv.api(srv.portalPasswordSignIn))
	mux.HandleFunc("POST /api/portal/auth/enrol", srv.api(srv.portalEnrol))
	mux.HandleFunc("POST /api/portal/auth/passkey/login/begin", srv.api(srv.passkeyLoginBegin))
	mux.HandleFunc("POST /api/portal/auth/passkey/login/finish", srv.api(srv.passkeyLoginFinish))
	mux.HandleFunc("GET /api/portal/auth/me", srv.portalAPI(srv.portalMe))
	mux.HandleFunc("GET /api/portal/home", srv.portalAPI(srv.portalHome))
	mux.HandleFunc("GET /api/portal/professionals/{n}/avatar", srv.portalAPI(srv.portalAvatar))
	mux.HandleFunc("POST /api/portal/sessions/{id}/cancel", srv.portalAPI(srv.portalCancel))
	mux.HandleFunc("POST /api/portal/sessions/{id}/move", srv.portalAPI(srv.portalMove))
	// The Messages thread, from the portal and from the panel (web/messages.go).
	mux.HandleFunc("GET /api/portal/messages", srv.portalAPI(srv.portalMessages))
	mux.HandleFunc("POST /api/portal/messages", srv.portalAPI(srv.portalSendMessage))
	mux.HandleFunc("GET /api/panel/clients/{id}/messages", srv.panelAPI(srv.panelMessages))
	mux.HandleFunc("POST /api/panel/clients/{id}/messages", srv.panelAPI(srv.panelSendMessage))
	mux.HandleFunc("POST /api/portal/auth/password/set", srv.portalAPI(srv.portalSetPassword))
	mux.HandleFunc("POST /api/portal/auth/passkey/register/begin", srv.portalAPI(srv.passkeyRegisterBegin))
	mux.HandleFunc("POST /api/portal/auth/passkey/register/finish", srv.portalAPI(srv.passkeyRegisterFinish))
	mux.HandleFunc("POST /api/portal/auth/logout", srv.portalAnyAPI(srv.portalLogout))
	// The public sign-up (web/portalsignup.go): 404 unless portal.signup is on.
	mux.HandleFunc("GET /api/portal/signup", srv.api(srv.portalSignUpOpen))
	mux.HandleFunc("POST /api/portal/signup/code", srv.api(srv.portalSignUpCode))
	mux.HandleFunc("POST /api/portal/signup/verify", srv.api(srv.portalSignUpVerify))
	mux.HandleFunc("POST /api/portal/auth/logout-everywhere", srv.portalAPI(srv.portalLogoutEverywhere))
	// Self-scheduling for the signed-in client (web/portalslots.go, web/portalbook.go).
	booking := srv.portalBooking()
	for _, route := range []string{"GET /api/portal/slots", "POST /api/portal/book", "GET /api/portal/professionals"} {
		mux.Handle(route, booking)
	}
	// The portal's Settings (web/portalsettings.go).
	mux.HandleFunc("GET /api/portal/settings", srv.portalAPI(srv.portalSettings))
	mux.HandleFunc("POST /api/portal/settings", srv.portalAPI(srv.portalChangeSettings))
	mux.HandleFunc("POST /api/portal/settings/contact/code", srv.portalAPI(srv.portalContactCode))
	mux.HandleFunc("POST /api/portal/settings/contact/verify", srv.portalAPI(srv.portalContactVerify))
	mux.HandleFunc("POST /api/portal/settings/passkeys/remove", srv.portalAPI(srv.portalRemovePasskey))
	mux.HandleFunc("POST /api/portal/settings/password/code", srv.portalAPI(srv.portalPasswordCode))
	mux.HandleFunc("POST /api/portal/settings/password", srv.portalAPI(srv.portalChangePassword))
	mux.HandleFunc("GET /api/portal/settings/export", srv.portalAPI(srv.portalExport))
	// The client's forms to fill in: their to-do list (web/forms.go).
	// Documents (documents.go).
	mux.HandleFunc("GET /api/portal/documents", srv.portalAPI(srv.portalDocuments))
	mux.HandleFunc("GET /api/portal/documents/{id}/file", srv.portalAPI(srv.portalDocumentFile))
	mux.HandleFunc("GET /api/panel/clients/{id}/documents", srv.panelAPI(srv.panelDocuments))
	mux.HandleFunc("POST /api/panel/clients/{id}/documents", srv.panelUploadAPI(srv.panelShareDocument))
	mux.HandleFunc("GET /api/panel/clients/{id}/documents/{doc}/file", srv.panelAPI(srv.panelDocumentFile))
	mux.HandleFunc("GET /api/panel/templates", srv.panelAPI(srv.panelTemplates))
	mux.HandleFunc("POST /api/panel/templates", srv.panelUploadAPI(srv.panelCreateTemplate))
	mux.HandleFunc("GET /api/panel/templates/{id}/file", srv.panelAPI(srv.panelTemplateFile))
	mux.HandleFunc("GET /api/call/documents", srv.api(srv.callDocuments))
	mux.HandleFunc("GET /api/call/documents/{id}/file", srv.api(srv.callDocumentFile))
	mux.HandleFunc("POST /api/call/documents/{id}/ack", srv.api(srv.callAcknowledge))
	mux.HandleFunc("GET /api/portal/forms", srv.portalAPI(srv.portalForms))
	mux.HandleFunc("GET /api/portal/forms/{id}", srv.portalAPI(srv.portalForm))
	mux.HandleFunc("PUT /api/portal/forms/{id}", srv.portalAPI(srv.portalSaveForm))
	mux.HandleFunc("POST /api/portal/forms/{id}/submit", srv.portalAPI(srv.portalSaveForm))
	mux.HandleFunc("GET /api/portal/payments", srv.portalAPI(srv.portalPayments))
	mux.HandleFunc("POST /api/portal/payments/{id}/pay", srv.portalAPI(srv.portalPay))
	mux.HandleFunc("PUT /api/portal/insurance", srv.portalAPI(srv.portalSetInsurance))
	mux.HandleFunc("POST /api/portal/insurance/cards", srv.portalAPI(srv.portalAddInsuranceCard))
	// Anything else under /api/ is an API client's mistake: say so in JSON, like every answer there.
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "There is no such API endpoint.", "code": "no_endpoint"})
	})

	if srv.signalling != nil {
		mux.Handle("GET /call/ws", keepOpen(srv.signalling))
	}
	for path, h := range srv.extra {
		mux.Handle(path, h)
	}
	var connect []string
	if srv.livekit != nil {
		connect = liveKitOrigins(srv.livekit.URL())
	}
	return securityHeaders(srv.cfg.PublicURL, srv.cfg.ElementOrigins, connect, mux)
}

// liveKitOrigins are the origins the call page reaches the LiveKit server at: its signalling
// socket (ws:// or wss://) and the same host over http(s), where livekit-client asks why a
// connection was refused.
func liveKitOrigins(raw string) []string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return nil
	}
	switch u.Scheme {
	case "ws", "http":
		return []string{"ws://" + u.Host, "http://" + u.Host}
	case "wss", "https":
		return []string{"wss://" + u.Host, "https://" + u.Host}
	}
	return nil
}

// Start listens and serves.
func (srv *Server) Start() error {
	l, err := net.Listen("tcp", srv.cfg.Listen)
	if err != nil {
		return fmt.Errorf("listening for web pages on %s (web.hostname and web.port): %w", srv.cfg.Listen, err)
	}
	h := srv.Handler()
	if srv.cfg.Middleware != nil {
		h = srv.cfg.Middleware(h)
	}
	srv.server = newHTTPServer(h)
	ctx, cancel := context.WithCancel(context.Background())
	srv.stop = cancel
	go srv.limiter.run(ctx)
	go srv.chatLimit.run(ctx)
	srv.portal.run(ctx)
	go srv.passkeys.run(ctx)
	go srv.enrolLimit.run(ctx)
	go func() {
		if err := srv.server.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			srv.log.Err(err).Msg("Web server failed")
		}
	}()
	srv.log.Info().Str("address", srv.cfg.Listen).Str("public_url", srv.cfg.PublicURL).Msg("Serving web pages")
	return nil
}

// Timeouts of the public server: a client that sends its request slowly, or holds an idle
// connection, is cut off. Writing allows for the longest answer, a long poll (longPoll) and
// the wait after an action (waitFor).
const (
	readHeaderTimeout = 10 * time.Second
	readTimeout       = 15 * time.Second
	writeTimeout      = longPoll + 30*time.Second
	idleTimeout       = 90 * time.Second
	maxHeaderBytes    = 64 << 10
)

func newHTTPServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler: h, ReadHeaderTimeout: readHeaderTimeout, ReadTimeout: readTimeout,
		WriteTimeout: writeTimeout, IdleTimeout: idleTimeout, MaxHeaderBytes: maxHeaderBytes,
	}
}

// keepOpen lifts the server's read and write deadlines for a WebSocket: a call lasts as long
// as it lasts, and the SFU has its own keep-alive and rate limits. (The WebSocket library
// clears them on its own today; this keeps it so whatever library the SFU uses.)
func keepOpen(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		_ = rc.SetReadDeadline(time.Time{})
		_ = rc.SetWriteDeadline(time.Time{})
		next.ServeHTTP(w, r)
	})
}

// Stop stops serving; waiting long-polls end at once.
func (srv *Server) Stop(ctx context.Context) {
	srv.hub.close()
	if srv.stop != nil {
		srv.stop()
	}
	if srv.server != nil {
		_ = srv.server.Shutdown(ctx)
	}
}

// securityHeaders keeps the pages to themselves: no framing except of the widget by the
// configured Matrix clients, no inline scripts, connections only to this site, its call
// socket and the LiveKit server if calls go through one (connect), no referrer (addresses
// carry tokens).
func securityHeaders(publicURL string, elementOrigins, connect []string, next http.Handler) http.Handler {
	socket := "ws" + strings.TrimPrefix(publicURL, "http") + "/call/ws"
	for _, origin := range connect {
		socket += " " + origin
	}
	widgetFrame := "'none'"
	if len(elementOrigins) > 0 {
		widgetFrame = strings.Join(elementOrigins, " ")
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Permissions-Policy", "camera=(self), microphone=(self), display-capture=(self)")
		frame := "'none'"
		if r.URL.Path == "/widget" {
			frame = widgetFrame
		}
		h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "+
			"media-src 'self' blob: mediastream:; connect-src 'self' "+socket+"; frame-ancestors "+frame+"; base-uri 'none'; form-action 'self'")
		if !strings.HasPrefix(r.URL.Path, "/assets/") {
			h.Set("Cache-Control", "no-store")
		}
		next.ServeHTTP(w, r)
	})
}

func (srv *Server) page(name string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		data, err := assets.ReadFile("assets/" + name)
		if err != nil {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write(data)
	}
}

// apiError is an error with the HTTP status and the message a person reads.
type apiError struct {
	status int
	code   string
	msg    string
	// fields are the reasons by field of a refusal about several fields (a form's answers).
	fields map[string]string
}

func (e *apiError) Error() string { return e.msg }

func errorf(status int, code, format string, args ...any) *apiError {
	return &apiError{status: status, code: code, msg: fmt.Sprintf(format, args...)}
}

// api wraps a JSON handler: it decodes nothing itself, encodes the result, and turns errors
// into {"error": "...", "code": "..."} with their status. Domain errors become 4xx with their
// text; anything else is a 500 whose details stay in the log.
func (srv *Server) api(f func(w http.ResponseWriter, r *http.Request) (any, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		log := srv.log.With().Str("method", r.Method).Str("path", routePattern(r)).Logger()
		r = r.WithContext(log.WithContext(r.Context()))
		if r.Method != http.MethodGet && r.Header.Get("X-Requested-With") != "telehealth" {
			// A header a cross-site form cannot send: the API's CSRF guard.
			writeJSON(w, http.StatusForbidden, map[string]string{"error": "Missing X-Requested-With header", "code": "csrf"})
			return
		}
		result, err := f(w, r)
		if err != nil && r.Context().Err() != nil && errors.Is(err, context.Canceled) {
			// The page went away (a closed long poll, a reload, a tab shut): nobody is left
			// to answer, and nothing went wrong.
			log.Debug().Err(err).Msg("The request ended before its answer")
			return
		}
		if err != nil {
			var ae *apiError
			switch {
			case errors.As(err, &ae):
			case errors.Is(err, bridge.ErrClientNotFound):
				ae = errorf(http.StatusNotFound, "not_found", "There is no such client.")
			case errors.Is(err, bridge.ErrNotFound):
				ae = errorf(http.StatusNotFound, "not_found", "There is no such session.")
			case errors.Is(err, bridge.ErrNotYourSession):
				ae = errorf(http.StatusForbidden, "forbidden", "This is not your session.")
			case errors.Is(err, bridge.ErrInvalidSchedule), errors.Is(err, bridge.ErrInvalidTransition),
				errors.Is(err, bridge.ErrParticipantUnkn), errors.Is(err, bridge.ErrLobbyClosed), errors.Is(err, bridge.ErrSessionOver):
				ae = errorf(http.StatusConflict, "refused", "%s", capitalize(err.Error()))
			case errors.Is(err, bridge.ErrNotTelephone), errors.Is(err, bridge.ErrNoPhoneOnFile),
				errors.Is(err, bridge.ErrCallInProgress), errors.Is(err, bridge.ErrCallsOff):
				ae = errorf(http.StatusConflict, "call_refused", "%s", capitalize(err.Error()))
			case errors.Is(err, bridge.ErrCallNotPlaced):
				ae = errorf(http.StatusBadGateway, "call_failed", "%s", capitalize(err.Error()))
			default:
				log.Err(err).Msg("API request failed")
				ae = errorf(http.StatusInternalServerError, "internal", "Something went wrong on our side. Please try again.")
			}
			if ae.fields != nil {
				writeJSON(w, ae.status, map[string]any{"error": ae.msg, "code": ae.code, "fields": ae.fields})
				return
			}
			writeJSON(w, ae.status, map[string]string{"error": ae.msg, "code": ae.code})
			return
		}
		if img, ok := result.(imageResponse); ok {
			img.write(w)
			return
		}
		if f, ok := result.(fileResponse); ok {
			f.write(w)
			return
		}
		if result == nil {
			result = map[string]any{}
		}
		writeJSON(w, http.StatusOK, result)
	}
}

func routePattern(r *http.Request) string {
	if r.Pattern != "" {
		return r.Pattern
	}
	return r.URL.Path
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// maxBody is the largest JSON body the API reads.
const maxBody = 64 << 10

// decode reads a JSON body of at most maxBody bytes into v. Its errors say what is wrong in
// words a developer of a client can act on, without echoing the body.
func decode(r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, maxBody))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	var tooLarge *http.MaxBytesError
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &tooLarge):
		return errorf(http.StatusRequestEntityTooLarge, "too_large", "The request is larger than %d KiB.", maxBody>>10)
	case errors.As(err, &typeErr):
		if typeErr.Field == "" {
			return errorf(http.StatusBadRequest, "bad_request", "The request must be a JSON object.")
		}
		return errorf(http.StatusBadRequest, "bad_request", "The field %q must be a JSON %s, not %s.", typeErr.Field, jsonKind(typeErr.Type.Kind().String()), typeErr.Value)
	case errors.As(err, &syntaxErr), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return errorf(http.StatusBadRequest, "bad_request", "The request is not valid JSON.")
	case strings.HasPrefix(err.Error(), "json: unknown field"):
		return errorf(http.StatusBadRequest, "bad_request", "The request has an %s.", strings.TrimPrefix(err.Error(), "json: "))
	}
	return errorf(http.StatusBadRequest, "bad_request", "The request is not valid JSON.")
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "string"
	case "bool":
		return "boolean"
	case "struct", "map":
		return "object"
	case "slice", "array":
		return "array"
	}
	return "number"
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
