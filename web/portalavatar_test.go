package web_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
)

// pictures is an avatar source: a PNG for Dr Roy, an SVG for Dr Vex, none for anyone else; it
// counts what it was asked.
type pictures struct {
	mu    sync.Mutex
	asked []string
}

var pngBytes = []byte("\x89PNG\r\n\x1a\n fake but typed")

func (p *pictures) Avatar(_ context.Context, userID string) ([]byte, string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.asked = append(p.asked, userID)
	switch userID {
	case homeClinician:
		return pngBytes, "image/png", nil
	case "@dr.vex:hs":
		return []byte("<svg onload=alert(1)>"), "image/svg+xml", nil
	}
	return nil, "", nil
}

func (p *pictures) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.asked)
}

// A client sees their professionals' pictures by their place in their own record: never another
// client's professional's, never a Matrix ID they name; a professional without a picture (or
// with one that is not an image a page may show) is a 404, and the portal shows initials.
func TestPortalAvatars(t *testing.T) {
	s := newPortalSite(t, "sqlite")
	ctx := context.Background()
	for _, c := range []*bridge.Client{
		{DisplayName: "Alice Martin", Emails: []string{aliceEmail}, Professionals: []string{homeClinician, "@dr.nopic:hs", "@dr.vex:hs"}},
		{DisplayName: "Bob Martin", Emails: []string{bobEmail}, Professionals: []string{"@dr.nopic:hs"}},
	} {
		c.CreatedAt, c.UpdatedAt = s.clock.Now(), s.clock.Now()
		if err := s.db.Client.Insert(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	s.web.UseNames(fixedNames{homeClinician: "Dr Roy", "@dr.nopic:hs": "Dr Nopic", "@dr.vex:hs": "Dr Vex"})
	pics := &pictures{}
	s.web.UseAvatars(pics)
	alice, bob, carol, anonymous := s.browser(), s.browser(), s.browser(), s.browser()
	alice.signInWithCode(aliceEmail)
	bob.signInWithCode(bobEmail)
	carol.signInWithCode(carolEmail)

	// The record keeps its professionals in its order (by user ID): Nopic, Roy, Vex.
	_, home := alice.home()
	if len(home.Professionals) != 3 || home.Professionals[1].Name != "Dr Roy" || home.Professionals[1].Avatar != "/api/portal/professionals/1/avatar" ||
		home.Professionals[2].Avatar != "/api/portal/professionals/2/avatar" {
		t.Fatalf("Alice's professionals: %+v", home.Professionals)
	}
	code, data, resp := alice.do("GET", home.Professionals[1].Avatar, nil, nil)
	if code != 200 || string(data) != string(pngBytes) || resp.Header.Get("Content-Type") != "image/png" ||
		!strings.Contains(resp.Header.Get("Cache-Control"), "private") || resp.Header.Get("X-Content-Type-Options") != "nosniff" ||
		!strings.Contains(resp.Header.Get("Content-Security-Policy"), "default-src 'self'") {
		t.Errorf("Dr Roy's picture: %d %q %v", code, data, resp.Header)
	}
	for _, tc := range []struct {
		name   string
		b      *browser
		path   string
		status int
	}{
		{"anonymous", anonymous, "/api/portal/professionals/1/avatar", 401},
		{"a professional without a picture", alice, "/api/portal/professionals/0/avatar", 404},
		{"a picture that is not an image to show (SVG)", alice, "/api/portal/professionals/2/avatar", 404},
		{"beyond Alice's professionals", alice, "/api/portal/professionals/3/avatar", 404},
		{"a negative place", alice, "/api/portal/professionals/-1/avatar", 404},
		{"a Matrix ID instead of a place", alice, "/api/portal/professionals/" + "@dr.roy:hs" + "/avatar", 404},
		// Bob's only professional is Dr Nopic: his place 1 is nobody, never Alice's Dr Roy.
		{"Bob's place 1", bob, "/api/portal/professionals/1/avatar", 404},
		{"Carol, without a record", carol, "/api/portal/professionals/1/avatar", 404},
	} {
		code, data, _ := tc.b.do("GET", tc.path, nil, nil)
		if code != tc.status || strings.Contains(string(data), "PNG") || strings.Contains(string(data), "svg") {
			t.Errorf("%s: %d %q", tc.name, code, data)
		}
		if code == 404 {
			var a struct{ Code string }
			if json.Unmarshal(data, &a) != nil || a.Code != "no_avatar" {
				t.Errorf("%s: %s", tc.name, data)
			}
		}
	}
	// Pictures are kept a few minutes: asking again fetches nothing; later, it is fetched anew.
	n := pics.count()
	alice.do("GET", "/api/portal/professionals/1/avatar", nil, nil)
	if pics.count() != n {
		t.Errorf("a fresh picture was fetched again")
	}
	s.clock.Advance(6 * time.Minute)
	alice.signInWithCode(aliceEmail) // the sign-in idles out meanwhile
	alice.do("GET", "/api/portal/professionals/1/avatar", nil, nil)
	if pics.count() != n+1 {
		t.Errorf("a stale picture was not fetched again (%d, %d)", pics.count(), n)
	}
	// Without an avatar source, the home names no picture.
	s.web.UseAvatars(nil)
	if _, home = alice.home(); home.Professionals[1].Avatar != "" {
		t.Errorf("a picture without a source: %+v", home.Professionals[1])
	}
}
