package appservice_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.mau.fi/util/random"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/telehealth-bridge/telehealth-bridge/internal/bridgetest"
	"github.com/telehealth-bridge/telehealth-bridge/internal/homeserver"
)

// roomWithBot has alice create a room, invite the bot and wait until it joined.
func roomWithBot(t testing.TB, env *bridgetest.Env, alice *mautrix.Client) id.RoomID {
	t.Helper()
	ctx := context.Background()
	bot := env.App.Matrix.Bot()
	resp, err := alice.CreateRoom(ctx, &mautrix.ReqCreateRoom{Preset: "private_chat", Invite: []id.UserID{bot}, IsDirect: true})
	if err != nil {
		t.Fatalf("creating room: %v", err)
	}
	bridgetest.Eventually(t, 10*time.Second, "the bot to accept the invite", func() bool {
		members, err := alice.JoinedMembers(ctx, resp.RoomID)
		if err != nil {
			return false
		}
		_, joined := members.Joined[bot]
		return joined
	})
	return resp.RoomID
}

func TestBotJoinsAndAnswersHelp(t *testing.T) {
	env := bridgetest.New(t, bridgetest.Options{})
	env.Start(t)
	alice := env.User(t, "alice")
	room := roomWithBot(t, env, alice)

	if _, err := alice.SendText(context.Background(), room, "!help"); err != nil {
		t.Fatal(err)
	}
	bridgetest.WaitMessage(t, alice, room, 10*time.Second, "the bot's help",
		bridgetest.IsNoticeFrom(env.App.Matrix.Bot(), "!help"))
}

// putTransaction sends a transaction to the bridge as the homeserver would.
func putTransaction(t *testing.T, env *bridgetest.Env, token, txnID string, body []byte) *http.Response {
	t.Helper()
	url := fmt.Sprintf("%s/_matrix/app/v1/transactions/%s", env.Config.AppService.Address, txnID)
	req, err := http.NewRequest(http.MethodPut, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

// helpTransaction is a transaction holding one "!help" message from sender.
func helpTransaction(eventID id.EventID, room id.RoomID, sender id.UserID) []byte {
	return helpTransactionAt(eventID, room, sender, time.Now())
}

func helpTransactionAt(eventID id.EventID, room id.RoomID, sender id.UserID, sent time.Time) []byte {
	txn := map[string]any{"events": []any{map[string]any{
		"event_id":         eventID,
		"room_id":          room,
		"sender":           sender,
		"type":             "m.room.message",
		"origin_server_ts": sent.UnixMilli(),
		"content":          map[string]any{"msgtype": "m.text", "body": "!help"},
	}}}
	data, _ := json.Marshal(txn)
	return data
}

// repliesTo counts the bot's notices that reply to an event.
func repliesTo(t *testing.T, cli *mautrix.Client, room id.RoomID, bot id.UserID, eventID id.EventID) int {
	n := 0
	for _, evt := range bridgetest.Messages(t, cli, room) {
		if evt.Sender == bot && evt.Type == event.EventMessage && evt.Content.AsMessage().RelatesTo.GetReplyTo() == eventID {
			n++
		}
	}
	return n
}

func TestTransactionsAreHandledOnce(t *testing.T) {
	env := bridgetest.New(t, bridgetest.Options{})
	env.Start(t)
	alice := env.User(t, "alice")
	room := roomWithBot(t, env, alice)
	bot := env.App.Matrix.Bot()
	token := env.Config.AppService.HSToken

	dup := id.EventID("$dup-" + random.String(12))
	body := helpTransaction(dup, room, alice.UserID)
	for _, txnID := range []string{"txn-a", "txn-a", "txn-b"} { // same transaction twice, then the same event in another
		if resp := putTransaction(t, env, token, txnID, body); resp.StatusCode != http.StatusOK {
			t.Fatalf("transaction %s: HTTP %d", txnID, resp.StatusCode)
		}
	}
	// A later event of the same room is handled after the duplicates: once its reply is there,
	// every duplicate has been seen.
	sentinel := id.EventID("$sentinel-" + random.String(12))
	putTransaction(t, env, token, "txn-c", helpTransaction(sentinel, room, alice.UserID))
	bridgetest.Eventually(t, 10*time.Second, "the reply to the sentinel", func() bool {
		return repliesTo(t, alice, room, bot, sentinel) == 1
	})
	if n := repliesTo(t, alice, room, bot, dup); n != 1 {
		t.Fatalf("the event delivered three times got %d replies, want 1", n)
	}
}

// The bridge remembers handled events for a week; an event older than that, delivered again
// (a homeserver restored from a backup), is dropped instead of being acted on a second time.
func TestEventOlderThanTheHandledMemoryIsDropped(t *testing.T) {
	env := bridgetest.New(t, bridgetest.Options{})
	env.Start(t)
	alice := env.User(t, "alice")
	room := roomWithBot(t, env, alice)
	bot := env.App.Matrix.Bot()
	token := env.Config.AppService.HSToken

	old := id.EventID("$old-" + random.String(12))
	putTransaction(t, env, token, "txn-old", helpTransactionAt(old, room, alice.UserID, time.Now().Add(-8*24*time.Hour)))
	sentinel := id.EventID("$sentinel-" + random.String(12))
	putTransaction(t, env, token, "txn-new", helpTransaction(sentinel, room, alice.UserID))
	bridgetest.Eventually(t, 10*time.Second, "the reply to the sentinel", func() bool {
		return repliesTo(t, alice, room, bot, sentinel) == 1
	})
	if n := repliesTo(t, alice, room, bot, old); n != 0 {
		t.Fatalf("an 8-day-old event was answered %d time(s), want 0", n)
	}
}

func TestTransactionAuthAndBadBodies(t *testing.T) {
	env := bridgetest.New(t, bridgetest.Options{})
	env.Start(t)
	alice := env.User(t, "alice")
	room := roomWithBot(t, env, alice)
	good := helpTransaction(id.EventID("$x-"+random.String(12)), room, alice.UserID)

	// The bridge checks the token itself, before mautrix (which would answer 401
	// M_UNKNOWN_TOKEN to a wrong one and never reads a token from the query string): its
	// answers are the spec's, 403 M_FORBIDDEN for a wrong token and 401 M_UNAUTHORIZED for
	// none, each one JSON object, and a legacy homeserver's ?access_token= is checked the same.
	wrongURL := env.Config.AppService.Address + "/_matrix/app/v1/transactions/"
	for _, tc := range []struct {
		what, token, query string
		status             int
		errcode, message   string
	}{
		{"wrong hs_token", "wrong-token", "", http.StatusForbidden, "M_FORBIDDEN", "Wrong homeserver token"},
		{"the as_token for the hs_token", env.Config.AppService.ASToken, "", http.StatusForbidden, "M_FORBIDDEN", "Wrong homeserver token"},
		{"wrong hs_token in the query", "", "wrong-token", http.StatusForbidden, "M_FORBIDDEN", "Wrong homeserver token"},
		{"no hs_token", "", "", http.StatusUnauthorized, "M_UNAUTHORIZED", "Missing homeserver token"},
	} {
		url := wrongURL + "t-" + random.String(8)
		if tc.query != "" {
			url += "?access_token=" + tc.query
		}
		status, answer := putRaw(t, url, tc.token, good)
		var e struct{ Errcode, Error string }
		if err := json.Unmarshal(answer, &e); status != tc.status || err != nil || e.Errcode != tc.errcode || e.Error != tc.message {
			t.Errorf("%s: HTTP %d %q, want %d {errcode %s, error %q}", tc.what, status, answer, tc.status, tc.errcode, tc.message)
		}
	}
	// The right token in the query is the bridge's to accept (mautrix reads only the header):
	// the transaction is handled.
	viaQuery := id.EventID("$q-" + random.String(12))
	if status, answer := putRaw(t, wrongURL+"tq?access_token="+env.Config.AppService.HSToken, "", helpTransaction(viaQuery, room, alice.UserID)); status != http.StatusOK {
		t.Errorf("the hs_token in the query: HTTP %d %s", status, answer)
	}
	bridgetest.Eventually(t, 10*time.Second, "the reply to a transaction authorised in the query", func() bool {
		return repliesTo(t, alice, room, env.App.Matrix.Bot(), viaQuery) == 1
	})
	for i, body := range []string{`{"events": [`, `not json`, `[]`} {
		if resp := putTransaction(t, env, env.Config.AppService.HSToken, fmt.Sprintf("bad-%d", i), []byte(body)); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("malformed body %q: HTTP %d, want 400", body, resp.StatusCode)
		}
	}
	// Nothing else was lost: the bridge still handles the homeserver's events.
	if _, err := alice.SendText(context.Background(), room, "!help"); err != nil {
		t.Fatal(err)
	}
	bridgetest.WaitMessage(t, alice, room, 10*time.Second, "the bot's help after bad requests",
		bridgetest.IsNoticeFrom(env.App.Matrix.Bot(), "!help"))
	// The refused transactions did not run: the event in them got no reply.
	if n := repliesTo(t, alice, room, env.App.Matrix.Bot(), id.EventID(gjsonEventID(good))); n != 0 {
		t.Errorf("a refused transaction was handled (%d replies)", n)
	}
}

// putRaw puts a transaction at url, with a bearer token unless empty, and returns the answer.
func putRaw(t *testing.T, url, token string, body []byte) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPut, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, answer
}

func gjsonEventID(txn []byte) string {
	var v struct {
		Events []struct {
			EventID string `json:"event_id"`
		} `json:"events"`
	}
	_ = json.Unmarshal(txn, &v)
	return v.Events[0].EventID
}

func TestHealthEndpoints(t *testing.T) {
	env := bridgetest.New(t, bridgetest.Options{})
	env.Start(t)
	for _, path := range []string{"/_matrix/mau/live", "/_matrix/mau/ready"} {
		resp, err := http.Get(env.Config.AppService.Address + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s: HTTP %d", path, resp.StatusCode)
		}
	}
}

// TestStartupMistakes checks that each usual set-up mistake stops the bridge with a message
// naming what to fix.
func TestStartupMistakes(t *testing.T) {
	cases := []struct {
		name   string
		break_ func(t *testing.T, env *bridgetest.Env)
		want   string
	}{{
		name: "wrong as_token",
		break_: func(t *testing.T, env *bridgetest.Env) {
			env.Config.AppService.ASToken = "not-the-registered-token-but-32-characters-long"
		},
		want: "does not accept the bridge's as_token",
	}, {
		name: "homeserver unreachable",
		break_: func(t *testing.T, env *bridgetest.Env) {
			port, _ := homeserver.FreePort()
			env.Config.Homeserver.Address = fmt.Sprintf("http://127.0.0.1:%d", port)
		},
		want: "cannot reach the homeserver",
	}, {
		name: "registration not loaded",
		break_: func(t *testing.T, env *bridgetest.Env) {
			if err := env.HS.SetRegistrations(nil); err != nil {
				t.Fatal(err)
			}
			if err := env.HS.Restart(context.Background()); err != nil {
				t.Fatal(err)
			}
		},
		want: "has not loaded the registration",
	}, {
		name: "bridge URL unreachable",
		break_: func(t *testing.T, env *bridgetest.Env) {
			// The bridge listens on another port than the one the registration names.
			port, _ := homeserver.FreePort()
			env.Config.AppService.Port = uint16(port)
		},
		want: "cannot reach the bridge at",
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := bridgetest.New(t, bridgetest.Options{})
			tc.break_(t, env)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			_, err := env.TryStart(ctx, t)
			if err == nil {
				t.Fatal("the bridge started")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not say %q", err, tc.want)
			}
		})
	}
}
