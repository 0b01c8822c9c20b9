package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"github.com/telehealth-bridge/telehealth-bridge/internal/bridgetest"
	"github.com/telehealth-bridge/telehealth-bridge/web"
)

// callTokenFor signs a Matrix user in to a session's call page with a one-time join link, as
// !join does, and returns the call token from the redirect's fragment.
func (s *site) callTokenFor(userID string, sess *bridge.Session) string {
	s.t.Helper()
	join, err := s.env.App.Web.JoinLink(context.Background(), userID, sess.ID)
	if err != nil {
		s.t.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	person := &site{t: s.t, env: s.env, clock: s.clock, clinician: s.clinician, http: &http.Client{Jar: jar}}
	person.http.CheckRedirect = func(req *http.Request, via []*http.Request) error { return http.ErrUseLastResponse }
	where := person.click(join, s.env.Config.Web.PublicURL).Header.Get("Location")
	if !strings.Contains(where, "#") {
		s.t.Fatalf("join link for %s led to %q", userID, where)
	}
	return where[strings.Index(where, "#")+1:]
}

// admitGuest has a guest knock from their page and the clinician let them in from Element.
func (s *site) admitGuest(sess *bridge.Session, token, name string) id.UserID {
	s.t.Helper()
	var st web.CallState
	if code := s.call("POST", "/api/call/knock", token, map[string]string{"name": name}, &st); code != 200 || st.Me.State != "waiting" {
		s.t.Fatalf("knock: %d %+v", code, st.Me)
	}
	ghost := s.ghostOf(sess, token)
	bridgetest.Eventually(s.t, wait, "the knock to reach the room", func() bool {
		var m event.MemberEventContent
		err := s.clinician.StateEvent(context.Background(), id.RoomID(sess.RoomID), event.StateMember, ghost.String(), &m)
		return err == nil && m.Membership == event.MembershipKnock
	})
	if _, err := s.clinician.InviteUser(context.Background(), id.RoomID(sess.RoomID), &mautrix.ReqInviteUser{UserID: ghost}); err != nil {
		s.t.Fatal(err)
	}
	bridgetest.Eventually(s.t, wait, name+" to be in the session", func() bool {
		s.call("GET", "/api/call/state", token, nil, &st)
		return st.Me.State == "in_session"
	})
	return ghost
}

func (s *site) ghostOf(sess *bridge.Session, token string) id.UserID {
	s.t.Helper()
	var st web.CallState
	s.call("GET", "/api/call/state", token, nil, &st)
	_, ps, _ := s.env.App.Sessions.Lobby(context.Background(), "", sess.ID)
	for _, p := range ps {
		if p.Number == st.Me.Number && p.MatrixID != "" {
			return id.UserID(p.MatrixID)
		}
	}
	s.t.Fatal("the guest has no ghost")
	return ""
}

// chatShows polls a page's chat until a message with the text shows, and returns the chat.
func (s *site) chatShows(token, text string) web.ChatView {
	s.t.Helper()
	var chat web.ChatView
	bridgetest.Eventually(s.t, wait, fmt.Sprintf("%q in the chat", text), func() bool {
		chat = web.ChatView{}
		return s.call("GET", "/api/call/chat", token, nil, &chat) == 200 && hasText(chat, text)
	})
	return chat
}

func hasText(chat web.ChatView, text string) bool {
	for _, m := range chat.Messages {
		if m.Text == text {
			return true
		}
	}
	return false
}

func TestChatBridgedWithTheRoom(t *testing.T) {
	s := newSite(t)
	ctx := context.Background()
	sess, token := s.guestSession(bridge.ParticipantRequest{Name: "Jane Doe"})
	room := id.RoomID(sess.RoomID)
	s.openWindow(sess)
	control := roomWithBot(t, s)
	s.login(control)
	var enter struct {
		URL string `json:"url"`
	}
	s.call("POST", "/api/panel/sessions/"+sess.ID+"/enter", "", struct{}{}, &enter)
	hostToken := enter.URL[strings.Index(enter.URL, "#")+1:]

	// Said in the room before the guest is let in: never theirs to read.
	if _, err := s.clinician.SendText(ctx, room, "Notes before the visit"); err != nil {
		t.Fatal(err)
	}
	s.chatShows(hostToken, "Notes before the visit")
	ghost := s.admitGuest(sess, token, "Jane")

	// A Matrix user's message shows in the guest's chat, named; the long poll answers for it.
	var chat web.ChatView
	if code := s.call("GET", "/api/call/chat", token, nil, &chat); code != 200 {
		t.Fatalf("chat: %d", code)
	}
	if hasText(chat, "Notes before the visit") {
		t.Fatal("the guest reads what was said before they were let in")
	}
	polled := make(chan web.ChatView, 1)
	go func() {
		next := web.ChatView{Version: chat.Version}
		for !hasText(next, "Welcome Jane") {
			after := next.Version
			next = web.ChatView{}
			if s.call("GET", fmt.Sprintf("/api/call/chat?after=%d", after), token, nil, &next) != 200 {
				break
			}
		}
		polled <- next
	}()
	if _, err := s.clinician.SendText(ctx, room, "Welcome Jane"); err != nil {
		t.Fatal(err)
	}
	select {
	case chat = <-polled:
	case <-time.After(wait):
		t.Fatal("the chat's long poll did not answer for a new message")
	}
	for _, m := range chat.Messages {
		if m.Text == "Welcome Jane" && (m.Name != "dr.martin" || !m.Host || m.Mine || m.Kind != "text") {
			t.Errorf("the clinician's message shows as %+v", m)
		}
	}

	// The guest's message is their ghost's plain m.text in the room, markup and all as text.
	hostile := `<img src=x onerror=alert(1)> **bold** https://evil.example/login`
	if code := s.call("POST", "/api/call/chat", token, map[string]string{"text": "  " + hostile + "\n"}, nil); code != 200 {
		t.Fatalf("send: %d", code)
	}
	evt := bridgetest.WaitMessage(t, s.clinician, room, wait, "the guest's message in the room", func(evt *event.Event) bool {
		return evt.Sender == ghost && evt.Content.AsMessage().Body == hostile
	})
	if msg := evt.Content.AsMessage(); msg.MsgType != event.MsgText || msg.Format != "" || msg.FormattedBody != "" {
		t.Errorf("the guest's message was sent as %+v", msg)
	}
	chat = s.chatShows(token, hostile)
	for _, m := range chat.Messages {
		if m.Text == hostile && (!m.Mine || m.Name != "Jane" || m.Host) {
			t.Errorf("the guest's own message shows as %+v", m)
		}
	}
	// The clinician on the call page reads it too, and answers: the bot relays them by name.
	if chat = s.chatShows(hostToken, hostile); !hasText(chat, "Notes before the visit") {
		t.Error("the clinician lost the earlier history")
	}
	if code := s.call("POST", "/api/call/chat", hostToken, map[string]string{"text": "Thanks, I see it"}, nil); code != 200 {
		t.Fatalf("the clinician's send: %d", code)
	}
	bridgetest.WaitMessage(t, s.clinician, room, wait, "the relayed message in the room", func(evt *event.Event) bool {
		return evt.Sender == s.env.App.Matrix.Bot() && evt.Content.AsMessage().Body == "dr.martin: Thanks, I see it"
	})
	for _, m := range s.chatShows(token, "Thanks, I see it").Messages {
		if m.Text == "Thanks, I see it" && (!m.Host || m.Name != "dr.martin" || m.Mine) {
			t.Errorf("the clinician's relayed message shows as %+v", m)
		}
	}
	// Emotes and notices of members show with their kind; images, edits and the bot's own
	// notices do not.
	if _, err := s.env.App.Matrix.AS.BotIntent().SendNotice(ctx, room, "The bridge speaking"); err != nil {
		t.Fatal(err)
	}
	for _, content := range []map[string]any{
		{"msgtype": "m.emote", "body": "waves"},
		{"msgtype": "m.image", "body": "scan.png", "url": "mxc://localhost/abc"},
		{"msgtype": "m.text", "body": "* edited", "m.new_content": map[string]any{"msgtype": "m.text", "body": "edited"},
			"m.relates_to": map[string]any{"rel_type": "m.replace", "event_id": evt.ID.String()}},
		{"msgtype": "m.notice", "body": "Reminder from the clinician's client"}, // last: the others are in when it shows
	} {
		if _, err := s.clinician.SendMessageEvent(ctx, room, event.EventMessage, content); err != nil {
			t.Fatal(err)
		}
	}
	chat = s.chatShows(token, "Reminder from the clinician's client")
	kinds := map[string]string{}
	for _, m := range chat.Messages {
		kinds[m.Text] = m.Kind
	}
	if kinds["waves"] != "emote" || kinds["Reminder from the clinician's client"] != "notice" {
		t.Errorf("emote and notice show as %v", kinds)
	}
	for _, hidden := range []string{"scan.png", "* edited", "The bridge speaking"} {
		if _, shown := kinds[hidden]; shown {
			t.Errorf("%q shows in the chat", hidden)
		}
	}

	// The bot's own notices are not chat, and nobody can pass as someone the bot relayed.
	fake := map[string]any{"msgtype": "m.text", "body": "fake", "org.telehealthbridge.chat": map[string]string{"sender": s.clinician.UserID.String(), "text": "I am the doctor"}}
	if _, err := s.clinician.SendMessageEvent(ctx, room, event.EventMessage, fake); err != nil {
		t.Fatal(err)
	}
	chat = s.chatShows(token, "fake")
	if hasText(chat, "I am the doctor") {
		t.Error("a member's message passed as one the bot relayed")
	}
}

// chatSettled waits until the chat shows last, the latest message sent, and its version counts
// every message in the session's room: the pages have been told of each, and no wake-up is
// still on its way. (The homeserver's history may show a message late; last shows all are in.)
func (s *site) chatSettled(token string, sess *bridge.Session, last string) web.ChatView {
	s.t.Helper()
	var chat, again web.ChatView
	filter := &mautrix.FilterPart{Types: []event.Type{event.EventMessage}}
	bridgetest.Eventually(s.t, wait, "every message to reach the call pages", func() bool {
		if s.call("GET", "/api/call/chat", token, nil, &chat) != http.StatusOK || !hasText(chat, last) {
			return false
		}
		messages := 0
		for from := ""; ; {
			resp, err := s.clinician.Messages(context.Background(), id.RoomID(sess.RoomID), from, "", mautrix.DirectionBackward, filter, 100)
			if err != nil {
				return false
			}
			messages += len(resp.Chunk)
			if resp.End == "" || len(resp.Chunk) == 0 {
				break
			}
			from = resp.End
		}
		// The chat's version starts at 1 and goes up by one per message; it held still while
		// they were counted.
		return s.call("GET", "/api/call/chat", token, nil, &again) == http.StatusOK &&
			chat.Version == uint64(1+messages) && again.Version == chat.Version
	})
	return chat
}

func TestChatRefusals(t *testing.T) {
	s := newSite(t)
	ctx := context.Background()
	sess, token := s.guestSession(bridge.ParticipantRequest{Name: "Jane Doe"})
	other, otherToken := s.guestSession(bridge.ParticipantRequest{Name: "Other Person"})
	s.openWindow(sess)

	refused := func(what, token string, want int, code string) {
		t.Helper()
		var e apiErr
		if got := s.call("GET", "/api/call/chat", token, nil, &e); got != want || e.Code != code {
			t.Errorf("%s reads the chat: %d %+v", what, got, e)
		}
		e = apiErr{}
		if got := s.call("POST", "/api/call/chat", token, map[string]string{"text": "hello"}, &e); got != want || e.Code != code {
			t.Errorf("%s writes in the chat: %d %+v", what, got, e)
		}
	}
	refused("a booked guest", token, http.StatusForbidden, "not_in_session")
	var st web.CallState
	s.call("POST", "/api/call/knock", token, map[string]string{"name": "Jane"}, &st)
	refused("a waiting guest", token, http.StatusForbidden, "not_in_session")
	refused("no token", "", http.StatusUnauthorized, "signed_out")

	ghost := s.admitGuest(sess, token, "Jane")
	if _, err := s.clinician.SendText(ctx, id.RoomID(sess.RoomID), "For Jane only"); err != nil {
		t.Fatal(err)
	}
	s.chatShows(token, "For Jane only")

	// Another session's guest, let in to theirs, reads theirs only.
	s.admitGuest(other, otherToken, "Olga")
	var chat web.ChatView
	if s.call("GET", "/api/call/chat", otherToken, nil, &chat); hasText(chat, "For Jane only") {
		t.Error("another session's guest reads this session's chat")
	}
	// Another clinician, with a call token for this session, is not in it.
	drOther := s.env.User(t, "dr.other").UserID.String()
	refused("another clinician", s.callTokenFor(drOther, sess), http.StatusForbidden, "not_in_session")

	// Messages are checked: empty, too long, text that hides or reorders itself.
	for _, text := range []string{"   ", strings.Repeat("a", bridge.ChatMaxLength+1), "invoice \u202Egpj.exe", "bell\x07", "null\x00"} {
		var e apiErr
		if code := s.call("POST", "/api/call/chat", token, map[string]string{"text": text}, &e); code != http.StatusBadRequest || e.Code != "bad_message" {
			t.Errorf("sending %q: %d %+v", text[:min(len(text), 20)], code, e)
		}
	}
	if code := s.call("POST", "/api/call/chat", token, map[string]any{"text": 5}, nil); code != http.StatusBadRequest {
		t.Errorf("a number as text: %d", code)
	}
	// A burst, then the sender must wait; the others may still write.
	sent := 0
	for ; sent < 20; sent++ {
		if code := s.call("POST", "/api/call/chat", token, map[string]string{"text": fmt.Sprintf("message %d", sent)}, nil); code == http.StatusTooManyRequests {
			break
		} else if code != 200 {
			t.Fatalf("message %d: %d", sent, code)
		}
	}
	if sent != 10 {
		t.Errorf("%d messages went through before the limit, want 10", sent)
	}
	if code := s.call("POST", "/api/call/chat", otherToken, map[string]string{"text": "mine"}, nil); code != 200 {
		t.Errorf("another guest was limited too: %d", code)
	}
	s.clock.Advance(21 * time.Second)
	if code := s.call("POST", "/api/call/chat", token, map[string]string{"text": "later"}, nil); code != 200 {
		t.Errorf("after the window: %d", code)
	}

	// Removed: no more chat, not even a long poll already waiting. The poll starts once every
	// message so far has woken the pages (the bridge tells them as each shows in the room's
	// history, in its own time), so only the removal can end it.
	chat = s.chatSettled(token, sess, "later")
	polled := make(chan int, 1)
	go func() {
		var got web.ChatView
		code := s.call("GET", fmt.Sprintf("/api/call/chat?after=%d", chat.Version), token, nil, &got)
		if code == http.StatusOK {
			t.Logf("the poll after %d answered with version %d, %d messages", chat.Version, got.Version, len(got.Messages))
		}
		polled <- code
	}()
	bridgetest.Eventually(t, wait, "the guest's long poll to wait", func() bool { return s.env.App.Web.ChatPolls(sess.ID) == 1 || len(polled) > 0 })
	if err := s.env.App.Sessions.HostAction(ctx, s.clinician.UserID.String(), sess.ID, "remove", "1", ""); err != nil {
		t.Fatal(err)
	}
	bridgetest.Eventually(t, wait, "the ghost to leave", func() bool {
		var m event.MemberEventContent
		err := s.clinician.StateEvent(ctx, id.RoomID(sess.RoomID), event.StateMember, ghost.String(), &m)
		return err == nil && m.Membership != event.MembershipJoin
	})
	if _, err := s.clinician.SendText(ctx, id.RoomID(sess.RoomID), "After the removal"); err != nil {
		t.Fatal(err)
	}
	select {
	case code := <-polled:
		if code != http.StatusForbidden {
			t.Errorf("a removed guest's long poll answered %d", code)
		}
	case <-time.After(wait):
		t.Error("a removed guest's long poll did not end")
	}
	refused("a removed guest", token, http.StatusForbidden, "not_in_session")
}

// TestChatForMatrixParticipantsAndAfterRestart: a participant booked with their Matrix account
// reads the chat as of their own join and writes from the call page (the bot relays them by
// name); after a restart the bridge reads the same history back from the homeserver.
func TestChatForMatrixParticipantsAndAfterRestart(t *testing.T) {
	s := newSite(t)
	ctx := context.Background()
	pat := s.env.User(t, "pat")
	if err := pat.SetDisplayName(ctx, "Pat Q"); err != nil {
		t.Fatal(err)
	}
	sess, err := s.env.App.Sessions.Schedule(ctx, bridge.ScheduleRequest{
		Clinician: s.clinician.UserID.String(), Start: time.Date(2026, 11, 24, 14, 0, 0, 0, time.UTC),
		End: time.Date(2026, 11, 24, 14, 50, 0, 0, time.UTC), TimeZone: "Europe/Paris",
		Participants: []bridge.ParticipantRequest{{Name: "Jane Doe"}, {Name: "Pat Quinn", MatrixID: pat.UserID.String()}},
	})
	if err != nil {
		t.Fatal(err)
	}
	room := id.RoomID(sess.RoomID)
	if _, err = s.clinician.JoinRoomByID(ctx, room); err != nil {
		t.Fatal(err)
	}
	_, ps, _ := s.env.App.Sessions.Lobby(ctx, "", sess.ID)
	link, err := s.env.App.Web.ParticipantLink(ctx, sess, ps[0])
	if err != nil {
		t.Fatal(err)
	}
	token := link[strings.LastIndex(link, "/")+1:]
	s.openWindow(sess)
	patToken := s.callTokenFor(pat.UserID.String(), sess)
	refusedCode := func(token string) int { return s.call("GET", "/api/call/chat", token, nil, nil) }
	if code := refusedCode(patToken); code != http.StatusForbidden {
		t.Errorf("a Matrix participant not in the room reads the chat: %d", code)
	}

	if _, err = s.clinician.SendText(ctx, room, "Before Pat"); err != nil {
		t.Fatal(err)
	}
	if _, err = s.clinician.InviteUser(ctx, room, &mautrix.ReqInviteUser{UserID: pat.UserID}); err != nil {
		t.Fatal(err)
	}
	if _, err = pat.JoinRoomByID(ctx, room); err != nil {
		t.Fatal(err)
	}
	bridgetest.Eventually(t, wait, "Pat to be in the session", func() bool {
		var st web.CallState
		s.call("GET", "/api/call/state", patToken, nil, &st)
		return st.Me.State == "in_session"
	})
	if _, err = pat.SendText(ctx, room, "Pat from Element"); err != nil {
		t.Fatal(err)
	}
	chat := s.chatShows(patToken, "Pat from Element")
	if hasText(chat, "Before Pat") {
		t.Error("the Matrix participant reads what was said before they joined")
	}
	if code := s.call("POST", "/api/call/chat", patToken, map[string]string{"text": "Pat from the call page"}, nil); code != 200 {
		t.Fatalf("Pat's send: %d", code)
	}
	bridgetest.WaitMessage(t, s.clinician, room, wait, "Pat's relayed message", func(evt *event.Event) bool {
		return evt.Sender == s.env.App.Matrix.Bot() && evt.Content.AsMessage().Body == "Pat Q: Pat from the call page"
	})
	for _, m := range s.chatShows(patToken, "Pat from the call page").Messages {
		if strings.HasPrefix(m.Text, "Pat from") && (!m.Mine || m.Host) {
			t.Errorf("Pat's message shows to Pat as %+v", m)
		}
	}

	s.admitGuest(sess, token, "Jane")
	if _, err = pat.SendText(ctx, room, "Hi Jane"); err != nil {
		t.Fatal(err)
	}
	before := s.chatShows(token, "Hi Jane")
	if hasText(before, "Pat from Element") || hasText(before, "Before Pat") {
		t.Error("the guest reads what was said before they were let in")
	}

	// A restart: nothing was stored, the history comes back from the homeserver.
	s.env.Stop()
	s.env.Start(t)
	after := s.chatShows(token, "Hi Jane")
	if len(after.Messages) != len(before.Messages) {
		t.Errorf("after a restart the guest reads %d messages, before %d", len(after.Messages), len(before.Messages))
	}
	if !hasText(s.chatShows(patToken, "Hi Jane"), "Pat from the call page") {
		t.Error("Pat's history changed with the restart")
	}
}
