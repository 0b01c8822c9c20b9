package loadtest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"github.com/telehealth-bridge/telehealth-bridge/internal/callclient"
)

// DirectJoiner connects the two clients of each room to each other without the SFU: the
// baseline arm of the benchmark, whose latency is what loopback and Pion cost by themselves.
func DirectJoiner(api *webrtc.API) Joiner {
	var mu sync.Mutex
	waiting := map[string]*directPeer{}
	return func(ctx context.Context, room, user string, opts callclient.Options) (Publisher, error) {
		p, err := newDirectPeer(api, user, opts)
		if err != nil {
			return nil, err
		}
		mu.Lock()
		first := waiting[room]
		if first == nil {
			waiting[room] = p
			mu.Unlock()
			return p, nil
		}
		delete(waiting, room)
		mu.Unlock()
		if err = connect(ctx, first, p); err != nil {
			p.Close()
			return nil, err
		}
		return p, nil
	}
}

type directPeer struct {
	pc           *webrtc.PeerConnection
	audio, video *webrtc.TrackLocalStaticRTP
	user         string
	other        string
	opts         callclient.Options
	ready        chan struct{}
}

func newDirectPeer(api *webrtc.API, user string, opts callclient.Options) (*directPeer, error) {
	pc, err := api.NewPeerConnection(webrtc.Configuration{BundlePolicy: webrtc.BundlePolicyMaxBundle})
	if err != nil {
		return nil, err
	}
	p := &directPeer{pc: pc, user: user, opts: opts, ready: make(chan struct{})}
	p.audio, _ = webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, "audio", user)
	p.video, _ = webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}, "camera", user)
	for _, t := range []*webrtc.TrackLocalStaticRTP{p.audio, p.video} {
		sender, err := pc.AddTrack(t)
		if err != nil {
			_ = pc.Close()
			return nil, err
		}
		go func() {
			for {
				if _, _, err := sender.ReadRTCP(); err != nil {
					return
				}
			}
		}()
	}
	pc.OnTrack(func(remote *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		<-p.ready
		buf := make([]byte, 1500)
		var pkt rtp.Packet
		for {
			n, _, err := remote.Read(buf)
			if err != nil {
				return
			}
			now := time.Now()
			if p.opts.OnPacket != nil && pkt.Unmarshal(buf[:n]) == nil {
				p.opts.OnPacket(callclient.Stamped(&pkt, p.other, remote.ID(), now, n))
			}
		}
	})
	return p, nil
}

// connect negotiates a with b directly, with every candidate in the descriptions.
func connect(ctx context.Context, a, b *directPeer) error {
	a.other, b.other = b.user, a.user
	close(a.ready)
	close(b.ready)
	offer, err := a.pc.CreateOffer(nil)
	if err != nil {
		return err
	}
	gathered := webrtc.GatheringCompletePromise(a.pc)
	if err = a.pc.SetLocalDescription(offer); err != nil {
		return err
	}
	<-gathered
	if err = b.pc.SetRemoteDescription(*a.pc.LocalDescription()); err != nil {
		return err
	}
	answer, err := b.pc.CreateAnswer(nil)
	if err != nil {
		return err
	}
	gathered = webrtc.GatheringCompletePromise(b.pc)
	if err = b.pc.SetLocalDescription(answer); err != nil {
		return err
	}
	<-gathered
	if err = a.pc.SetRemoteDescription(*b.pc.LocalDescription()); err != nil {
		return err
	}
	connected := make(chan struct{})
	var once sync.Once
	a.pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		if s == webrtc.PeerConnectionStateConnected {
			once.Do(func() { close(connected) })
		}
	})
	if a.pc.ConnectionState() == webrtc.PeerConnectionStateConnected {
		once.Do(func() { close(connected) })
	}
	select {
	case <-connected:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("connecting directly: %w", ctx.Err())
	case <-time.After(10 * time.Second):
		return errors.New("connecting directly: timed out")
	}
}

func (p *directPeer) WriteVideo(seq uint16, ts uint32, marker bool, counter uint32, size int, buf []byte) error {
	return callclient.WriteStamped(p.video, 96, seq, ts, marker, counter, size, buf)
}

func (p *directPeer) WriteAudio(seq uint16, ts uint32, counter uint32, size int, buf []byte) error {
	return callclient.WriteStamped(p.audio, 111, seq, ts, true, counter, size, buf)
}

func (p *directPeer) Close() { _ = p.pc.Close() }
