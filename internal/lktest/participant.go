package lktest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	lkproto "github.com/livekit/protocol/livekit"
	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
	"google.golang.org/protobuf/proto"
)

// Participant is a LiveKit client of the test's own: LiveKit's signalling over a websocket
// (connecting with a token joins the room; the server tells it when it is taken out, with a
// leave message and then the socket closing) and, when it subscribes, Pion peer connections
// that publish and receive media. The LiveKit Go SDK is not used: it needs LiveKit's fork of
// Pion in the main module, which would replace the embedded SFU's.
//
// With Options.Reconnect it behaves like LiveKit's SDKs when the server it is connected to
// goes away (the socket drops, or the media connection fails, without the server having
// taken it out): it joins again with the same token at the same URL, a full reconnect, and
// publishes its tracks again. Behind a load balancer that URL reaches the surviving node.
type Participant struct {
	// Room is the LiveKit room the server joined it to.
	Room string

	opts  Options
	url   string
	token string

	gone       atomic.Bool
	connected  atomic.Bool
	received   atomic.Int64
	reconnects atomic.Int64
	// keyframeWanted: the server asked for a keyframe of a published video track.
	keyframeWanted atomic.Bool

	ctx    context.Context
	cancel context.CancelFunc
	mu     sync.Mutex
	sess   *session
	tracks []publishedTrack
	// responses are the server's answers to requests (RequestResponse), for the tests of
	// what a token may do.
	responses chan *lkproto.RequestResponse
	// others are the identities of the other participants the server told it about.
	others map[string]bool
	// iceServers are the ICE server URLs of the last join.
	iceServers []string
}

// Options shape a participant.
type Options struct {
	// Subscribe answers the server's offers with a peer connection, so that the participant
	// becomes active in the room, subscribes to every track and counts the packets it
	// receives. Without it, it only signals (it sees the room, sends and receives no media).
	Subscribe bool
	// Reconnect joins again with the same token when the connection is lost, as the SDKs do.
	Reconnect bool
	// API makes the peer connections; nil is one gathering loopback candidates only.
	API *webrtc.API
	// OnPacket, if set, is called with every media packet received (from the read loops).
	OnPacket func(kind webrtc.RTPCodecType, pkt *rtp.Packet, at time.Time)
}

type publishedTrack struct {
	track *webrtc.TrackLocalStaticRTP
	req   *lkproto.AddTrackRequest
}

// session is one connection to the server: a signalling socket and its peer connections.
type session struct {
	ctx    context.Context
	cancel context.CancelFunc
	conn   *websocket.Conn
	sub    *peer
	pub    *peer
	mu     sync.Mutex
	lost   sync.Once
}

var defaultAPI = sync.OnceValues(func() (*webrtc.API, error) { return NewAPI() })

// NewAPI makes peer connections that gather and accept loopback candidates only (no mDNS, UDP
// on 127.0.0.1), with the packets' default interceptors (NACK, RTCP reports), and that call
// the media connection lost after 3 s without an answer, as a browser does within seconds.
func NewAPI() (*webrtc.API, error) {
	m := &webrtc.MediaEngine{}
	if err := m.RegisterDefaultCodecs(); err != nil {
		return nil, err
	}
	reg := &interceptor.Registry{}
	if err := webrtc.RegisterDefaultInterceptors(m, reg); err != nil {
		return nil, err
	}
	var se webrtc.SettingEngine
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	loopback := net.IPv4(127, 0, 0, 1)
	se.SetIPFilter(func(ip net.IP) bool { return ip.Equal(loopback) })
	se.SetIncludeLoopbackCandidate(true)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetICETimeouts(3*time.Second, 6*time.Second, time.Second)
	return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(reg), webrtc.WithSettingEngine(se)), nil
}

// Received is how many media packets it has received from the others' tracks.
func (p *Participant) Received() int64 { return p.received.Load() }

// Connected reports whether its (receiving) WebRTC connection to the server is up: from
// then on LiveKit counts it as joined (and sends participant_joined).
func (p *Participant) Connected() bool { return p.connected.Load() }

// Gone reports whether it is disconnected for good: the server took it out, or it lost the
// connection and does not reconnect (or could not).
func (p *Participant) Gone() bool { return p.gone.Load() }

// Reconnects is how many times it joined again after losing its connection.
func (p *Participant) Reconnects() int64 { return p.reconnects.Load() }

// Sees reports whether the server told it about a participant of that identity in the room.
func (p *Participant) Sees(identity string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.others[identity]
}

// ICEServerURLs are the STUN and TURN servers the server told it to use on joining.
func (p *Participant) ICEServerURLs() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.iceServers...)
}

// MediaPort is the server's port its media flows through now (the selected ICE candidate
// pair's remote end), 0 while not connected: it tells which node hosts its room.
func (p *Participant) MediaPort() int {
	s := p.session()
	if s == nil || s.sub == nil {
		return 0
	}
	var transports []*webrtc.DTLSTransport
	for _, r := range s.sub.pc.GetReceivers() {
		transports = append(transports, r.Transport())
	}
	if sctp := s.sub.pc.SCTP(); sctp != nil {
		transports = append(transports, sctp.Transport())
	}
	for _, t := range transports {
		if t == nil {
			continue
		}
		if pair, err := t.ICETransport().GetSelectedCandidatePair(); err == nil && pair != nil {
			return int(pair.Remote.Port)
		}
	}
	return 0
}

func (p *Participant) session() *session {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.sess
}

// Join connects to a LiveKit server (ws://… or http://…) with an access token and returns once
// the server answered with the room, or with the error it refused the token with. It only
// signals. The connection closes at the end of the test.
func Join(t testing.TB, url, token string) (*Participant, error) {
	t.Helper()
	return dialT(t, url, token, Options{})
}

// Connect is Join that also answers the server's offers with a Pion peer connection on
// loopback, so that the participant becomes active in the room, subscribes to every track
// and counts the packets it receives (Received); PublishAudio sends some.
func Connect(t testing.TB, url, token string) (*Participant, error) {
	t.Helper()
	return dialT(t, url, token, Options{Subscribe: true})
}

// ConnectWith is Connect with options.
func ConnectWith(t testing.TB, url, token string, opts Options) (*Participant, error) {
	t.Helper()
	return dialT(t, url, token, opts)
}

func dialT(t testing.TB, url, token string, opts Options) (*Participant, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p, err := Dial(ctx, url, token, opts)
	if err != nil {
		return nil, err
	}
	t.Cleanup(p.Close)
	return p, nil
}

// Dial connects a participant and returns once the server answered the join (or refused
// it). Close disconnects it.
func Dial(ctx context.Context, url, token string, opts Options) (*Participant, error) {
	if opts.API == nil {
		api, err := defaultAPI()
		if err != nil {
			return nil, err
		}
		opts.API = api
	}
	pctx, cancel := context.WithCancel(context.Background())
	p := &Participant{opts: opts, url: wsURL(url), token: token, ctx: pctx, cancel: cancel,
		responses: make(chan *lkproto.RequestResponse, 16), others: map[string]bool{}}
	if _, err := p.connect(ctx); err != nil {
		cancel()
		return nil, err
	}
	return p, nil
}

// Close disconnects it for good.
func (p *Participant) Close() {
	p.gone.Store(true)
	p.cancel()
	if s := p.session(); s != nil {
		s.close()
	}
}

// Leave says goodbye as a client hanging up does (LiveKit ends the participant at once,
// rather than after its departure timeout), then disconnects.
func (p *Participant) Leave() {
	if s := p.session(); s != nil {
		s.send(&lkproto.SignalRequest{Message: &lkproto.SignalRequest_Leave{Leave: &lkproto.LeaveRequest{
			Reason: lkproto.DisconnectReason_CLIENT_INITIATED, Action: lkproto.LeaveRequest_DISCONNECT,
		}}})
	}
	p.Close()
}

func wsURL(url string) string {
	switch {
	case len(url) > 7 && url[:7] == "http://":
		return "ws://" + url[7:]
	case len(url) > 8 && url[:8] == "https://":
		return "wss://" + url[8:]
	}
	return url
}

// connect opens a session: the join, and the peer connections the options ask for.
func (p *Participant) connect(ctx context.Context) (*session, error) {
	sub := "0"
	if p.opts.Subscribe {
		sub = "1"
	}
	conn, resp, err := websocket.Dial(ctx, p.url+"/rtc?auto_subscribe="+sub+"&protocol=16&sdk=go&access_token="+p.token, nil)
	if err != nil {
		if resp != nil {
			return nil, fmt.Errorf("the server refused: HTTP %d", resp.StatusCode)
		}
		return nil, err
	}
	conn.SetReadLimit(1 << 20)
	sctx, cancel := context.WithCancel(p.ctx)
	s := &session{ctx: sctx, cancel: cancel, conn: conn}
	// The current session from now on: whatever ends it after the join is handled as its loss.
	p.mu.Lock()
	p.sess = s
	p.mu.Unlock()
	if p.opts.Subscribe {
		if s.sub, err = newPeer(sctx, p.opts.API, conn, lkproto.SignalTarget_SUBSCRIBER); err != nil {
			s.close()
			return nil, err
		}
		s.sub.pc.OnConnectionStateChange(func(st webrtc.PeerConnectionState) {
			if p.session() == s {
				p.connected.Store(st == webrtc.PeerConnectionStateConnected)
			}
			// Failed: the media connection is gone. Disconnected (no answer for 3 s) may come
			// back by itself; a reconnecting client, like the SDKs, does not wait for that.
			if st == webrtc.PeerConnectionStateFailed || (st == webrtc.PeerConnectionStateDisconnected && p.opts.Reconnect) {
				p.lost(s, false)
			}
		})
		s.sub.pc.OnTrack(func(track *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
			kind := track.Kind()
			buf := make([]byte, 1600)
			var pkt rtp.Packet
			for {
				n, _, err := track.Read(buf)
				if err != nil {
					return
				}
				p.received.Add(1)
				if p.opts.OnPacket != nil && pkt.Unmarshal(buf[:n]) == nil {
					p.opts.OnPacket(kind, &pkt, time.Now())
				}
			}
		})
	}
	first := make(chan error, 1)
	go p.read(s, first)
	// Pings keep the signalling connection open for as long as the test needs it.
	go func() {
		for sctx.Err() == nil {
			s.send(&lkproto.SignalRequest{Message: &lkproto.SignalRequest_Ping{Ping: time.Now().UnixMilli()}})
			select {
			case <-sctx.Done():
			case <-time.After(2 * time.Second):
			}
		}
	}()
	select {
	case err = <-first:
	case <-ctx.Done():
		err = fmt.Errorf("no answer to the join: %w", ctx.Err())
	}
	if err != nil {
		s.close()
		return nil, err
	}
	p.mu.Lock()
	tracks := p.tracks
	p.mu.Unlock()
	if len(tracks) > 0 {
		if err = p.publish(s, tracks); err != nil {
			s.close()
			return nil, err
		}
	}
	return s, nil
}

// read handles the server's messages of one session.
func (p *Participant) read(s *session, first chan<- error) {
	joined := false
	for {
		_, data, err := s.conn.Read(s.ctx)
		if err != nil {
			if !joined {
				first <- err
				return
			}
			p.lost(s, false)
			return
		}
		var msg lkproto.SignalResponse
		if proto.Unmarshal(data, &msg) != nil {
			continue
		}
		switch m := msg.Message.(type) {
		case *lkproto.SignalResponse_Join:
			p.mu.Lock()
			if p.Room == "" { // written before Dial returns only
				p.Room = m.Join.GetRoom().GetName()
			}
			for _, o := range m.Join.GetOtherParticipants() {
				p.others[o.GetIdentity()] = true
			}
			p.iceServers = nil
			for _, is := range m.Join.GetIceServers() {
				p.iceServers = append(p.iceServers, is.GetUrls()...)
			}
			p.mu.Unlock()
			joined = true
			first <- nil
		case *lkproto.SignalResponse_Update:
			p.mu.Lock()
			for _, o := range m.Update.GetParticipants() {
				p.others[o.GetIdentity()] = o.GetState() != lkproto.ParticipantInfo_DISCONNECTED
			}
			p.mu.Unlock()
		case *lkproto.SignalResponse_Leave:
			if !joined {
				first <- fmt.Errorf("the server sent a leave before the join (%v)", m.Leave.GetReason())
				return
			}
			// Taken out (or the room deleted): disconnect. Asked to resume or reconnect (the
			// server is going away): reconnect.
			p.lost(s, m.Leave.GetAction() == lkproto.LeaveRequest_DISCONNECT)
			return
		case *lkproto.SignalResponse_Offer:
			if s.sub != nil {
				s.sub.offer(m.Offer)
			}
		case *lkproto.SignalResponse_Answer:
			if pub := s.publisher(); pub != nil {
				pub.answer(m.Answer)
			}
		case *lkproto.SignalResponse_Trickle:
			if s.sub != nil && m.Trickle.GetTarget() == lkproto.SignalTarget_SUBSCRIBER {
				s.sub.trickle(m.Trickle.GetCandidateInit())
			} else if pub := s.publisher(); pub != nil && m.Trickle.GetTarget() == lkproto.SignalTarget_PUBLISHER {
				pub.trickle(m.Trickle.GetCandidateInit())
			}
		case *lkproto.SignalResponse_RequestResponse:
			select {
			case p.responses <- m.RequestResponse:
			default:
			}
		}
	}
}

// lost ends a session: for good if the server took the participant out (or it does not
// reconnect), otherwise by joining again.
func (p *Participant) lost(s *session, removed bool) {
	s.lost.Do(func() {
		s.close()
		if p.session() != s {
			return
		}
		p.connected.Store(false)
		if removed || !p.opts.Reconnect || p.ctx.Err() != nil {
			p.gone.Store(true)
			return
		}
		go p.reconnect()
	})
}

// reconnect joins again with the same token, for 30 s at most, as the SDKs do after a failed
// resume. An attempt is given 2 s: until the cluster notices that a dead node is gone (5 s),
// a join for a room it hosted waits on it.
func (p *Participant) reconnect() {
	deadline := time.Now().Add(30 * time.Second)
	for p.ctx.Err() == nil && time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(p.ctx, 2*time.Second)
		_, err := p.connect(ctx)
		cancel()
		if err == nil {
			p.reconnects.Add(1)
			return
		}
		select {
		case <-p.ctx.Done():
		case <-time.After(250 * time.Millisecond):
		}
	}
	p.gone.Store(true)
}

func (s *session) publisher() *peer {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pub
}

func (s *session) send(req *lkproto.SignalRequest) {
	data, _ := proto.Marshal(req)
	_ = s.conn.Write(s.ctx, websocket.MessageBinary, data)
}

func (s *session) close() {
	s.cancel()
	_ = s.conn.CloseNow()
	if s.sub != nil {
		s.sub.close()
	}
	if pub := s.publisher(); pub != nil {
		pub.close()
	}
}

// UpdateOwnAttributes asks the server to change its own attributes and returns the server's
// answer (a refusal carries the reason).
func (p *Participant) UpdateOwnAttributes(ctx context.Context, attrs map[string]string) (*lkproto.RequestResponse, error) {
	s := p.session()
	if s == nil {
		return nil, errors.New("not connected")
	}
	const id = 7
	s.send(&lkproto.SignalRequest{Message: &lkproto.SignalRequest_UpdateMetadata{UpdateMetadata: &lkproto.UpdateParticipantMetadata{
		Attributes: attrs, Name: "someone else", RequestId: id}}})
	for {
		select {
		case r := <-p.responses:
			if r.GetRequestId() == id {
				return r, nil
			}
		case <-ctx.Done():
			return nil, fmt.Errorf("no answer to the metadata update: %w", ctx.Err())
		}
	}
}
