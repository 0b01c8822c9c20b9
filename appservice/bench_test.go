package appservice_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
)

// BenchmarkInviteHandled measures, through Dendrite, the time from the clinician's invite of a
// waiting participant (Element's Approve) to the bridge having recorded the admission.
// It reports the median of 20 runs, whatever b.N is.
func BenchmarkInviteHandled(b *testing.B) {
	l := newLobby(b, "sqlite")
	client := l.env.User(b, "jane")
	s := l.schedule("2026-11-24 15:00 Europe/Paris Jane none matrix=" + client.UserID.String())
	l.openWindow(s)
	ctx := context.Background()
	var samples []time.Duration
	for range 20 {
		if err := knock(b, client, s.RoomID, "Jane"); err != nil {
			b.Fatal(err)
		}
		l.waitState(s, 1, bridge.StateWaiting)
		start := time.Now()
		if _, err := l.clinician.InviteUser(ctx, id.RoomID(s.RoomID), &mautrix.ReqInviteUser{UserID: client.UserID}); err != nil {
			b.Fatal(err)
		}
		// Poll every millisecond: the usual 20 ms test poll would blur the measure.
		tick := time.NewTicker(time.Millisecond)
		for l.participant(s, 1).State != bridge.StateAdmitted {
			if time.Since(start) > wait {
				b.Fatal("the invite was not handled")
			}
			<-tick.C
		}
		tick.Stop()
		samples = append(samples, time.Since(start))
		if _, err := l.env.App.Sessions.Deny(ctx, "", s.ID, "1"); err != nil {
			b.Fatal(err)
		}
		l.waitState(s, 1, bridge.StateDenied)
	}
	slices.Sort(samples)
	b.ReportMetric(float64(samples[len(samples)/2].Microseconds())/1000, "p50_ms")
	b.ReportMetric(float64(samples[len(samples)*9/10].Microseconds())/1000, "p90_ms")
}
