package media

import "sync/atomic"

// Why the SFU did not forward a packet (Stats.Dropped).
const (
	// DropBufferFull: a stream's receive buffer was full, the SFU being behind (overload). The
	// SFU sheds the packet instead of holding more; receivers NACK it or wait for a keyframe.
	DropBufferFull = "buffer_full"
	// DropMalformed: a packet that does not parse as RTP.
	DropMalformed = "malformed"
	// DropWriteFailed: sending to a subscriber failed (its connection closing, or the socket).
	DropWriteFailed = "write_failed"
	// DropNotCached: a retransmission asked for a packet no longer (or never) in the cache.
	DropNotCached = "not_cached"
	// DropWaiting: a packet a waiting connection sent (someone not let in yet): never forwarded.
	DropWaiting = "waiting"
)

type dropReason int

const (
	dropBufferFull dropReason = iota
	dropMalformed
	dropWriteFailed
	dropNotCached
	dropWaiting
	dropReasons
)

var dropNames = [dropReasons]string{DropBufferFull, DropMalformed, DropWriteFailed, DropNotCached, DropWaiting}

// Stats is a snapshot of the SFU for monitoring: who is in calls now, and the packet counters
// since it started. Reading it adds nothing to the packet path.
type Stats struct {
	// Calls are the rooms with at least one connection (connection checks included).
	Calls int
	// Peers are the open call connections; Hosts those of clinicians among them.
	Peers, Hosts int
	// Waiting are the waiting connections: people not let in yet, connected ahead.
	Waiting int
	// Tracks are the tracks published in all calls.
	Tracks int
	// TURNAllocations are the TURN relays held (0 without TURN).
	TURNAllocations int

	// PacketsIn and BytesIn count the RTP packets received from publishers (payload bytes).
	PacketsIn, BytesIn uint64
	// PacketsOut and BytesOut count the RTP packets sent to subscribers, retransmissions
	// included.
	PacketsOut, BytesOut uint64
	// NACKs counts the retransmission requests of subscribers, Retransmitted the packets sent
	// again for them, PLIs the keyframe requests passed on to publishers.
	NACKs, Retransmitted, PLIs uint64
	// SendQueueOverflows counts the call connections closed because their page fell behind
	// the messages queued for it.
	SendQueueOverflows uint64
	// StuckConnections counts the call connections closed because they went on shedding
	// their incoming packets (their reader no longer kept up) for connStuck.
	StuckConnections uint64
	// DirectSocketFailures counts the connections' own sockets on the ICE port that could
	// not be opened (udpMux): those connections' packets go through the shared socket.
	DirectSocketFailures uint64
	// Dropped counts the packets not forwarded, by reason (the Drop* constants).
	Dropped map[string]uint64
}

// counters are the live counters behind Stats. The packet path counts per track (trackCounters,
// written by its own goroutine only) to keep the cores from fighting over one cache line; a
// track's counts move here when it ends.
type counters struct {
	packetsIn, bytesIn, packetsOut, bytesOut atomic.Uint64
	nacks, retransmitted, plis               atomic.Uint64
	sendQueueOverflows, stuckConns           atomic.Uint64
	// directFailed counts the connections' own sockets that could not be opened (udpMux).
	directFailed atomic.Uint64
	dropped      [dropReasons]atomic.Uint64
}

func (c *counters) drop(r dropReason) { c.dropped[r].Add(1) }

// trackCounters are one published track's packet counts.
type trackCounters struct {
	packetsIn, bytesIn, packetsOut, bytesOut atomic.Uint64
}

// retire adds a track's counts to the totals when it ends.
func (c *counters) retire(t *trackCounters) {
	c.packetsIn.Add(t.packetsIn.Swap(0))
	c.bytesIn.Add(t.bytesIn.Swap(0))
	c.packetsOut.Add(t.packetsOut.Swap(0))
	c.bytesOut.Add(t.bytesOut.Swap(0))
}

// Stats reads the snapshot. Each room is locked on its own, one after the other, never under
// the server's lock.
func (s *Server) Stats() Stats {
	st := Stats{
		PacketsIn: s.stats.packetsIn.Load(), BytesIn: s.stats.bytesIn.Load(),
		PacketsOut: s.stats.packetsOut.Load(), BytesOut: s.stats.bytesOut.Load(),
		NACKs: s.stats.nacks.Load(), Retransmitted: s.stats.retransmitted.Load(), PLIs: s.stats.plis.Load(),
		SendQueueOverflows: s.stats.sendQueueOverflows.Load(), StuckConnections: s.stats.stuckConns.Load(),
		DirectSocketFailures: s.stats.directFailed.Load(), Dropped: map[string]uint64{},
	}
	for i, name := range dropNames {
		st.Dropped[name] = s.stats.dropped[i].Load()
	}
	s.mu.Lock()
	for _, w := range s.waiting {
		st.Waiting += len(w)
	}
	rooms := make([]*room, 0, len(s.rooms))
	for _, r := range s.rooms {
		rooms = append(rooms, r)
	}
	s.mu.Unlock()
	for _, r := range rooms {
		r.mu.Lock()
		if len(r.peers) > 0 {
			st.Calls++
		}
		st.Peers += len(r.peers)
		for _, p := range r.peers {
			if p.host {
				st.Hosts++
			}
		}
		st.Tracks += len(r.tracks)
		for _, t := range r.tracks {
			st.PacketsIn += t.counts.packetsIn.Load()
			st.BytesIn += t.counts.bytesIn.Load()
			st.PacketsOut += t.counts.packetsOut.Load()
			st.BytesOut += t.counts.bytesOut.Load()
		}
		r.mu.Unlock()
	}
	if t := s.turn; t != nil {
		t.mu.Lock()
		for _, n := range t.allocations {
			st.TURNAllocations += n
		}
		t.mu.Unlock()
	}
	return st
}
