package web_test

import (
	"testing"
)

// Guard of "A Stripe link that opens the client's session (the success URL, the Referer)"
// (docs/security.md, "Payments"), for make mutate: the pages whose address holds an access
// token (the guest link, the call page, the portal) tell no other site where the browser came
// from, so following the Pay link to Stripe gives Stripe no link into the session.

// TestTokenPagesSendNoReferer: every page that may hold a token in its address, and the /paid
// return page, carry Referrer-Policy: no-referrer.
func TestTokenPagesSendNoReferer(t *testing.T) {
	s := newSite(t)
	for _, path := range []string{"/g/x.y.z", "/g/x.y.z/sessions", "/call/abc", "/l/token", "/j/token", "/widget?session=abc", "/portal", "/paid?status=paid"} {
		resp, err := s.http.Get(s.env.Config.Web.PublicURL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := resp.Header.Get("Referrer-Policy"); got != "no-referrer" {
			t.Errorf("%s: Referrer-Policy %q, want no-referrer", path, got)
		}
	}
}
