// Package callclient is a synthetic call participant built on Pion: it speaks the SFU's
// signalling (docs/signalling.md), publishes generated audio and video packets that carry their
// send time and sequence, and counts what it receives. Tests and the load benchmark use it, on
// loopback only.
package callclient

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/logging"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// Packet is a received media packet, as the client saw it.
type Packet struct {
	From  string
	Label string
	// Sent is the send time written in the payload by the publishing client.
	Sent time.Time
	Seq  uint32
	At   time.Time
	Size int
}

// Options shape a client.
type Options struct {
	// Publish makes the client send a microphone and a camera track.
	Publish bool
	// OnPacket is called for every received media packet (from the client's read loops).
	OnPacket func(Packet)
	// IP is the only local address used for ICE (127.0.0.1 by default).
	IP string
	// ICEServers and RelayOnly make the client go through TURN.
	ICEServers []webrtc.ICEServer
	RelayOnly  bool
}

// Client is one participant.
type Client struct {
	ws   *websocket.Conn
	pc   *webrtc.PeerConnection
	opts Options

	audio, video, screen *webrtc.TrackLocalStaticRTP
	screenAdded          bool
	plis                 atomic.Int64
	// answeredReports counts the SFU's receiver reports that answer one of the client's own
	// sender reports (their LastSenderReport set): the SFU read them.
	answeredReports atomic.Int64
	// labels maps a remote track ID to its owner and label, from "track" messages.
	mu     sync.Mutex
	labels map[string][2]string
	msgs   []map[string]any

	received  atomic.Int64
	connected chan struct{}
	// joined is closed once the client is in the call: at once, or for a waiting connection
	// when the SFU lets it in (Enter).
	joined     chan struct{}
	joinedOnce sync.Once
	closed     chan struct{}
	reason     atomic.Value
	closeCode  atomic.Int32
	closeOnce  sync.Once

	// offers and answers count the SFU's offers and the answers sent to them: a join should
	// take one of each.
	offers, answers atomic.Int64
}

var quiet = &logging.DefaultLoggerFactory{DefaultLogLevel: logging.LogLevelDisabled}

// NewAPI is a Pion API for loopback clients: one address, no mDNS, the default interceptors.
func NewAPI(ip string) (*webrtc.API, error) {
	return newAPI(ip, nil)
}

// Dial connects to the SFU with a credential and joins. It returns once the SFU accepted the
// join (or refused it: the error says why). With a waiting credential the client is connected
// but not in the call until Enter.
func Dial(ctx context.Context, api *webrtc.API, wsURL, session, credential string, opts Options) (*Client, error) {
	if opts.IP == "" {
		opts.IP = "127.0.0.1"
	}
	ws, _, err := websocket.Dial(ctx, wsURL, nil)
	if err != nil {
		return nil, fmt.Errorf("opening the signalling socket: %w", err)
	}
	ws.SetReadLimit(1 << 20)
	conf := webrtc.Configuration{BundlePolicy: webrtc.BundlePolicyMaxBundle, ICEServers: opts.ICEServers}
	if opts.RelayOnly {
		conf.ICETransportPolicy = webrtc.ICETransportPolicyRelay
	}
	pc, err := api.NewPeerConnection(conf)
	if err != nil {
		_ = ws.CloseNow()
		return nil, err
	}
	c := &Client{ws: ws, pc: pc, opts: opts, labels: map[string][2]string{}, connected: make(chan struct{}), joined: make(chan struct{}), closed: make(chan struct{})}
	if opts.Publish {
		c.audio, _ = webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, "audio", "me")
		c.video, _ = webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}, "camera", "me")
	}
	pc.OnTrack(c.onTrack)
	pc.OnICECandidate(func(cand *webrtc.ICECandidate) {
		if cand != nil {
			init, _ := json.Marshal(cand.ToJSON())
			c.send(map[string]any{"type": "candidate", "candidate": json.RawMessage(init)})
		}
	})
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		if s == webrtc.PeerConnectionStateConnected {
			select {
			case <-c.connected:
			default:
				close(c.connected)
			}
		}
	})
	if err = c.write(ctx, map[string]any{"type": "join", "session": session, "credential": credential}); err != nil {
		c.Close()
		return nil, err
	}
	first, err := c.read(ctx)
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("joining: %w", err)
	}
	switch first["type"] {
	case "joined":
		c.joinedOnce.Do(func() { close(c.joined) })
	case "waiting":
	default:
		c.Close()
		return nil, fmt.Errorf("joining: got %v", first["type"])
	}
	go c.readLoop()
	return c, nil
}

func (c *Client) write(ctx context.Context, m map[string]any) error {
	data, _ := json.Marshal(m)
	return c.ws.Write(ctx, websocket.MessageText, data)
}

func (c *Client) send(m map[string]any) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = c.write(ctx, m)
}

// SendRaw sends any text frame (tests of malformed messages).
func (c *Client) SendRaw(ctx context.Context, data []byte) error {
	return c.ws.Write(ctx, websocket.MessageText, data)
}

// Send sends a signalling message.
func (c *Client) Send(m map[string]any) { c.send(m) }

func (c *Client) read(ctx context.Context) (map[string]any, error) {
	_, data, err := c.ws.Read(ctx)
	if err != nil {
		var ce websocket.CloseError
		if errors.As(err, &ce) {
			c.closeCode.Store(int32(ce.Code))
			return nil, fmt.Errorf("closed %d: %s", ce.Code, ce.Reason)
		}
		return nil, err
	}
	var m map[string]any
	if err = json.Unmarshal(data, &m); err != nil {
		return nil, err
	}
	return m, nil
}

func (c *Client) readLoop() {
	defer c.finish("socket closed")
	reason := "" // the reason the SFU gave in its closed message
	for {
		m, err := c.read(context.Background())
		if err != nil {
			if reason != "" {
				err = errors.New(reason)
			}
			c.finish(err.Error())
			return
		}
		c.mu.Lock()
		c.msgs = append(c.msgs, m)
		c.mu.Unlock()
		switch m["type"] {
		case "offer":
			c.offers.Add(1)
			if err = c.answer(m["sdp"].(string)); err != nil {
				c.finish("answering: " + err.Error())
				return
			}
		case "candidate":
			if raw, ok := m["candidate"].(map[string]any); ok {
				data, _ := json.Marshal(raw)
				var init webrtc.ICECandidateInit
				if json.Unmarshal(data, &init) == nil {
					_ = c.pc.AddICECandidate(init)
				}
			}
		case "joined":
			c.joinedOnce.Do(func() { close(c.joined) })
		case "track":
			c.mu.Lock()
			c.labels[m["track_id"].(string)] = [2]string{m["user_id"].(string), m["label"].(string)}
			c.mu.Unlock()
		case "closed":
			// The close frame follows, with its code: the call is closed when it arrives.
			reason = fmt.Sprint(m["reason"])
		}
	}
}

// answer answers the SFU's offer, sending the client's tracks on its receive-only m-lines.
func (c *Client) answer(sdp string) error {
	if err := c.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: sdp}); err != nil {
		return err
	}
	if c.opts.Publish && len(c.pc.GetSenders()) == 0 {
		for _, t := range []*webrtc.TrackLocalStaticRTP{c.audio, c.video} {
			sender, err := c.pc.AddTrack(t)
			if err != nil {
				return err
			}
			go c.readRTCP(sender)
		}
	}
	c.mu.Lock()
	addScreen := c.screen != nil && !c.screenAdded
	c.screenAdded = c.screenAdded || addScreen
	c.mu.Unlock()
	if addScreen {
		sender, err := c.pc.AddTrack(c.screen)
		if err != nil {
			return err
		}
		go c.readRTCP(sender)
	}
	answer, err := c.pc.CreateAnswer(nil)
	if err != nil {
		return err
	}
	if err = c.pc.SetLocalDescription(answer); err != nil {
		return err
	}
	c.send(map[string]any{"type": "answer", "sdp": answer.SDP})
	c.answers.Add(1)
	return nil
}

// Offers is how many offers the SFU has sent so far.
func (c *Client) Offers() int64 { return c.offers.Load() }

// Answers is how many answers the client has sent (written on the socket) so far.
func (c *Client) Answers() int64 { return c.answers.Load() }

// readRTCP reads what the SFU says about the client's tracks, counting keyframe requests.
func (c *Client) readRTCP(sender *webrtc.RTPSender) {
	for {
		pkts, _, err := sender.ReadRTCP()
		if err != nil {
			return
		}
		for _, p := range pkts {
			switch p := p.(type) {
			case *rtcp.PictureLossIndication:
				c.plis.Add(1)
			case *rtcp.ReceiverReport:
				for _, r := range p.Reports {
					if r.LastSenderReport != 0 {
						c.answeredReports.Add(1)
					}
				}
			}
		}
	}
}

// KeyframeRequests is how many keyframe requests (PLI) the SFU sent this client.
func (c *Client) KeyframeRequests() int64 { return c.plis.Load() }

// AnsweredReports is how many of the SFU's receiver reports answered the client's sender
// reports (the SFU read them and says when).
func (c *Client) AnsweredReports() int64 { return c.answeredReports.Load() }

// ShareScreen asks the SFU for a screen m-line; the client sends on it from the next offer.
func (c *Client) ShareScreen() {
	c.mu.Lock()
	c.screen, _ = webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}, "screen", "me")
	c.mu.Unlock()
	c.send(map[string]any{"type": "publish", "label": "screen"})
}

// WriteScreen sends a screen packet stamped like WriteVideo.
func (c *Client) WriteScreen(seq uint16, ts uint32, counter uint32, size int, buf []byte) error {
	c.mu.Lock()
	t := c.screen
	c.mu.Unlock()
	if t == nil {
		return errors.New("not sharing")
	}
	return WriteStamped(t, 96, seq, ts, true, counter, size, buf)
}

func (c *Client) onTrack(remote *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
	buf := make([]byte, 1500)
	var pkt rtp.Packet
	for {
		n, _, err := remote.Read(buf)
		if err != nil {
			return
		}
		now := time.Now()
		c.received.Add(1)
		if c.opts.OnPacket == nil || pkt.Unmarshal(buf[:n]) != nil {
			continue
		}
		c.mu.Lock()
		who := c.labels[remote.ID()]
		c.mu.Unlock()
		c.opts.OnPacket(Stamped(&pkt, who[0], who[1], now, n))
	}
}

// Enter asks to be let into the call from a waiting connection; Joined says when it was.
func (c *Client) Enter() { c.send(map[string]any{"type": "enter"}) }

// Joined is closed once the client is in the call.
func (c *Client) Joined() <-chan struct{} { return c.joined }

// Connected is closed once the media connection is up.
func (c *Client) Connected() <-chan struct{} { return c.connected }

// Closed is closed when the SFU closed the call; Reason then says why.
func (c *Client) Closed() <-chan struct{} { return c.closed }

// Reason is why the call closed.
func (c *Client) Reason() string {
	r, _ := c.reason.Load().(string)
	return r
}

// CloseCode is the WebSocket close code the SFU closed the call with (0 until then, or when
// the connection dropped without one).
func (c *Client) CloseCode() int { return int(c.closeCode.Load()) }

// Received is the number of media packets received so far.
func (c *Client) Received() int64 { return c.received.Load() }

// Messages returns the signalling messages received so far.
func (c *Client) Messages() []map[string]any {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]map[string]any(nil), c.msgs...)
}

func (c *Client) finish(reason string) {
	c.closeOnce.Do(func() {
		c.reason.Store(reason)
		close(c.closed)
	})
}

// Close leaves the call.
func (c *Client) Close() {
	c.finish("closed by the client")
	_ = c.pc.Close()
	_ = c.ws.Close(websocket.StatusNormalClosure, "bye")
}

// WriteVideo sends a video packet whose payload starts with the send time and seq, padded to
// size bytes; marker ends a frame.
func (c *Client) WriteVideo(seq uint16, ts uint32, marker bool, counter uint32, size int, buf []byte) error {
	return WriteStamped(c.video, 96, seq, ts, marker, counter, size, buf)
}

// WriteVideoPayload sends a video packet with the payload as given (tests of what depends on
// the codec's payload, such as keyframes).
func (c *Client) WriteVideoPayload(seq uint16, ts uint32, marker bool, payload []byte) error {
	return c.video.WriteRTP(&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 96, SequenceNumber: seq, Timestamp: ts, Marker: marker, SSRC: 1}, Payload: payload})
}

// WriteAudio sends an audio packet stamped like WriteVideo.
func (c *Client) WriteAudio(seq uint16, ts uint32, counter uint32, size int, buf []byte) error {
	return WriteStamped(c.audio, 111, seq, ts, true, counter, size, buf)
}

// WriteStamped writes a packet whose payload starts with the send time and a counter, padded
// to size bytes.
func WriteStamped(track *webrtc.TrackLocalStaticRTP, pt uint8, seq uint16, ts uint32, marker bool, counter uint32, size int, buf []byte) error {
	if size < 12 {
		size = 12
	}
	payload := buf[:size]
	binary.BigEndian.PutUint64(payload[:8], uint64(time.Now().UnixNano()))
	binary.BigEndian.PutUint32(payload[8:12], counter)
	return track.WriteRTP(&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: pt, SequenceNumber: seq, Timestamp: ts, Marker: marker, SSRC: 1}, Payload: payload})
}

// NewAPIDropping is NewAPI with incoming RTP packets dropped where drop says so, before the
// NACK generator sees them: a lossy network, for retransmission tests.
func NewAPIDropping(ip string, drop func(*rtp.Header) bool) (*webrtc.API, error) {
	return newAPI(ip, drop)
}

func newAPI(ip string, drop func(*rtp.Header) bool) (*webrtc.API, error) {
	m := &webrtc.MediaEngine{}
	if err := m.RegisterDefaultCodecs(); err != nil {
		return nil, err
	}
	reg := &interceptor.Registry{}
	if drop != nil {
		// Registered first, so that its reader is the one nearest the network.
		reg.Add(dropFactory{drop})
	}
	if err := webrtc.RegisterDefaultInterceptors(m, reg); err != nil {
		return nil, err
	}
	only := net.ParseIP(ip)
	se := webrtc.SettingEngine{LoggerFactory: quiet}
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetIPFilter(func(candidate net.IP) bool { return candidate.Equal(only) })
	se.SetIncludeLoopbackCandidate(true)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	if drop != nil {
		// The drop happens after decryption: the retransmission of a dropped packet carries
		// the same SRTP index as the copy that was decrypted, and replay protection would
		// discard it.
		se.DisableSRTPReplayProtection(true)
	}
	return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(reg), webrtc.WithSettingEngine(se)), nil
}

type dropFactory struct{ drop func(*rtp.Header) bool }

func (f dropFactory) NewInterceptor(string) (interceptor.Interceptor, error) {
	return &dropper{drop: f.drop}, nil
}

type dropper struct {
	interceptor.NoOp
	drop func(*rtp.Header) bool
}

func (d *dropper) BindRemoteStream(_ *interceptor.StreamInfo, reader interceptor.RTPReader) interceptor.RTPReader {
	return interceptor.RTPReaderFunc(func(b []byte, a interceptor.Attributes) (int, interceptor.Attributes, error) {
		for {
			n, attr, err := reader.Read(b, a)
			if err != nil {
				return n, attr, err
			}
			var h rtp.Header
			if _, perr := h.Unmarshal(b[:n]); perr == nil && d.drop(&h) {
				continue
			}
			return n, attr, nil
		}
	})
}

// Stamped reads the send time and counter that WriteStamped put in a packet.
func Stamped(pkt *rtp.Packet, from, label string, at time.Time, size int) Packet {
	p := Packet{From: from, Label: label, At: at, Size: size}
	if len(pkt.Payload) >= 12 {
		p.Sent = time.Unix(0, int64(binary.BigEndian.Uint64(pkt.Payload[:8])))
		p.Seq = binary.BigEndian.Uint32(pkt.Payload[8:12])
	}
	return p
}
