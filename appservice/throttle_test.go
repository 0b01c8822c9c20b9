package appservice

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
)

// A stopped bridge sends no notice: one planned for later is dropped, and one being sent is
// waited for. Before close existed, a notice planned by a test's last knock was sent (and
// logged through the finished test's logger) after the test ended.
func TestThrottleSendsNothingAfterClose(t *testing.T) {
	clock := clockwork.NewFakeClock()
	th := noticeThrottle{clock: clock, interval: 10 * time.Second}
	var sent atomic.Int32
	release := make(chan struct{})
	th.offer("s1", func(string) { <-release; sent.Add(1) }) // sent at once, blocks
	th.offer("s1", func(string) { sent.Add(1) })            // planned for 10 s later

	closed := make(chan struct{})
	go func() { th.close(); close(closed) }()
	select {
	case <-closed:
		t.Fatal("close returned while a notice was still being sent")
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	<-closed
	clock.Advance(time.Minute)
	th.offer("s2", func(string) { sent.Add(1) })
	th.close() // waits for any send the offer started
	if n := sent.Load(); n != 1 {
		t.Fatalf("%d notices sent, want 1: the one in flight at close, none after", n)
	}
}
