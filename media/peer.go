package media

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"github.com/jonboulle/clockwork"
	"github.com/pion/webrtc/v4"
	"github.com/rs/zerolog"
)

// peer is one participant's connection: a WebSocket for signalling and a PeerConnection for
// media. The SFU makes every offer; a renegotiation asked while one is under way runs after it.
type peer struct {
	srv  *Server
	room *room
	// session is the session of the peer's credential (its room's, once in one).
	session string
	user    string
	host    bool
	// waiting: connected with a waiting credential and not let in yet. A waiting peer is in
	// no room: nobody subscribes to it, it subscribes to nobody, and what it sends is dropped
	// (onTrack). It becomes false when the peer enters its room (Server.enter).
	waiting atomic.Bool
	// placed: the peer is (or was) in its room or among the waiting connections.
	placed atomic.Bool
	// entering: a waiting peer is being let in (enterRoom), by the bridge or its page.
	entering atomic.Bool
	ws       *websocket.Conn
	pc       *webrtc.PeerConnection
	log      zerolog.Logger
	// tooSlow: the page fell behind its send queue and is being disconnected; overflows
	// counts such disconnections for the whole SFU (Stats.SendQueueOverflows).
	tooSlow   atomic.Bool
	overflows *atomic.Uint64

	// replaces is the same user's previous connection, closed once this one is set up.
	replaces *peer
	// lobbySent: a host got the lobby on entering the room.
	lobbySent bool

	out    chan []byte
	closed chan struct{}
	once   sync.Once

	mu sync.Mutex
	// labels names the transceivers the peer sends on: audio, camera, screen.
	labels map[*webrtc.RTPTransceiver]string
	// down holds the sender of each track the peer receives.
	down map[*upTrack]*webrtc.RTPSender
	// fresh are the tracks subscribed to since the last answer: once it binds them, they are
	// primed with the cached keyframe (upTrack.prime).
	fresh []*upTrack
	// published are the peer's own tracks, by label.
	published map[string]*upTrack
	// stoppedScreen is the screen track after an unpublish: its transceiver stays and the page
	// sends on it again when it shares again (same SSRC, so no new track arrives), and it is
	// published again then.
	stoppedScreen *upTrack
	// settingUp holds back offers until the peer has joined its room and subscribed to what
	// is published there, so that one negotiation carries it all: media flows one round trip
	// sooner than with an offer for the peer's own receivers first.
	settingUp   bool
	offering    bool
	needOffer   bool
	iceRestart  bool
	audioMuted  bool
	videoMuted  bool
	remoteSet   bool
	pendingCand []webrtc.ICECandidateInit
	// candidates counts the page's candidates since the last ICE restart: a browser has a
	// few dozen at most, and each one makes the SFU send connectivity checks.
	candidates int
	// answerTimer closes the peer if the offer under way is not answered in time.
	answerTimer clockwork.Timer
	// holding keeps the SFU's candidates back while an offer is being made: gathering starts
	// with SetLocalDescription, and a candidate of an ICE restart sent before its offer would
	// reach the page's previous generation and be lost.
	holding bool
	held    []message

	// states are other participants' latest mute states not yet sent to this page, and
	// stateReady wakes the write loop for them: a flood of toggles from one participant
	// replaces entries here instead of filling the queues of everyone else.
	stateMu    sync.Mutex
	states     map[stateKey]bool
	stateReady chan struct{}

	negotiations atomic.Int64
	// ufrag is the ICE username fragment of the SFU's latest offer: its connection on the
	// shared UDP port (udpMux), read from the offer rather than asked of the ICE agent, which
	// may be the part that is stuck (Server.closeStuck).
	ufrag atomic.Value
}

// iceUfrag is the ICE username fragment of a session description ("a=ice-ufrag:"), or "".
func iceUfrag(sdp string) string {
	_, rest, ok := strings.Cut(sdp, "a=ice-ufrag:")
	if !ok {
		return ""
	}
	ufrag, _, _ := strings.Cut(rest, "\n")
	return strings.TrimSpace(ufrag)
}

// stateKey names one participant's microphone or camera.
type stateKey struct{ user, kind string }

// Limits on what a page may ask of the SFU (docs/signalling.md); past them its socket closes.
const (
	// maxCandidates is how many candidates a page may send per ICE generation (and so queue
	// before its answer).
	maxCandidates = 50
	// maxCandidateSize bounds one candidate (RTCIceCandidateInit JSON); real ones are about
	// 100 to 200 bytes.
	maxCandidateSize = 1 << 10
	// closeTooLarge, closeAnswerTimeout and closeRateLimited are the close codes of a page that
	// sent too many or too large candidates, never answered an offer, or sent too many messages.
	closeTooLarge      websocket.StatusCode = 4413
	closeAnswerTimeout websocket.StatusCode = 4408
	closeRateLimited   websocket.StatusCode = 4429
)

// newPeer sets up a participant's connection; it has no room until Server.enter puts it in one.
func newPeer(srv *Server, c Claims, ws *websocket.Conn, log zerolog.Logger) (*peer, error) {
	pc, err := srv.api.NewPeerConnection(webrtc.Configuration{
		BundlePolicy: webrtc.BundlePolicyMaxBundle, RTCPMuxPolicy: webrtc.RTCPMuxPolicyRequire,
		Certificates: []webrtc.Certificate{srv.cert},
	})
	if err != nil {
		return nil, fmt.Errorf("creating the peer connection: %w", err)
	}
	p := &peer{
		srv: srv, session: c.Session, user: c.User, host: c.Host, ws: ws, pc: pc, log: log, settingUp: true, overflows: &srv.stats.sendQueueOverflows,
		out: make(chan []byte, 256), closed: make(chan struct{}),
		labels: map[*webrtc.RTPTransceiver]string{}, down: map[*upTrack]*webrtc.RTPSender{}, published: map[string]*upTrack{},
		states: map[stateKey]bool{}, stateReady: make(chan struct{}, 1),
	}
	p.waiting.Store(c.Waiting)
	for _, label := range []string{"audio", "camera"} {
		if err = p.addReceiver(label); err != nil {
			_ = pc.Close()
			return nil, err
		}
	}
	pc.OnICECandidate(func(c *webrtc.ICECandidate) {
		m := message{Type: "candidate", Candidate: json.RawMessage("null")}
		if c != nil {
			m.Candidate, _ = json.Marshal(c.ToJSON())
		}
		p.mu.Lock()
		if p.holding {
			p.held = append(p.held, m)
			p.mu.Unlock()
			return
		}
		p.mu.Unlock()
		p.sendJSON(m)
	})
	pc.OnTrack(p.onTrack)
	pc.OnConnectionStateChange(func(state webrtc.PeerConnectionState) {
		switch state {
		case webrtc.PeerConnectionStateConnected:
			// Now the peer can receive: what was sent before was lost (Pion drops writes
			// until SRTP is up). The cached keyframe goes at once, and the publishers are
			// asked for a new one.
			p.primeAll()
			p.requestKeyframes()
		case webrtc.PeerConnectionStateFailed, webrtc.PeerConnectionStateClosed:
			p.close(4002, "The connection was lost")
		}
	})
	return p, nil
}

// addReceiver adds a transceiver on which the peer will send the labelled track.
func (p *peer) addReceiver(label string) error {
	kind := webrtc.RTPCodecTypeVideo
	if label == "audio" {
		kind = webrtc.RTPCodecTypeAudio
	}
	tr, err := p.pc.AddTransceiverFromKind(kind, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly})
	if err != nil {
		return fmt.Errorf("adding a %s receiver: %w", label, err)
	}
	p.mu.Lock()
	p.labels[tr] = label
	p.mu.Unlock()
	return nil
}

// onTrack starts forwarding a track the peer publishes (once it is let in).
func (p *peer) onTrack(remote *webrtc.TrackRemote, receiver *webrtc.RTPReceiver) {
	go readSenderReports(receiver)
	if !p.dropWhileWaiting(remote) {
		return
	}
	p.mu.Lock()
	label := ""
	for tr, l := range p.labels {
		if tr.Receiver() == receiver {
			label = l
		}
	}
	p.mu.Unlock()
	if label == "" {
		p.log.Warn().Msg("Ignoring a track on an unexpected transceiver")
		return
	}
	srv := p.srv
	srv.mu.Lock()
	srv.trackSeq++
	seq := srv.trackSeq
	srv.mu.Unlock()
	t := &upTrack{
		owner: p, label: label, remote: remote,
		id: label + "-" + strconv.FormatUint(seq, 10), streamID: "s-" + strconv.FormatUint(seq, 10),
	}
	local, err := newFanout(remote.Codec().RTPCodecCapability, t.id, t.streamID)
	if err != nil {
		p.log.Err(err).Msg("Failed to create a forwarding track")
		return
	}
	t.local = local
	if remote.Kind() == webrtc.RTPCodecTypeVideo {
		t.cache = newPacketCache(videoCachePackets)
	}
	p.mu.Lock()
	if old := p.published[label]; old != nil {
		defer p.room.unpublish(old)
	}
	p.published[label] = t
	p.mu.Unlock()
	p.room.publish(t)
	t.forward()
	// The publisher stopped sending on this transceiver.
	p.mu.Lock()
	if p.published[label] == t {
		delete(p.published, label)
	}
	if p.stoppedScreen == t {
		p.stoppedScreen = nil
	}
	p.mu.Unlock()
	p.room.unpublish(t)
}

// readSenderReports reads what a publisher says about its own stream (sender reports) until
// the stream ends: the interceptors take the timing of the receiver reports sent back to it
// from them. Unread, they filled the stream's RTCP buffer after about ten minutes of a call,
// and from then on every report was shed (80 a second at 20 rooms of 1+1).
func readSenderReports(receiver *webrtc.RTPReceiver) {
	buf := make([]byte, packetSize)
	for {
		if _, _, err := receiver.Read(buf); err != nil {
			return
		}
	}
}

// dropWhileWaiting reads and drops what a waiting peer sends on a track (a page sends nothing
// then; a client that does is not forwarded) until the peer is let in or the track ends. It
// says whether the peer was let in.
func (p *peer) dropWhileWaiting(remote *webrtc.TrackRemote) bool {
	if !p.waiting.Load() {
		return true
	}
	buf := make([]byte, packetSize)
	for p.waiting.Load() {
		if _, _, err := remote.Read(buf); err != nil {
			return false
		}
		if p.waiting.Load() {
			p.srv.stats.drop(dropWaiting)
		}
	}
	return true
}

// subscribe sends another peer's track to this one.
func (p *peer) subscribe(t *upTrack) error {
	p.mu.Lock()
	if _, ok := p.down[t]; ok {
		p.mu.Unlock()
		return nil
	}
	// A transceiver of its own: AddTrack would reuse the receive-only one the peer sends its
	// own camera or microphone on.
	tr, err := p.pc.AddTransceiverFromTrack(t.local, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
	if err != nil {
		p.mu.Unlock()
		return err
	}
	sender := tr.Sender()
	p.down[t] = sender
	if t.cache != nil {
		p.fresh = append(p.fresh, t)
	}
	p.mu.Unlock()
	go t.readRTCP(p, sender)
	p.sendJSON(message{Type: "track", UserID: t.owner.user, StreamID: t.streamID, TrackID: t.id, Label: t.label})
	p.negotiate(false)
	return nil
}

// setUp ends the set-up: the first offer goes out with everything the peer sends and receives.
func (p *peer) setUp() {
	p.mu.Lock()
	p.settingUp = false
	p.mu.Unlock()
	p.negotiate(false)
}

// primeAll sends each video track the peer receives its cached keyframe (upTrack.prime), so
// that a new connection shows a picture without waiting for a publisher's keyframe.
func (p *peer) primeAll() {
	p.mu.Lock()
	tracks := make([]*upTrack, 0, len(p.down))
	senders := make([]*webrtc.RTPSender, 0, len(p.down))
	for t, sender := range p.down {
		tracks, senders = append(tracks, t), append(senders, sender)
	}
	p.mu.Unlock()
	for i, t := range tracks {
		t.prime(senders[i])
	}
}

// requestKeyframes asks the publishers of every video track the peer receives for a keyframe:
// a receiver cannot show anything before one. It runs when the connection comes up and after
// each renegotiation that added tracks.
func (p *peer) requestKeyframes() {
	p.mu.Lock()
	tracks := make([]*upTrack, 0, len(p.down))
	for t := range p.down {
		tracks = append(tracks, t)
	}
	p.mu.Unlock()
	for _, t := range tracks {
		t.requestKeyframe(true)
	}
}

// unsubscribe stops sending a track to this peer.
func (p *peer) unsubscribe(t *upTrack) {
	p.mu.Lock()
	sender, ok := p.down[t]
	delete(p.down, t)
	p.mu.Unlock()
	if !ok {
		return
	}
	if err := p.pc.RemoveTrack(sender); err == nil {
		p.sendJSON(message{Type: "track_ended", UserID: t.owner.user, TrackID: t.id})
		p.negotiate(false)
	}
}

// negotiate sends a new offer now, or after the one under way is answered.
func (p *peer) negotiate(iceRestart bool) {
	p.mu.Lock()
	p.iceRestart = p.iceRestart || iceRestart
	if p.settingUp || p.offering || p.pc.SignalingState() != webrtc.SignalingStateStable {
		p.needOffer = true
		p.mu.Unlock()
		return
	}
	p.offering, p.needOffer = true, false
	restart := p.iceRestart
	p.iceRestart = false
	p.mu.Unlock()
	if err := p.offer(restart); err != nil {
		p.log.Warn().Err(err).Msg("Failed to renegotiate")
		p.close(4500, "The call could not be set up")
	}
}

func (p *peer) offer(iceRestart bool) error {
	p.mu.Lock()
	if iceRestart {
		p.candidates = 0
	}
	p.holding = true
	p.mu.Unlock()
	defer p.sendHeld()
	offer, err := p.pc.CreateOffer(&webrtc.OfferOptions{ICERestart: iceRestart})
	if err != nil {
		return fmt.Errorf("creating an offer: %w", err)
	}
	if err = p.pc.SetLocalDescription(offer); err != nil {
		return fmt.Errorf("setting the offer: %w", err)
	}
	p.ufrag.Store(iceUfrag(offer.SDP))
	labels := map[string]string{}
	p.mu.Lock()
	for _, tr := range p.pc.GetTransceivers() {
		if l, ok := p.labels[tr]; ok && tr.Mid() != "" {
			labels[tr.Mid()] = l
		} else if tr.Mid() != "" {
			labels[tr.Mid()] = "remote"
		}
	}
	n := p.negotiations.Add(1)
	srv := p.srv
	if p.answerTimer != nil {
		p.answerTimer.Stop()
	}
	p.answerTimer = srv.clock.AfterFunc(srv.cfg.Signalling.AnswerTimeout, func() {
		p.mu.Lock()
		waiting := p.offering && p.negotiations.Load() == n
		p.mu.Unlock()
		if waiting {
			p.close(closeAnswerTimeout, "No answer to the offer in time")
		}
	})
	p.mu.Unlock()
	p.sendJSON(message{Type: "offer", SDP: offer.SDP, Labels: labels})
	return nil
}

// sendHeld sends the candidates gathered while an offer was being made, after it.
func (p *peer) sendHeld() {
	p.mu.Lock()
	held := p.held
	p.held, p.holding = nil, false
	p.mu.Unlock()
	for _, m := range held {
		p.sendJSON(m)
	}
}

// answered applies the page's answer and sends the next offer if one was asked meanwhile.
func (p *peer) answered(sdp string) error {
	if err := p.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: sdp}); err != nil {
		return fmt.Errorf("setting the answer: %w", err)
	}
	p.mu.Lock()
	p.offering = false
	p.remoteSet = true
	if p.answerTimer != nil {
		p.answerTimer.Stop()
		p.answerTimer = nil
	}
	pending := p.pendingCand
	p.pendingCand = nil
	again := p.needOffer
	fresh := p.fresh
	p.fresh = nil
	primed := make([]*webrtc.RTPSender, len(fresh))
	for i, t := range fresh {
		primed[i] = p.down[t] // nil if unsubscribed meanwhile
	}
	p.mu.Unlock()
	for i, t := range fresh {
		// A renegotiation has bound the senders by now (the first answer binds them once the
		// connection is up, and the keyframe request on connecting serves instead).
		if primed[i] != nil {
			t.prime(primed[i])
		}
	}
	for _, c := range pending {
		_ = p.pc.AddICECandidate(c)
	}
	if p.pc.ConnectionState() == webrtc.PeerConnectionStateConnected {
		p.requestKeyframes() // tracks added by this renegotiation
	}
	if again {
		p.negotiate(false)
	}
	return nil
}

// addCandidate applies a page's candidate, or queues it until the first answer. The caller
// checked its size.
func (p *peer) addCandidate(c webrtc.ICECandidateInit) error {
	p.mu.Lock()
	if p.candidates++; p.candidates > maxCandidates {
		p.mu.Unlock()
		return &closeError{closeTooLarge, fmt.Sprintf("More than %d candidates", maxCandidates)}
	}
	// While an offer is out, a candidate may belong to the answer's ICE generation (a restart)
	// and overtake the answer: it waits for it.
	if !p.remoteSet || p.offering {
		p.pendingCand = append(p.pendingCand, c)
		p.mu.Unlock()
		return nil
	}
	p.mu.Unlock()
	return p.pc.AddICECandidate(c)
}

// startScreen adds a transceiver for the peer's screen and renegotiates. Sharing again after
// a stop reuses the transceiver: the stopped track is published again.
func (p *peer) startScreen() error {
	p.mu.Lock()
	for _, l := range p.labels {
		if l == "screen" {
			again := p.stoppedScreen
			if again != nil && p.published["screen"] == nil {
				p.published["screen"] = again
				p.stoppedScreen = nil
			} else {
				again = nil
			}
			p.mu.Unlock()
			if again != nil {
				p.room.publish(again)
			}
			p.negotiate(false)
			return nil
		}
	}
	p.mu.Unlock()
	if err := p.addReceiver("screen"); err != nil {
		return err
	}
	p.negotiate(false)
	return nil
}

// stopScreen stops forwarding the peer's screen.
func (p *peer) stopScreen() {
	p.mu.Lock()
	t := p.published["screen"]
	delete(p.published, "screen")
	if t != nil {
		p.stoppedScreen = t
	}
	p.mu.Unlock()
	if t != nil {
		p.room.unpublish(t)
	}
}

// sendJSON queues a message for the page; a page too slow to keep up is disconnected.
func (p *peer) sendJSON(m message) {
	data, err := json.Marshal(m)
	if err != nil {
		return
	}
	select {
	case p.out <- data:
	case <-p.closed:
	default:
		if p.tooSlow.CompareAndSwap(false, true) {
			p.overflows.Add(1)
			go p.close(4008, "Too slow")
		}
	}
}

// queueState records another participant's mute state for this page; only the latest one
// per participant and kind is sent.
func (p *peer) queueState(user, kind string, muted bool) {
	p.stateMu.Lock()
	p.states[stateKey{user, kind}] = muted
	p.stateMu.Unlock()
	select {
	case p.stateReady <- struct{}{}:
	default:
	}
}

// forgetState drops the unsent states of a participant who left.
func (p *peer) forgetState(user string) {
	p.stateMu.Lock()
	for k := range p.states {
		if k.user == user {
			delete(p.states, k)
		}
	}
	p.stateMu.Unlock()
}

// writeLoop sends queued messages in order, and the latest mute states after the messages
// queued before them (a peer_joined comes before that peer's mute).
func (p *peer) writeLoop(ctx context.Context) {
	write := func(data []byte) bool {
		if err := p.ws.Write(ctx, websocket.MessageText, data); err != nil {
			p.close(4002, "The connection was lost")
			return false
		}
		return true
	}
	for {
		select {
		case data := <-p.out:
			if !write(data) {
				return
			}
		case <-p.stateReady:
			for queued := len(p.out); queued > 0; queued-- {
				if !write(<-p.out) {
					return
				}
			}
			p.stateMu.Lock()
			states := p.states
			p.states = make(map[stateKey]bool, len(states))
			p.stateMu.Unlock()
			for k, muted := range states {
				data, _ := json.Marshal(message{Type: "mute", UserID: k.user, Kind: k.kind, Muted: &muted})
				if !write(data) {
					return
				}
			}
		case <-p.closed:
			return
		}
	}
}

// close ends the peer: a last message, the socket, the media, and its place in the room.
func (p *peer) close(code websocket.StatusCode, reason string) {
	p.once.Do(func() {
		// A peer refused while joining closes like any refusal: with the close code alone.
		if data, err := json.Marshal(message{Type: "closed", Reason: reason}); err == nil && p.placed.Load() {
			ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			_ = p.ws.Write(ctx, websocket.MessageText, data)
			cancel()
		}
		close(p.closed)
		p.mu.Lock()
		if p.answerTimer != nil {
			p.answerTimer.Stop()
		}
		p.mu.Unlock()
		_ = p.pc.Close()
		_ = p.ws.Close(code, closeReason(reason))
		p.log.Info().Str("reason", reason).Int("code", int(code)).Msg("Call connection closed")
		// Under the server's lock: a waiting peer may be entering its room (Server.enter) on
		// another goroutine; either it is in the room now, or it never will be.
		rm := p.srv.leaveWaiting(p)
		if rm == nil {
			return // waiting, or never placed (refused while joining)
		}
		rm.remove(p)
		if h := p.srv.hooks.Presence; h != nil {
			go h(rm.id, p.user, p.host, false)
		}
	})
}
