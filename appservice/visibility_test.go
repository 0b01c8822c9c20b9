package appservice_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/telehealth-bridge/telehealth-bridge/appservice"
	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"github.com/telehealth-bridge/telehealth-bridge/internal/bridgetest"
)

// seen is what one member reads of a session room's timeline: lifecycle actions and texts.
func seen(t *testing.T, cli *mautrix.Client, roomID id.RoomID, bot id.UserID) (actions, texts []string) {
	t.Helper()
	for _, evt := range bridgetest.Messages(t, cli, roomID) {
		switch {
		case evt.Type.Type == appservice.LifecycleEventType.Type && evt.Sender == bot:
			var c appservice.LifecycleContent
			_ = json.Unmarshal(evt.Content.VeryRaw, &c)
			actions = append(actions, c.Action)
		case evt.Type.Type == event.EventMessage.Type:
			texts = append(texts, evt.Content.AsMessage().Body)
		}
	}
	return actions, texts
}

// TestMembersReadTheLifecycleTheyAreEntitledTo: the clinician reads every lifecycle event of
// their session, even those sent before they joined the room; a participant reads the room
// from their admission on (the invite), never the lobby or the chat before it; someone waiting
// reads nothing. Read with mautrix, as an integrator following docs/events.md would.
func TestMembersReadTheLifecycleTheyAreEntitledTo(t *testing.T) {
	l := newLobby(t, "sqlite")
	ctx := context.Background()
	jane, john := l.env.User(t, "jane"), l.env.User(t, "john")
	// Booked directly: the clinician does not join the room before the window opens.
	s, err := l.env.App.Sessions.Schedule(ctx, bridge.ScheduleRequest{
		Clinician: l.clinician.UserID.String(), Start: time.Date(2026, 11, 24, 14, 0, 0, 0, time.UTC),
		End: time.Date(2026, 11, 24, 14, 50, 0, 0, time.UTC), TimeZone: "Europe/Paris",
		Participants: []bridge.ParticipantRequest{{Name: "Jane", MatrixID: jane.UserID.String()}, {Name: "John", MatrixID: john.UserID.String()}},
	})
	if err != nil {
		t.Fatal(err)
	}
	room := id.RoomID(s.RoomID)
	l.clock.Advance(s.Opens(bridge.DefaultWindow).Sub(l.clock.Now()))
	// The clinician is not in the room yet: the bridge's own record of the join rule says when
	// the homeserver took it.
	bridgetest.Eventually(t, wait, "the window to open", func() bool {
		rules, err := l.env.App.Matrix.AS.StateStore.GetJoinRules(ctx, room)
		return err == nil && rules != nil && rules.JoinRule == event.JoinRuleKnock
	})
	if err := knock(t, john, s.RoomID, "John"); err != nil {
		t.Fatal(err)
	}
	l.waitState(s, 2, bridge.StateWaiting)

	// The clinician joins late and reads all of it.
	if _, err = l.clinician.JoinRoomByID(ctx, room); err != nil {
		t.Fatal(err)
	}
	var early []string
	defer func() { t.Logf("the clinician read %v", early) }()
	bridgetest.Eventually(t, wait, "the clinician to read the lifecycle from the start", func() bool {
		actions, _ := seen(t, l.clinician, room, l.bot())
		early = actions
		return len(actions) >= 3 && actions[0] == "session_scheduled" && actions[1] == "window_opened" && actions[2] == "participant_waiting"
	})
	if _, err = l.clinician.SendText(ctx, room, "before Jane"); err != nil {
		t.Fatal(err)
	}

	// Jane waits (she reads nothing), is admitted and joins.
	if err := knock(t, jane, s.RoomID, "Jane"); err != nil {
		t.Fatal(err)
	}
	l.waitState(s, 1, bridge.StateWaiting)
	readsNothingButTheirKnock(t, jane, room)
	l.command("!admit "+s.ID+" 1", "is let in")
	l.waitMembership(s, jane.UserID, event.MembershipInvite)
	if _, err = jane.JoinRoomByID(ctx, room); err != nil {
		t.Fatal(err)
	}
	l.waitState(s, 1, bridge.StateInSession)
	if _, err = l.clinician.SendText(ctx, room, "after Jane"); err != nil {
		t.Fatal(err)
	}
	var actions, texts []string
	bridgetest.Eventually(t, wait, "Jane to read the room from her admission", func() bool {
		actions, texts = seen(t, jane, room, l.bot())
		return slices.Contains(actions, "participant_joined") && slices.Contains(texts, "after Jane")
	})
	for _, hidden := range []string{"session_scheduled", "window_opened", "participant_waiting"} {
		if slices.Contains(actions, hidden) {
			t.Errorf("Jane read %s, from before her admission: %v", hidden, actions)
		}
	}
	if slices.Contains(texts, "before Jane") {
		t.Errorf("Jane read the chat from before her admission: %v", texts)
	}
	if !slices.Contains(actions, "participant_admitted") {
		t.Errorf("Jane did not read her own admission: %v", actions)
	}
	// State is for every member: the session's schedule.
	var state appservice.SessionContent
	if err = jane.StateEvent(ctx, room, appservice.SessionEventType, "", &state); err != nil || state.SessionID != s.ID {
		t.Errorf("Jane reading the session state: %+v %v", state, err)
	}
	// John, still waiting, reads nothing of it.
	readsNothingButTheirKnock(t, john, room)
}

// readsNothingButTheirKnock checks that someone waiting reads no event of the room but their
// own knock.
func readsNothingButTheirKnock(t *testing.T, cli *mautrix.Client, room id.RoomID) {
	t.Helper()
	resp, err := cli.Messages(context.Background(), room, "", "", mautrix.DirectionBackward, nil, 50)
	if err != nil {
		return // refused outright: nothing read
	}
	for _, evt := range resp.Chunk {
		if evt.Type.Type != event.StateMember.Type || evt.GetStateKey() != cli.UserID.String() {
			t.Errorf("%s, waiting, read a %s from %s", cli.UserID, evt.Type.Type, evt.Sender)
		}
	}
}

// TestUnseenDeclineIsToldToTheClinician: on Dendrite the bot cannot kick someone knocking and
// the knocker's client never sees the decline; the clinician is told in their control room, so
// that they reach the participant another way. A stranger's declined knock says nothing there.
func TestUnseenDeclineIsToldToTheClinician(t *testing.T) {
	l := newLobby(t, "sqlite")
	jane, stranger := l.env.User(t, "jane"), l.env.User(t, "mallory")
	s := l.schedule("2026-11-24 15:00 Europe/Paris JD none matrix=" + jane.UserID.String())
	l.openWindow(s)
	if err := knock(t, stranger, s.RoomID, "Mallory"); err != nil {
		t.Fatal(err)
	}
	l.waitMembership(s, stranger.UserID, event.MembershipLeave)
	if err := knock(t, jane, s.RoomID, "Jane"); err != nil {
		t.Fatal(err)
	}
	l.waitState(s, 1, bridge.StateWaiting)
	l.command("!deny "+s.ID+" 1", "was not admitted")
	l.waitMembership(s, jane.UserID, event.MembershipLeave)
	bridgetest.WaitMessage(t, l.clinician, l.control, wait, "the notice that Jane was not told",
		bridgetest.IsNoticeFrom(l.bot(), "Session "+s.ID+": Jane (participant 1) is out of the room, but their Matrix client will not show it"))
	for _, evt := range bridgetest.Messages(t, l.clinician, l.control) {
		if evt.Sender == l.bot() && strings.Contains(evt.Content.AsMessage().Body, "mallory") {
			t.Errorf("the control room speaks of the stranger: %s", evt.Content.AsMessage().Body)
		}
	}
}

// TestOlderRoomsGetHistoryFromTheInvite: a session room made by an earlier version (history
// from the join, set by the bot) is moved to history from the invite when the bridge starts; a
// visibility the clinician chose is left alone.
func TestOlderRoomsGetHistoryFromTheInvite(t *testing.T) {
	l := newLobby(t, "sqlite")
	ctx := context.Background()
	older := l.schedule("2026-11-24 15:00 Europe/Paris JD none")
	chosen := l.schedule("2026-11-24 16:00 Europe/Paris JD none")
	joined := &event.HistoryVisibilityEventContent{HistoryVisibility: event.HistoryVisibilityJoined}
	if _, err := l.env.App.Matrix.AS.BotIntent().SendStateEvent(ctx, id.RoomID(older.RoomID), event.StateHistoryVisibility, "", joined); err != nil {
		t.Fatal(err)
	}
	if _, err := l.clinician.SendStateEvent(ctx, id.RoomID(chosen.RoomID), event.StateHistoryVisibility, "", joined); err != nil {
		t.Fatal(err)
	}
	l.env.Stop()
	l.env.Start(t)
	visibility := func(s *bridge.Session) event.HistoryVisibility {
		var hv event.HistoryVisibilityEventContent
		_ = l.clinician.StateEvent(ctx, id.RoomID(s.RoomID), event.StateHistoryVisibility, "", &hv)
		return hv.HistoryVisibility
	}
	bridgetest.Eventually(t, wait, "the older room's history from the invite", func() bool {
		return visibility(older) == event.HistoryVisibilityInvited
	})
	if got := visibility(chosen); got != event.HistoryVisibilityJoined {
		t.Errorf("the clinician's choice became %q", got)
	}
}
