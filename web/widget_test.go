package web_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"github.com/telehealth-bridge/telehealth-bridge/web"
)

// Anyone can post a server name to the widget sign-in. It never makes the bridge connect to
// an internal address, and a session ID gets the same answer whether it exists or not.
func TestWidgetLoginRefusesInternalServers(t *testing.T) {
	s := newSite(t)
	var conns atomic.Int32
	internal := httptest.NewUnstartedServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	internal.Config.ConnState = func(_ net.Conn, state http.ConnState) {
		if state == http.StateNew {
			conns.Add(1)
		}
	}
	internal.StartTLS()
	defer internal.Close()
	_, port, _ := net.SplitHostPort(internal.Listener.Addr().String())
	var e apiErr
	for _, name := range []string{"127.0.0.1:" + port, "localhost:" + port, "[::1]:" + port, "169.254.169.254:80"} {
		body := map[string]any{"access_token": "made-up", "matrix_server_name": name}
		if code := s.call("POST", "/api/widget/login", "", body, &e); code != http.StatusForbidden || e.Code != "openid_refused" {
			t.Errorf("server name %s: %d %+v", name, code, e)
		}
	}
	if n := conns.Load(); n != 0 {
		t.Errorf("the internal server accepted %d connections from the widget sign-in", n)
	}

	// A real user, a session they are not on, and one that does not exist: the same answer.
	ctx := context.Background()
	jane := s.env.User(t, "jane")
	sess, err := s.env.App.Sessions.Schedule(ctx, bridge.ScheduleRequest{
		Clinician: s.clinician.UserID.String(), Start: time.Date(2026, 11, 24, 14, 0, 0, 0, time.UTC),
		End: time.Date(2026, 11, 24, 14, 50, 0, 0, time.UTC), TimeZone: "Europe/Paris",
		Participants: []bridge.ParticipantRequest{{Name: "Someone", Email: "someone@example.org"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	answer := func(sessionID string) (int, string) {
		openid, err := jane.RequestOpenIDToken(ctx)
		if err != nil {
			t.Fatal(err)
		}
		body := map[string]any{"access_token": openid.AccessToken, "matrix_server_name": openid.MatrixServerName, "session_id": sessionID}
		var out apiErr
		code := s.call("POST", "/api/widget/login", "", body, &out)
		return code, jsonText(out)
	}
	existingCode, existing := answer(sess.ID)
	unknownCode, unknown := answer("zzzzzz")
	if existingCode != http.StatusForbidden || unknownCode != existingCode || unknown != existing {
		t.Errorf("not booked on an existing session: %d %s; on an unknown one: %d %s", existingCode, existing, unknownCode, unknown)
	}
	// Past the rate limit, a new server name is refused before anything is asked of anyone.
	limited := false
	for range 40 {
		if code := s.call("POST", "/api/widget/login", "", map[string]any{"access_token": "x", "matrix_server_name": "localhost:" + port}, &e); code == http.StatusTooManyRequests {
			limited = true
			break
		}
	}
	if !limited {
		t.Error("40 refused sign-ins in a row were not rate-limited")
	}
	var login web.WidgetLogin
	openid, _ := jane.RequestOpenIDToken(ctx)
	if code := s.call("POST", "/api/widget/login", "", map[string]any{"access_token": openid.AccessToken, "matrix_server_name": openid.MatrixServerName}, &login); code != http.StatusTooManyRequests {
		t.Errorf("a sign-in during the limit: %d", code)
	}
	if n := conns.Load(); n != 0 {
		t.Errorf("the internal server accepted %d connections", n)
	}
}
