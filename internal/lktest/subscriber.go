package lktest

import (
	"context"
	"encoding/json"
	"sync"

	"github.com/coder/websocket"
	lkproto "github.com/livekit/protocol/livekit"
	"github.com/pion/webrtc/v4"
	"google.golang.org/protobuf/proto"
)

// subscriber is the participant's receiving peer connection, which LiveKit offers first.
type subscriber struct {
	ctx     context.Context
	conn    *websocket.Conn
	pc      *webrtc.PeerConnection
	mu      sync.Mutex
	pending []webrtc.ICECandidateInit
	remote  bool
}

func newSubscriber(ctx context.Context, conn *websocket.Conn, p *Participant) (*subscriber, error) {
	var se webrtc.SettingEngine
	se.SetIncludeLoopbackCandidate(true) // the test server offers loopback only
	api := webrtc.NewAPI(webrtc.WithSettingEngine(se))
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return nil, err
	}
	s := &subscriber{ctx: ctx, conn: conn, pc: pc}
	pc.OnICECandidate(func(c *webrtc.ICECandidate) {
		if c == nil {
			return
		}
		init, _ := json.Marshal(c.ToJSON())
		s.send(&lkproto.SignalRequest{Message: &lkproto.SignalRequest_Trickle{Trickle: &lkproto.TrickleRequest{
			CandidateInit: string(init), Target: lkproto.SignalTarget_SUBSCRIBER}}})
	})
	pc.OnConnectionStateChange(func(st webrtc.PeerConnectionState) {
		p.connected.Store(st == webrtc.PeerConnectionStateConnected)
	})
	return s, nil
}

func (s *subscriber) send(req *lkproto.SignalRequest) {
	data, _ := proto.Marshal(req)
	_ = s.conn.Write(s.ctx, websocket.MessageBinary, data)
}

// offer answers the server's offer.
func (s *subscriber) offer(sd *lkproto.SessionDescription) {
	if err := s.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: sd.GetSdp()}); err != nil {
		return
	}
	s.mu.Lock()
	s.remote = true
	for _, c := range s.pending {
		_ = s.pc.AddICECandidate(c)
	}
	s.pending = nil
	s.mu.Unlock()
	answer, err := s.pc.CreateAnswer(nil)
	if err != nil || s.pc.SetLocalDescription(answer) != nil {
		return
	}
	s.send(&lkproto.SignalRequest{Message: &lkproto.SignalRequest_Answer{Answer: &lkproto.SessionDescription{
		Type: "answer", Sdp: answer.SDP, Id: sd.GetId()}}})
}

// trickle adds a candidate of the server's, once the offer is in.
func (s *subscriber) trickle(init string) {
	var c webrtc.ICECandidateInit
	if json.Unmarshal([]byte(init), &c) != nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.remote {
		s.pending = append(s.pending, c)
		return
	}
	_ = s.pc.AddICECandidate(c)
}

func (s *subscriber) close() { _ = s.pc.Close() }
