package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/telehealth-bridge/telehealth-bridge/internal/homeserver"
)

// lockedBuffer is the demo's output, read while it writes.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func eventually(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		<-time.After(50 * time.Millisecond)
	}
}

// TestDemoBothSides starts the demo as a newcomer would and plays both sides with what it
// printed: the clinician signs in with the link (a GET only shows the button; the POST spends
// it), sees the session starting in a few minutes with its waiting room open; the client opens
// their link and asks to join; the clinician sees them waiting and admits them.
func TestDemoBothSides(t *testing.T) {
	hsPort, err := homeserver.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	out := &lockedBuffer{}
	done := make(chan error, 1)
	dir := t.TempDir() // removed after the demo stops (cleanups run last first)
	go func() { done <- run(ctx, options{dir: dir, hsPort: hsPort, startIn: 5 * time.Minute, out: out}) }()
	began := time.Now()
	t.Cleanup(func() {
		t.Logf("played both sides %s after the start", time.Since(began).Round(time.Millisecond))
		cancel()
		defer func() { t.Logf("stopped %s after the start", time.Since(began).Round(time.Millisecond)) }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("the demo stopped with %v", err)
			}
		case <-time.After(time.Minute):
			t.Error("the demo did not stop")
		}
	})

	links := regexp.MustCompile(`(?m)^\s+(http://\S+/(l|g)/\S+)$`)
	eventually(t, 3*time.Minute, "the demo's links", func() bool {
		select {
		case err := <-done:
			t.Fatalf("the demo stopped: %v\n%s", err, out.String())
		default:
		}
		return len(links.FindAllStringSubmatch(out.String(), -1)) == 2
	})
	t.Logf("links printed %s after the start", time.Since(began).Round(time.Millisecond))
	printed := out.String()
	var loginLink, guestLink string
	for _, m := range links.FindAllStringSubmatch(printed, -1) {
		if m[2] == "l" {
			loginLink = m[1]
		} else {
			guestLink = m[1]
		}
	}
	if loginLink == "" || guestLink == "" || !strings.Contains(printed, `"Alex Demo"`) {
		t.Fatalf("the demo printed:\n%s", printed)
	}
	u, _ := url.Parse(loginLink)
	site := u.Scheme + "://" + u.Host

	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	call := func(method, path, bearer string, body, into any) int {
		t.Helper()
		var reader io.Reader
		if body != nil {
			data, _ := json.Marshal(body)
			reader = bytes.NewReader(data)
		}
		req, _ := http.NewRequest(method, site+path, reader)
		req.Header.Set("X-Requested-With", "telehealth")
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		resp, err := browser.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		data, _ := io.ReadAll(resp.Body)
		if into != nil {
			_ = json.Unmarshal(data, into)
		}
		return resp.StatusCode
	}

	// The clinician: the link's page, then its button.
	resp, err := browser.Get(loginLink)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !bytes.Contains(page, []byte(`id="continue"`)) {
		t.Fatalf("the sign-in link's page: %d %s", resp.StatusCode, page)
	}
	resp, err = browser.PostForm(loginLink, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Request.URL.Path != "/panel" {
		t.Fatalf("signing in landed on %s (%d)", resp.Request.URL, resp.StatusCode)
	}
	var me struct {
		UserID string `json:"user_id"`
	}
	if code := call("GET", "/api/panel/me", "", nil, &me); code != 200 || me.UserID != "@clinician:localhost" {
		t.Fatalf("signed in as %d %+v", code, me)
	}
	type panelList struct {
		Sessions []struct {
			Session struct {
				ID     string `json:"id"`
				Status string `json:"status"`
				Start  int64  `json:"start"`
			} `json:"session"`
			Waiting int `json:"waiting"`
		} `json:"sessions"`
	}
	var list panelList
	eventually(t, 20*time.Second, "the demo session's waiting room to open", func() bool {
		call("GET", "/api/panel/sessions", "", nil, &list)
		return len(list.Sessions) == 1 && list.Sessions[0].Session.Status == "open"
	})
	if until := time.Until(time.UnixMilli(list.Sessions[0].Session.Start)); until < 4*time.Minute || until > 7*time.Minute {
		t.Errorf("the demo session starts in %s", until)
	}
	sessionID := list.Sessions[0].Session.ID

	// The client: their page, then Join.
	resp, err = http.Get(guestLink)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("the guest link: %d", resp.StatusCode)
	}
	token := guestLink[strings.LastIndex(guestLink, "/")+1:]
	var state struct {
		Me struct {
			State    string `json:"state"`
			CanKnock bool   `json:"can_knock"`
		} `json:"me"`
	}
	if code := call("GET", "/api/call/state", token, nil, &state); code != 200 || !state.Me.CanKnock {
		t.Fatalf("the guest's state: %d %+v", code, state)
	}
	if code := call("POST", "/api/call/knock", token, map[string]string{"name": "Alex"}, &state); code != 200 || state.Me.State != "waiting" {
		t.Fatalf("the guest's knock: %d %+v", code, state)
	}
	eventually(t, 20*time.Second, "the guest waiting on the panel", func() bool {
		call("GET", "/api/panel/sessions", "", nil, &list)
		return len(list.Sessions) == 1 && list.Sessions[0].Waiting == 1
	})
	if code := call("POST", "/api/panel/sessions/"+sessionID+"/admit", "", map[string]string{"participant": "1"}, nil); code != 200 {
		t.Fatalf("admit: %d", code)
	}
	eventually(t, 20*time.Second, "the guest let in", func() bool {
		call("GET", "/api/call/state", token, nil, &state)
		return state.Me.State == "in_session" || state.Me.State == "admitted"
	})

	// The sign-in link worked once.
	resp, err = browser.PostForm(loginLink, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusGone {
		t.Errorf("the sign-in link a second time: %d", resp.StatusCode)
	}
}
