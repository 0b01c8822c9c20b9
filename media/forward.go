package media

import (
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/transport/v5/deadline"
	"github.com/pion/transport/v5/packetio"
	"github.com/pion/webrtc/v4"
)

// packetSize is the largest packet the SFU reads: an Ethernet MTU, more than browsers send.
const packetSize = 1500

// Retransmissions are answered from one cache per published video track, shared by all its
// subscribers (Pion's NACK responder kept a copy of every packet for each subscriber, 1024
// packets of 1.5 KB each: 1.5 MB per video stream sent). It holds videoCachePackets, about a
// second of a 2 Mbit/s camera (170 packets a second, three times that during a keyframe):
// several round trips of a distant participant, after which a retransmission comes too late
// for the receiver's jitter buffer anyway. Audio has no cache: browsers do not NACK Opus.
// (96 would save 1 MB at 20 rooms of 1+1, but a let-in guest's first frame, primed from the
// cache, measured p95 219-274 ms with it against 176-237 ms with 128.)
const videoCachePackets = 128

// packetCache holds a video track's latest packets by sequence number, in buffers it owns.
// The forwarding loop reads each packet straight into a spare buffer and swaps it in (store),
// so caching costs no copy; the buffer evicted becomes the next spare. Readers (NACK answers)
// copy a packet out under the lock: a buffer handed back by store may be overwritten by the
// next read at once.
type packetCache struct {
	mu    sync.Mutex
	slots []cacheSlot
	// last is the sequence number stored last.
	last uint16
}

type cacheSlot struct {
	buf   []byte
	n     int
	seq   uint16
	valid bool
}

func newPacketCache(size int) *packetCache {
	return &packetCache{slots: make([]cacheSlot, size)}
}

// store puts buf[:n], the packet of sequence number seq, in the cache and returns the buffer
// to read the next packet into. The caller keeps reading buf until its next store, which
// never hands buf back: a buffer comes back only when a later packet takes its slot.
func (c *packetCache) store(seq uint16, buf []byte, n int) []byte {
	c.mu.Lock()
	s := &c.slots[int(seq)%len(c.slots)]
	spare := s.buf
	s.buf, s.n, s.seq, s.valid = buf, n, seq, true
	c.last = seq
	c.mu.Unlock()
	if spare == nil {
		spare = make([]byte, packetSize)
	}
	return spare
}

// get copies the packet of sequence number seq into dst; 0 if it is not cached.
func (c *packetCache) get(seq uint16, dst []byte) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := &c.slots[int(seq)%len(c.slots)]
	if !s.valid || s.seq != seq {
		return 0
	}
	return copy(dst, s.buf[:s.n])
}

// sinceKeyframe copies out the cached packets from the latest start of a keyframe to the
// latest packet, in order (missing ones skipped); nil if no keyframe is cached. Only a new
// subscriber's first moments use it (upTrack.prime), never the packet path.
func (c *packetCache) sinceKeyframe(keyframe func(payload []byte) bool) [][]byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	var h rtp.Header
	start, found := c.last, false
	for back := range len(c.slots) {
		seq := c.last - uint16(back)
		s := &c.slots[int(seq)%len(c.slots)]
		if !s.valid || s.seq != seq {
			continue
		}
		n, err := h.Unmarshal(s.buf[:s.n])
		if err == nil && keyframe(s.buf[n:s.n]) {
			start, found = seq, true
			break
		}
	}
	if !found {
		return nil
	}
	var out [][]byte
	for seq := start; ; seq++ {
		s := &c.slots[int(seq)%len(c.slots)]
		if s.valid && s.seq == seq {
			out = append(out, append([]byte(nil), s.buf[:s.n]...))
		}
		if seq == c.last {
			return out
		}
	}
}

// keyframeStart says whether an RTP payload starts a keyframe: VP8 (RFC 7741: the first
// packet of a frame whose VP8 header has the P bit clear) or H.264 (an SPS or IDR slice, alone,
// aggregated first in a STAP-A, or starting an FU-A).
func keyframeStart(mime string, p []byte) bool {
	switch mime {
	case webrtc.MimeTypeVP8:
		if len(p) < 1 || p[0]&0x10 == 0 || p[0]&0x07 != 0 {
			return false // not the start of partition 0
		}
		i := 1
		if p[0]&0x80 != 0 { // extensions
			if len(p) < 2 {
				return false
			}
			x := p[1]
			i = 2
			if x&0x80 != 0 { // picture ID, 7 or 15 bits
				if len(p) <= i {
					return false
				}
				if p[i]&0x80 != 0 {
					i++
				}
				i++
			}
			if x&0x40 != 0 { // TL0PICIDX
				i++
			}
			if x&0x30 != 0 { // TID/KEYIDX
				i++
			}
		}
		return len(p) > i && p[i]&0x01 == 0
	case webrtc.MimeTypeH264:
		if len(p) < 2 {
			return false
		}
		switch nal := p[0] & 0x1f; nal {
		case 5, 7:
			return true
		case 24: // STAP-A: the first aggregated unit
			return len(p) > 3 && (p[3]&0x1f == 7 || p[3]&0x1f == 5)
		case 28: // FU-A: its start
			return p[1]&0x80 != 0 && (p[1]&0x1f == 5 || p[1]&0x1f == 7)
		}
	}
	return false
}

// prime sends a new subscriber the track's latest keyframe and what followed it, from the
// cache, as soon as its sender is bound: it can show a picture without waiting for the
// publisher to answer a keyframe request. Packets forwarded meanwhile may arrive twice or out
// of order; the receiver's jitter buffer sorts them (and SRTP drops duplicates).
func (t *upTrack) prime(sender *webrtc.RTPSender) {
	if t.cache == nil {
		return
	}
	enc := sender.GetParameters().Encodings
	if len(enc) == 0 {
		return
	}
	b, ok := t.local.binding(uint32(enc[0].SSRC))
	if !ok {
		return
	}
	mime := t.remote.Codec().MimeType
	pkts := t.cache.sinceKeyframe(func(payload []byte) bool { return keyframeStart(mime, payload) })
	var pkt rtp.Packet
	for _, raw := range pkts {
		if pkt.Unmarshal(raw) != nil {
			continue
		}
		stripExtensions(&pkt.Header)
		pkt.Header.SSRC, pkt.Header.PayloadType = b.ssrc, b.payloadType
		if _, err := b.w.WriteRTP(&pkt.Header, pkt.Payload); err == nil {
			t.counts.packetsOut.Add(1)
		}
	}
}

// fanout is the local track of a published track: every subscriber's sender binds to it,
// and the forwarding loop writes each packet to each binding with the subscriber's SSRC and
// payload type. Unlike Pion's TrackLocalStaticRTP it can write to one binding alone, which a
// retransmission needs. Codec matching is left to the embedded TrackLocalStaticRTP.
type fanout struct {
	*webrtc.TrackLocalStaticRTP

	mu sync.Mutex
	// bindings is replaced on each change, so that the packet path reads it without a lock.
	bindings atomic.Pointer[[]binding]
}

type binding struct {
	id          string
	ssrc        uint32
	payloadType uint8
	w           webrtc.TrackLocalWriter
}

func newFanout(codec webrtc.RTPCodecCapability, id, streamID string) (*fanout, error) {
	static, err := webrtc.NewTrackLocalStaticRTP(codec, id, streamID)
	if err != nil {
		return nil, err
	}
	f := &fanout{TrackLocalStaticRTP: static}
	f.bindings.Store(&[]binding{})
	return f, nil
}

// Bind is called by Pion when a subscriber's sender starts sending the track.
func (f *fanout) Bind(ctx webrtc.TrackLocalContext) (webrtc.RTPCodecParameters, error) {
	codec, err := f.TrackLocalStaticRTP.Bind(ctx)
	if err != nil {
		return codec, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	old := *f.bindings.Load()
	next := make([]binding, 0, len(old)+1)
	next = append(next, old...)
	next = append(next, binding{id: ctx.ID(), ssrc: uint32(ctx.SSRC()), payloadType: uint8(codec.PayloadType), w: ctx.WriteStream()})
	f.bindings.Store(&next)
	return codec, nil
}

// Unbind is called by Pion when a subscriber's sender stops.
func (f *fanout) Unbind(ctx webrtc.TrackLocalContext) error {
	err := f.TrackLocalStaticRTP.Unbind(ctx)
	f.mu.Lock()
	defer f.mu.Unlock()
	old := *f.bindings.Load()
	next := make([]binding, 0, len(old))
	for _, b := range old {
		if b.id != ctx.ID() {
			next = append(next, b)
		}
	}
	f.bindings.Store(&next)
	return err
}

// write sends a packet to every subscriber; it returns how many took it and how many not.
func (f *fanout) write(h *rtp.Header, payload []byte) (sent, failed int) {
	for _, b := range *f.bindings.Load() {
		h.SSRC, h.PayloadType = b.ssrc, b.payloadType
		if _, err := b.w.WriteRTP(h, payload); err == nil {
			sent++
		} else {
			failed++
		}
	}
	return sent, failed
}

// binding returns the subscriber's binding of SSRC ssrc.
func (f *fanout) binding(ssrc uint32) (binding, bool) {
	for _, b := range *f.bindings.Load() {
		if b.ssrc == ssrc {
			return b, true
		}
	}
	return binding{}, false
}

// resend answers a subscriber's NACK from the track's cache, to that subscriber alone. buf
// is the caller's scratch buffer (packetSize bytes).
func (t *upTrack) resend(nack *rtcp.TransportLayerNack, buf []byte) {
	if t.cache == nil {
		return
	}
	b, ok := t.local.binding(nack.MediaSSRC)
	if !ok {
		return
	}
	var pkt rtp.Packet
	for _, pair := range nack.Nacks {
		pair.Range(func(seq uint16) bool {
			n := t.cache.get(seq, buf)
			if n == 0 || pkt.Unmarshal(buf[:n]) != nil {
				t.owner.room.srv.stats.drop(dropNotCached)
				return true
			}
			stripExtensions(&pkt.Header)
			pkt.Header.SSRC, pkt.Header.PayloadType = b.ssrc, b.payloadType
			if _, err := b.w.WriteRTP(&pkt.Header, pkt.Payload); err == nil {
				t.owner.room.srv.stats.retransmitted.Add(1)
			}
			return true
		})
	}
}

// stripExtensions drops a publisher's header extensions: their IDs were negotiated with the
// publisher, not with the subscribers.
func stripExtensions(h *rtp.Header) {
	h.Extension, h.Extensions, h.ExtensionProfile = false, h.Extensions[:0], 0
}

// Receive buffers of a PeerConnection's SRTP and SRTCP streams, between the decryption and
// the reader (upTrack.forward, readRTCP). Pion's are allowed 1 MB and 100 KB: an SFU behind
// (CPU saturated) would fill them all, seconds of media nobody can use, before dropping. These
// hold a fraction of a second of a camera and a few dozen RTCP packets; past that the SFU
// sheds the packet (counted as DropBufferFull).
const (
	rtpQueue  = 96
	rtcpQueue = 32
)

// streamBuffer is a stream's receive buffer: a packetRing of at most rtpQueue or rtcpQueue
// packets, with their attributes.
type streamBuffer struct {
	stats *counters

	mu     sync.Mutex
	ring   packetRing[packetio.Attributes]
	closed bool
	// ready wakes the reader; deadline is its read deadline (SetReadDeadline).
	ready    chan struct{}
	deadline *deadline.Deadline
}

// errStreamTimeout is a read past the stream's deadline, as a net.Error.
type errStreamTimeout struct{}

func (errStreamTimeout) Error() string   { return packetio.ErrTimeout.Error() }
func (errStreamTimeout) Timeout() bool   { return true }
func (errStreamTimeout) Temporary() bool { return true }
func (errStreamTimeout) Unwrap() error   { return packetio.ErrTimeout }

func (s *Server) newStreamBuffer(kind packetio.BufferPacketType, _ uint32) io.ReadWriteCloser {
	limit := rtpQueue
	if kind == packetio.RTCPBufferPacket {
		limit = rtcpQueue
	}
	return &streamBuffer{stats: &s.stats, ring: newPacketRing[packetio.Attributes](&s.packets, limit),
		ready: make(chan struct{}, 1), deadline: deadline.New()}
}

func (b *streamBuffer) Read(p []byte) (int, error) {
	n, _, err := b.ReadWithAttributes(p, nil)
	return n, err
}

func (b *streamBuffer) Write(p []byte) (int, error) { return b.WriteWithAttributes(p, nil) }

// ReadWithAttributes returns the next packet and its attributes; a packet longer than p is
// consumed, cut short, with io.ErrShortBuffer. Once closed, what is queued is read first.
func (b *streamBuffer) ReadWithAttributes(p []byte, a packetio.Attributes) (int, packetio.Attributes, error) {
	for {
		b.mu.Lock()
		if b.ring.n > 0 {
			buf, size, attrs := b.ring.pop()
			a = append(a[:0], *attrs...)
			b.mu.Unlock()
			n := copy(p, (*buf)[:size])
			b.ring.release(buf)
			if n < size {
				return n, a, io.ErrShortBuffer
			}
			return n, a, nil
		}
		closed := b.closed
		b.mu.Unlock()
		if closed {
			return 0, nil, io.EOF
		}
		select {
		case <-b.ready:
		case <-b.deadline.Done():
			return 0, nil, errStreamTimeout{}
		}
	}
}

// WriteWithAttributes queues a copy of a packet, or sheds it when the ring is full.
func (b *streamBuffer) WriteWithAttributes(p []byte, a packetio.Attributes) (int, error) {
	if len(p) > packetSize {
		b.stats.drop(dropMalformed)
		return 0, packetio.ErrFull
	}
	b.mu.Lock()
	switch {
	case b.closed:
		b.mu.Unlock()
		return 0, io.ErrClosedPipe
	case b.ring.full():
		b.mu.Unlock()
		b.stats.drop(dropBufferFull)
		return 0, packetio.ErrFull
	}
	attrs := b.ring.push(p)
	*attrs = append((*attrs)[:0], a...)
	b.wake()
	b.mu.Unlock()
	return len(p), nil
}

// wake tells the reader there is something to read (under b.mu).
func (b *streamBuffer) wake() {
	select {
	case b.ready <- struct{}{}:
	default:
	}
}

// Close ends the stream: the reader gets what is queued, then io.EOF.
func (b *streamBuffer) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	b.wake()
	return nil
}

// SetReadDeadline bounds the reader's wait.
func (b *streamBuffer) SetReadDeadline(t time.Time) error {
	b.deadline.Set(t)
	return nil
}
