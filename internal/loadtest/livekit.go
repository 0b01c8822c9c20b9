package loadtest

import (
	"context"
	"encoding/binary"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"github.com/telehealth-bridge/telehealth-bridge/internal/callclient"
	"github.com/telehealth-bridge/telehealth-bridge/internal/lktest"
)

// LiveKitJoiner connects clients to a LiveKit server (the LiveKit arm of the benchmark) with
// the test's own LiveKit client (internal/lktest), each publishing a microphone and a camera
// and subscribing to the other's. token gives a user's access token for a room. Rooms are of
// two, "@a:bench" and "@b:bench": a packet received is the other's.
func LiveKitJoiner(url string, token func(room, user string) (string, error)) Joiner {
	return func(ctx context.Context, room, user string, opts callclient.Options) (Publisher, error) {
		tok, err := token(room, user)
		if err != nil {
			return nil, err
		}
		other := "@a:bench"
		if user == other {
			other = "@b:bench"
		}
		onPacket := func(kind webrtc.RTPCodecType, pkt *rtp.Packet, at time.Time) {
			label := "audio"
			if kind == webrtc.RTPCodecTypeVideo {
				label = "camera"
			}
			if opts.OnPacket != nil {
				opts.OnPacket(tailStamped(pkt, other, label, at))
			}
		}
		p, err := lktest.Dial(ctx, url, tok, lktest.Options{Subscribe: true, OnPacket: onPacket})
		if err != nil {
			return nil, err
		}
		tracks, err := p.Publish(lktest.Microphone, lktest.Camera)
		if err != nil {
			p.Close()
			return nil, err
		}
		return &lkPublisher{p: p, audio: tracks[0], video: tracks[1]}, nil
	}
}

// lkPublisher writes the synthetic traffic as a browser would shape it for LiveKit, which
// reads VP8 payload descriptors (keyframes, picture IDs) to forward video, and answers
// LiveKit's keyframe requests with its next frame, as a browser does: each video packet
// starts with a VP8 payload descriptor carrying a 15-bit picture ID, a frame's first packet
// with the VP8 frame header (a keyframe's with its 640×480 size). The send time and the
// counter are the last 12 bytes of every packet.
type lkPublisher struct {
	p            *lktest.Participant
	audio, video *webrtc.TrackLocalStaticRTP
	lastTS       uint32
	started      bool
	picture      uint16
}

const stampSize = 12

func (l *lkPublisher) WriteVideo(seq uint16, ts uint32, marker bool, counter uint32, size int, buf []byte) error {
	first := !l.started || ts != l.lastTS
	if first && l.started {
		l.picture = (l.picture + 1) & 0x7fff
	}
	l.started, l.lastTS = true, ts
	// A keyframe every KeyframeEvery frames, and at once when LiveKit asks for one (it
	// forwards a new subscriber's video from a keyframe, and asks the publisher for one).
	key := (ts/3000)%KeyframeEvery == 0 || (first && l.p.KeyframeWanted())
	payload := buf[:size]
	clear(payload)
	payload[0] = 0x80 // X: extensions follow
	if first {
		payload[0] |= 0x10 // S: start of the frame's first partition
	}
	payload[1] = 0x80 // I: a picture ID
	payload[2] = 0x80 | byte(l.picture>>8)
	payload[3] = byte(l.picture)
	if first {
		if key {
			// Frame tag: keyframe (P=0), version 0, shown; then the start code and the size.
			copy(payload[4:], []byte{0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0xe0, 0x01})
		} else {
			copy(payload[4:], []byte{0x11, 0x02, 0x00}) // P=1: an inter frame
		}
	}
	stamp(payload)
	binary.BigEndian.PutUint32(payload[size-4:], counter)
	return l.video.WriteRTP(&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 96, SequenceNumber: seq, Timestamp: ts, Marker: marker, SSRC: 1}, Payload: payload})
}

func (l *lkPublisher) WriteAudio(seq uint16, ts uint32, counter uint32, size int, buf []byte) error {
	payload := buf[:size]
	clear(payload)
	payload[0] = 0xfc // an Opus TOC byte (CELT fullband 20 ms)
	stamp(payload)
	binary.BigEndian.PutUint32(payload[size-4:], counter)
	return l.audio.WriteRTP(&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 111, SequenceNumber: seq, Timestamp: ts, Marker: true, SSRC: 2}, Payload: payload})
}

func (l *lkPublisher) Close() { l.p.Close() }

// stamp writes the send time in the 12 bytes before the counter at the payload's end.
func stamp(payload []byte) {
	binary.BigEndian.PutUint64(payload[len(payload)-stampSize:], uint64(time.Now().UnixNano()))
}

// tailStamped reads what stamp and the counter wrote.
func tailStamped(pkt *rtp.Packet, from, label string, at time.Time) callclient.Packet {
	p := callclient.Packet{From: from, Label: label, At: at, Size: len(pkt.Payload)}
	if n := len(pkt.Payload); n >= stampSize+4 {
		p.Sent = time.Unix(0, int64(binary.BigEndian.Uint64(pkt.Payload[n-stampSize:])))
		p.Seq = binary.BigEndian.Uint32(pkt.Payload[n-4:])
	}
	return p
}
