package appservice_test

import (
	"context"
	"testing"
	"time"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
)

// SetCallMember (the LiveKit backend's port for web guests' MatrixRTC memberships) writes for
// the bridge's ghosts only and their own state keys only: the clinician's account, another
// ghost's state key and a ghost not in the room (which must not be joined to write) are
// refused, nothing written; a membership's end for a ghost not in the room is written by the
// bot, so that Element Call stops showing a guest already taken out. EndCallMember (the bot's
// end, for a guest being taken out) likewise refuses anyone but a ghost and its own key.
func TestSetCallMemberOnlyForGhosts(t *testing.T) {
	l := newLobby(t, "")
	ctx := context.Background()
	s, err := l.env.App.Sessions.Schedule(ctx, bridge.ScheduleRequest{
		Clinician: l.clinician.UserID.String(), Start: time.Date(2026, 11, 24, 14, 0, 0, 0, time.UTC),
		End: time.Date(2026, 11, 24, 14, 50, 0, 0, time.UTC), TimeZone: "Europe/Paris",
		Participants: []bridge.ParticipantRequest{{Name: "Jane Doe", Email: "jd@example.org"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	joinSessionRoom(t, l, s)
	room := id.RoomID(s.RoomID)
	memberType := event.Type{Type: "org.matrix.msc3401.call.member", Class: event.StateEventType}
	ghost := "@" + l.env.Config.AppService.GhostPrefix + "guest_outsider:" + l.env.Config.Homeserver.Domain
	other := "@" + l.env.Config.AppService.GhostPrefix + "guest_other:" + l.env.Config.Homeserver.Domain
	doctor := l.clinician.UserID.String()
	content := map[string]any{"application": "m.call", "device_id": "WEB"}
	for _, c := range []struct{ who, user, key string }{
		{"the clinician's account", doctor, "_" + doctor + "_WEB_m.call"},
		{"another ghost's state key", ghost, "_" + other + "_WEB_m.call"},
		{"a ghost not in the room", ghost, "_" + ghost + "_WEB_m.call"},
	} {
		if err := l.env.App.Matrix.SetCallMember(ctx, s.RoomID, c.user, c.key, content); err == nil {
			t.Errorf("%s: written", c.who)
		}
	}
	if err := l.env.App.Matrix.EndCallMember(ctx, s.RoomID, doctor, "_"+doctor+"_WEB_m.call"); err == nil {
		t.Error("the bot ended the clinician's account's membership")
	}
	if err := l.env.App.Matrix.EndCallMember(ctx, s.RoomID, ghost, "_"+other+"_WEB_m.call"); err == nil {
		t.Error("the bot ended another ghost's membership through this one")
	}
	state, err := l.clinician.State(ctx, room)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(state[memberType]); n != 0 {
		t.Errorf("%d call.member events written", n)
	}
	if m := state[event.StateMember][ghost]; m != nil && m.Content.AsMember().Membership == event.MembershipJoin {
		t.Error("the ghost was joined to write")
	}
	// A ghost in the room (as a guest let in): its own membership is written, by the ghost;
	// another ghost's state key still is not (the homeserver would take it: legacy MatrixRTC
	// keys are not tied to their sender).
	joined := "@" + l.env.Config.AppService.GhostPrefix + "guest_joined:" + l.env.Config.Homeserver.Domain
	if err := l.env.App.Matrix.AS.Intent(id.UserID(joined)).EnsureJoined(ctx, room); err != nil {
		t.Fatalf("joining a ghost: %v", err)
	}
	if err := l.env.App.Matrix.SetCallMember(ctx, s.RoomID, joined, "_"+other+"_WEB_m.call", content); err == nil {
		t.Error("a joined ghost wrote another ghost's membership")
	}
	if err := l.env.App.Matrix.SetCallMember(ctx, s.RoomID, joined, "_"+joined+"_WEB_m.call", content); err != nil {
		t.Errorf("a joined ghost's own membership: %v", err)
	}
	state, err = l.clinician.State(ctx, room)
	if err != nil {
		t.Fatal(err)
	}
	if ev := state[memberType]["_"+other+"_WEB_m.call"]; ev != nil {
		t.Errorf("another ghost's membership written by %s", ev.Sender)
	}
	if ev := state[memberType]["_"+joined+"_WEB_m.call"]; ev == nil || ev.Sender.String() != joined || len(ev.Content.Raw) == 0 {
		t.Errorf("the joined ghost's membership: %+v", ev)
	}

	// The end of a membership, for a ghost out of the room: the bot writes it.
	if err := l.env.App.Matrix.SetCallMember(ctx, s.RoomID, ghost, "_"+ghost+"_WEB_m.call", map[string]any{}); err != nil {
		t.Fatalf("ending the membership of a ghost out of the room: %v", err)
	}
	state, err = l.clinician.State(ctx, room)
	if err != nil {
		t.Fatal(err)
	}
	ev := state[memberType]["_"+ghost+"_WEB_m.call"]
	if ev == nil || len(ev.Content.Raw) != 0 || ev.Sender != l.bot() {
		t.Errorf("the end of the membership: %+v", ev)
	}
}

// joinSessionRoom joins the clinician to the session's room (they read its state).
func joinSessionRoom(t *testing.T, l *lobby, s *bridge.Session) {
	t.Helper()
	if s.RoomID == "" {
		t.Fatal("the session has no room")
	}
	if _, err := l.clinician.JoinRoomByID(context.Background(), id.RoomID(s.RoomID)); err != nil {
		t.Fatalf("clinician joining the session room: %v", err)
	}
}
