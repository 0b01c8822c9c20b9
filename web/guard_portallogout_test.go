package web_test

import (
	"net/url"
	"testing"
)

// Guard of `POST /api/portal/auth/logout` (docs/security.md, "Client portal"), for make
// mutate: signing out ends the sign-in on the server, not only the cookie in that browser.

// TestPortalSignOutEndsACopiedCookie: a copy of the portal cookie (taken from the device, or
// kept by a shared computer's other profile) stops working once the client signs out.
func TestPortalSignOutEndsACopiedCookie(t *testing.T) {
	s := newPortalSite(t, "sqlite")
	phone, thief := s.browser(), s.browser()
	phone.signInWithCode(aliceEmail)
	site, err := url.Parse(s.url)
	if err != nil {
		t.Fatal(err)
	}
	thief.http.Jar.SetCookies(site, phone.http.Jar.Cookies(site))
	if code, me := thief.me(); code != 200 || me.ClientID != 1 {
		t.Fatalf("the copied cookie before signing out: %d %+v", code, me)
	}
	if code, body := phone.post("/api/portal/auth/logout", nil); code != 200 {
		t.Fatalf("sign out: %d %s", code, body)
	}
	if code, _ := thief.me(); code != 401 {
		t.Errorf("the copied cookie after signing out: %d, want 401", code)
	}
}
