package media

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/coder/websocket"
	"github.com/pion/webrtc/v4"
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
		_ = ws.Close(websocket.StatusPolicyViolation, err.Error())
		return
	}
	if first.Type != "join" {
		_ = ws.Close(websocket.StatusPolicyViolation, "The first message must be join")
		return
	}
	claims, err := Verify(s.secret, first.Credential, s.clock.Now())
	if err == nil && claims.Session != first.Session {
		err = errors.New("the credential is for another session")
	}
	if err == nil && s.hooks.Admitted != nil {
		err = s.hooks.Admitted(ctx, claims.Session, claims.User, claims.Host)
	}
	if err != nil {
		s.log.Info().Err(err).Msg("Refused a call connection")
		_ = ws.Close(closeForbidden, "Not allowed in this call: "+err.Error())
		return
	}

	rm := s.room(claims.Session, true)
	log := s.log.With().Str("session_id", claims.Session).Str("user_id", claims.User).Logger()
	p, err := newPeer(rm, claims.User, claims.Host, ws, log)
	if err != nil {
		log.Err(err).Msg("Failed to set up a call connection")
		_ = ws.Close(websocket.StatusInternalError, "The call could not be set up")
		return
	}
	go p.writeLoop(ctx)
	rm.mu.Lock()
	var peers []peerInfo
	for _, o := range rm.peers {
		if o.user != p.user {
			o.mu.Lock()
			peers = append(peers, peerInfo{UserID: o.user, Host: o.host, AudioMuted: o.audioMuted, VideoMuted: o.videoMuted})
			o.mu.Unlock()
		}
	}
	lobby := rm.lobby
	rm.mu.Unlock()
	host := p.host
	p.sendJSON(message{Type: "joined", UserID: p.user, Host: &host, Peers: peers})
	if err = rm.add(p); err != nil {
		log.Err(err).Msg("Failed to join the call")
		p.close(websocket.StatusInternalError, "The call could not be set up")
		return
	}
	p.setUp()
	if p.host {
		if lobby == nil && s.hooks.Lobby != nil {
			if view, err := s.hooks.Lobby(ctx, claims.Session); err == nil {
				lobby = &view
			}
		}
		if lobby != nil {
			p.sendJSON(message{Type: "lobby", Participants: lobby.Participants, LobbyMessage: lobby.LobbyMessage})
		}
	}
	rm.broadcast(p, message{Type: "peer_joined", UserID: p.user, Host: &host})
	log.Info().Bool("host", p.host).Msg("Call connection opened")
	if h := s.hooks.Presence; h != nil {
		go h(claims.Session, p.user, p.host, true)
	}
	p.negotiate(false)
	p.readLoop(ctx)
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

// readLoop handles the page's messages until the socket closes. A bad message closes this
// socket only.
func (p *peer) readLoop(ctx context.Context) {
	defer p.close(websocket.StatusNormalClosure, "Left the call")
	for {
		m, err := readMessage(ctx, p.ws)
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
			p.close(websocket.StatusPolicyViolation, err.Error())
			return
		}
	}
}

// handle runs one message. An error closes the socket.
func (p *peer) handle(ctx context.Context, m *message) error {
	switch m.Type {
	case "answer":
		return p.answered(m.SDP)
	case "candidate":
		if string(m.Candidate) == "null" || len(m.Candidate) == 0 {
			return nil
		}
		var c webrtc.ICECandidateInit
		if err := json.Unmarshal(m.Candidate, &c); err != nil {
			return errors.New("A candidate must be an RTCIceCandidateInit")
		}
		return p.addCandidate(c)
	case "publish":
		if m.Label != "screen" {
			return fmt.Errorf("Only a screen can be published, not %q", m.Label)
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
		p.room.broadcast(p, message{Type: "mute", UserID: p.user, Kind: m.Kind, Muted: m.Muted})
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
	return fmt.Errorf("Unknown message type %q", m.Type)
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
