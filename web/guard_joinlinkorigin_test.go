package web_test

import (
	"context"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"testing"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
)

// TestJoinLinkRefusesOtherSites: a `!join` link posted by a page on another site is refused
// (docs/security.md, `POST /j/<token>`: same origin only) and hands out no call token, and the
// refusal spends nothing: the person's own click afterwards still opens the call page.
func TestJoinLinkRefusesOtherSites(t *testing.T) {
	s := newSite(t)
	ctx := context.Background()
	sess, _ := s.guestSession(bridge.ParticipantRequest{Name: "JD"})
	join, err := s.env.App.Web.JoinLink(ctx, s.clinician.UserID.String(), sess.ID)
	if err != nil {
		t.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	person := &site{t: t, env: s.env, clock: s.clock, clinician: s.clinician, http: &http.Client{Jar: jar}}
	person.http.CheckRedirect = func(req *http.Request, via []*http.Request) error { return http.ErrUseLastResponse }
	if resp := person.click(join, "https://evil.example"); resp.StatusCode != http.StatusForbidden || strings.Contains(resp.Header.Get("Location"), "#") {
		t.Errorf("a join link posted from another site: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp := person.click(join, s.env.Config.Web.PublicURL)
	if where := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(where, "/call/"+sess.ID+"#") {
		t.Errorf("the person's own click after another site's post: %d to %q", resp.StatusCode, where)
	}
}
