// Package loadtest drives the SFU with synthetic participants on loopback: rooms of 1+1, each
// client publishing VP8-shaped video (1.5 Mbit/s, 30 frames a second of about 6 packets, a
// keyframe every 2 seconds) and Opus-shaped audio (50 kbit/s, a packet every 20 ms), each packet
// carrying its send time and sequence, and receiving the other's. It measures latency, loss
// and the time from joining to the first video packet; the caller measures the SFU's CPU.
package loadtest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/telehealth-bridge/telehealth-bridge/internal/callclient"
)

// Traffic shape of one client.
const (
	FrameInterval   = time.Second / 30
	PacketsPerFrame = 6
	VideoPacketSize = 1040 // 30 × 6 × 1040 bytes ≈ 1.5 Mbit/s
	KeyframeEvery   = 60   // frames: a keyframe every 2 s, three times the packets
	AudioInterval   = 20 * time.Millisecond
	AudioPacketSize = 125 // 50 × 125 bytes = 50 kbit/s
)

// Stats are what the receivers saw during the measurement window.
type Stats struct {
	// Sent counts the packets published during the window, Received those of them that arrived.
	Received     int64
	Sent         int64
	Latencies    []time.Duration
	JoinFirstPkt []time.Duration
}

// LossPct is the share of packets sent in the window that never arrived.
func (s *Stats) LossPct() float64 {
	if s.Sent == 0 {
		return 0
	}
	lost := s.Sent - s.Received
	if lost < 0 {
		lost = 0
	}
	return 100 * float64(lost) / float64(s.Sent)
}

// Percentile of the latencies (p in 0..100).
func Percentile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	i := int(float64(len(s)-1) * p / 100)
	return s[i]
}

// Joiner connects one client of a room; the SFU arm dials the SFU, the baseline arm connects the
// two clients of a room to each other.
type Joiner func(ctx context.Context, room, user string, opts callclient.Options) (Publisher, error)

// Publisher is a client that sends the synthetic traffic.
type Publisher interface {
	WriteVideo(seq uint16, ts uint32, marker bool, counter uint32, size int, buf []byte) error
	WriteAudio(seq uint16, ts uint32, counter uint32, size int, buf []byte) error
	Close()
}

// stream is one publisher's track: its counter, and the counters the other side received.
type stream struct {
	sent atomic.Uint32
	// from and to are the counters at the start and the end of the window.
	from, to uint32
	mu       sync.Mutex
	got      map[uint32]struct{}
}

func (st *stream) receive(counter uint32) {
	st.mu.Lock()
	st.got[counter] = struct{}{}
	st.mu.Unlock()
}

// recorder collects what receivers get.
type recorder struct {
	windowStart, windowEnd atomic.Int64 // Unix nanoseconds; zero while warming up

	mu        sync.Mutex
	streams   map[string]*stream
	latencies []time.Duration
	firstPkt  []time.Duration
}

func (r *recorder) stream(key string) *stream {
	r.mu.Lock()
	defer r.mu.Unlock()
	st := r.streams[key]
	if st == nil {
		st = &stream{got: map[uint32]struct{}{}}
		r.streams[key] = st
	}
	return st
}

func (r *recorder) inWindow(sent time.Time) bool {
	start, end := r.windowStart.Load(), r.windowEnd.Load()
	ns := sent.UnixNano()
	return start != 0 && ns >= start && ns < end
}

// Run runs rooms of 1+1 for warmup then window and returns the receivers' stats. Loss counts
// the packets each publisher sent during the window that its peer never received (a
// retransmission arriving late still counts as received). measure, if not nil, is called at
// the start and the end of the window (to read the SFU's CPU time).
func Run(ctx context.Context, rooms int, warmup, window time.Duration, join Joiner, measure func(start bool)) (*Stats, error) {
	rec := &recorder{streams: map[string]*stream{}}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var clients []Publisher
	defer func() {
		close(stop)
		wg.Wait()
		for _, c := range clients {
			c.Close()
		}
	}()
	// The first member of every room joins and publishes; then the second members join a call
	// whose other member is already sending, and their join → first video packet is measured.
	for _, user := range []string{"@a:bench", "@b:bench"} {
		for i := range rooms {
			room := fmt.Sprintf("room-%d", i)
			joined := time.Now()
			var first sync.Once
			second := user == "@b:bench"
			opts := callclient.Options{Publish: true, OnPacket: func(p callclient.Packet) {
				if second && p.Label == "camera" {
					first.Do(func() {
						rec.mu.Lock()
						rec.firstPkt = append(rec.firstPkt, p.At.Sub(joined))
						rec.mu.Unlock()
					})
				}
				if rec.windowStart.Load() == 0 {
					return
				}
				rec.stream(room + " " + p.From + " " + p.Label).receive(p.Seq)
				if rec.inWindow(p.Sent) {
					rec.mu.Lock()
					rec.latencies = append(rec.latencies, p.At.Sub(p.Sent))
					rec.mu.Unlock()
				}
			}}
			c, err := join(ctx, room, user, opts)
			if err != nil {
				return nil, fmt.Errorf("joining %s as %s: %w", room, user, err)
			}
			clients = append(clients, c)
			video, audio := rec.stream(room+" "+user+" camera"), rec.stream(room+" "+user+" audio")
			wg.Add(1)
			go func() {
				defer wg.Done()
				publish(c, video, audio, stop)
			}()
		}
		if user == "@a:bench" {
			select {
			case <-time.After(time.Second):
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
	}
	select {
	case <-time.After(warmup):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if measure != nil {
		measure(true)
	}
	mark := func(start bool) {
		rec.mu.Lock()
		defer rec.mu.Unlock()
		for _, st := range rec.streams {
			if start {
				st.from = st.sent.Load()
			} else {
				st.to = st.sent.Load()
			}
		}
	}
	now := time.Now()
	rec.windowStart.Store(now.UnixNano())
	rec.windowEnd.Store(now.Add(window).UnixNano())
	mark(true)
	select {
	case <-time.After(window):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	mark(false)
	if measure != nil {
		measure(false)
	}
	// Let the last packets of the window (and their retransmissions) arrive.
	select {
	case <-time.After(time.Second):
	case <-ctx.Done():
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	out := &Stats{Latencies: rec.latencies, JoinFirstPkt: rec.firstPkt}
	for _, st := range rec.streams {
		st.mu.Lock()
		for c := st.from; c < st.to; c++ {
			out.Sent++
			if _, ok := st.got[c]; ok {
				out.Received++
			}
		}
		st.mu.Unlock()
	}
	return out, nil
}

// publish sends the synthetic traffic of one client until stop.
func publish(c Publisher, video, audio *stream, stop <-chan struct{}) {
	// Cameras are not in step with each other: start at a random point of the frame interval.
	select {
	case <-time.After(rand.N(FrameInterval)):
	case <-stop:
		return
	}
	buf := make([]byte, 1200)
	videoTick := time.NewTicker(FrameInterval)
	audioTick := time.NewTicker(AudioInterval)
	defer videoTick.Stop()
	defer audioTick.Stop()
	var vseq, aseq uint16
	var frame uint32
	for {
		select {
		case <-stop:
			return
		case <-videoTick.C:
			n := PacketsPerFrame
			if frame%KeyframeEvery == 0 {
				n *= 3
			}
			for i := range n {
				counter := video.sent.Load()
				if c.WriteVideo(vseq, frame*3000, i == n-1, counter, VideoPacketSize, buf) == nil {
					vseq++
					video.sent.Add(1)
				}
			}
			frame++
		case <-audioTick.C:
			counter := audio.sent.Load()
			if c.WriteAudio(aseq, uint32(aseq)*960, counter, AudioPacketSize, buf) == nil {
				aseq++
				audio.sent.Add(1)
			}
		}
	}
}

// SFUJoiner dials an SFU's signalling socket with credentials from issue.
func SFUJoiner(api *webrtc.API, wsURL string, issue func(room, user string) string) Joiner {
	return func(ctx context.Context, room, user string, opts callclient.Options) (Publisher, error) {
		return callclient.Dial(ctx, api, wsURL, room, issue(room, user), opts)
	}
}
