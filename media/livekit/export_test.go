package livekit

// Settle waits for the hang-ups and room deletions under way (tests: what they did is done).
func (b *Backend) Settle() { b.wg.Wait() }
