package web_test

import (
	"context"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"github.com/telehealth-bridge/telehealth-bridge/internal/bridgetest"
	"github.com/telehealth-bridge/telehealth-bridge/internal/callclient"
	"github.com/telehealth-bridge/telehealth-bridge/web"
)

// A client that sends the headers of a request and then its body never (slowloris) is cut
// off instead of holding a connection, and a goroutine, for ever.
func TestSlowClientIsCutOff(t *testing.T) {
	s := newSite(t)
	addr := strings.TrimPrefix(s.env.Config.Web.PublicURL, "http://")
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_, err = io.WriteString(conn, "POST /api/widget/login HTTP/1.1\r\nHost: "+addr+"\r\nX-Requested-With: telehealth\r\n"+
		"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{")
	if err != nil {
		t.Fatal(err)
	}
	const within = 45 * time.Second
	start := time.Now()
	_ = conn.SetReadDeadline(start.Add(within))
	_, err = io.Copy(io.Discard, conn)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatalf("the server still holds a connection whose request body stopped %s ago", within)
	}
	t.Logf("cut off after %s", time.Since(start).Round(time.Second))
}

// The server's read and write timeouts do not apply to a call's signalling socket: a call
// outlives them and still hears of the lobby.
func TestCallOutlivesServerTimeouts(t *testing.T) {
	s := newSite(t)
	sess, token := s.guestSession(bridge.ParticipantRequest{Name: "JD"})
	s.openWindow(sess)
	s.login(roomWithBot(t, s))
	var enter struct {
		URL string `json:"url"`
	}
	s.call("POST", "/api/panel/sessions/"+sess.ID+"/enter", "", struct{}{}, &enter)
	var access web.CallAccess
	if code := s.call("POST", "/api/call/join", enter.URL[strings.Index(enter.URL, "#")+1:], struct{}{}, &access); code != 200 {
		t.Fatalf("the clinician's credential: %d", code)
	}
	api, err := callclient.NewAPI("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	host, err := callclient.Dial(ctx, api, access.WebSocket, sess.ID, access.Credential, callclient.Options{Publish: true})
	if err != nil {
		t.Fatal(err)
	}
	defer host.Close()
	select {
	case <-host.Closed():
		t.Fatalf("the call closed within 20 s: %s", host.Reason())
	case <-time.After(20 * time.Second): // past the server's read timeout
	}
	s.call("POST", "/api/call/knock", token, map[string]string{"name": "Jane"}, &web.CallState{})
	bridgetest.Eventually(t, wait, "the knock on the clinician's call socket after 20 s", func() bool {
		for _, m := range host.Messages() {
			if m["type"] == "lobby" && strings.Contains(jsonText(m), `"state":"waiting"`) {
				return true
			}
		}
		return false
	})
}
