// Package media is the bridge's SFU, built on Pion: each participant has one PeerConnection,
// and the tracks they publish (microphone, camera, screen) are forwarded to the other members
// of their session and nowhere else. A participant connects with a short-lived call credential
// that the bridge issues only to people the clinician let in; the bridge hangs up on people it
// takes out. Signalling is JSON over a WebSocket (docs/signalling.md); ICE uses one UDP port,
// with an optional embedded TURN server for locked-down networks.
package media

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/pion/dtls/v3"
	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/nack"
	"github.com/pion/webrtc/v4"
	"github.com/rs/zerolog"
)

// Config is the SFU's part of the bridge config.
type Config struct {
	// ListenIP is where the ICE UDP port listens (0.0.0.0 for all addresses).
	ListenIP string `yaml:"listen_ip"`
	// UDPPort is the single UDP port of all calls; 0 picks a free one (tests).
	UDPPort int `yaml:"udp_port"`
	// PublicIP is announced to browsers when the bridge is behind a 1:1 NAT.
	PublicIP string `yaml:"public_ip"`
	// CredentialTTL is how long a call credential may be used to connect.
	CredentialTTL time.Duration    `yaml:"credential_ttl"`
	Signalling    SignallingConfig `yaml:"signalling"`
	TURN          TURNConfig       `yaml:"turn"`
}

// SignallingConfig bounds what one call connection may ask of the SFU.
type SignallingConfig struct {
	// AnswerTimeout is how long a page has to answer an offer before it is disconnected.
	AnswerTimeout time.Duration `yaml:"answer_timeout"`
	// MessageRate is how many messages a second a page may send (one second's worth at once).
	MessageRate int `yaml:"message_rate"`
}

// Host carries the clinician's commands from the call page to the session domain.
type Host interface {
	HostCommand(ctx context.Context, sessionID, actor string, cmd HostCommand) error
}

// HostCommand is an Attendees Access Panel action sent over the signalling socket.
type HostCommand struct {
	Command     string `json:"command"`
	Participant string `json:"participant,omitempty"`
	Text        string `json:"text,omitempty"`
}

// LobbyView is what a host's page shows of the lobby.
type LobbyView struct {
	Participants []LobbyParticipant `json:"participants"`
	LobbyMessage string             `json:"lobby_message,omitempty"`
}

// LobbyParticipant is one line of the lobby.
type LobbyParticipant struct {
	Number int    `json:"number"`
	Name   string `json:"name"`
	State  string `json:"state"`
}

// Hooks connect the SFU to the bridge.
type Hooks struct {
	// Admitted says whether the user may still be in the session's call (checked on joining,
	// besides the credential). Nil lets every valid credential in.
	Admitted func(ctx context.Context, sessionID, userID string, host bool) error
	// Host runs host commands. Nil refuses them.
	Host Host
	// Lobby gives a host the lobby when they join.
	Lobby func(ctx context.Context, sessionID string) (LobbyView, error)
	// Presence hears who connects to and leaves a session's call.
	Presence func(sessionID, userID string, host, present bool)
	// Waiting says whether the user knocked on the session and may hold a waiting connection
	// (checked when it opens, besides the waiting credential). Nil refuses waiting connections.
	Waiting func(ctx context.Context, sessionID, userID string) error
}

// socketBuffer is the size asked for the shared UDP socket's kernel buffers.
const socketBuffer = 8 << 20

// Server is the SFU.
type Server struct {
	cfg    Config
	secret []byte
	log    zerolog.Logger
	clock  clockwork.Clock
	hooks  Hooks

	api *webrtc.API
	// cert is the DTLS certificate of every connection: generating one per call costs the
	// joining participant a key generation.
	cert webrtc.Certificate
	udp  net.PacketConn
	mux  ice.UDPMux
	turn *turnServer

	mu    sync.Mutex
	rooms map[string]*room
	// waiting are the waiting connections, by session and user: connected (ICE, DTLS) but in
	// no room, so nothing is forwarded to or from them until they enter one.
	waiting map[string]map[string]*peer
	// gates count, per session with a join under way, the removals since (see admit).
	gates map[string]*gate
	// trackSeq numbers published tracks, for their IDs.
	trackSeq uint64

	stats counters
	// packets are spare packet buffers of the streams' receive buffers (streamBuffer).
	packets sync.Pool
}

// New opens the ICE UDP port (and the TURN server) and prepares the WebRTC stack.
func New(cfg Config, secret []byte, clock clockwork.Clock, log zerolog.Logger) (*Server, error) {
	if cfg.ListenIP == "" {
		cfg.ListenIP = "0.0.0.0"
	}
	if cfg.CredentialTTL == 0 {
		cfg.CredentialTTL = 2 * time.Minute
	}
	if cfg.Signalling.AnswerTimeout == 0 {
		cfg.Signalling.AnswerTimeout = 30 * time.Second
	}
	if cfg.Signalling.MessageRate == 0 {
		cfg.Signalling.MessageRate = 50
	}
	s := &Server{
		cfg: cfg, secret: secret, clock: clock, log: log.With().Str("component", "media").Logger(),
		rooms: map[string]*room{}, gates: map[string]*gate{}, waiting: map[string]map[string]*peer{},
	}
	s.packets.New = func() any { b := make([]byte, packetSize); return &b }
	udp, err := listenShared(net.JoinHostPort(cfg.ListenIP, strconv.Itoa(cfg.UDPPort)))
	if err != nil {
		return nil, fmt.Errorf("opening the ICE UDP port %s:%d (media.listen_ip, media.udp_port): %w", cfg.ListenIP, cfg.UDPPort, err)
	}
	s.udp = udp
	// Every call's first datagrams share this one socket: the kernel's default buffer (about
	// 200 KB, some 150 video packets) overflows during a scheduling pause of a few
	// milliseconds at a few dozen rooms. The kernel caps the request at net.core.rmem_max/wmem_max.
	if err := udp.SetReadBuffer(socketBuffer); err != nil {
		s.log.Warn().Err(err).Msg("Could not enlarge the UDP receive buffer")
	}
	if err := udp.SetWriteBuffer(socketBuffer); err != nil {
		s.log.Warn().Err(err).Msg("Could not enlarge the UDP send buffer")
	}
	s.mux = newUDPMux(udp, &s.stats, s.closeStuck)
	if s.api, err = s.newAPI(); err != nil {
		_ = s.Close()
		return nil, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		_ = s.Close()
		return nil, fmt.Errorf("generating the DTLS key: %w", err)
	}
	cert, err := webrtc.GenerateCertificate(key)
	if err != nil {
		_ = s.Close()
		return nil, fmt.Errorf("generating the DTLS certificate: %w", err)
	}
	s.cert = *cert
	if cfg.TURN.Enabled {
		sfu := sfuAddresses(cfg, udp.LocalAddr().(*net.UDPAddr).Port)
		if s.turn, err = startTURN(cfg.TURN, sfu, clock, s.log); err != nil {
			_ = s.Close()
			return nil, err
		}
	}
	return s, nil
}

// SetHooks connects the bridge (before calls start).
func (s *Server) SetHooks(h Hooks) { s.hooks = h }

// UDPAddr is where the ICE UDP port listens.
func (s *Server) UDPAddr() net.Addr { return s.udp.LocalAddr() }

// newAPI builds the WebRTC stack: Opus, VP8 and H.264; NACK (with a packet cache for
// retransmissions), receiver reports and transport-wide congestion feedback; AES-GCM SRTP
// first; every connection on the one UDP port.
func (s *Server) newAPI() (*webrtc.API, error) {
	m := &webrtc.MediaEngine{}
	videoFeedback := []webrtc.RTCPFeedback{
		{Type: "goog-remb"}, {Type: "ccm", Parameter: "fir"}, {Type: "nack"}, {Type: "nack", Parameter: "pli"},
	}
	codecs := []struct {
		kind  webrtc.RTPCodecType
		codec webrtc.RTPCodecParameters
	}{
		{webrtc.RTPCodecTypeAudio, webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2, SDPFmtpLine: "minptime=10;useinbandfec=1"}, PayloadType: 111}},
		{webrtc.RTPCodecTypeVideo, webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000, RTCPFeedback: videoFeedback}, PayloadType: 96}},
		{webrtc.RTPCodecTypeVideo, webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeH264, ClockRate: 90000, SDPFmtpLine: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f", RTCPFeedback: videoFeedback}, PayloadType: 102}},
	}
	for _, c := range codecs {
		if err := m.RegisterCodec(c.codec, c.kind); err != nil {
			return nil, fmt.Errorf("registering %s: %w", c.codec.MimeType, err)
		}
	}
	// Only what forwarding needs, on the packet path: NACKs generated towards publishers, and
	// RTCP reports. Subscribers' NACKs are answered by the SFU from one cache per video track
	// (upTrack.resend), not by Pion's responder, which copies every packet into a cache per
	// subscriber. No transport-wide congestion feedback: publishers then estimate from the
	// REMB the SFU passes on from their receivers. No stats interceptor: nobody reads the
	// SFU's getStats.
	reg := &interceptor.Registry{}
	reg.Add(newHeaderReuseFactory()) // first: innermost, next to the SRTP stream
	generator, err := nack.NewGeneratorInterceptor()
	if err != nil {
		return nil, fmt.Errorf("creating the NACK generator: %w", err)
	}
	reg.Add(generator)
	if err := webrtc.ConfigureRTCPReports(reg); err != nil {
		return nil, fmt.Errorf("registering RTCP reports: %w", err)
	}
	se := webrtc.SettingEngine{LoggerFactory: quietPion}
	se.SetICEUDPMux(s.mux)
	se.BufferFactory = s.newStreamBuffer
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4, webrtc.NetworkTypeUDP6})
	se.SetSRTPProtectionProfiles(dtls.SRTP_AEAD_AES_128_GCM, dtls.SRTP_AEAD_AES_256_GCM, dtls.SRTP_AES128_CM_HMAC_SHA1_80)
	if s.cfg.PublicIP != "" {
		se.SetNAT1To1IPs([]string{s.cfg.PublicIP}, webrtc.ICECandidateTypeHost)
	}
	if ip := net.ParseIP(s.cfg.ListenIP); ip != nil && !ip.IsUnspecified() {
		// Announce only the address we listen on (loopback in tests).
		se.SetIPFilter(func(candidate net.IP) bool { return candidate.Equal(ip) })
		se.SetIncludeLoopbackCandidate(ip.IsLoopback())
	}
	return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(reg), webrtc.WithSettingEngine(se)), nil
}

// Credential issues a call credential for a member of a session.
func (s *Server) Credential(sessionID, userID string, host bool) string {
	return Issue(s.secret, Claims{Session: sessionID, User: userID, Host: host, Expires: s.clock.Now().Add(s.cfg.CredentialTTL).Unix()})
}

// WaitingCredential issues a waiting credential for a participant who knocked on a session:
// their page connects while they wait, so that being let in costs only a renegotiation.
func (s *Server) WaitingCredential(sessionID, userID string) string {
	return Issue(s.secret, Claims{Session: sessionID, User: userID, Waiting: true, Expires: s.clock.Now().Add(s.cfg.CredentialTTL).Unix()})
}

// ICEServer is one entry of a browser's RTCConfiguration.iceServers.
type ICEServer struct {
	URLs       []string
	Username   string
	Credential string
}

// ICEServers are the TURN servers for a user's browser (none without TURN: the SFU's own
// address is reachable directly). The credentials end at sessionEnd (when the session's lobby
// closes) plus media.turn.session_grace, or after media.turn.ttl if that comes first.
func (s *Server) ICEServers(userID string, sessionEnd time.Time) []ICEServer {
	if s.turn == nil {
		return nil
	}
	return []ICEServer{s.turn.credentials(userID, s.clock.Now(), sessionEnd)}
}

// Hangup closes a participant's call at once: they were removed, sent back or left. The
// bridge has stored the removal before: a join under way sees it (admit).
func (s *Server) Hangup(sessionID, userID string) {
	s.mu.Lock()
	s.removed(sessionID)
	r := s.rooms[sessionID]
	w := s.waiting[sessionID][userID]
	s.mu.Unlock()
	if w != nil {
		w.close(4000, "You were taken out of the session")
	}
	if r != nil {
		r.hangup(userID, "You were taken out of the session")
	}
}

// LetIn moves a participant's waiting connection into their session's call: the bridge has
// stored that they are in. It does not block; the admission is checked again on entering
// (peer.enterRoom), as for a join.
func (s *Server) LetIn(sessionID, userID string) {
	s.mu.Lock()
	p := s.waiting[sessionID][userID]
	s.mu.Unlock()
	if p == nil {
		return
	}
	go func() {
		if err := p.enterRoom(context.Background()); err != nil {
			p.log.Info().Err(err).Msg("A waiting connection stays waiting")
		}
	}()
}

// EndCalls closes every call of a session that ended.
func (s *Server) EndCalls(sessionID string) {
	s.mu.Lock()
	s.removed(sessionID)
	r := s.rooms[sessionID]
	delete(s.rooms, sessionID)
	var waiting []*peer
	for _, w := range s.waiting[sessionID] {
		waiting = append(waiting, w)
	}
	s.mu.Unlock()
	for _, w := range waiting {
		w.close(4000, "The session has ended")
	}
	if r != nil {
		r.closeAll("The session has ended")
	}
}

// PublishLobby sends a session's lobby to its hosts' pages.
func (s *Server) PublishLobby(sessionID string, view LobbyView) {
	if r := s.room(sessionID, false); r != nil {
		r.publishLobby(view)
	}
}

// gate is a session's count of removals while joins are under way.
type gate struct {
	removals uint64
	joining  int
}

// joining starts a join into a session: it returns the session's removal count, to compare
// in enter. Every joining is followed by a joined.
func (s *Server) joining(sessionID string) uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.gates[sessionID]
	if g == nil {
		g = &gate{}
		s.gates[sessionID] = g
	}
	g.joining++
	return g.removals
}

// joined ends a join; the session's gate goes when no join is under way.
func (s *Server) joined(sessionID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if g := s.gates[sessionID]; g != nil {
		if g.joining--; g.joining <= 0 {
			delete(s.gates, sessionID)
		}
	}
}

// removed counts a removal for the joins under way (s.mu held). Without one, nothing needs
// to remember it: later joins ask for admission after the removal was stored.
func (s *Server) removed(sessionID string) {
	if g := s.gates[sessionID]; g != nil {
		g.removals++
	}
}

// enter puts a peer in its session's room unless a removal happened since seen was read. A
// peer of the same user that it replaces is closed by subscribeAll, outside the locks. A
// waiting peer goes among the session's waiting connections instead (replacing the user's
// previous one, returned for closing); one that was waiting leaves them for the room.
func (s *Server) enter(p *peer, sessionID string, seen uint64) (ok bool, replaced *peer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if g := s.gates[sessionID]; g == nil || g.removals != seen {
		return false, nil
	}
	if p.waiting.Load() {
		if p.placed.Load() {
			// Let in: out of the waiting connections (unless closed meanwhile), into the room.
			if s.waiting[sessionID][p.user] != p {
				return false, nil
			}
			delete(s.waiting[sessionID], p.user)
			if len(s.waiting[sessionID]) == 0 {
				delete(s.waiting, sessionID)
			}
			// One offer for all the subscriptions, made by inRoom.
			p.mu.Lock()
			p.settingUp = true
			p.mu.Unlock()
		} else {
			if s.waiting[sessionID] == nil {
				s.waiting[sessionID] = map[string]*peer{}
			}
			replaced = s.waiting[sessionID][p.user]
			s.waiting[sessionID][p.user] = p
			p.placed.Store(true)
			return true, replaced
		}
	}
	r := s.rooms[sessionID]
	if r == nil {
		r = newRoom(s, sessionID)
		s.rooms[sessionID] = r
	}
	p.room = r
	p.placed.Store(true)
	// After the room is set: a waiting peer's track reader (onTrack) reads it once this is false.
	p.waiting.Store(false)
	r.enter(p)
	return true, nil
}

// closeStuck closes the call connection of an ICE username fragment whose packets the shared
// port went on shedding because they were not read (udpMux): its page connects again.
func (s *Server) closeStuck(ufrag string) {
	s.mu.Lock()
	rooms := make([]*room, 0, len(s.rooms))
	for _, r := range s.rooms {
		rooms = append(rooms, r)
	}
	var peers []*peer
	for _, w := range s.waiting {
		for _, p := range w {
			peers = append(peers, p)
		}
	}
	s.mu.Unlock()
	for _, r := range rooms {
		r.mu.Lock()
		for _, p := range r.peers {
			peers = append(peers, p)
		}
		r.mu.Unlock()
	}
	for _, p := range peers {
		if u, _ := p.ufrag.Load().(string); u == ufrag {
			p.log.Warn().Msg("The connection's packets were not read for too long: closing it")
			p.close(4002, "The connection was lost")
			return
		}
	}
}

// leaveWaiting forgets a peer that closed among the waiting connections, and returns its
// room if it entered one.
func (s *Server) leaveWaiting(p *peer) *room {
	s.mu.Lock()
	defer s.mu.Unlock()
	if w := s.waiting[p.session]; w != nil && w[p.user] == p {
		delete(w, p.user)
		if len(w) == 0 {
			delete(s.waiting, p.session)
		}
	}
	return p.room
}

// room returns a session's room, creating it if asked.
func (s *Server) room(sessionID string, create bool) *room {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.rooms[sessionID]
	if r == nil && create {
		r = newRoom(s, sessionID)
		s.rooms[sessionID] = r
	}
	return r
}

// dropRoom forgets a room once its last peer left.
func (s *Server) dropRoom(r *room) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rooms[r.id] == r && r.empty() {
		delete(s.rooms, r.id)
	}
}

// ServeHTTP is the signalling WebSocket (mounted at /call/ws).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.serveSignalling(w, r)
}

// Close stops the SFU: every call ends.
func (s *Server) Close() error {
	s.mu.Lock()
	rooms := s.rooms
	s.rooms = map[string]*room{}
	s.mu.Unlock()
	for _, r := range rooms {
		r.closeAll("The server is stopping")
	}
	if s.turn != nil {
		s.turn.close()
	}
	if s.mux != nil {
		_ = s.mux.Close()
	}
	if s.udp != nil {
		return s.udp.Close()
	}
	return nil
}
