package media_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/jonboulle/clockwork"
	"github.com/rs/zerolog"

	"github.com/telehealth-bridge/telehealth-bridge/media"
)

// FuzzSignalling sends arbitrary signalling messages, as a joined page or as the first message,
// to a real SFU. Whatever they are, the SFU must not panic, and must either handle them or
// close that one socket; it answers the next message (a refused host command) or closes.
// Messages are separated by newlines (up to 8).
func FuzzSignalling(f *testing.F) {
	seeds := []string{
		`{"type":"answer","sdp":"v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"}`,
		`{"type":"answer","sdp":""}`,
		`{"type":"answer"}` + "\n" + `{"type":"answer"}`,
		`{"type":"candidate","candidate":null}`,
		`{"type":"candidate","candidate":"a string"}`,
		`{"type":"candidate","candidate":{"candidate":"candidate:1 1 udp 2130706431 127.0.0.1 9 typ host","sdpMid":"0","sdpMLineIndex":0}}`,
		`{"type":"candidate","candidate":{"candidate":"candidate:x","sdpMid":"99","sdpMLineIndex":65535}}`,
		`{"type":"candidate","candidate":{"candidate":"","usernameFragment":"\u0000"}}`,
		`{"type":"publish","label":"screen"}` + "\n" + `{"type":"publish","label":"screen"}` + "\n" + `{"type":"unpublish"}`,
		`{"type":"publish","label":"camera"}`,
		`{"type":"unpublish","label":"screen"}`,
		`{"type":"mute","kind":"audio","muted":true}`,
		`{"type":"mute","kind":"video","muted":null}`,
		`{"type":"mute","kind":"nose","muted":false}`,
		`{"type":"mute"}`,
		`{"type":"restart"}` + "\n" + `{"type":"restart"}`,
		`{"type":"host","command":"end"}`,
		`{"type":"host","command":"admit","participant":"1","text":"` + strings.Repeat("é", 100) + `"}`,
		`{"type":"leave"}`,
		`{"type":"join","session":"fuzz","credential":"x.y"}`,
		`{"type":"fly"}`,
		`{"type":null,"labels":{"0":1}}`,
		`{"type":["answer"]}`,
		`null`,
		`[]`,
		`"answer"`,
		`{`,
		"\xff\xfe",
		``,
	}
	for _, s := range seeds {
		f.Add(false, []byte(s))
	}
	f.Add(true, []byte(`{"type":"join","session":"fuzz"}`))
	f.Add(true, []byte(`{"type":"join","session":"fuzz","credential":"eyJzIjoiZnV6eiJ9.AAAA"}`))
	f.Add(true, []byte(`{"type":"answer","sdp":"v=0"}`))
	f.Add(true, []byte(`{}`))

	clock := clockwork.NewFakeClockAt(time.Now())
	srv, err := media.New(media.Config{ListenIP: "127.0.0.1", Signalling: media.SignallingConfig{MessageRate: 1000}}, secret, clock, zerolog.Nop())
	if err != nil {
		f.Fatal(err)
	}
	var panicked atomic.Value
	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// net/http would recover a handler's panic and carry on: record it instead.
		defer func() {
			if v := recover(); v != nil {
				panicked.Store(v)
			}
		}()
		srv.ServeHTTP(w, r)
	}))
	f.Cleanup(func() {
		web.Close()
		_ = srv.Close()
	})
	wsURL := "ws" + strings.TrimPrefix(web.URL, "http")

	f.Fuzz(func(t *testing.T, first bool, data []byte) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		ws, _, err := websocket.Dial(ctx, wsURL, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer ws.CloseNow()
		ws.SetReadLimit(1 << 20)
		// Read the SFU's messages until it says joined, refuses, answers our probe or closes.
		until := func(types ...string) (string, error) {
			for {
				_, msg, err := ws.Read(ctx)
				if err != nil {
					return "", err
				}
				var m struct{ Type, Message string }
				_ = json.Unmarshal(msg, &m)
				for _, want := range types {
					if m.Type == want {
						return m.Type, nil
					}
				}
			}
		}
		closedOrDone := func(err error) {
			var ce websocket.CloseError
			if err != nil && !errors.As(err, &ce) {
				t.Fatalf("the SFU neither answered nor closed the socket: %v", err)
			}
		}
		messages := bytes.SplitN(data, []byte("\n"), 8)
		if first {
			for _, m := range messages {
				if ws.Write(ctx, websocket.MessageText, m) != nil {
					break
				}
			}
			_, err = until("joined")
			closedOrDone(err)
		} else {
			join, _ := json.Marshal(map[string]string{"type": "join", "session": "fuzz", "credential": srv.Credential("fuzz", "@fuzz:hs", false)})
			if err = ws.Write(ctx, websocket.MessageText, join); err != nil {
				t.Fatal(err)
			}
			if _, err = until("joined"); err != nil {
				t.Fatalf("joining: %v", err)
			}
			for _, m := range messages {
				if ws.Write(ctx, websocket.MessageText, m) != nil {
					break
				}
			}
			// A host command from a guest is refused with an error message: once it comes back,
			// every message before it was handled.
			_ = ws.Write(ctx, websocket.MessageText, []byte(`{"type":"host","command":"probe"}`))
			_, err = until("error")
			closedOrDone(err)
		}
		if v := panicked.Load(); v != nil {
			t.Fatalf("the SFU panicked: %v", v)
		}
	})
}
