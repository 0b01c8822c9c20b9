package lktest

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"time"

	"github.com/coder/websocket"
	lkproto "github.com/livekit/protocol/livekit"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
	"google.golang.org/protobuf/proto"
)

// peer is one of the participant's two peer connections with the server: the subscriber,
// which the server offers, and the publisher, which the participant offers.
type peer struct {
	ctx     context.Context
	conn    *websocket.Conn
	target  lkproto.SignalTarget
	pc      *webrtc.PeerConnection
	mu      sync.Mutex
	pending []webrtc.ICECandidateInit
	remote  bool
}

func newPeer(ctx context.Context, conn *websocket.Conn, target lkproto.SignalTarget) (*peer, error) {
	var se webrtc.SettingEngine
	se.SetIncludeLoopbackCandidate(true) // the test server offers loopback only
	api := webrtc.NewAPI(webrtc.WithSettingEngine(se))
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return nil, err
	}
	s := &peer{ctx: ctx, conn: conn, pc: pc, target: target}
	pc.OnICECandidate(func(c *webrtc.ICECandidate) {
		if c == nil {
			return
		}
		init, _ := json.Marshal(c.ToJSON())
		s.send(&lkproto.SignalRequest{Message: &lkproto.SignalRequest_Trickle{Trickle: &lkproto.TrickleRequest{
			CandidateInit: string(init), Target: target}}})
	})
	return s, nil
}

func (s *peer) send(req *lkproto.SignalRequest) {
	data, _ := proto.Marshal(req)
	_ = s.conn.Write(s.ctx, websocket.MessageBinary, data)
}

func (s *peer) setRemote(sd webrtc.SessionDescription) error {
	if err := s.pc.SetRemoteDescription(sd); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.remote = true
	for _, c := range s.pending {
		_ = s.pc.AddICECandidate(c)
	}
	s.pending = nil
	return nil
}

// offer answers the server's offer (subscriber).
func (s *peer) offer(sd *lkproto.SessionDescription) {
	if s.setRemote(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: sd.GetSdp()}) != nil {
		return
	}
	answer, err := s.pc.CreateAnswer(nil)
	if err != nil || s.pc.SetLocalDescription(answer) != nil {
		return
	}
	s.send(&lkproto.SignalRequest{Message: &lkproto.SignalRequest_Answer{Answer: &lkproto.SessionDescription{
		Type: "answer", Sdp: answer.SDP, Id: sd.GetId()}}})
}

// answer takes the server's answer to the publisher's offer.
func (s *peer) answer(sd *lkproto.SessionDescription) {
	_ = s.setRemote(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: sd.GetSdp()})
}

// trickle adds a candidate of the server's, once the remote description is in.
func (s *peer) trickle(init string) {
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

func (s *peer) close() { _ = s.pc.Close() }

// PublishAudio publishes an Opus track that sends a packet every 20 ms (arbitrary payloads:
// the SFU forwards, it does not decode) until the participant is disconnected.
func (p *Participant) PublishAudio() error {
	if p.conn == nil {
		return errors.New("not connected")
	}
	pub, err := newPeer(p.ctx, p.conn, lkproto.SignalTarget_PUBLISHER)
	if err != nil {
		return err
	}
	track, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, "mic", "lktest")
	if err != nil {
		return err
	}
	if _, err = pub.pc.AddTrack(track); err != nil {
		return err
	}
	p.mu.Lock()
	p.pub = pub
	p.mu.Unlock()
	pub.send(&lkproto.SignalRequest{Message: &lkproto.SignalRequest_AddTrack{AddTrack: &lkproto.AddTrackRequest{
		Cid: track.ID(), Name: "mic", Type: lkproto.TrackType_AUDIO, Source: lkproto.TrackSource_MICROPHONE}}})
	offer, err := pub.pc.CreateOffer(nil)
	if err != nil {
		return err
	}
	if err = pub.pc.SetLocalDescription(offer); err != nil {
		return err
	}
	pub.send(&lkproto.SignalRequest{Message: &lkproto.SignalRequest_Offer{Offer: &lkproto.SessionDescription{Type: "offer", Sdp: offer.SDP}}})
	go func() {
		var seq uint16
		for p.ctx.Err() == nil && !p.Gone() {
			seq++
			pkt := &rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 111, SequenceNumber: seq, Timestamp: uint32(seq) * 960, Marker: seq == 1},
				Payload: []byte{0xfc, 0xff, 0xfe, byte(seq)}}
			_ = track.WriteRTP(pkt)
			time.Sleep(20 * time.Millisecond)
		}
	}()
	return nil
}
