package appservice

import (
	"sync"
	"time"
)

// Answers per room: a burst of replyBurst, then replyRate per second. A room's members cannot
// make the bot flood the room (and the homeserver) by sending commands in a loop.
const (
	replyBurst = 20
	replyRate  = 1.0
	// maxLimitedRooms bounds the limiter's memory: past it, rooms whose bucket is full again
	// (idle long enough) are forgotten first.
	maxLimitedRooms = 10000
)

// roomLimiter is a token bucket per room.
type roomLimiter struct {
	burst float64
	rate  float64 // tokens per second

	mu    sync.Mutex
	rooms map[string]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newRoomLimiter(burst int, perSecond float64) *roomLimiter {
	return &roomLimiter{burst: float64(burst), rate: perSecond, rooms: make(map[string]*bucket)}
}

// allow takes a token from the room's bucket, reporting false when it is empty.
func (l *roomLimiter) allow(room string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.rooms[room]
	if !ok {
		if len(l.rooms) >= maxLimitedRooms {
			l.sweep(now)
		}
		b = &bucket{tokens: l.burst, last: now}
		l.rooms[room] = b
	}
	l.refill(b, now)
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

func (l *roomLimiter) refill(b *bucket, now time.Time) {
	if elapsed := now.Sub(b.last).Seconds(); elapsed > 0 {
		b.tokens = min(l.burst, b.tokens+elapsed*l.rate)
		b.last = now
	}
}

// sweep forgets the rooms whose bucket is full: forgetting them changes nothing. If every
// room is busy, it forgets any one: a fresh burst for one room is better than unbounded memory.
func (l *roomLimiter) sweep(now time.Time) {
	for room, b := range l.rooms {
		if l.refill(b, now); b.tokens >= l.burst {
			delete(l.rooms, room)
		}
	}
	for room := range l.rooms {
		if len(l.rooms) < maxLimitedRooms {
			break
		}
		delete(l.rooms, room)
	}
}

// size is the number of rooms remembered.
func (l *roomLimiter) size() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.rooms)
}
