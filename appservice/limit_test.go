package appservice

import (
	"fmt"
	"testing"
	"time"
)

func TestTokenBucketPerRoom(t *testing.T) {
	l := newRoomLimiter(replyBurst, replyRate)
	now := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	allowed := 0
	for i := 0; i < 100; i++ {
		if l.allow("!a", now) {
			allowed++
		}
	}
	if allowed != replyBurst {
		t.Errorf("%d of 100 answers at once, want the burst of %d", allowed, replyBurst)
	}
	if !l.allow("!b", now) {
		t.Error("a flood in one room silenced another")
	}
	now = now.Add(time.Second)
	if !l.allow("!a", now) || l.allow("!a", now) {
		t.Error("want exactly one more answer a second later")
	}
	// Idle rooms are forgotten once the map is full, busy ones are kept.
	for i := 0; i < maxLimitedRooms+10; i++ {
		l.allow(fmt.Sprintf("!room%d", i), now)
	}
	if n := l.size(); n > maxLimitedRooms {
		t.Errorf("%d rooms remembered, want at most %d", n, maxLimitedRooms)
	}
	now = now.Add(time.Hour)
	l.allow("!new", now)
	if n := l.size(); n > 2 {
		t.Errorf("%d rooms remembered after an hour of quiet", n)
	}
}
