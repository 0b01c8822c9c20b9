package web_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"github.com/telehealth-bridge/telehealth-bridge/internal/bridgetest"
	"github.com/telehealth-bridge/telehealth-bridge/web"
)

func threadTexts(v web.ThreadView) string {
	var out []string
	for _, m := range v.Messages {
		who := m.Name
		if m.Mine {
			who = "me"
		}
		out = append(out, who+": "+m.Text)
	}
	return strings.Join(out, " | ")
}

// TestMessagesThread: Jane writes to her clinician from the portal (as her ghost); Dr Martin
// reads it on the panel and answers (relayed by the bot under his name); Jane's long poll
// wakes with the answer; her home counts it unread until she reads the thread. Every door is
// tried with another client's cookie, another clinician, a forged cookie and nobody.
func TestMessagesThread(t *testing.T) {
	s := newSite(t)
	ctx := context.Background()
	s.login(roomWithBot(t, s))
	martin := s.clinician.UserID.String()
	other := s.env.User(t, "dr.other").UserID.String()
	alex := s.env.User(t, "alex").UserID.String()
	call, ids := s.signedIn(map[string]bridge.ClientRequest{
		"jane": {DisplayName: "Jane Doe", Emails: []string{"jane@example.org"}, Professionals: []string{martin}},
		"bob":  {DisplayName: "Bob Roux", Emails: []string{"bob@example.org"}, Professionals: []string{martin}},
		"alex": {DisplayName: "Alex Brun", MatrixID: alex, Professionals: []string{martin}},
		"zoe":  {DisplayName: "Zoé Petit", Emails: []string{"zoe@example.org"}, Professionals: []string{other}},
	})
	jane := fmt.Sprintf("/api/panel/clients/%d/messages", ids["jane"])

	var v web.ThreadView
	if code := call("GET", "/api/portal/messages", "jane", nil, &v); code != 200 || len(v.Messages) != 0 || v.ReadOnly {
		t.Fatalf("Jane's empty thread: %d %+v", code, v)
	}
	var ok map[string]any
	if code := call("POST", "/api/portal/messages", "jane", map[string]string{"text": "Hello doctor"}, &ok); code != 200 {
		t.Fatalf("Jane's message: %d", code)
	}
	bridgetest.Eventually(t, wait, "Jane's message in her thread", func() bool {
		call("GET", "/api/portal/messages", "jane", nil, &v)
		return threadTexts(v) == "me: Hello doctor"
	})
	c, err := s.env.App.DB.Client.Get(ctx, ids["jane"])
	if err != nil || c.Ghost == "" || c.MessagesRoom == "" {
		t.Fatalf("Jane's record: %+v %v", c, err)
	}

	// Dr Martin on the panel: the client is named by her record; his answer is relayed.
	var pv web.ThreadView
	if code := s.call("GET", jane, "", nil, &pv); code != 200 || threadTexts(pv) != "Jane Doe: Hello doctor" || !pv.Relayed {
		t.Fatalf("the panel's thread: %d %q %+v", code, threadTexts(pv), pv)
	}
	if !s.env.Audited(t, martin, bridge.AuditParticipantDataViewed, "", map[string]string{"view": "messages", "via": "panel"}) {
		t.Error("reading the thread on the panel is not in the audit trail")
	}
	// Jane's page waits for news; the answer wakes it.
	call("GET", "/api/portal/messages", "jane", nil, &v)
	woken := make(chan web.ThreadView, 1)
	go func() {
		var next web.ThreadView
		call("GET", fmt.Sprintf("/api/portal/messages?after=%d", v.Version), "jane", nil, &next)
		woken <- next
	}()
	if code := s.call("POST", jane, "", map[string]string{"text": "Hello Jane, how are you?"}, &ok); code != 200 {
		t.Fatalf("the panel's answer: %d", code)
	}
	select {
	case next := <-woken:
		if got := threadTexts(next); !strings.HasSuffix(got, ": Hello Jane, how are you?") || strings.Contains(got, "Jane Doe") || next.Messages[1].Mine {
			t.Errorf("the long poll woke with %q", got)
		}
	case <-time.After(wait):
		t.Fatal("Jane's long poll did not wake with the answer")
	}
	bridgetest.Eventually(t, wait, "the panel's own message", func() bool {
		s.call("GET", jane, "", nil, &pv)
		return len(pv.Messages) == 2 && pv.Messages[1].Mine
	})

	// The home counts the answer unread (from the database) until Jane reads the thread.
	var home web.PortalHome
	bridgetest.Eventually(t, wait, "one unread message on the home", func() bool {
		call("GET", "/api/portal/home", "jane", nil, &home)
		return home.Messages.Unread == 1 && home.Messages.LastAt > 0
	})
	call("GET", "/api/portal/messages?seen=1", "jane", nil, &v)
	if call("GET", "/api/portal/home", "jane", nil, &home); home.Messages.Unread != 0 {
		t.Errorf("read, the home still counts %d unread", home.Messages.Unread)
	}

	// Alex has his own Matrix account: he reads here and answers from his Matrix app.
	if code := call("GET", "/api/portal/messages", "alex", nil, &v); code != 200 || !v.ReadOnly {
		t.Errorf("Alex's thread: %d %+v", code, v)
	}
	var e apiErr
	if code := call("POST", "/api/portal/messages", "alex", map[string]string{"text": "hi"}, &e); code != http.StatusConflict || e.Code != "read_only" {
		t.Errorf("Alex writing from the portal: %d %+v", code, e)
	}

	// Bob's cookie reads and writes Bob's thread only, whatever the request names.
	for _, path := range []string{"/api/portal/messages", "/api/portal/messages?room=" + c.MessagesRoom, fmt.Sprintf("/api/portal/messages?client=%d", ids["jane"])} {
		if code := call("GET", path, "bob", nil, &v); code != 200 || len(v.Messages) != 0 {
			t.Errorf("Bob reading %s: %d %q", path, code, threadTexts(v))
		}
	}
	// A body naming a room or a client is refused (no such fields); a query naming one is ignored.
	if code := call("POST", "/api/portal/messages", "bob", map[string]any{"text": "Bob here", "client_id": ids["jane"], "room": c.MessagesRoom}, &e); code != http.StatusBadRequest {
		t.Errorf("Bob writing with a client and a room in the body: %d", code)
	}
	if code := call("POST", "/api/portal/messages?client="+fmt.Sprint(ids["jane"]), "bob", map[string]any{"text": "Bob here"}, &ok); code != 200 {
		t.Errorf("Bob writing: %d", code)
	}
	bridgetest.Eventually(t, wait, "Bob's message in his own thread", func() bool {
		call("GET", "/api/portal/messages", "bob", nil, &v)
		return threadTexts(v) == "me: Bob here"
	})
	if s.call("GET", jane, "", nil, &pv); strings.Contains(threadTexts(pv), "Bob") {
		t.Errorf("Bob's message reached Jane's thread: %q", threadTexts(pv))
	}
	// Nobody, and a cookie no sign-in issued.
	for _, who := range []string{"", "forged"} {
		if code := call("GET", "/api/portal/messages", who, nil, &e); code != http.StatusUnauthorized {
			t.Errorf("%q reading: %d", who, code)
		}
		if code := call("POST", "/api/portal/messages", who, map[string]string{"text": "x"}, &e); code != http.StatusUnauthorized {
			t.Errorf("%q writing: %d", who, code)
		}
	}
	// Another clinician's client, an unknown record and a malformed ID: 404 alike.
	for _, path := range []string{fmt.Sprintf("/api/panel/clients/%d/messages", ids["zoe"]), "/api/panel/clients/99999/messages", "/api/panel/clients/abc/messages"} {
		if code := s.call("GET", path, "", nil, &e); code != http.StatusNotFound {
			t.Errorf("Dr Martin reading %s: %d", path, code)
		}
		if code := s.call("POST", path, "", map[string]string{"text": "x"}, &e); code != http.StatusNotFound {
			t.Errorf("Dr Martin writing %s: %d", path, code)
		}
	}
	if zoe, _ := s.env.App.DB.Client.Get(ctx, ids["zoe"]); zoe.MessagesRoom != "" {
		t.Error("a refused request made the other clinician's client a room")
	}
	// The panel's API without a panel sign-in (a client's portal cookie is none).
	for _, who := range []string{"", "jane"} {
		if code := call("GET", jane, who, nil, &e); code != http.StatusUnauthorized {
			t.Errorf("%q on the panel's API: %d", who, code)
		}
		if code := call("POST", jane, who, map[string]string{"text": "x"}, &e); code != http.StatusUnauthorized {
			t.Errorf("%q writing on the panel's API: %d", who, code)
		}
	}
	// An empty message and a flood are refused with a reason.
	if code := call("POST", "/api/portal/messages", "jane", map[string]string{"text": "  "}, &e); code != http.StatusBadRequest || e.Code != "bad_message" {
		t.Errorf("an empty message: %d %+v", code, e)
	}
}
