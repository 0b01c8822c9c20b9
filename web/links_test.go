package web_test

import (
	"context"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"testing"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"github.com/telehealth-bridge/telehealth-bridge/web"
)

// A mail scanner or a chat's link preview fetches every link it sees. That must not spend a
// one-time link: the person's click afterwards still signs them in. A post from another site
// is refused and spends nothing either.
func TestOneTimeLinksSurviveScanners(t *testing.T) {
	s := newSite(t)
	ctx := context.Background()
	public := s.env.Config.Web.PublicURL
	scanner := &http.Client{}
	scan := func(link string) {
		t.Helper()
		resp, err := scanner.Get(link)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if len(resp.Cookies()) > 0 {
			t.Errorf("the scanner's GET of %s was handed a cookie", link)
		}
	}

	login, err := s.env.App.Web.LoginLink(ctx, s.clinician.UserID.String())
	if err != nil {
		t.Fatal(err)
	}
	scan(login)
	scan(login)
	if resp := s.click(login, "https://evil.example"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("a login link posted from another site: %d", resp.StatusCode)
	}
	if resp := s.click(login, public); resp.StatusCode != 200 || resp.Request.URL.Path != "/panel" {
		t.Fatalf("the person's click after a scanner's GET: %d at %s", resp.StatusCode, resp.Request.URL.Path)
	}
	var me struct {
		UserID string `json:"user_id"`
	}
	if code := s.call("GET", "/api/panel/me", "", nil, &me); code != 200 || me.UserID != s.clinician.UserID.String() {
		t.Errorf("signed in after the click: %d %+v", code, me)
	}

	sess, _ := s.guestSession(bridge.ParticipantRequest{Name: "JD"})
	join, err := s.env.App.Web.JoinLink(ctx, s.clinician.UserID.String(), sess.ID)
	if err != nil {
		t.Fatal(err)
	}
	scan(join)
	jar, _ := cookiejar.New(nil)
	person := &site{t: t, env: s.env, clock: s.clock, clinician: s.clinician, http: &http.Client{Jar: jar}}
	// The fragment that carries the call token stays in the browser: read it from the redirect.
	person.http.CheckRedirect = func(req *http.Request, via []*http.Request) error { return http.ErrUseLastResponse }
	resp := person.click(join, public)
	where := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(where, "/call/"+sess.ID+"#") {
		t.Fatalf("the person's click on a join link after a scanner's GET: %d to %q", resp.StatusCode, where)
	}
	var st web.CallState
	if code := s.call("GET", "/api/call/state", where[strings.Index(where, "#")+1:], nil, &st); code != 200 || !st.Me.Host {
		t.Errorf("call page from the join link: %d %+v", code, st.Me)
	}
}
