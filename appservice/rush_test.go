package appservice_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/telehealth-bridge/telehealth-bridge/appservice"
	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"github.com/telehealth-bridge/telehealth-bridge/internal/bridgetest"
)

// countingTransport counts the requests the bridge makes to the homeserver as each user
// (the appservice's user_id parameter), and the joins among them.
type countingTransport struct {
	next  http.RoundTripper
	mu    sync.Mutex
	as    map[string]int
	joins map[string]int
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	user := r.URL.Query().Get("user_id")
	c.mu.Lock()
	c.as[user]++
	if strings.HasSuffix(r.URL.Path, "/join") {
		c.joins[user]++
	}
	c.mu.Unlock()
	return c.next.RoundTrip(r)
}

func (c *countingTransport) counts(user string) (requests, joins int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.as[user], c.joins[user]
}

func countRequests(t *testing.T, l *lobby) *countingTransport {
	cli := l.env.App.Matrix.AS.HTTPClient
	next := cli.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	ct := &countingTransport{next: next, as: map[string]int{}, joins: map[string]int{}}
	cli.Transport = ct
	t.Cleanup(func() { cli.Transport = next })
	return ct
}

// TestGuestKnockIsOneCallAndJoinsOnce: the morning rush (issue 19). A guest whose page opened
// has a ready ghost: their knock is one homeserver call (once the bridge knows Dendrite has no
// /knock), and their page hears "waiting" as soon as the homeserver took it, not after its
// echo. Admitted, their ghost joins once, though the bridge's invite and its echo both bring
// them in.
func TestGuestKnockIsOneCallAndJoinsOnce(t *testing.T) {
	l := newLobby(t, "sqlite")
	ctx := context.Background()
	s, err := l.env.App.Sessions.Schedule(ctx, bridge.ScheduleRequest{
		Clinician: l.clinician.UserID.String(), Start: time.Date(2026, 11, 24, 14, 0, 0, 0, time.UTC),
		End: time.Date(2026, 11, 24, 14, 50, 0, 0, time.UTC), TimeZone: "Europe/Paris",
		Participants: []bridge.ParticipantRequest{{Name: "Jane"}, {Name: "Joe"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err = l.clinician.JoinRoomByID(ctx, id.RoomID(s.RoomID)); err != nil {
		t.Fatal(err)
	}
	l.openWindow(s)
	s, _ = l.env.App.Sessions.Session(ctx, s.ID)
	counter := countRequests(t, l)
	for n, name := range []string{"Jane", "Joe"} {
		p := l.participant(s, n+1)
		// Their page opened: the ghost is made ready.
		if err = l.env.App.Matrix.PrepareGuest(ctx, s, p); err != nil {
			t.Fatal(err)
		}
		before := map[string]int{}
		for user := range counter.as {
			before[user], _ = counter.counts(user)
		}
		if err = l.env.App.Matrix.GuestKnock(ctx, s, p, name); err != nil {
			t.Fatalf("%s's knock: %v", name, err)
		}
		// Right away, without waiting for the echo: the lobby says they wait.
		p = l.participant(s, n+1)
		if p.State != bridge.StateWaiting || p.KnockName != name {
			t.Fatalf("right after %s's knock the lobby says %s (%q)", name, p.State, p.KnockName)
		}
		calls, _ := counter.counts(p.MatrixID)
		calls -= before[p.MatrixID]
		t.Logf("%s's knock: %d homeserver calls", name, calls)
		// The first knock of the process learns that Dendrite has no /knock (404).
		if want := map[int]int{0: 2, 1: 1}[n]; calls > want {
			t.Errorf("%s's knock made %d homeserver calls, want %d", name, calls, want)
		}
		l.waitMembership(s, id.UserID(p.MatrixID), event.MembershipKnock)
	}

	// Admitted: one join per admission, whoever brings the ghost in.
	joinsBefore := l.env.App.Matrix.GhostJoins()
	if _, err = l.env.App.Sessions.AdmitAll(ctx, l.clinician.UserID.String(), s.ID); err != nil {
		t.Fatal(err)
	}
	for n := 1; n <= 2; n++ {
		l.waitState(s, n, bridge.StateInSession)
	}
	// A command sent after the joins: once its result is back, the room's earlier events (the
	// invites' and the joins' echoes) have been handled.
	marker, err := l.clinician.SendMessageEvent(ctx, id.RoomID(s.RoomID), appservice.CommandEventType, &appservice.CommandContent{Action: "admit", Participant: "7"})
	if err != nil {
		t.Fatal(err)
	}
	bridgetest.WaitMessage(t, l.clinician, id.RoomID(s.RoomID), wait, "the marker's result", func(evt *event.Event) bool {
		var r appservice.ResultContent
		_ = json.Unmarshal(evt.Content.VeryRaw, &r)
		return evt.Type.Type == appservice.ResultEventType.Type && r.Command == marker.EventID.String()
	})
	for n := 1; n <= 2; n++ {
		p := l.participant(s, n)
		if _, joins := counter.counts(p.MatrixID); joins != 1 {
			t.Errorf("participant %d's ghost asked to join %d times for one admission", n, joins)
		}
	}
	if got := l.env.App.Matrix.GhostJoins() - joinsBefore; got != 2 {
		t.Errorf("%d joins for 2 admissions", got)
	}
}

// TestAdmittingAGhostAlreadyInTheRoom: a send-back's kick that had not reached the homeserver
// when the guest knocked again and was let in leaves their ghost joined while the lobby says
// waiting. The homeserver then refuses the invite ("already joined"): the admission must still
// bring the guest into the session, or their page waits for ever.
func TestAdmittingAGhostAlreadyInTheRoom(t *testing.T) {
	l := newLobby(t, "sqlite")
	ctx := context.Background()
	s, err := l.env.App.Sessions.Schedule(ctx, bridge.ScheduleRequest{
		Clinician: l.clinician.UserID.String(), Start: time.Date(2026, 11, 24, 14, 0, 0, 0, time.UTC),
		End: time.Date(2026, 11, 24, 14, 50, 0, 0, time.UTC), TimeZone: "Europe/Paris",
		Participants: []bridge.ParticipantRequest{{Name: "Jane"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err = l.clinician.JoinRoomByID(ctx, id.RoomID(s.RoomID)); err != nil {
		t.Fatal(err)
	}
	l.openWindow(s)
	s, _ = l.env.App.Sessions.Session(ctx, s.ID)
	p := l.participant(s, 1)
	if err = l.env.App.Matrix.PrepareGuest(ctx, s, p); err != nil {
		t.Fatal(err)
	}
	if err = l.env.App.Matrix.GuestKnock(ctx, s, p, "Jane"); err != nil {
		t.Fatal(err)
	}
	p = l.participant(s, 1)
	ghost := id.UserID(p.MatrixID)
	l.waitMembership(s, ghost, event.MembershipKnock)
	// Let in, sent back, knocking again: but the send-back's kick never reached the
	// homeserver. The store says waiting; the homeserver still has the ghost joined.
	if _, err = l.env.App.Sessions.Admit(ctx, l.clinician.UserID.String(), s.ID, "1"); err != nil {
		t.Fatal(err)
	}
	l.waitState(s, 1, bridge.StateInSession)
	l.waitMembership(s, ghost, event.MembershipJoin)
	p = l.participant(s, 1)
	p.State = bridge.StateWaiting
	if err = l.env.App.DB.Store().UpdateParticipant(ctx, p); err != nil {
		t.Fatal(err)
	}
	if _, err = l.env.App.Sessions.Admit(ctx, l.clinician.UserID.String(), s.ID, "1"); err != nil {
		t.Fatalf("admitting: %v", err)
	}
	l.waitState(s, 1, bridge.StateInSession)
}
