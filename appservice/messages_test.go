package appservice_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.mau.fi/util/random"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"github.com/telehealth-bridge/telehealth-bridge/internal/bridgetest"
)

// A web client booked twice knocks on both sessions as one ghost, their client record's: opaque,
// never their name, and a ghost of the bridge.
func TestClientGhostIsReusedAcrossSessions(t *testing.T) {
	l := newLobby(t, "sqlite")
	ctx := context.Background()
	first := l.schedule(`2026-11-24 15:00 Europe/Paris "Jane Doe" sms +33612345678`)
	second := l.schedule(`2026-11-24 17:00 Europe/Paris "Jane Doe" sms +33612345678`)
	var ghosts []string
	for _, s := range []*bridge.Session{first, second} {
		l.openWindow(s)
		p := l.participant(s, 1)
		if p.ClientID == 0 {
			t.Fatalf("session %s's participant has no client record", s.ID)
		}
		if err := l.env.App.Matrix.GuestKnock(ctx, s, p, "Jane"); err != nil {
			t.Fatalf("knocking on %s: %v", s.ID, err)
		}
		p = l.waitState(s, 1, bridge.StateWaiting)
		l.waitMembership(s, id.UserID(p.MatrixID), event.MembershipKnock)
		ghosts = append(ghosts, p.MatrixID)
	}
	if ghosts[0] != ghosts[1] {
		t.Fatalf("two ghosts for one client: %v", ghosts)
	}
	ghost := ghosts[0]
	if !strings.HasPrefix(ghost, "@telehealth_client_") || strings.Contains(strings.ToLower(ghost), "jane") || !l.env.App.Matrix.IsGhost(ghost) {
		t.Errorf("the client's ghost %q is not an opaque client ghost of the bridge", ghost)
	}
	c, err := l.env.App.DB.Client.Get(ctx, l.participant(first, 1).ClientID)
	if err != nil || c.Ghost != ghost {
		t.Errorf("the record keeps %q (%v), the sessions %q", c.Ghost, err, ghost)
	}
	// A booking without a client record still gets a guest ghost of its own.
	if !l.env.App.Matrix.IsGhost("@telehealth_guest_abc:localhost") || l.env.App.Matrix.IsGhost("@telehealth_clientx:localhost") {
		t.Error("IsGhost does not tell the bridge's ghosts")
	}
}

// The Messages room: history visible from the join, a direct room with an opaque name; the bot
// at 100, the professional at 50, the client at 0 and allowed to write; the client's ghost in,
// the professional invited. The professional's message counts as unread and is no command;
// the client's reaches the professional; a newly assigned professional is invited, one no
// longer assigned is taken out.
func TestMessagesRoom(t *testing.T) {
	l := newLobby(t, "sqlite")
	ctx := context.Background()
	martin := l.clinician.UserID
	roy := l.env.User(t, "dr.roy")
	req := bridge.ClientRequest{DisplayName: "Jane Doe", Emails: []string{"jane@example.org"}, Professionals: []string{martin.String()}}
	c, err := l.env.App.Sessions.CreateClient(ctx, martin.String(), req)
	if err != nil {
		t.Fatal(err)
	}
	c, err = l.env.App.Matrix.MessagesRoom(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	again, err := l.env.App.Matrix.MessagesRoom(ctx, c.ID)
	if err != nil || again.MessagesRoom != c.MessagesRoom || again.Ghost != c.Ghost {
		t.Fatalf("a second call made another room or ghost: %+v %v", again, err)
	}
	room := id.RoomID(c.MessagesRoom)
	ghost := id.UserID(c.Ghost)
	bot := l.env.App.Matrix.AS.BotClient()

	var hv event.HistoryVisibilityEventContent
	if err = bot.StateEvent(ctx, room, event.StateHistoryVisibility, "", &hv); err != nil || hv.HistoryVisibility != event.HistoryVisibilityJoined {
		t.Errorf("history visibility %q (%v), want joined", hv.HistoryVisibility, err)
	}
	var name event.RoomNameEventContent
	if err = bot.StateEvent(ctx, room, event.StateRoomName, "", &name); err != nil || strings.Contains(name.Name, "Jane") || name.Name == "" {
		t.Errorf("room name %q (%v): opaque, never the client's name", name.Name, err)
	}
	var pl event.PowerLevelsEventContent
	if err = bot.StateEvent(ctx, room, event.StatePowerLevels, "", &pl); err != nil {
		t.Fatal(err)
	}
	if pl.GetUserLevel(l.bot()) != 100 || pl.GetUserLevel(martin) != 50 || pl.GetUserLevel(ghost) != 0 ||
		pl.GetEventLevel(event.EventMessage) != 0 || pl.GetEventLevel(event.EventReaction) <= 0 {
		t.Errorf("power levels: users %v, events %v, events_default %d", pl.Users, pl.Events, pl.EventsDefault)
	}
	var m event.MemberEventContent
	if err = bot.StateEvent(ctx, room, event.StateMember, martin.String(), &m); err != nil || m.Membership != event.MembershipInvite || !m.IsDirect {
		t.Errorf("the professional's membership: %+v %v (want a direct invite)", m, err)
	}
	if err = bot.StateEvent(ctx, room, event.StateMember, ghost.String(), &m); err != nil || m.Membership != event.MembershipJoin {
		t.Errorf("the client's ghost: %+v %v (want joined)", m, err)
	}

	// The professional answers from Element: one unread message, and no command is run.
	if _, err = l.clinician.JoinRoomByID(ctx, room); err != nil {
		t.Fatal(err)
	}
	say(t, l.clinician, room, "!help")
	say(t, l.clinician, room, "How are you this week?")
	bridgetest.Eventually(t, wait, "two unread messages", func() bool {
		th, err := l.env.App.DB.MessageThread.Get(ctx, c.ID)
		return err == nil && th.Unread == 2
	})
	// The client answers from the portal, as their ghost: the professional reads it, and the
	// thread is read.
	if err = l.env.App.Matrix.SendAsClient(ctx, c, "Better, thank you"); err != nil {
		t.Fatal(err)
	}
	bridgetest.WaitMessage(t, l.clinician, room, wait, "the client's message", func(evt *event.Event) bool {
		return evt.Sender == ghost && evt.Content.AsMessage().Body == "Better, thank you"
	})
	// The room's history shows the client's answer, sent after both messages were handled: an
	// answer of the bot to !help would show before it.
	for _, evt := range bridgetest.Messages(t, l.clinician, room) {
		if evt.Sender == l.bot() && evt.Type == event.EventMessage {
			t.Errorf("the bot wrote in a Messages room: %q", evt.Content.AsMessage().Body)
		}
	}
	bridgetest.Eventually(t, wait, "the thread read", func() bool {
		th, err := l.env.App.DB.MessageThread.Get(ctx, c.ID)
		return err == nil && th.Unread == 0 && !th.LastAt.IsZero()
	})
	history, err := l.env.App.Matrix.ThreadHistory(ctx, c.MessagesRoom)
	if err != nil || len(history) != 3 || history[2].Sender != ghost.String() || history[0].Text != "!help" {
		t.Fatalf("the history, oldest first: %+v %v", history, err)
	}

	// Dr Roy is assigned: invited at 50. Dr Martin is no longer: taken out.
	req.Professionals = []string{roy.UserID.String()}
	if _, err = l.env.App.Sessions.UpdateClient(ctx, martin.String(), c.ID, req); err != nil {
		t.Fatal(err)
	}
	bridgetest.Eventually(t, wait, "Dr Roy invited and Dr Martin taken out", func() bool {
		var roys, martins event.MemberEventContent
		_ = bot.StateEvent(ctx, room, event.StateMember, roy.UserID.String(), &roys)
		_ = bot.StateEvent(ctx, room, event.StateMember, martin.String(), &martins)
		return roys.Membership == event.MembershipInvite && martins.Membership == event.MembershipLeave
	})
	var changed event.PowerLevelsEventContent // a fresh one: decoding into pl would merge the maps
	if err = bot.StateEvent(ctx, room, event.StatePowerLevels, "", &changed); err != nil || changed.GetUserLevel(roy.UserID) != 50 || changed.GetUserLevel(martin) != 0 {
		t.Errorf("power levels after the change: %+v %v", changed.Users, err)
	}
	// Dr Roy joins and reads only from his join: history visibility joined.
	if _, err = roy.JoinRoomByID(ctx, room); err != nil {
		t.Fatal(err)
	}
	for _, evt := range bridgetest.Messages(t, roy, room) {
		if evt.Type == event.EventMessage {
			t.Errorf("a professional assigned later reads the earlier message %q", evt.Content.AsMessage().Body)
		}
	}
}

// A client with their own Matrix account is invited to their room with their account; no ghost
// is made for them.
func TestMessagesRoomOfAMatrixClient(t *testing.T) {
	l := newLobby(t, "sqlite")
	ctx := context.Background()
	alex := l.env.User(t, "alex")
	c, err := l.env.App.Sessions.CreateClient(ctx, l.clinician.UserID.String(), bridge.ClientRequest{
		DisplayName: "Alex Roux", MatrixID: alex.UserID.String(), Professionals: []string{l.clinician.UserID.String()}})
	if err != nil {
		t.Fatal(err)
	}
	c, err = l.env.App.Matrix.MessagesRoom(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if c.Ghost != "" {
		t.Errorf("a client with a Matrix account got a ghost: %s", c.Ghost)
	}
	var m event.MemberEventContent
	if err = l.env.App.Matrix.AS.BotClient().StateEvent(ctx, id.RoomID(c.MessagesRoom), event.StateMember, alex.UserID.String(), &m); err != nil || m.Membership != event.MembershipInvite {
		t.Errorf("the client's own account: %+v %v (want invited)", m, err)
	}
	if err = l.env.App.Matrix.SendAsClient(ctx, c, "hello"); err == nil {
		t.Error("the bridge spoke for a client's own Matrix account")
	}
	// Alex answers from their Matrix app: it counts as the client's, not unread.
	if _, err = alex.JoinRoomByID(ctx, id.RoomID(c.MessagesRoom)); err != nil {
		t.Fatal(err)
	}
	say(t, alex, id.RoomID(c.MessagesRoom), "Hello from my app")
	bridgetest.Eventually(t, wait, "the client's message counted", func() bool {
		th, err := l.env.App.DB.MessageThread.Get(ctx, c.ID)
		return err == nil && !th.LastAt.IsZero() && th.Unread == 0
	})
	// The client writes, and changes nothing else: not the room's name, topic or join rule.
	for _, change := range []struct {
		typ     event.Type
		content any
	}{
		{event.StateRoomName, &event.RoomNameEventContent{Name: "Alex Roux"}},
		{event.StateTopic, &event.TopicEventContent{Topic: "my therapy"}},
		{event.StateJoinRules, &event.JoinRulesEventContent{JoinRule: event.JoinRulePublic}},
	} {
		if _, err = alex.SendStateEvent(ctx, id.RoomID(c.MessagesRoom), change.typ, "", change.content); err == nil {
			t.Errorf("the client changed the room's %s", change.typ.Type)
		}
	}
}

// A professional's message delivered three times (a retried transaction, then the same event in
// another) counts once.
func TestMessagesRoomEventCountedOnce(t *testing.T) {
	l := newLobby(t, "sqlite")
	ctx := context.Background()
	martin := l.clinician.UserID
	c, err := l.env.App.Sessions.CreateClient(ctx, martin.String(), bridge.ClientRequest{DisplayName: "Jane Doe", Professionals: []string{martin.String()}})
	if err != nil {
		t.Fatal(err)
	}
	if c, err = l.env.App.Matrix.MessagesRoom(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	room := id.RoomID(c.MessagesRoom)
	token := l.env.Config.AppService.HSToken
	message := func(eventID id.EventID, body string) []byte {
		txn := map[string]any{"events": []any{map[string]any{
			"event_id": eventID, "room_id": room, "sender": martin, "type": "m.room.message",
			"origin_server_ts": time.Now().UnixMilli(), "content": map[string]any{"msgtype": "m.text", "body": body},
		}}}
		data, _ := json.Marshal(txn)
		return data
	}
	dup := id.EventID("$dup-" + random.String(12))
	for _, txnID := range []string{"txn-m1", "txn-m1", "txn-m2"} {
		if resp := putTransaction(t, l.env, token, txnID, message(dup, "Hello")); resp.StatusCode != http.StatusOK {
			t.Fatalf("transaction %s: HTTP %d", txnID, resp.StatusCode)
		}
	}
	// A later event of the same room is handled after the duplicates.
	sentinel := id.EventID("$sentinel-" + random.String(12))
	putTransaction(t, l.env, token, "txn-m3", message(sentinel, "Still there?"))
	bridgetest.Eventually(t, wait, "the sentinel handled", func() bool {
		done, err := l.env.App.DB.HandledEvent.IsHandled(ctx, sentinel.String())
		return err == nil && done
	})
	if th, _ := l.env.App.DB.MessageThread.Get(ctx, c.ID); th.Unread != 2 {
		t.Errorf("%d unread for two messages, one delivered three times", th.Unread)
	}
}

// A clinician enabling the portal on a record makes the client's Messages room at once, with
// the professional invited.
func TestEnablingThePortalMakesTheRoom(t *testing.T) {
	l := newLobby(t, "sqlite")
	ctx := context.Background()
	martin := l.clinician.UserID.String()
	req := bridge.ClientRequest{DisplayName: "Jane Doe", Emails: []string{"jane@example.org"}, Professionals: []string{martin}}
	c, err := l.env.App.Sessions.CreateClient(ctx, martin, req)
	if err != nil {
		t.Fatal(err)
	}
	if c, _ = l.env.App.DB.Client.Get(ctx, c.ID); c.MessagesRoom != "" {
		t.Fatal("a record without the portal has a room before anyone asked")
	}
	if _, err = l.env.App.Sessions.SetClientPortal(ctx, martin, c.ID, true, nil); err != nil {
		t.Fatal(err)
	}
	bridgetest.Eventually(t, wait, "the room made and the professional invited", func() bool {
		c, err = l.env.App.DB.Client.Get(ctx, c.ID)
		return err == nil && c.MessagesRoom != "" && l.membership(c.MessagesRoom, l.clinician.UserID).Membership == event.MembershipInvite
	})
}

// The client's reading of the thread in the portal is a read receipt of their ghost, which the
// professional's Matrix client shows.
func TestClientReadReceipt(t *testing.T) {
	l := newLobby(t, "sqlite")
	ctx := context.Background()
	martin := l.clinician.UserID
	c, err := l.env.App.Sessions.CreateClient(ctx, martin.String(), bridge.ClientRequest{DisplayName: "Jane Doe", Professionals: []string{martin.String()}})
	if err != nil {
		t.Fatal(err)
	}
	if c, err = l.env.App.Matrix.MessagesRoom(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	room := id.RoomID(c.MessagesRoom)
	if _, err = l.clinician.JoinRoomByID(ctx, room); err != nil {
		t.Fatal(err)
	}
	sent := say(t, l.clinician, room, "Your next session is confirmed")
	if err = l.env.App.Matrix.MarkThreadRead(ctx, c, sent.String()); err != nil {
		t.Fatal(err)
	}
	bridgetest.Eventually(t, wait, "the ghost's read receipt in the professional's sync", func() bool {
		resp, err := l.clinician.FullSyncRequest(ctx, mautrix.ReqSync{Timeout: 0})
		if err != nil {
			return false
		}
		joined, ok := resp.Rooms.Join[room]
		if !ok {
			return false
		}
		for _, evt := range joined.Ephemeral.Events {
			if evt.Type != event.EphemeralEventReceipt {
				continue
			}
			var receipts map[id.EventID]map[event.ReceiptType]map[id.UserID]any
			if json.Unmarshal(evt.Content.VeryRaw, &receipts) == nil {
				if _, ok := receipts[sent][event.ReceiptTypeRead][id.UserID(c.Ghost)]; ok {
					return true
				}
			}
		}
		return false
	})
}
