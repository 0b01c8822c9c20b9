package media

import "sync"

// packetRing is a bounded first-in first-out queue of packets, each copied into a buffer of a
// pool that many rings share, so that the memory held for a burst goes back to the pool once
// read (a Pion packet buffer keeps what it grew to for the connection's life). M is what the
// owner keeps with each packet: where it came from, its attributes. The owner locks it, and
// copies a packet out of its buffer after unlocking (pop, then release).
type packetRing[M any] struct {
	pool    *sync.Pool
	slots   []ringSlot[M]
	head, n int
}

type ringSlot[M any] struct {
	buf  *[]byte
	size int
	meta M
}

func newPacketRing[M any](pool *sync.Pool, size int) packetRing[M] {
	return packetRing[M]{pool: pool, slots: make([]ringSlot[M], size)}
}

func (r *packetRing[M]) full() bool { return r.n == len(r.slots) }

// push copies p at the tail (the ring must not be full) and returns the packet's M for the
// owner to fill.
func (r *packetRing[M]) push(p []byte) *M {
	s := &r.slots[(r.head+r.n)%len(r.slots)]
	s.buf = r.pool.Get().(*[]byte)
	s.size = copy(*s.buf, p)
	r.n++
	return &s.meta
}

// pop takes the head packet (the ring must not be empty): its buffer, to copy out and then
// give back with release, its length, and its M, valid until the owner's next push.
func (r *packetRing[M]) pop() (buf *[]byte, size int, meta *M) {
	s := &r.slots[r.head]
	buf, size, meta = s.buf, s.size, &s.meta
	s.buf = nil
	r.head, r.n = (r.head+1)%len(r.slots), r.n-1
	return buf, size, meta
}

func (r *packetRing[M]) release(buf *[]byte) { r.pool.Put(buf) }

// drain gives back the buffers of the packets left.
func (r *packetRing[M]) drain() {
	for r.n > 0 {
		buf, _, _ := r.pop()
		r.release(buf)
	}
}
