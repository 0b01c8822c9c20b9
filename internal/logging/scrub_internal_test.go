package logging

import "testing"

// BenchmarkScrubInnocent is what the scrubbing adds to a line with nothing to scrub.
func BenchmarkScrubInnocent(b *testing.B) {
	line := []byte(`{"level":"info","room_id":"!abcdefgh:clinic.example","session":"s1x2y3","participants":3,"time":"2026-11-24T14:00:00Z","message":"Participant admitted to the session"}` + "\n")
	for b.Loop() {
		if _, changed := scrub(line); changed {
			b.Fatal("an innocent line was changed")
		}
	}
}
