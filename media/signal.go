package media

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"
	"unicode/utf8"

	"github.com/coder/websocket"
	"github.com/pion/webrtc/v4"
	"github.com/rs/zerolog"
)

// message is every signalling message; each type uses some of the fields (docs/signalling.md).
type message struct {
	Type         string             `json:"type"`
	Credential   string             `json:"credential,omitempty"`
	Session      string             `json:"session,omitempty"`
	SDP          string             `json:"sdp,omitempty"`
	Labels       map[string]string  `json:"labels,omitempty"`
	Candidate    json.RawMessage    `json:"candidate,omitempty"`
	UserID       string             `json:"user_id,omitempty"`
	Host         *bool              `json:"host,omitempty"`
	Peers        []peerInfo         `json:"peers,omitempty"`
	StreamID     string             `json:"stream_id,omitempty"`
	TrackID      string             `json:"track_id,omitempty"`
	Label        string             `json:"label,omitempty"`
	Kind         string             `json:"kind,omitempty"`
	Muted        *bool              `json:"muted,omitempty"`
	Command      string             `json:"command,omitempty"`
	Participant  string             `json:"participant,omitempty"`
	Text         string             `json:"text,omitempty"`
	Message      string             `json:"message,omitempty"`
	Reason       string             `json:"reason,omitempty"`
	Participants []LobbyParticipant `json:"participants,omitempty"`
	LobbyMessage string             `json:"lobby_message,omitempty"`
}

type peerInfo struct {
	UserID     string `json:"user_id"`
	Host       bool   `json:"host"`
	AudioMuted bool   `json:"audio_muted"`
	VideoMuted bool   `json:"video_muted"`
}

const (
	maxMessageSize = 64 << 10
	joinTimeout    = 10 * time.Second
	// closeForbidden is the close code for a refused credential.
	closeForbidden websocket.StatusCode = 4403
)

func (s *Server) serveSignalling(w http.ResponseWriter, r *http.Request) {
	ws, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	ws.SetReadLimit(maxMessageSize)
	ctx := context.Background()

	joinCtx, cancel := context.WithTimeout(ctx, joinTimeout)
	first, err := readMessage(joinCtx, ws)
	cancel()
	if err != nil {
		_ = ws.Close(websocket.StatusPolicyViolation, closeReason(err.Error()))
		return
	}
	if first.Type != "join" {
		_ = ws.Close(websocket.StatusPolicyViolation, closeReason("The first message must be join"))
		return
	}
	claims, err := Verify(s.secret, first.Credential, s.clock.Now())
	if err == nil && claims.Session != first.Session {
		err = errors.New("the credential is for another session")
	}
	if err != nil {
		s.log.Info().Err(err).Msg("Refused a call connection")
		_ = ws.Close(closeForbidden, closeReason("Not allowed in this call: "+err.Error()))
		return
	}
	log := s.log.With().Str("session_id", claims.Session).Str("user_id", claims.User).Logger()
	p, err := s.admit(ctx, claims, ws, log)
	var setUp *setUpError
	switch {
	case errors.As(err, &setUp):
		log.Err(err).Msg("Failed to set up a call connection")
		_ = ws.Close(websocket.StatusInternalError, closeReason("The call could not be set up"))
		return
	case err != nil:
		log.Info().Err(err).Msg("Refused a call connection")
		if p != nil {
			p.close(closeForbidden, "Not allowed in this call: "+err.Error())
		} else {
			_ = ws.Close(closeForbidden, closeReason("Not allowed in this call: "+err.Error()))
		}
		return
	}
	go p.writeLoop(ctx)
	if p.waiting.Load() {
		// Connected ahead while the holder waits: the offer has their receive-only m-lines
		// and nothing else; being let in (enter) adds the others' tracks.
		p.sendJSON(message{Type: "waiting", UserID: p.user})
		p.setUp()
		log.Info().Msg("Waiting connection opened")
	} else if err = p.inRoom(ctx); err != nil {
		log.Err(err).Msg("Failed to join the call")
		p.close(websocket.StatusInternalError, "The call could not be set up")
		return
	}
	p.readLoop(ctx)
}

// inRoom ends a peer's entry into its room: it subscribes to what is published there, makes
// the one offer of the set-up, and tells the others.
func (p *peer) inRoom(ctx context.Context) error {
	rm, s := p.room, p.srv
	if err := rm.subscribeAll(p); err != nil {
		return err
	}
	p.setUp()
	if p.host && !p.lobbySent && s.hooks.Lobby != nil {
		if view, err := s.hooks.Lobby(ctx, rm.id); err == nil {
			p.sendJSON(message{Type: "lobby", Participants: view.Participants, LobbyMessage: view.LobbyMessage})
		}
	}
	host := p.host
	rm.broadcast(p, message{Type: "peer_joined", UserID: p.user, Host: &host})
	p.log.Info().Bool("host", p.host).Msg("Call connection opened")
	if h := s.hooks.Presence; h != nil {
		go h(rm.id, p.user, p.host, true)
	}
	return nil
}

// enterRoom lets a waiting peer into its session's call once the bridge says it is admitted,
// with the same guarantee against removals as a join (admit). Its connection is up already:
// the offer that follows only adds the others' tracks.
//
// Both the bridge (Server.LetIn) and the page (enter) may ask; the first does it.
func (p *peer) enterRoom(ctx context.Context) error {
	if !p.entering.CompareAndSwap(false, true) {
		return nil
	}
	s := p.srv
	c := Claims{Session: p.session, User: p.user}
	for try := 1; ; try++ {
		seen := s.joining(c.Session)
		err := s.admitted(ctx, c)
		entered := false
		if err == nil {
			entered, _ = s.enter(p, c.Session, seen)
		}
		s.joined(c.Session)
		if entered {
			break
		}
		if err == nil && try == 3 {
			err = errors.New("the participants changed while joining; try again")
		}
		if err != nil {
			p.entering.Store(false)
			return &closeError{closeForbidden, "Not allowed in this call: " + err.Error()}
		}
	}
	if err := p.inRoom(ctx); err != nil {
		return err
	}
	// The connection is up: the publishers' keyframes come while the page answers, and the
	// answer's binding sends them from the cache (answered, upTrack.prime).
	p.requestKeyframes()
	return nil
}

// admit checks that the credential's holder may be in the call and puts their new peer in the
// session's room, atomically with respect to removals: the admission is asked after the
// session's removal count is read, and the peer enters only if no removal (Hangup, EndCalls)
// happened meanwhile; otherwise admission is asked again, up to three times. So a removal
// either finds the peer in the room, or the peer's admission check saw the removal. On a
// refusal, the peer if there is one is returned for closing.
func (s *Server) admit(ctx context.Context, c Claims, ws *websocket.Conn, log zerolog.Logger) (*peer, error) {
	var p *peer
	for try := 1; ; try++ {
		seen := s.joining(c.Session)
		err := s.admitted(ctx, c)
		if err == nil && p == nil {
			if p, err = newPeer(s, c, ws, log); err != nil {
				s.joined(c.Session)
				return nil, &setUpError{err}
			}
		}
		entered, replaced := false, (*peer)(nil)
		if err == nil {
			entered, replaced = s.enter(p, c.Session, seen)
		}
		s.joined(c.Session)
		if replaced != nil {
			replaced.close(4001, "You opened the call elsewhere")
		}
		if entered {
			return p, nil
		}
		if err == nil && try == 3 {
			err = errors.New("the participants changed while joining; try again")
		}
		if err != nil {
			return p, err
		}
	}
}

// setUpError is a failure of the SFU's own, not a refusal.
type setUpError struct{ err error }

func (e *setUpError) Error() string { return e.err.Error() }
func (e *setUpError) Unwrap() error { return e.err }

// admitted asks the bridge whether the credential's holder may still be in the call, or for
// a waiting credential, whether they knocked and may wait connected.
func (s *Server) admitted(ctx context.Context, c Claims) error {
	if c.Waiting {
		if s.hooks.Waiting == nil || c.Host {
			return errors.New("no waiting connections here")
		}
		return s.hooks.Waiting(ctx, c.Session, c.User)
	}
	if s.hooks.Admitted == nil {
		return nil
	}
	return s.hooks.Admitted(ctx, c.Session, c.User, c.Host)
}

// readMessage reads one JSON message; anything else is an error naming the problem.
func readMessage(ctx context.Context, ws *websocket.Conn) (*message, error) {
	kind, data, err := ws.Read(ctx)
	if err != nil {
		var ce websocket.CloseError
		if errors.As(err, &ce) {
			return nil, err
		}
		if errors.Is(err, context.DeadlineExceeded) {
			return nil, errors.New("No join message in time")
		}
		return nil, fmt.Errorf("Unreadable message: %v", err)
	}
	if kind != websocket.MessageText {
		return nil, errors.New("Messages must be JSON text")
	}
	var m message
	if err = json.Unmarshal(data, &m); err != nil {
		return nil, errors.New("Messages must be JSON objects")
	}
	return &m, nil
}

// closeReason fits a reason in a close frame (123 bytes): with a longer one, the socket would
// drop without saying why.
func closeReason(reason string) string { return clip(reason, 123) }

// clip cuts s to at most n bytes, on a character boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}

// closeError is an error that closes the socket with its own code.
type closeError struct {
	code   websocket.StatusCode
	reason string
}

func (e *closeError) Error() string { return e.reason }

// bucket is a token bucket of messages: rate a second, up to rate at once.
type bucket struct {
	rate, tokens float64
	last         time.Time
}

func (b *bucket) allow(now time.Time) bool {
	b.tokens = min(b.rate, b.tokens+now.Sub(b.last).Seconds()*b.rate)
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// readLoop handles the page's messages until the socket closes. A bad message, or more than
// media.signalling.message_rate of them a second, closes this socket only.
func (p *peer) readLoop(ctx context.Context) {
	defer p.close(websocket.StatusNormalClosure, "Left the call")
	rate := float64(p.srv.cfg.Signalling.MessageRate)
	// Wall time, not the server's clock: this is about the machine's load.
	limit := bucket{rate: rate, tokens: rate, last: time.Now()}
	for {
		m, err := readMessage(ctx, p.ws)
		if err == nil && !limit.allow(time.Now()) {
			err = &closeError{closeRateLimited, "Too many messages"}
		}
		var limited *closeError
		if errors.As(err, &limited) {
			p.close(limited.code, limited.reason)
			return
		}
		if err != nil {
			var ce websocket.CloseError
			if !errors.As(err, &ce) && !errors.Is(err, context.Canceled) {
				select {
				case <-p.closed:
				default:
					p.close(websocket.StatusPolicyViolation, err.Error())
				}
			}
			return
		}
		if err = p.handle(ctx, m); err != nil {
			code := websocket.StatusPolicyViolation
			var ce *closeError
			if errors.As(err, &ce) {
				code = ce.code
			}
			p.close(code, err.Error())
			return
		}
	}
}

// handle runs one message. An error closes the socket.
func (p *peer) handle(ctx context.Context, m *message) error {
	if p.waiting.Load() {
		// Not let in yet: the connection itself, and the request to enter, nothing more.
		switch m.Type {
		case "answer", "candidate", "restart", "leave":
		case "enter":
			return p.enterRoom(ctx)
		default:
			return fmt.Errorf("Not in the call yet: %q is refused while waiting", clip(m.Type, 20))
		}
	}
	switch m.Type {
	case "enter":
		return nil // already in
	case "answer":
		return p.answered(m.SDP)
	case "candidate":
		if string(m.Candidate) == "null" || len(m.Candidate) == 0 {
			return nil
		}
		if len(m.Candidate) > maxCandidateSize {
			return &closeError{closeTooLarge, fmt.Sprintf("A candidate must be at most %d bytes", maxCandidateSize)}
		}
		var c webrtc.ICECandidateInit
		if err := json.Unmarshal(m.Candidate, &c); err != nil {
			return errors.New("A candidate must be an RTCIceCandidateInit")
		}
		return p.addCandidate(c)
	case "publish":
		if m.Label != "screen" {
			return fmt.Errorf("Only a screen can be published, not %q", clip(m.Label, 20))
		}
		return p.startScreen()
	case "unpublish":
		p.stopScreen()
		return nil
	case "mute":
		if m.Muted == nil || (m.Kind != "audio" && m.Kind != "video") {
			return errors.New("A mute needs kind audio or video and muted")
		}
		p.mu.Lock()
		if m.Kind == "audio" {
			p.audioMuted = *m.Muted
		} else {
			p.videoMuted = *m.Muted
		}
		p.mu.Unlock()
		p.room.broadcastState(p, m.Kind, *m.Muted)
		return nil
	case "restart":
		p.negotiate(true)
		return nil
	case "host":
		p.hostCommand(ctx, m)
		return nil
	case "leave":
		p.close(websocket.StatusNormalClosure, "Left the call")
		return nil
	}
	return fmt.Errorf("Unknown message type %q", clip(m.Type, 20))
}

// hostCommand passes a clinician's command to the bridge; a refusal goes back as an error
// message and leaves the socket open.
func (p *peer) hostCommand(ctx context.Context, m *message) {
	h := p.room.srv.hooks.Host
	var err error
	switch {
	case !p.host:
		err = errors.New("Only the clinician can do this.")
	case h == nil:
		err = errors.New("This bridge takes no commands from the call.")
	default:
		err = h.HostCommand(ctx, p.room.id, p.user, HostCommand{Command: m.Command, Participant: m.Participant, Text: m.Text})
	}
	if err != nil {
		p.sendJSON(message{Type: "error", Message: err.Error(), Command: m.Command})
	}
}
