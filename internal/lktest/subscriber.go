package lktest

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"time"

	"github.com/coder/websocket"
	lkproto "github.com/livekit/protocol/livekit"
	"github.com/pion/rtcp"
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

func newPeer(ctx context.Context, api *webrtc.API, conn *websocket.Conn, target lkproto.SignalTarget) (*peer, error) {
	pc, err := api.NewPeerConnection(webrtc.Configuration{BundlePolicy: webrtc.BundlePolicyMaxBundle})
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

// Tracks a participant publishes: an Opus-shaped microphone and a VP8-shaped camera. The
// payloads are arbitrary: the SFU forwards, it does not decode.
var (
	Microphone = webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}
	Camera     = webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}
)

// Publish publishes tracks (Microphone, Camera) and returns them for the caller to write RTP
// into; after a reconnect the same tracks are published again. It needs Options.Subscribe.
func (p *Participant) Publish(caps ...webrtc.RTPCodecCapability) ([]*webrtc.TrackLocalStaticRTP, error) {
	s := p.session()
	if s == nil || s.sub == nil {
		return nil, errors.New("not connected with media")
	}
	var out []*webrtc.TrackLocalStaticRTP
	var added []publishedTrack
	for _, c := range caps {
		req := &lkproto.AddTrackRequest{Name: "mic", Type: lkproto.TrackType_AUDIO, Source: lkproto.TrackSource_MICROPHONE}
		if c.MimeType == webrtc.MimeTypeVP8 {
			req = &lkproto.AddTrackRequest{Name: "camera", Type: lkproto.TrackType_VIDEO, Source: lkproto.TrackSource_CAMERA, Width: 640, Height: 480}
		}
		track, err := webrtc.NewTrackLocalStaticRTP(c, req.Name, "lktest")
		if err != nil {
			return nil, err
		}
		req.Cid = track.ID()
		out = append(out, track)
		added = append(added, publishedTrack{track: track, req: req})
	}
	p.mu.Lock()
	p.tracks = append(p.tracks, added...)
	p.mu.Unlock()
	return out, p.publish(s, added)
}

// publish adds tracks to a session's publisher (made on first use) and offers them.
func (p *Participant) publish(s *session, tracks []publishedTrack) error {
	s.mu.Lock()
	pub := s.pub
	if pub == nil {
		var err error
		if pub, err = newPeer(s.ctx, p.opts.API, s.conn, lkproto.SignalTarget_PUBLISHER); err != nil {
			s.mu.Unlock()
			return err
		}
		s.pub = pub
	}
	s.mu.Unlock()
	for _, t := range tracks {
		sender, err := pub.pc.AddTrack(t.track)
		if err != nil {
			return err
		}
		go func() { // RTCP from the server (receiver reports, NACKs, PLIs) must be read
			for {
				pkts, _, err := sender.ReadRTCP()
				if err != nil {
					return
				}
				for _, pkt := range pkts {
					switch pkt.(type) {
					case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
						p.keyframeWanted.Store(true)
					}
				}
			}
		}()
		s.send(&lkproto.SignalRequest{Message: &lkproto.SignalRequest_AddTrack{AddTrack: t.req}})
	}
	offer, err := pub.pc.CreateOffer(nil)
	if err != nil {
		return err
	}
	if err = pub.pc.SetLocalDescription(offer); err != nil {
		return err
	}
	s.send(&lkproto.SignalRequest{Message: &lkproto.SignalRequest_Offer{Offer: &lkproto.SessionDescription{Type: "offer", Sdp: offer.SDP}}})
	return nil
}

// KeyframeWanted reports whether the server asked for a keyframe (PLI or FIR) since the
// last call: a publisher answers with its next frame, as browsers do.
func (p *Participant) KeyframeWanted() bool { return p.keyframeWanted.Swap(false) }

// PublishAudio publishes a microphone track that sends a packet every 20 ms until the
// participant is disconnected for good.
func (p *Participant) PublishAudio() error {
	tracks, err := p.Publish(Microphone)
	if err != nil {
		return err
	}
	go func() {
		var seq uint16
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for !p.Gone() {
			seq++
			pkt := &rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 111, SequenceNumber: seq, Timestamp: uint32(seq) * 960, Marker: seq == 1},
				Payload: []byte{0xfc, 0xff, 0xfe, byte(seq)}}
			_ = tracks[0].WriteRTP(pkt)
			select {
			case <-p.ctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
	return nil
}
