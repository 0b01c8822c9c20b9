package appservice_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"github.com/telehealth-bridge/telehealth-bridge/internal/bridgetest"
)

// flakyHomeserver stands between the bridge and Dendrite and can refuse the bot's messages
// to one room, as a homeserver that is briefly down would.
type flakyHomeserver struct {
	mu       sync.Mutex
	target   *url.URL
	failRoom id.RoomID
	failures int
}

func newFlakyHomeserver(t *testing.T) (*flakyHomeserver, *httptest.Server) {
	f := &flakyHomeserver{}
	proxy := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		f.mu.Lock()
		target := f.target
		f.mu.Unlock()
		r.SetURL(target)
	}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		fail := f.failures > 0 && f.failRoom != "" && r.Method == http.MethodPut &&
			strings.Contains(r.URL.EscapedPath(), "/rooms/"+url.PathEscape(f.failRoom.String())+"/send/")
		if fail {
			f.failures--
		}
		f.mu.Unlock()
		if fail {
			// 500: mautrix retries 502, 503 and 504 by itself, with real waits.
			http.Error(w, `{"errcode":"M_UNKNOWN","error":"down for maintenance"}`, http.StatusInternalServerError)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return f, srv
}

// failSends makes the next n messages to room fail.
func (f *flakyHomeserver) failSends(room id.RoomID, n int) {
	f.mu.Lock()
	f.failRoom, f.failures = room, n
	f.mu.Unlock()
}

func (f *flakyHomeserver) pending() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.failures
}

// directChat waits for the bot's direct chat with the user, joins it as the user and returns it.
func directChat(t *testing.T, l *lobby, user *mautrix.Client) id.RoomID {
	t.Helper()
	ctx := context.Background()
	var room string
	bridgetest.Eventually(t, wait, "a direct chat with "+user.UserID.String(), func() bool {
		room, _ = l.env.App.DB.ControlRoom.Get(ctx, user.UserID.String())
		return room != ""
	})
	if _, err := user.JoinRoomByID(ctx, id.RoomID(room)); err != nil {
		t.Fatalf("%s joining their direct chat with the bot: %v", user.UserID, err)
	}
	return id.RoomID(room)
}

// botTexts are the bot's messages in a room, as the user reads them.
func botTexts(t *testing.T, cli *mautrix.Client, room id.RoomID, bot id.UserID) []string {
	var out []string
	for _, evt := range bridgetest.Messages(t, cli, room) {
		if evt.Sender == bot && evt.Type.Type == event.EventMessage.Type {
			out = append(out, evt.Content.AsMessage().Body)
		}
	}
	return out
}

func countContaining(texts []string, sub string) int {
	n := 0
	for _, s := range texts {
		if strings.Contains(s, sub) {
			n++
		}
	}
	return n
}

// TestMatrixParticipantsHearFromTheClinic: a participant booked with their own Matrix account
// gets the confirmation, a reschedule, the waiting room's opening (with the room's link and how
// to ask to join) and the cancellation in a direct chat with the bot that holds only the two of
// them, in their language, each once, through the outbox: a message the homeserver does not
// take is retried, and !notifications shows it all. Nobody else receives anything.
func TestMatrixParticipantsHearFromTheClinic(t *testing.T) {
	flaky, proxy := newFlakyHomeserver(t)
	l := newLobbyWith(t, bridgetest.Options{DB: "sqlite", Config: func(v map[string]any) {
		v["notifications.clinic_name"] = "Clinique du Parc"
		if hs, ok := v["homeserver.address"].(string); ok && hs != proxy.URL {
			target, _ := url.Parse(hs)
			flaky.mu.Lock()
			flaky.target = target
			flaky.mu.Unlock()
			v["homeserver.address"] = proxy.URL
		}
	}})
	ctx := context.Background()
	jane, mallory := l.env.User(t, "jane"), l.env.User(t, "mallory")
	bot := l.bot()
	defer func() {
		if t.Failed() {
			for _, text := range botTexts(t, l.clinician, l.control, bot) {
				t.Logf("control room: %s", text)
			}
		}
	}()

	s := l.schedule(`2026-11-24 15:00 Europe/Paris "Jane Doe" none lang=fr matrix=` + jane.UserID.String())
	l.clock.Advance(time.Second) // the sender's next round
	dm := directChat(t, l, jane)
	var texts []string
	bridgetest.Eventually(t, wait, "the confirmation in French", func() bool {
		texts = botTexts(t, jane, dm, bot)
		return countContaining(texts, "Votre rendez-vous avec Clinique du Parc est confirmé") == 1
	})
	for _, text := range texts {
		if strings.Contains(text, "Jane") || strings.Contains(text, "Doe") {
			t.Errorf("a notification names the participant: %q", text)
		}
	}
	members, err := l.clinician.JoinedMembers(ctx, dm)
	if err == nil {
		t.Errorf("the clinician can read the participant's direct chat: %v", members.Joined)
	}
	members, err = jane.JoinedMembers(ctx, dm)
	if err != nil {
		t.Fatal(err)
	}
	_, botIn := members.Joined[bot]
	if len(members.Joined) != 2 || !botIn {
		t.Errorf("the direct chat's members: %v, want only the bot and Jane", members.Joined)
	}
	l.command("!notifications "+s.ID, "1 · Jane Doe · matrix confirmation · sent")

	// The homeserver does not take the reschedule notice at first: the outbox tries again.
	flaky.failSends(dm, 1)
	l.command("!reschedule "+s.ID+" 2026-11-24 16:00", "moved to")
	l.clock.Advance(time.Second)
	bridgetest.Eventually(t, wait, "the failed attempt", func() bool { return flaky.pending() == 0 })
	l.command("!notifications "+s.ID, "matrix reschedule · planned for")
	l.command("!notifications "+s.ID, "attempt 1 failed")
	l.clock.Advance(time.Minute) // past the first back-off (30 s)
	bridgetest.Eventually(t, wait, "the reschedule notice", func() bool {
		texts = botTexts(t, jane, dm, bot)
		return countContaining(texts, "a changé d'horaire") == 1
	})
	l.command("!notifications "+s.ID, "1 · Jane Doe · matrix reschedule · sent")

	// The waiting room opens: the room's link and how to ask to join.
	if s, err = l.env.App.Sessions.Session(ctx, s.ID); err != nil {
		t.Fatal(err)
	}
	l.clock.Advance(s.Opens(bridge.DefaultWindow).Sub(l.clock.Now()))
	link := "https://matrix.to/#/" + url.PathEscape(s.RoomID) + "?via=localhost"
	bridgetest.Eventually(t, wait, "the waiting room's opening", func() bool {
		texts = botTexts(t, jane, dm, bot)
		return countContaining(texts, "Votre salle d'attente avec Clinique du Parc est ouverte") == 1
	})
	opening := texts[len(texts)-1]
	if !strings.Contains(opening, link) || !strings.Contains(opening, "Demander à rejoindre") {
		t.Errorf("the opening does not carry the room's link %s and how to ask to join: %q", link, opening)
	}

	// Each once, nothing else.
	texts = botTexts(t, jane, dm, bot)
	if len(texts) != 3 {
		t.Errorf("Jane got %d messages, want 3 (confirmation, reschedule, opening): %q", len(texts), texts)
	}

	// Mallory, not booked, has no chat with the bot and no invite at all.
	if room, _ := l.env.App.DB.ControlRoom.Get(ctx, mallory.UserID.String()); room != "" {
		t.Errorf("the bot opened a chat with someone not booked: %s", room)
	}
	resp, err := mallory.FullSyncRequest(ctx, mautrix.ReqSync{})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Rooms.Invite)+len(resp.Rooms.Join) > 0 {
		t.Errorf("someone not booked was invited to %d rooms and is in %d", len(resp.Rooms.Invite), len(resp.Rooms.Join))
	}

	// Jane brings Mallory into her chat with the bot: the cancellation goes to a new chat with
	// Jane alone, and Mallory reads none of it.
	if _, err = jane.InviteUser(ctx, dm, &mautrix.ReqInviteUser{UserID: mallory.UserID}); err != nil {
		t.Fatal(err)
	}
	if _, err = mallory.JoinRoomByID(ctx, dm); err != nil {
		t.Fatal(err)
	}
	l.command("!cancel "+s.ID, "cancelled")
	l.clock.Advance(time.Second)
	var second id.RoomID
	bridgetest.Eventually(t, wait, "a new direct chat", func() bool {
		room, _ := l.env.App.DB.ControlRoom.Get(ctx, jane.UserID.String())
		second = id.RoomID(room)
		return second != "" && second != dm
	})
	if _, err = jane.JoinRoomByID(ctx, second); err != nil {
		t.Fatal(err)
	}
	bridgetest.Eventually(t, wait, "the cancellation in the new chat", func() bool {
		return countContaining(botTexts(t, jane, second, bot), "est annulé") == 1
	})
	if n := countContaining(botTexts(t, mallory, dm, bot), "est annulé"); n != 0 {
		t.Errorf("Mallory read the cancellation in Jane's old chat")
	}
	if resp, err := mallory.Messages(ctx, second, "", "", mautrix.DirectionBackward, nil, 10); err == nil && len(resp.Chunk) > 0 {
		t.Errorf("Mallory reads %d events of Jane's new chat", len(resp.Chunk))
	}
	l.clock.Advance(time.Minute)
	l.command("!notifications "+s.ID, "1 · Jane Doe · matrix cancellation · sent")
	if texts = botTexts(t, jane, second, bot); len(texts) != 1 {
		t.Errorf("Jane's new chat has %d messages, want the cancellation alone: %q", len(texts), texts)
	}
}
