package appservice_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"go.mau.fi/util/random"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/telehealth-bridge/telehealth-bridge/appservice"
	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"github.com/telehealth-bridge/telehealth-bridge/internal/bridgetest"
	"github.com/telehealth-bridge/telehealth-bridge/internal/twiliotest"
)

// The attacks of the security review (issue 11, items 1, 2 and 11), each performed against the
// whole bridge and a real homeserver.

// onlyDrMartin gives clinician rights to @dr.martin alone, so that everyone else is a patient
// or a stranger.
func onlyDrMartin(v map[string]any) {
	v["permissions"] = map[string]any{"@dr.martin:localhost": "clinician"}
}

// replies returns the bot's messages that answer an event, as cli sees the room.
func replies(t *testing.T, cli *mautrix.Client, room id.RoomID, bot id.UserID, to id.EventID) []*event.Event {
	t.Helper()
	var out []*event.Event
	for _, evt := range bridgetest.Messages(t, cli, room) {
		if evt.Sender == bot && evt.Type == event.EventMessage && evt.Content.AsMessage().RelatesTo.GetReplyTo() == to {
			out = append(out, evt)
		}
	}
	return out
}

// say sends a text as cli and returns its event ID.
func say(t *testing.T, cli *mautrix.Client, room id.RoomID, text string) id.EventID {
	t.Helper()
	resp, err := cli.SendText(context.Background(), room, text)
	if err != nil {
		t.Fatalf("sending %q: %v", text, err)
	}
	return resp.EventID
}

// sentinel has the clinician send !help in a room and waits for its answer: the bot handles a
// room's events in order, so everything sent before it has been handled.
func (l *lobby) sentinel(room id.RoomID) {
	l.t.Helper()
	t := l.t.(*testing.T)
	evt := say(t, l.clinician, room, "!help")
	bridgetest.Eventually(t, wait, "the answer to the sentinel !help", func() bool {
		return len(replies(t, l.clinician, room, l.bot(), evt)) > 0
	})
}

// guestInSession books a web-link guest reached by SMS, has their ghost knock as the call page
// does, admits them and returns the session and the ghost once it is in the session's room.
func (l *lobby) guestInSession(phone string) (*bridge.Session, id.UserID) {
	l.t.Helper()
	ctx := context.Background()
	s := l.schedule(`2026-11-24 15:00 Europe/Paris "Jane Doe" sms ` + phone)
	l.openWindow(s)
	p := l.participant(s, 1)
	if err := l.env.App.Matrix.GuestKnock(ctx, s, p, "Jane"); err != nil {
		l.t.Fatalf("the guest's knock: %v", err)
	}
	l.waitState(s, 1, bridge.StateWaiting)
	l.command("!admit "+s.ID+" 1", "is let in")
	p = l.waitState(s, 1, bridge.StateInSession)
	return s, id.UserID(p.MatrixID)
}

func countSessions(t *testing.T, l *lobby) int {
	t.Helper()
	all, err := l.env.App.Sessions.ActiveSessions(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return len(all)
}

// Item 1: a web-link guest texts a command to the clinic; it is relayed into the session room
// as their ghost, which a server-wide permissions entry would make a clinician.
func TestRelayedSMSCannotRunCommands(t *testing.T) {
	sms := twiliotest.StartFake(t)
	l := newLobbyWith(t, bridgetest.Options{DB: "sqlite", Config: func(v map[string]any) {
		v["permissions"] = map[string]any{"localhost": "clinician"} // as in the example config
		v["notifications.sms.account_sid"] = twilioSID
		v["notifications.sms.auth_token"] = twilioToken
		v["notifications.sms.from"] = clinicPhone
		v["notifications.sms.api_url"] = sms.URL
	}})
	s, ghost := l.guestInSession("+33612345678")
	before := countSessions(t, l)

	attack := "!schedule 2026-11-25 10:00 Europe/Paris Eve sms +33698765432"
	r := twiliotest.PostSigned(t, twilioToken, l.env.Config.Web.PublicURL+"/sms/inbound",
		twiliotest.InboundSMS("+33612345678", clinicPhone, attack))
	if r.Status != 200 {
		t.Fatalf("inbound SMS answered %d: %s", r.Status, r.Body)
	}
	room := id.RoomID(s.RoomID)
	relayed := bridgetest.WaitMessage(t, l.clinician, room, wait, "the relayed SMS", func(evt *event.Event) bool {
		return evt.Sender == ghost && strings.Contains(evt.Content.AsMessage().Body, "Europe/Paris Eve")
	})
	if body := relayed.Content.AsMessage().Body; strings.HasPrefix(strings.TrimSpace(body), "!") {
		t.Errorf("the relayed SMS reads as a command in the room: %q", body)
	}
	l.sentinel(room)
	if after := countSessions(t, l); after != before {
		t.Fatalf("a relayed SMS booked %d session(s)", after-before)
	}
	if got := replies(t, l.clinician, room, l.bot(), relayed.ID); len(got) > 0 {
		t.Errorf("the bot answered the relayed SMS: %q", got[0].Content.AsMessage().Body)
	}
}

// Item 1: the bridge's own users are never clinicians, whatever permissions says: a ghost's
// command, as text in the session room or as an integrator's command event in a room of its
// own (the bridge receives every event of a room one of its ghosts is in), does nothing.
func TestBridgeUsersAreNeverClinicians(t *testing.T) {
	sms := twiliotest.StartFake(t)
	l := newLobbyWith(t, bridgetest.Options{DB: "sqlite", Config: func(v map[string]any) {
		v["permissions"] = map[string]any{"localhost": "clinician", "@telehealthbot:localhost": "admin"}
		v["notifications.sms.account_sid"] = twilioSID
		v["notifications.sms.auth_token"] = twilioToken
		v["notifications.sms.from"] = clinicPhone
		v["notifications.sms.api_url"] = sms.URL
	}})
	s, ghost := l.guestInSession("+33612345678")
	ctx := context.Background()
	room := id.RoomID(s.RoomID)
	before := countSessions(t, l)
	intent := l.env.App.Matrix.AS.Intent(ghost)
	text, err := intent.SendText(ctx, room, "!schedule 2026-11-25 10:00 Europe/Paris Eve none")
	if err != nil {
		t.Fatal(err)
	}
	own, err := intent.CreateRoom(ctx, &mautrix.ReqCreateRoom{Preset: "private_chat"})
	if err != nil {
		t.Fatal(err)
	}
	cmd, err := intent.SendMessageEvent(ctx, own.RoomID, appservice.CommandEventType, &appservice.CommandContent{
		Action: "schedule", Start: "2026-11-25T10:00:00Z", End: "2026-11-25T10:50:00Z", TimeZone: "Europe/Paris",
		Participants: []appservice.CommandParticipant{{Name: "Eve", Invite: "none"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	bridgetest.Eventually(t, wait, "the ghost's command event to be handled", func() bool {
		done, err := l.env.App.DB.HandledEvent.IsHandled(ctx, cmd.EventID.String())
		return err == nil && done
	})
	l.sentinel(room)
	if after := countSessions(t, l); after != before {
		t.Errorf("a ghost booked %d session(s)", after-before)
	}
	if got := replies(t, l.clinician, room, l.bot(), text.EventID); len(got) > 0 {
		t.Errorf("the bot answered a ghost's command: %q", got[0].Content.AsMessage().Body)
	}
}

// Item 2: a one-time link typed for in a shared room goes to the requester's direct chat; the
// others in the room read only that it was sent there.
func TestCredentialsGoOnlyToControlRooms(t *testing.T) {
	l := newLobbyWith(t, bridgetest.Options{DB: "sqlite", Config: onlyDrMartin})
	jane := l.env.User(t, "jane")
	s := l.clientInSession(jane)
	room := id.RoomID(s.RoomID)

	for _, cmd := range []string{"!join", "!login", "!lobby", "!sessions", "!notifications " + s.ID} {
		evt := say(t, l.clinician, room, cmd)
		var answer *event.Event
		bridgetest.Eventually(t, wait, "the bot's answer to "+cmd+" in the session room", func() bool {
			got := replies(t, jane, room, l.bot(), evt)
			if len(got) > 0 {
				answer = got[0]
			}
			return answer != nil
		})
		body := answer.Content.AsMessage().Body
		if strings.Contains(body, "http") || strings.Contains(body, "Jane") || !strings.Contains(body, "I sent it to our direct chat") {
			t.Errorf("the patient in the session room read the answer to %s: %q", cmd, body)
		}
	}
	bridgetest.WaitMessage(t, l.clinician, l.control, wait, "the call link in the control room",
		bridgetest.IsNoticeFrom(l.bot(), "Your link to session "+s.ID))
	bridgetest.WaitMessage(t, l.clinician, l.control, wait, "the sign-in link in the control room",
		bridgetest.IsNoticeFrom(l.bot(), "sign-in link"))
	for _, evt := range bridgetest.Messages(t, jane, room) {
		if evt.Sender == l.bot() && strings.Contains(evt.Content.AsMessage().Body, "http") {
			t.Errorf("the session room shows a link: %q", evt.Content.AsMessage().Body)
		}
	}

	// The patient asks in their own direct chat with the bot, and gets their link there.
	dm := roomWithBot(t, l.env, jane)
	say(t, jane, dm, "!join "+s.ID)
	bridgetest.WaitMessage(t, jane, dm, wait, "the patient's link in their direct chat",
		bridgetest.IsNoticeFrom(l.bot(), "Your link to session "+s.ID))

	// Another client, booked on another session, asks for this one's link: refused, no link.
	pat := l.env.User(t, "pat")
	if _, err := l.env.App.Sessions.Schedule(context.Background(), bridge.ScheduleRequest{
		Clinician: "@dr.martin:localhost", Start: time.Now().Add(48 * time.Hour), End: time.Now().Add(49 * time.Hour),
		TimeZone: "Europe/Paris", Participants: []bridge.ParticipantRequest{{Name: "Pat", MatrixID: pat.UserID.String()}},
	}); err != nil {
		t.Fatal(err)
	}
	patDM := roomWithBot(t, l.env, pat)
	say(t, pat, patDM, "!join "+s.ID)
	bridgetest.WaitMessage(t, pat, patDM, wait, "the refusal of another session's link",
		bridgetest.IsNoticeFrom(l.bot(), "You are not booked on session "+s.ID))
	for _, evt := range bridgetest.Messages(t, pat, patDM) {
		if evt.Sender == l.bot() && strings.Contains(evt.Content.AsMessage().Body, "http") {
			t.Errorf("another session's client got a link: %q", evt.Content.AsMessage().Body)
		}
	}
}

// Item 2: a control room someone else joined is no place for a credential: the bot makes a new
// direct chat and sends the link there.
func TestSharedControlRoomIsReplaced(t *testing.T) {
	l := newLobbyWith(t, bridgetest.Options{DB: "sqlite", Config: onlyDrMartin})
	ctx := context.Background()
	mallory := l.env.User(t, "mallory")
	if _, err := l.clinician.InviteUser(ctx, l.control, &mautrix.ReqInviteUser{UserID: mallory.UserID}); err != nil {
		t.Fatal(err)
	}
	if _, err := mallory.JoinRoomByID(ctx, l.control); err != nil {
		t.Fatal(err)
	}
	evt := say(t, l.clinician, l.control, "!login")
	var answer *event.Event
	bridgetest.Eventually(t, wait, "the bot's answer to !login", func() bool {
		if got := replies(t, mallory, l.control, l.bot(), evt); len(got) > 0 {
			answer = got[0]
		}
		return answer != nil
	})
	if body := answer.Content.AsMessage().Body; strings.Contains(body, "http") {
		t.Fatalf("mallory read the sign-in link in the shared control room: %q", body)
	}
	var fresh id.RoomID
	bridgetest.Eventually(t, wait, "a new control room", func() bool {
		room, err := l.env.App.DB.ControlRoom.Get(ctx, l.clinician.UserID.String())
		fresh = id.RoomID(room)
		return err == nil && room != "" && fresh != l.control
	})
	if _, err := l.clinician.JoinRoomByID(ctx, fresh); err != nil {
		t.Fatalf("joining the new control room: %v", err)
	}
	bridgetest.WaitMessage(t, l.clinician, fresh, wait, "the sign-in link in the new control room",
		bridgetest.IsNoticeFrom(l.bot(), "sign-in link"))
	members, err := l.clinician.JoinedMembers(ctx, fresh)
	if err != nil {
		t.Fatal(err)
	}
	if len(members.Joined) != 2 {
		t.Errorf("the new control room has %d members", len(members.Joined))
	}
	var hv event.HistoryVisibilityEventContent
	_ = l.clinician.StateEvent(ctx, fresh, event.StateHistoryVisibility, "", &hv)
	if hv.HistoryVisibility != event.HistoryVisibilityInvited {
		t.Errorf("the new control room's history visibility is %q", hv.HistoryVisibility)
	}
}

// Item 11: outside control rooms the bot answers clinicians' known commands only; it joins
// only the rooms clinicians invite it to.
func TestBotIsQuietOutsideControlRooms(t *testing.T) {
	l := newLobbyWith(t, bridgetest.Options{DB: "sqlite", Config: onlyDrMartin})
	ctx := context.Background()
	jane := l.env.User(t, "jane")
	s := l.clientInSession(jane)
	room := id.RoomID(s.RoomID)

	// A stranger's invite to a group room is refused.
	stranger := l.env.User(t, "mallory")
	group, err := stranger.CreateRoom(ctx, &mautrix.ReqCreateRoom{Preset: "private_chat", Invite: []id.UserID{l.bot()}})
	if err != nil {
		t.Fatal(err)
	}
	bridgetest.Eventually(t, wait, "the bot to answer the stranger's invite", func() bool {
		var m event.MemberEventContent
		err := stranger.StateEvent(ctx, group.RoomID, event.StateMember, l.bot().String(), &m)
		return err == nil && m.Membership != event.MembershipInvite
	})
	var m event.MemberEventContent
	_ = stranger.StateEvent(ctx, group.RoomID, event.StateMember, l.bot().String(), &m)
	if m.Membership == event.MembershipJoin {
		t.Errorf("the bot joined a stranger's room")
	}

	quiet := []id.EventID{
		say(t, jane, room, "!sessions"),
		say(t, jane, room, "!help"),
		say(t, jane, room, "!schedule 2026-11-25 10:00 Europe/Paris Eve none"),
		say(t, l.clinician, room, "!no-such-command"),
	}
	l.sentinel(room)
	for i, evt := range quiet {
		if got := replies(t, jane, room, l.bot(), evt); len(got) > 0 {
			t.Errorf("message %d in the session room got an answer: %q", i, got[0].Content.AsMessage().Body)
		}
	}
	// In the control room, an unknown command is still explained.
	l.command("!no-such-command", "Unknown command")
}

// Item 11: one room's flood of commands gets a bounded number of answers.
func TestRoomLimiter(t *testing.T) {
	env := bridgetest.New(t, bridgetest.Options{})
	env.Start(t)
	alice := env.User(t, "alice")
	room := roomWithBot(t, env, alice)
	token := env.Config.AppService.HSToken
	const flood = 60
	var events []any
	var last id.EventID
	for i := 0; i < flood; i++ {
		last = id.EventID(fmt.Sprintf("$flood-%d-%s", i, random.String(8)))
		events = append(events, map[string]any{
			"event_id": last, "room_id": room, "sender": alice.UserID, "type": "m.room.message",
			"origin_server_ts": time.Now().UnixMilli(), "content": map[string]any{"msgtype": "m.text", "body": "!help"},
		})
	}
	body, _ := json.Marshal(map[string]any{"events": events})
	start := time.Now()
	putTransaction(t, env, token, "flood", body)
	bridgetest.Eventually(t, time.Minute, "the flood to be handled", func() bool {
		done, err := env.App.DB.HandledEvent.IsHandled(context.Background(), last.String())
		return err == nil && done
	})
	elapsed := time.Since(start)
	answers := 0
	for _, evt := range bridgetest.Messages(t, alice, room) {
		if evt.Sender == env.App.Matrix.Bot() && strings.Contains(evt.Content.AsMessage().Body, "Telehealth bridge commands") {
			answers++
		}
	}
	if limit := 20 + int(elapsed.Seconds()) + 1; answers > limit {
		t.Errorf("%d answers to %d commands in %s, want at most %d", answers, flood, elapsed.Round(time.Millisecond), limit)
	}
}
