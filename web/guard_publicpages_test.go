package web_test

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"testing"
	"time"
)

// TestPublicPagesNeedNoSignIn: the pages anyone may open (docs/security.md: `GET /assets/*`,
// `GET /`, the guest, call, widget and panel pages, `/portal…`, `/paid`) answer a browser that
// never signed in with the page itself and the scripts and style it loads; what they show then
// comes from the API, which checks the token. A page or an asset behind a sign-in would leave
// a guest, or a clinician about to sign in, with a blank screen.
func TestPublicPagesNeedNoSignIn(t *testing.T) {
	s := newSite(t)
	jar, _ := cookiejar.New(nil)
	stranger := &http.Client{Jar: jar, Timeout: 40 * time.Second}
	get := func(path string) (*http.Response, string) {
		t.Helper()
		resp, err := stranger.Get(s.env.Config.Web.PublicURL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		data, _ := io.ReadAll(resp.Body)
		return resp, string(data)
	}
	pages := map[string]string{
		"/g/x.y.z":          "/assets/js/guest.js",
		"/g/x.y.z/sessions": "/assets/js/guest.js",
		"/call/abcdef":      "/assets/js/call.js",
		"/widget":           "/assets/js/call.js",
		"/panel":            "/assets/js/panel.js",
		"/portal":           "/assets/js/portal.js",
		"/portal/enrol":     "/assets/js/portal.js",
		"/portal/signup":    "/assets/js/portal.js",
		"/paid":             "/assets/js/paid.js",
	}
	for path, script := range pages {
		resp, body := get(path)
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") || !strings.Contains(body, `src="`+script+`"`) {
			t.Errorf("%s signed out: %d %s, want the page loading %s", path, resp.StatusCode, resp.Header.Get("Content-Type"), script)
			continue
		}
		if resp, js := get(script); resp.StatusCode != http.StatusOK || !strings.Contains(resp.Header.Get("Content-Type"), "javascript") || js == "" {
			t.Errorf("%s signed out: %d %s", script, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
	}
	if resp, css := get("/assets/style.css"); resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/css") || css == "" {
		t.Errorf("/assets/style.css signed out: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	// The site's root is the panel's page (which offers the sign-in).
	if resp, body := get("/"); resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/panel" || !strings.Contains(body, "/assets/js/panel.js") {
		t.Errorf("/ signed out: %d at %s, want the panel's page", resp.StatusCode, resp.Request.URL.Path)
	}
}
