package web_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"github.com/telehealth-bridge/telehealth-bridge/web"
)

// csp reads a page's Content-Security-Policy into its directives.
func (s *site) csp(path string) map[string]string {
	s.t.Helper()
	resp, err := s.http.Get(s.env.Config.Web.PublicURL + path)
	if err != nil {
		s.t.Fatal(err)
	}
	resp.Body.Close()
	out := map[string]string{}
	for _, d := range strings.Split(resp.Header.Get("Content-Security-Policy"), ";") {
		name, value, _ := strings.Cut(strings.TrimSpace(d), " ")
		out[name] = value
	}
	return out
}

// Only the configured Matrix clients may frame the widget (a page elsewhere could otherwise
// frame it and overlay its buttons), no page is framed at all, and pages connect only to the
// bridge and its call socket.
func TestSecurityHeaders(t *testing.T) {
	s := newSite(t)
	socket := "ws" + strings.TrimPrefix(s.env.Config.Web.PublicURL, "http") + "/call/ws"
	widget := s.csp("/widget?session=abc")
	if got := widget["frame-ancestors"]; got != "https://app.element.io vector://vector" {
		t.Errorf("the widget may be framed by %q", got)
	}
	for _, path := range []string{"/panel", "/g/x.y.z", "/call/abc", "/l/token", "/portal", "/portal/enrol", "/portal/signup", "/assets/style.css"} {
		csp := s.csp(path)
		if csp["frame-ancestors"] != "'none'" {
			t.Errorf("%s may be framed by %q", path, csp["frame-ancestors"])
		}
		if csp["connect-src"] != "'self' "+socket {
			t.Errorf("%s may connect to %q, want only the site and %s", path, csp["connect-src"], socket)
		}
	}
	// web.element_origins replaces the list.
	own := newSiteWith(t, func(cfg map[string]any) { cfg["web.element_origins"] = []any{"https://element.clinic.example"} })
	if got := own.csp("/widget")["frame-ancestors"]; got != "https://element.clinic.example" {
		t.Errorf("with the clinic's own Element the widget may be framed by %q", got)
	}
}

// A name with bidi overrides or zero-width characters could show as someone else's in
// Element and on the panel: the waiting room and the booking form refuse it and say which
// character.
func TestNamesRefuseInvisibleCharacters(t *testing.T) {
	s := newSite(t)
	sess, token := s.guestSession(bridge.ParticipantRequest{Name: "JD"})
	s.openWindow(sess)
	var e apiErr
	if code := s.call("POST", "/api/call/knock", token, map[string]string{"name": "Dr Martin\u202e"}, &e); code != http.StatusBadRequest ||
		e.Code != "bad_name" || !strings.Contains(e.Error, "U+202E") {
		t.Errorf("knock with a right-to-left override: %d %+v", code, e)
	}
	var st web.CallState
	s.call("GET", "/api/call/state", token, nil, &st)
	if st.Me.State != "booked" {
		t.Errorf("after the refused knock the guest is %q", st.Me.State)
	}
	s.login(roomWithBot(t, s))
	form := web.ScheduleForm{Date: "2026-11-25", Time: "10:00", TimeZone: "Europe/Paris", Name: "Jane\u200bDoe", Invite: "none", Locale: "en", ParticipantZone: "Europe/Paris"}
	if code := s.call("POST", "/api/panel/sessions", "", form, &e); code != http.StatusBadRequest || e.Code != "field:name" || !strings.Contains(e.Error, "U+200B") {
		t.Errorf("booking a name with a zero-width space: %d %+v", code, e)
	}
}
