package web_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"
)

type sessionList struct {
	Version uint64 `json:"version"`
}

// An open panel follows its sessions with a long poll. That poll is not the clinician doing
// anything: an unattended panel signs out after web.panel_idle (30 minutes here), and only a
// person's requests keep it signed in.
func TestPanelIdleIgnoresLongPoll(t *testing.T) {
	s := newSite(t)
	s.login(roomWithBot(t, s))
	var list sessionList
	if code := s.call("GET", "/api/panel/sessions", "", nil, &list); code != 200 {
		t.Fatalf("sessions: %d", code)
	}
	// A person's request (typing in the participant field) keeps the sign-in.
	s.clock.Advance(20 * time.Minute)
	if code := s.call("GET", "/api/panel/contacts?q=ja", "", nil, nil); code != 200 {
		t.Fatalf("contacts: %d", code)
	}
	// Now the page is left alone: its polls come and go, nobody acts.
	s.clock.Advance(20 * time.Minute)
	if code := s.call("GET", fmt.Sprintf("/api/panel/sessions?after=%d", list.Version-1), "", nil, &list); code != 200 {
		t.Fatalf("a poll 40 minutes after sign-in, 20 after the last action: %d", code)
	}
	// A poll that is waiting when the idle time runs out answers then, and the next says signed out.
	answered := make(chan int, 1)
	go func() {
		answered <- s.call("GET", fmt.Sprintf("/api/panel/sessions?after=%d", list.Version), "", nil, nil)
	}()
	var code int
	deadline := time.After(wait)
	for code == 0 {
		s.clock.Advance(time.Minute)
		select {
		case code = <-answered:
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			t.Fatal("the waiting poll did not answer once the idle time passed")
		}
	}
	var e apiErr
	if code := s.call("GET", fmt.Sprintf("/api/panel/sessions?after=%d", list.Version), "", nil, &e); code != http.StatusUnauthorized || e.Code != "signed_out" {
		t.Errorf("a poll after %s without an action: %d %+v", 30*time.Minute, code, e)
	}
	if code := s.call("GET", "/api/panel/me", "", nil, &e); code != http.StatusUnauthorized {
		t.Errorf("the panel after the idle time: %d", code)
	}
}
