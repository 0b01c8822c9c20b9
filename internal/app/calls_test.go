package app_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"maunium.net/go/mautrix/id"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"github.com/telehealth-bridge/telehealth-bridge/internal/bridgetest"
	"github.com/telehealth-bridge/telehealth-bridge/internal/callclient"
)

// TestHostConnectionIsTheClinicians: the SFU's admission hook (calls.admitted, as the bridge
// wires it) lets a host credential in for the session's clinician only. A host credential
// validly signed for a participant in the call, another clinician or a stranger is refused
// with 4403; the same participant's ordinary credential, and the clinician's host one, connect.
func TestHostConnectionIsTheClinicians(t *testing.T) {
	clock := clockwork.NewFakeClockAt(time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC))
	env := bridgetest.New(t, bridgetest.Options{Clock: clock})
	a := env.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	clinician := env.User(t, "dr.martin")
	jane := env.User(t, "jane")
	drOther := env.User(t, "dr.other")
	sess, err := a.Sessions.Schedule(ctx, bridge.ScheduleRequest{
		Clinician: clinician.UserID.String(), Start: time.Date(2026, 11, 24, 14, 0, 0, 0, time.UTC),
		End: time.Date(2026, 11, 24, 14, 50, 0, 0, time.UTC), TimeZone: "Europe/Paris",
		Participants: []bridge.ParticipantRequest{{Name: "Jane", MatrixID: jane.UserID.String()}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err = clinician.JoinRoomByID(ctx, id.RoomID(sess.RoomID)); err != nil {
		t.Fatal(err)
	}
	clock.Advance(sess.Opens(bridge.DefaultWindow).Sub(clock.Now()))
	// Jane is let in and joins the room: in the session, as a participant.
	if _, err = a.Sessions.Admit(ctx, clinician.UserID.String(), sess.ID, "1"); err != nil {
		t.Fatal(err)
	}
	if _, err = jane.JoinRoomByID(ctx, id.RoomID(sess.RoomID)); err != nil {
		t.Fatal(err)
	}
	bridgetest.Eventually(t, wait, "Jane in the session", func() bool {
		_, ps, _ := a.Sessions.Lobby(ctx, "", sess.ID)
		return len(ps) == 1 && ps[0].State == bridge.StateInSession
	})

	api, err := callclient.NewAPI("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	ws := "ws" + strings.TrimPrefix(env.Config.Web.PublicURL, "http") + "/call/ws"
	dial := func(user string, host bool) (*callclient.Client, error) {
		dialCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		return callclient.Dial(dialCtx, api, ws, sess.ID, a.Calls.Credential(sess.ID, user, host), callclient.Options{})
	}
	for who, user := range map[string]string{
		"a participant in the call": jane.UserID.String(),
		"another clinician":         drOther.UserID.String(),
		"a stranger":                "@mallory:" + env.Config.Homeserver.Domain,
	} {
		c, err := dial(user, true)
		if err == nil {
			c.Close()
			t.Errorf("%s connected as the host", who)
			continue
		}
		if !strings.Contains(err.Error(), "4403") {
			t.Errorf("%s as the host: refused with %v, want close code 4403", who, err)
		}
	}
	if n := a.Calls.Stats().Hosts; n != 0 {
		t.Errorf("%d hosts in the call after the refusals", n)
	}
	// The same participant as what she is, and the clinician as the host, connect.
	c, err := dial(jane.UserID.String(), false)
	if err != nil {
		t.Fatalf("Jane's own credential: %v", err)
	}
	defer c.Close()
	host, err := dial(clinician.UserID.String(), true)
	if err != nil {
		t.Fatalf("the clinician's host credential: %v", err)
	}
	defer host.Close()
	bridgetest.Eventually(t, wait, "the clinician present in the session", func() bool {
		got, _ := a.Sessions.Session(ctx, sess.ID)
		return got.ClinicianPresent
	})
}
