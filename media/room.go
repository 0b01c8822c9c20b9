package media

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// room is one session's call: its connected peers and the tracks they publish.
type room struct {
	srv *Server
	id  string

	mu     sync.Mutex
	peers  map[string]*peer
	tracks []*upTrack
	lobby  *LobbyView
}

func newRoom(srv *Server, id string) *room {
	return &room{srv: srv, id: id, peers: map[string]*peer{}}
}

func (r *room) empty() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.peers) == 0
}

// enter puts a peer in the room (Server.enter) and queues its joined message, with who is
// there, before anyone else can send it anything; a host gets the lobby right after.
func (r *room) enter(p *peer) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var peers []peerInfo
	for _, o := range r.peers {
		if o.user != p.user {
			o.mu.Lock()
			peers = append(peers, peerInfo{UserID: o.user, Host: o.host, AudioMuted: o.audioMuted, VideoMuted: o.videoMuted})
			o.mu.Unlock()
		}
	}
	p.replaces = r.peers[p.user]
	r.peers[p.user] = p
	host := p.host
	p.sendJSON(message{Type: "joined", UserID: p.user, Host: &host, Peers: peers})
	if p.host && r.lobby != nil {
		p.sendJSON(message{Type: "lobby", Participants: r.lobby.Participants, LobbyMessage: r.lobby.LobbyMessage})
		p.lobbySent = true
	}
}

// subscribeAll subscribes a peer that just entered (Server.enter) to every track already
// published. A second connection of the same user (a reload) replaces the first.
func (r *room) subscribeAll(p *peer) error {
	r.mu.Lock()
	tracks := append([]*upTrack(nil), r.tracks...)
	r.mu.Unlock()
	if old := p.replaces; old != nil {
		p.replaces = nil
		old.close(4001, "You opened the call elsewhere")
	}
	for _, t := range tracks {
		if t.owner.user == p.user {
			continue
		}
		if err := p.subscribe(t); err != nil {
			return fmt.Errorf("subscribing to %s: %w", t.id, err)
		}
	}
	return nil
}

// remove takes a peer out: its tracks stop being forwarded to the others.
func (r *room) remove(p *peer) {
	r.mu.Lock()
	if r.peers[p.user] == p {
		delete(r.peers, p.user)
	}
	var gone []*upTrack
	kept := r.tracks[:0]
	for _, t := range r.tracks {
		if t.owner == p {
			gone = append(gone, t)
		} else {
			kept = append(kept, t)
		}
	}
	r.tracks = kept
	others := r.peersExcept(p)
	r.mu.Unlock()
	for _, t := range gone {
		for _, o := range others {
			o.unsubscribe(t)
		}
	}
	for _, o := range others {
		o.forgetState(p.user)
		o.sendJSON(message{Type: "peer_left", UserID: p.user})
	}
	r.srv.dropRoom(r)
}

// peersExcept lists the room's peers but p's user (whose other connection, replacing p, hears
// nothing about p). Nil lists them all.
func (r *room) peersExcept(p *peer) []*peer {
	out := make([]*peer, 0, len(r.peers))
	for _, o := range r.peers {
		if p == nil || (o != p && o.user != p.user) {
			out = append(out, o)
		}
	}
	return out
}

// publish makes a new track of a peer reach every other peer of the room.
func (r *room) publish(t *upTrack) {
	r.mu.Lock()
	r.tracks = append(r.tracks, t)
	others := r.peersExcept(t.owner)
	r.mu.Unlock()
	for _, o := range others {
		if err := o.subscribe(t); err != nil {
			r.srv.log.Warn().Err(err).Str("session_id", r.id).Msg("Failed to forward a track")
		}
	}
}

// unpublish stops forwarding a track.
func (r *room) unpublish(t *upTrack) {
	r.mu.Lock()
	for i, x := range r.tracks {
		if x == t {
			r.tracks = append(r.tracks[:i], r.tracks[i+1:]...)
			break
		}
	}
	others := r.peersExcept(t.owner)
	r.mu.Unlock()
	for _, o := range others {
		o.unsubscribe(t)
	}
}

// broadcast sends a message to every peer but one.
func (r *room) broadcast(from *peer, m message) {
	r.mu.Lock()
	others := r.peersExcept(from)
	r.mu.Unlock()
	for _, o := range others {
		o.sendJSON(m)
	}
}

// broadcastState gives a peer's mute state to every other peer, coalesced (peer.queueState).
func (r *room) broadcastState(from *peer, kind string, muted bool) {
	r.mu.Lock()
	others := r.peersExcept(from)
	r.mu.Unlock()
	for _, o := range others {
		o.queueState(from.user, kind, muted)
	}
}

func (r *room) hangup(user, reason string) {
	r.mu.Lock()
	p := r.peers[user]
	r.mu.Unlock()
	if p != nil {
		p.close(4000, reason)
	}
}

func (r *room) closeAll(reason string) {
	r.mu.Lock()
	peers := r.peersExcept(nil)
	r.mu.Unlock()
	for _, p := range peers {
		p.close(4000, reason)
	}
}

func (r *room) publishLobby(view LobbyView) {
	r.mu.Lock()
	r.lobby = &view
	var hosts []*peer
	for _, p := range r.peers {
		if p.host {
			hosts = append(hosts, p)
		}
	}
	r.mu.Unlock()
	for _, h := range hosts {
		h.sendJSON(message{Type: "lobby", Participants: view.Participants, LobbyMessage: view.LobbyMessage})
	}
}

// upTrack is a track a peer publishes. One read loop forwards each packet to every
// subscriber (fanout): no goroutine hand-off and no copy on the SFU's side of the packet path.
type upTrack struct {
	owner    *peer
	label    string
	id       string
	streamID string
	remote   *webrtc.TrackRemote
	local    *fanout
	// cache keeps a video track's latest packets for retransmissions; nil for audio.
	cache  *packetCache
	counts trackCounters

	// lastPLI throttles keyframe requests to the publisher (Unix nanoseconds).
	lastPLI atomic.Int64
	// remb keeps each subscriber's latest bandwidth estimate, passed on as their minimum.
	rembMu   sync.Mutex
	remb     map[*peer]uint64
	lastREMB time.Time
}

const (
	pliInterval  = 500 * time.Millisecond
	rembInterval = 250 * time.Millisecond
)

// forward is the packet path: read a packet from the publisher, write it to the subscribers.
// A video packet is read straight into a buffer that then joins the track's cache.
func (t *upTrack) forward() {
	stats := &t.owner.room.srv.stats
	defer stats.retire(&t.counts)
	buf := make([]byte, packetSize)
	var pkt rtp.Packet
	for {
		n, _, err := t.remote.Read(buf)
		if err != nil {
			return
		}
		if err = pkt.Unmarshal(buf[:n]); err != nil {
			stats.drop(dropMalformed)
			continue
		}
		t.counts.packetsIn.Add(1)
		t.counts.bytesIn.Add(uint64(len(pkt.Payload)))
		if t.cache != nil {
			// pkt keeps pointing into buf, now the cache's: the next packet goes to another.
			buf = t.cache.store(pkt.SequenceNumber, buf, n)
		}
		stripExtensions(&pkt.Header)
		sent, failed := t.local.write(&pkt.Header, pkt.Payload)
		if failed > 0 {
			stats.dropped[dropWriteFailed].Add(uint64(failed))
		}
		t.counts.packetsOut.Add(uint64(sent))
		t.counts.bytesOut.Add(uint64(sent * len(pkt.Payload)))
	}
}

// requestKeyframe asks the publisher for a keyframe, at most every pliInterval unless forced
// (a new subscriber needs one at once).
func (t *upTrack) requestKeyframe(force bool) {
	if t.remote.Kind() != webrtc.RTPCodecTypeVideo {
		return
	}
	now := time.Now().UnixNano()
	last := t.lastPLI.Load()
	if !force && now-last < int64(pliInterval) {
		return
	}
	if !t.lastPLI.CompareAndSwap(last, now) {
		return
	}
	t.owner.room.srv.stats.plis.Add(1)
	_ = t.owner.pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: uint32(t.remote.SSRC())}})
}

// estimate records a subscriber's bandwidth estimate and passes the lowest one to the
// publisher, so that it sends what every receiver can take.
func (t *upTrack) estimate(from *peer, bitrate uint64) {
	t.rembMu.Lock()
	if t.remb == nil {
		t.remb = map[*peer]uint64{}
	}
	if bitrate == 0 {
		delete(t.remb, from)
	} else {
		t.remb[from] = bitrate
	}
	lowest := uint64(0)
	for _, b := range t.remb {
		if lowest == 0 || b < lowest {
			lowest = b
		}
	}
	now := time.Now()
	send := lowest > 0 && now.Sub(t.lastREMB) >= rembInterval
	if send {
		t.lastREMB = now
	}
	t.rembMu.Unlock()
	if send {
		_ = t.owner.pc.WriteRTCP([]rtcp.Packet{&rtcp.ReceiverEstimatedMaximumBitrate{
			Bitrate: float32(lowest), SSRCs: []uint32{uint32(t.remote.SSRC())},
		}})
	}
}

// readRTCP handles what a subscriber says about a track: keyframe requests go to the
// publisher (throttled), bandwidth estimates too; NACKs are answered from the track's cache.
func (t *upTrack) readRTCP(sub *peer, sender *webrtc.RTPSender) {
	defer t.estimate(sub, 0)
	var scratch []byte
	// The SSRC this subscriber receives the track on: its NACKs may only name that stream.
	var own uint32
	if enc := sender.GetParameters().Encodings; len(enc) > 0 {
		own = uint32(enc[0].SSRC)
	}
	// A new receiver's first request always goes through: the keyframe asked for when it
	// connected may have reached it before it could decode, and the throttle would then keep it
	// waiting for pliInterval with nothing on screen.
	first := true
	// One buffer for the subscriber's RTCP, and its packets as the interceptors parsed them
	// (Pion's ReadRTCP allocates a buffer per packet and parses it again: a third of what the
	// SFU allocated once the calls were up).
	buf := make([]byte, packetSize)
	for {
		n, attrs, err := sender.Read(buf)
		if err != nil {
			return
		}
		pkts, err := attrs.GetRTCPPackets(buf[:n])
		if err != nil {
			continue // not RTCP the SFU can read: nothing to act on
		}
		for _, pkt := range pkts {
			switch p := pkt.(type) {
			case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
				t.requestKeyframe(first)
				first = false
			case *rtcp.ReceiverEstimatedMaximumBitrate:
				t.estimate(sub, uint64(p.Bitrate))
			case *rtcp.TransportLayerNack:
				t.owner.room.srv.stats.nacks.Add(1)
				if p.MediaSSRC != own {
					continue
				}
				if scratch == nil {
					scratch = make([]byte, packetSize)
				}
				t.resend(p, scratch)
			}
		}
	}
}
