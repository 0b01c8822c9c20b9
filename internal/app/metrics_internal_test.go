package app

import (
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"github.com/telehealth-bridge/telehealth-bridge/internal/metrics"
)

// histogram reads a histogram's count and sum from the registry.
func histogram(t *testing.T, m *metrics.Metrics, name string) (uint64, float64) {
	t.Helper()
	families, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() == name {
			h := f.GetMetric()[0].GetHistogram()
			return h.GetSampleCount(), h.GetSampleSum()
		}
	}
	t.Fatalf("no %s", name)
	return 0, 0
}

// The lobby's times: a knock is timed once to its admission however many changes follow, a
// reconnection does not time the admission again, an automatic admission (never seen waiting)
// is not a wait, and a session that ends forgets its people.
func TestLobbyTimes(t *testing.T) {
	t0 := time.Date(2026, 11, 24, 13, 55, 0, 0, time.UTC)
	clock := clockwork.NewFakeClockAt(t0)
	m := metrics.New(metrics.Options{})
	l := newLobbyTimes(m, clock)
	s := &bridge.Session{ID: "sess01", Status: bridge.StatusOpen}
	jane := &bridge.Participant{ID: 1, SessionID: s.ID, MatrixID: "@jane:hs", State: bridge.StateWaiting, UpdatedAt: t0}
	l.LobbyChanged(s, []*bridge.Participant{jane})
	clock.Advance(time.Minute)
	l.LobbyChanged(s, []*bridge.Participant{jane}) // another change of the session: still the first knock
	jane.State, jane.AdmittedAt = bridge.StateAdmitted, t0.Add(95*time.Second)
	l.LobbyChanged(s, []*bridge.Participant{jane})
	l.LobbyChanged(s, []*bridge.Participant{jane})
	if n, sum := histogram(t, m, "telehealth_lobby_knock_to_admit_seconds"); n != 1 || sum != 95 {
		t.Errorf("knock to admit: %d samples, %v s; want 1, 95", n, sum)
	}

	var told []bool
	presence := l.presence(func(_, _ string, _, present bool) { told = append(told, present) })
	clock.Advance(time.Minute) // t0 + 2 min: 25 s after the admission
	presence(s.ID, "@jane:hs", false, true)
	presence(s.ID, "@jane:hs", false, false)
	presence(s.ID, "@jane:hs", false, true) // a reload
	presence(s.ID, "@dr:hs", true, true)    // the clinician is never admitted
	if n, sum := histogram(t, m, "telehealth_lobby_admit_to_call_seconds"); n != 1 || sum != 25 {
		t.Errorf("admit to call: %d samples, %v s; want 1, 25", n, sum)
	}
	if len(told) != 4 {
		t.Errorf("the wrapped presence hook heard %d calls, want 4", len(told))
	}

	// Admitted by the same operation as the knock: no wait timed, the call still is.
	bob := &bridge.Participant{ID: 2, SessionID: s.ID, MatrixID: "@bob:hs", State: bridge.StateAdmitted, AdmittedAt: clock.Now()}
	l.LobbyChanged(s, []*bridge.Participant{jane, bob})
	clock.Advance(2 * time.Second)
	presence(s.ID, "@bob:hs", false, true)
	if n, _ := histogram(t, m, "telehealth_lobby_knock_to_admit_seconds"); n != 1 {
		t.Errorf("an automatic admission was timed as a wait: %d samples", n)
	}
	if n, sum := histogram(t, m, "telehealth_lobby_admit_to_call_seconds"); n != 2 || sum != 27 {
		t.Errorf("admit to call: %d samples, %v s; want 2, 27", n, sum)
	}

	// Someone still waiting when the session ends is forgotten.
	carol := &bridge.Participant{ID: 3, SessionID: s.ID, MatrixID: "@carol:hs", State: bridge.StateWaiting, UpdatedAt: clock.Now()}
	l.LobbyChanged(s, []*bridge.Participant{jane, bob, carol})
	s.Status = bridge.StatusEnded
	l.LobbyChanged(s, []*bridge.Participant{jane, bob, carol})
	if len(l.knocked)+len(l.admitted)+len(l.seen) != 0 {
		t.Errorf("an ended session is still remembered: %v %v %v", l.knocked, l.admitted, l.seen)
	}
}

// The outbox's reasons, as the scheduler writes them, map to the documented codes; an
// unknown one to "other" or "provider", never to its own text.
func TestOutboxReasonCodes(t *testing.T) {
	for reason, want := range map[string]string{
		"the participant has no email address any more":              "no_contact",
		"the clinic has not configured SMS sending":                  "channel_not_configured",
		"the participant's number opted out of SMS (answered STOP)":  "opted_out",
		"quiet hours (no SMS from 21:00 to 08:00) until the session": "quiet_hours",
		"something new": "other",
	} {
		if got := skipCode(reason); got != want {
			t.Errorf("skipped %q: %s, want %s", reason, got, want)
		}
	}
	for reason, want := range map[string]string{
		"the carrier reported the SMS undelivered (error 30003)":    "undelivered",
		"not delivered before the session ended":                    "expired",
		"not delivered within 24 hours":                             "expired",
		"the session was cancelled (last error: timeout)":           "session_over",
		"The 'To' number +33612345678 is not a valid phone number.": "provider",
	} {
		if got := failureCode(reason); got != want {
			t.Errorf("failed %q: %s, want %s", reason, got, want)
		}
	}
}
