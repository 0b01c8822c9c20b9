package web_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"
)

// TestPanelIdleCountsFromTheLastAction: a long poll renews nothing, so a panel left open signs
// out web.panel_idle (30 minutes) after the clinician's last action, whatever polls came
// since: the poll waiting then answers by that time, not 30 minutes after it began
// (docs/security.md, "An unattended panel stays signed in"). Checked to fail with the long
// poll's exemption removed (make mutate: web-panel-idle-long-poll).
func TestPanelIdleCountsFromTheLastAction(t *testing.T) {
	s := newSite(t)
	s.login(roomWithBot(t, s))
	var list sessionList
	if code := s.call("GET", "/api/panel/sessions", "", nil, &list); code != 200 {
		t.Fatalf("sessions: %d", code)
	}
	lastAction := s.clock.Now()
	// Polls come and go for 20 minutes; nobody acts.
	s.clock.Advance(20 * time.Minute)
	if code := s.call("GET", fmt.Sprintf("/api/panel/sessions?after=%d", list.Version-1), "", nil, &list); code != 200 {
		t.Fatalf("a poll 20 minutes after the last action: %d", code)
	}
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
	if late := s.clock.Now().Sub(lastAction); late > 32*time.Minute {
		t.Errorf("the waiting poll answered %s after the last action: the polls renewed the sign-in", late)
	}
	var e apiErr
	if code := s.call("GET", "/api/panel/me", "", nil, &e); code != http.StatusUnauthorized {
		t.Errorf("the panel 30 minutes after the last action: %d", code)
	}
}
