package lktest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	lkproto "github.com/livekit/protocol/livekit"
	"github.com/pion/webrtc/v4"
	"google.golang.org/protobuf/proto"
)

// Participant is a LiveKit client of the test's own: LiveKit's signalling over a websocket
// (connecting with a token joins the room; the server tells it when it is taken out, with a
// leave message and then the socket closing) and, with Connect, Pion peer connections that
// publish and receive media. The LiveKit Go SDK is not used: it needs LiveKit's fork of Pion
// in the main module, which would replace the embedded SFU's.
type Participant struct {
	// Room is the LiveKit room the server joined it to.
	Room      string
	gone      atomic.Bool
	connected atomic.Bool
	received  atomic.Int64

	ctx  context.Context
	conn *websocket.Conn
	mu   sync.Mutex
	pub  *peer
}

// Received is how many media packets it has received from the others' tracks.
func (p *Participant) Received() int64 { return p.received.Load() }

func (p *Participant) publisher() *peer {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.pub
}

// Connected reports whether its (receive-only) WebRTC connection to the server is up: from
// then on LiveKit counts it as joined (and sends participant_joined).
func (p *Participant) Connected() bool { return p.connected.Load() }

// Gone reports whether the server disconnected it.
func (p *Participant) Gone() bool { return p.gone.Load() }

// Join connects to a LiveKit server (ws://…) with an access token and returns once the server
// answered with the room, or with the error it refused the token with. The connection closes
// at the end of the test.
func Join(t testing.TB, url, token string) (*Participant, error) {
	t.Helper()
	return join(t, url, token, false)
}

// Connect is Join that also answers the server's offers with a Pion peer connection on
// loopback, so that the participant becomes active in the room, subscribes to every track
// and counts the packets it receives (Received); PublishAudio sends some.
func Connect(t testing.TB, url, token string) (*Participant, error) {
	t.Helper()
	return join(t, url, token, true)
}

func join(t testing.TB, url, token string, connect bool) (*Participant, error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	sub := "0"
	if connect {
		sub = "1"
	}
	conn, resp, err := websocket.Dial(ctx, url+"/rtc?auto_subscribe="+sub+"&protocol=16&sdk=go&access_token="+token, nil)
	if err != nil {
		cancel()
		if resp != nil {
			return nil, fmt.Errorf("the server refused: HTTP %d", resp.StatusCode)
		}
		return nil, err
	}
	conn.SetReadLimit(1 << 20)
	t.Cleanup(func() { cancel(); _ = conn.CloseNow() })
	p := &Participant{ctx: ctx}
	var pc *peer
	if connect {
		p.conn = conn
		if pc, err = newPeer(ctx, conn, lkproto.SignalTarget_SUBSCRIBER); err != nil {
			cancel()
			return nil, err
		}
		pc.pc.OnConnectionStateChange(func(st webrtc.PeerConnectionState) {
			p.connected.Store(st == webrtc.PeerConnectionStateConnected)
		})
		pc.pc.OnTrack(func(track *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
			for {
				if _, _, err := track.ReadRTP(); err != nil {
					return
				}
				p.received.Add(1)
			}
		})
		t.Cleanup(func() {
			pc.close()
			if pub := p.publisher(); pub != nil {
				pub.close()
			}
		})
	}
	first := make(chan error, 1)
	go func() {
		joined := false
		defer p.gone.Store(true)
		for {
			_, data, err := conn.Read(ctx)
			if err != nil {
				if !joined {
					first <- err
				}
				return
			}
			var msg lkproto.SignalResponse
			if proto.Unmarshal(data, &msg) != nil {
				continue
			}
			switch m := msg.Message.(type) {
			case *lkproto.SignalResponse_Join:
				p.Room, joined = m.Join.GetRoom().GetName(), true
				first <- nil
			case *lkproto.SignalResponse_Leave:
				return
			case *lkproto.SignalResponse_Offer:
				if pc != nil {
					pc.offer(m.Offer)
				}
			case *lkproto.SignalResponse_Answer:
				if pub := p.publisher(); pub != nil {
					pub.answer(m.Answer)
				}
			case *lkproto.SignalResponse_Trickle:
				if pc != nil && m.Trickle.GetTarget() == lkproto.SignalTarget_SUBSCRIBER {
					pc.trickle(m.Trickle.GetCandidateInit())
				} else if pub := p.publisher(); pub != nil && m.Trickle.GetTarget() == lkproto.SignalTarget_PUBLISHER {
					pub.trickle(m.Trickle.GetCandidateInit())
				}
			}
		}
	}()
	// Pings keep the signalling connection open for as long as the test needs it.
	go func() {
		for ctx.Err() == nil {
			ping, _ := proto.Marshal(&lkproto.SignalRequest{Message: &lkproto.SignalRequest_Ping{Ping: time.Now().UnixMilli()}})
			_ = conn.Write(ctx, websocket.MessageBinary, ping)
			select {
			case <-ctx.Done():
			case <-time.After(2 * time.Second):
			}
		}
	}()
	select {
	case err = <-first:
		if err != nil {
			return nil, err
		}
		return p, nil
	case <-time.After(10 * time.Second):
		return nil, errors.New("no answer to the join within 10 s")
	}
}
