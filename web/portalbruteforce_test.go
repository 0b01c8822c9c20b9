package web_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
)

// Brute force and enumeration of the portal's sign-in, beyond web/portalauth_test.go: the limits
// hold per contact whatever address the guesses come from, and per address whatever contacts
// they name; and asking for a code (the portal's recovery path too: a client who lost their
// passkey or password signs in with a code, then sets a new one in Settings) answers the same,
// after the same work, for an address no record holds.

// from is a request header saying which client address the request comes from (the test
// server's loopback is a trusted proxy).
func from(i int) http.Header {
	return http.Header{"X-Forwarded-For": {fmt.Sprintf("203.0.113.%d", i)}}
}

func (b *browser) postFrom(addr int, path string, body any) (int, string) {
	b.s.t.Helper()
	code, data, _ := b.do("POST", path, body, from(addr))
	return code, string(data)
}

// TestPortalCodeGuessesLimitedPerContact: guesses at one contact's codes from ever new
// addresses: 5 wrong spend a code, and 10 wrong in 15 minutes lock the contact, so even its
// right code is refused until the window passes; other contacts are not locked.
func TestPortalCodeGuessesLimitedPerContact(t *testing.T) {
	s := newPortalSite(t, "sqlite")
	b := s.browser()
	addr := 0
	next := func() int { addr++; return addr }
	for round := range 2 {
		if code, body := b.postFrom(next(), "/api/portal/auth/code", map[string]string{"contact": aliceEmail}); code != 200 {
			t.Fatalf("code %d: %d %s", round+1, code, body)
		}
		c := s.codes.code(t, aliceEmail)
		for i := 1; i <= 5; i++ {
			code, body := b.postFrom(next(), "/api/portal/auth/code/verify", map[string]string{"contact": aliceEmail, "code": fmt.Sprintf("%06d", (atoi(c)+i)%1_000_000)})
			want := "code_wrong"
			if i == 5 {
				want = "code_spent"
			}
			if code != 401 || errCode(body) != want {
				t.Fatalf("code %d, guess %d: %d %s, want %s", round+1, i, code, body, want)
			}
		}
	}
	// 10 wrong for this contact: its third code, typed right from a new address, is refused.
	b.postFrom(next(), "/api/portal/auth/code", map[string]string{"contact": aliceEmail})
	c := s.codes.code(t, aliceEmail)
	if code, body := b.postFrom(next(), "/api/portal/auth/code/verify", map[string]string{"contact": aliceEmail, "code": c}); code != 429 || errCode(body) != "rate_limited" {
		t.Errorf("the right code after 10 wrong for the contact: %d %s", code, body)
	}
	if code, _ := b.me(); code != 401 {
		t.Fatal("signed in past the contact's limit")
	}
	// Bob, from the same last address, is not locked out by Alice's attacker.
	bob := s.browser()
	bob.postFrom(addr, "/api/portal/auth/code", map[string]string{"contact": bobEmail})
	if code, body := bob.postFrom(addr, "/api/portal/auth/code/verify", map[string]string{"contact": bobEmail, "code": s.codes.code(t, bobEmail)}); code != 200 {
		t.Errorf("another contact from the same address: %d %s", code, body)
	}
	// The window passes: Alice signs in with a new code.
	s.clock.Advance(16 * time.Minute)
	b.postFrom(next(), "/api/portal/auth/code", map[string]string{"contact": aliceEmail})
	if code, body := b.postFrom(next(), "/api/portal/auth/code/verify", map[string]string{"contact": aliceEmail, "code": s.codes.code(t, aliceEmail)}); code != 200 {
		t.Errorf("after the window: %d %s", code, body)
	}
}

// TestPortalCodeRequestsLimitedPerAddress: one address asks for at most 10 codes in 15
// minutes, whichever contacts, known or not; the refusal is the same for both, and another
// address is not refused.
func TestPortalCodeRequestsLimitedPerAddress(t *testing.T) {
	s := newPortalSite(t, "sqlite")
	b := s.browser()
	for i := range 10 {
		contact := fmt.Sprintf("stranger%d@example.org", i)
		if i%3 == 0 {
			contact = []string{aliceEmail, bobEmail, carolEmail, alicePhone}[i/3]
		}
		if code, body := b.postFrom(1, "/api/portal/auth/code", map[string]string{"contact": contact}); code != 200 {
			t.Fatalf("code request %d (%s): %d %s", i+1, contact, code, body)
		}
	}
	kc, kb := b.postFrom(1, "/api/portal/auth/code", map[string]string{"contact": bobEmail})
	uc, ub := b.postFrom(1, "/api/portal/auth/code", map[string]string{"contact": "nobody@example.org"})
	if kc != 429 || uc != 429 || kb != ub {
		t.Errorf("the 11th code request from one address: known %d %s, unknown %d %s", kc, kb, uc, ub)
	}
	if code, body := b.postFrom(2, "/api/portal/auth/code", map[string]string{"contact": "someone@example.org"}); code != 200 {
		t.Errorf("another address: %d %s", code, body)
	}
}

// TestPortalPasswordGuessesLimited: 10 wrong passwords for one contact in 15 minutes, from any
// addresses, and then the right one is refused too; 20 wrong from one address, whichever
// contacts, and that address is refused. The window passes, the right password works.
func TestPortalPasswordGuessesLimited(t *testing.T) {
	s := newPortalSite(t, "sqlite")
	const right = "alice's own long password"
	hash, _ := bridge.HashPassword(right)
	if err := s.db.PortalPassword.Set(context.Background(), 1, hash, s.clock.Now()); err != nil {
		t.Fatal(err)
	}
	b := s.browser()
	for i := range 10 {
		if code, body := b.postFrom(10+i, "/api/portal/auth/password", map[string]string{"contact": aliceEmail, "password": fmt.Sprintf("guess number %d here", i)}); code != 401 || errCode(body) != "password_wrong" {
			t.Fatalf("guess %d: %d %s", i+1, code, body)
		}
	}
	if code, body := b.postFrom(30, "/api/portal/auth/password", map[string]string{"contact": aliceEmail, "password": right}); code != 429 {
		t.Errorf("the right password after 10 wrong: %d %s", code, body)
	}
	if code, _ := b.me(); code != 401 {
		t.Fatal("signed in past the limit")
	}
	// One address spraying many contacts: 20 wrong, then refused (even for a new contact).
	for i := range 20 {
		contact := fmt.Sprintf("spray%d@example.org", i)
		if code, body := b.postFrom(40, "/api/portal/auth/password", map[string]string{"contact": contact, "password": "Password1234!"}); code != 401 {
			t.Fatalf("spray %d: %d %s", i+1, code, body)
		}
	}
	if code, body := b.postFrom(40, "/api/portal/auth/password", map[string]string{"contact": bobEmail, "password": "Password1234!"}); code != 429 {
		t.Errorf("the 21st wrong password from one address: %d %s", code, body)
	}
	s.clock.Advance(16 * time.Minute)
	if code, body := b.postFrom(30, "/api/portal/auth/password", map[string]string{"contact": aliceEmail, "password": right}); code != 200 {
		t.Errorf("the right password after the window: %d %s", code, body)
	}
}

// TestPortalCurrentPasswordGuessesLimited: a sign-in left open is not a way to guess the
// password: Settings' "current password" check is limited like sign-in.
func TestPortalCurrentPasswordGuessesLimited(t *testing.T) {
	s := newSettingsSite(t, "sqlite")
	const right = "alice's own long password"
	hash, _ := bridge.HashPassword(right)
	if err := s.db.PortalPassword.Set(context.Background(), s.alice.ID, hash, s.clock.Now()); err != nil {
		t.Fatal(err)
	}
	alice := s.enrolled(s.alice.ID)
	for i := range 10 {
		if code, body := alice.post("/api/portal/settings/password", map[string]string{"current": fmt.Sprintf("guess number %d here", i), "password": "a brand new long password"}); code != 401 {
			t.Fatalf("guess %d: %d %s", i+1, code, body)
		}
	}
	if code, body := alice.post("/api/portal/settings/password", map[string]string{"current": right, "password": "a brand new long password"}); code != 429 {
		t.Errorf("the right current password after 10 wrong: %d %s", code, body)
	}
	if h, _ := s.db.PortalPassword.Get(context.Background(), s.alice.ID); h != hash {
		t.Error("the password changed past the limit")
	}
}

// heldCodes is a code sender that does not return until the test lets it: a slow mail server.
type heldCodes struct {
	started chan [2]string // contact, code
	release chan struct{}
}

func (h *heldCodes) SendPortalCode(_ context.Context, to bridge.PortalContact, code, _ string) error {
	h.started <- [2]string{to.String(), code}
	<-h.release
	return nil
}

// TestPortalCodeRequestAnswersAlike: asking for a code answers the same status, body and
// headers for known and unknown emails and phones, and does not wait for the code to be
// delivered (the sending is the only work an unknown contact skips, and it happens after the
// answer); guessing at the code goes the same way for both, to its end.
func TestPortalCodeRequestAnswersAlike(t *testing.T) {
	s := newPortalSite(t, "sqlite")
	held := &heldCodes{started: make(chan [2]string, 8), release: make(chan struct{})}
	t.Cleanup(func() { close(held.release) })
	s.web.UsePortal(&testClients{
		byContact: map[string]int64{aliceEmail: 1, alicePhone: 1, bobEmail: 2},
		names:     map[int64]string{1: "Alice", 2: "Bob"},
	}, held)
	b := s.browser()
	type answer struct {
		status  int
		body    string
		headers string
	}
	ask := func(addr int, contact string) answer {
		t.Helper()
		done := make(chan answer, 1)
		go func() {
			code, data, resp := b.do("POST", "/api/portal/auth/code", map[string]string{"contact": contact}, from(addr))
			var h []string
			for k, v := range resp.Header {
				if k != "Date" {
					h = append(h, k+": "+strings.Join(v, ","))
				}
			}
			slices.Sort(h)
			done <- answer{code, string(data), strings.Join(h, "\n")}
		}()
		select {
		case a := <-done:
			return a
		case <-time.After(10 * time.Second):
			t.Fatalf("asking a code for %s waited for its delivery", contact)
			return answer{}
		}
	}
	knownEmail, unknownEmail := ask(1, aliceEmail), ask(2, "nobody@example.org")
	knownPhone, unknownPhone := ask(3, alicePhone), ask(4, "+33698765432")
	if knownEmail.status != 200 || knownEmail != unknownEmail || knownPhone != unknownPhone || knownEmail.body != knownPhone.body {
		t.Errorf("code requests differ:\nknown email   %+v\nunknown email %+v\nknown phone   %+v\nunknown phone %+v", knownEmail, unknownEmail, knownPhone, unknownPhone)
	}
	// The known contacts' codes are being sent (still held), the unknown ones' not at all.
	var aliceCode string
	for _, want := range []string{aliceEmail, alicePhone} {
		select {
		case got := <-held.started:
			if got[0] != want {
				t.Errorf("a code went to %s, want %s", got[0], want)
			}
			if got[0] == aliceEmail {
				aliceCode = got[1]
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("no code is being sent to %s", want)
		}
	}
	select {
	case got := <-held.started:
		t.Errorf("a code is being sent to %s", got[0])
	default:
	}

	// Guessing: the same answers, one by one, for a known and an unknown contact, until the
	// code is spent and then gone.
	guesses := func(contact string, addr int) []string {
		var out []string
		for i := 1; i <= 6; i++ { // never Alice's code
			code, body := b.postFrom(addr, "/api/portal/auth/code/verify", map[string]string{"contact": contact, "code": fmt.Sprintf("%06d", (atoi(aliceCode)+i)%1_000_000)})
			out = append(out, fmt.Sprint(code, " ", body))
		}
		return out
	}
	known, unknown := guesses(aliceEmail, 5), guesses("nobody@example.org", 6)
	if strings.Join(known, "\n") != strings.Join(unknown, "\n") {
		t.Errorf("guesses differ:\nknown   %q\nunknown %q", known, unknown)
	}
	if !strings.Contains(known[4], "code_spent") || !strings.Contains(known[5], "code_expired") {
		t.Errorf("guesses at a code: %q", known)
	}
	// At the per-contact code limit, the refusal is the same too.
	for range 2 {
		ask(7, bobEmail)
		ask(8, "nobody.else@example.org")
	}
	for range 2 {
		<-held.started // Bob's
	}
	if k, u := ask(7, bobEmail), ask(8, "nobody.else@example.org"); k.status != 200 || k != u {
		t.Errorf("the third code request: known %+v, unknown %+v", k, u)
	}
	<-held.started
	if k, u := ask(7, bobEmail), ask(8, "nobody.else@example.org"); k.status != 429 || k != u {
		t.Errorf("past the per-contact limit: known %+v, unknown %+v", k, u)
	}
}
