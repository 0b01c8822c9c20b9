package callclient

import "sync"

// Counter counts received packets by sender and track label, for tests that
// assert who reached whom.
type Counter struct {
	mu sync.Mutex
	n  map[string]int
}

// Add counts one packet; it fits Options.OnPacket.
func (c *Counter) Add(p Packet) {
	c.mu.Lock()
	if c.n == nil {
		c.n = map[string]int{}
	}
	c.n[p.From+" "+p.Label]++
	c.mu.Unlock()
}

// Get returns how many packets came from sender with label, keyed "sender label".
func (c *Counter) Get(key string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[key]
}
