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
)

type dropReason int

const (
	dropBufferFull dropReason = iota
	dropMalformed
	dropWriteFailed
	dropNotCached
	dropReasons
)

var dropNames = [dropReasons]string{DropBufferFull, DropMalformed, DropWriteFailed, DropNotCached}

// Stats are the SFU's packet counters since it started.
type Stats struct {
	// PacketsIn and BytesIn count the RTP packets received from publishers (payload bytes).
	PacketsIn, BytesIn uint64
	// PacketsOut and BytesOut count the RTP packets sent to subscribers, retransmissions
	// included.
	PacketsOut, BytesOut uint64
	// NACKs counts the retransmission requests of subscribers, Retransmitted the packets sent
	// again for them, PLIs the keyframe requests passed on to publishers.
	NACKs, Retransmitted, PLIs uint64
	// Dropped counts the packets not forwarded, by reason (the Drop* constants).
	Dropped map[string]uint64
}

// counters are the live counters behind Stats. The packet path counts per track (trackCounters,
// written by its own goroutine only) to keep the cores from fighting over one cache line; a
// track's counts move here when it ends.
type counters struct {
	packetsIn, bytesIn, packetsOut, bytesOut atomic.Uint64
	nacks, retransmitted, plis               atomic.Uint64
	dropped                                  [dropReasons]atomic.Uint64
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

// Stats returns the SFU's counters.
func (s *Server) Stats() Stats {
	st := Stats{
		PacketsIn: s.stats.packetsIn.Load(), BytesIn: s.stats.bytesIn.Load(),
		PacketsOut: s.stats.packetsOut.Load(), BytesOut: s.stats.bytesOut.Load(),
		NACKs: s.stats.nacks.Load(), Retransmitted: s.stats.retransmitted.Load(), PLIs: s.stats.plis.Load(),
		Dropped: map[string]uint64{},
	}
	for i, name := range dropNames {
		st.Dropped[name] = s.stats.dropped[i].Load()
	}
	s.mu.Lock()
	rooms := make([]*room, 0, len(s.rooms))
	for _, r := range s.rooms {
		rooms = append(rooms, r)
	}
	s.mu.Unlock()
	for _, r := range rooms {
		r.mu.Lock()
		for _, t := range r.tracks {
			st.PacketsIn += t.counts.packetsIn.Load()
			st.BytesIn += t.counts.bytesIn.Load()
			st.PacketsOut += t.counts.packetsOut.Load()
			st.BytesOut += t.counts.bytesOut.Load()
		}
		r.mu.Unlock()
	}
	return st
}
