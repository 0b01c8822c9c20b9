package web_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"fmt"
	"testing"
)

// Guards of the passkey sign-in doors (docs/security.md, "Client portal": `POST
// /api/portal/auth/passkey/login/begin` and `.../login/finish`), for make mutate.

// TestPasskeySignInBeginWithinTheAddressLimit: an address that has spent its 20 wrong sign-in
// attempts (passwords, whichever contacts) cannot open passkey sign-in ceremonies either, until
// the window passes; another address still can.
func TestPasskeySignInBeginWithinTheAddressLimit(t *testing.T) {
	s := newPortalSite(t, "sqlite")
	b := s.browser()
	for i := range 20 {
		contact := fmt.Sprintf("spray%d@example.org", i)
		if code, body := b.postFrom(50, "/api/portal/auth/password", map[string]string{"contact": contact, "password": "Password1234!"}); code != 401 {
			t.Fatalf("wrong password %d: %d %s", i+1, code, body)
		}
	}
	if code, body := b.postFrom(50, "/api/portal/auth/passkey/login/begin", nil); code != 429 {
		t.Errorf("a passkey ceremony from the address past its limit: %d %s", code, body)
	}
	if code, body := b.postFrom(51, "/api/portal/auth/passkey/login/begin", nil); code != 200 {
		t.Errorf("a passkey ceremony from another address: %d %s", code, body)
	}
}

// TestPasskeySignInNeedsASignInCeremony: a registration ceremony (Bob's, started while signed
// in) finished at the sign-in door, with Alice's passkey signing its challenge, is refused as
// an expired ceremony and signs no one in.
func TestPasskeySignInNeedsASignInCeremony(t *testing.T) {
	s := newPortalSite(t, "sqlite")
	origin := s.url
	alice, bob := s.browser(), s.browser()
	alice.signInWithCode(aliceEmail)
	bob.signInWithCode(bobEmail)
	c := alice.begin("/api/portal/auth/passkey/register/begin")
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	handle, _ := b64.DecodeString(c.Options.PublicKey.User.ID)
	aliceKey, code, body := alice.finishRegistration(c, &softKey{id: []byte("alice-passkey-guard-0123456789"), key: key, handle: handle}, origin)
	if code != 200 {
		t.Fatalf("alice's registration: %d %s", code, body)
	}
	reg := bob.begin("/api/portal/auth/passkey/register/begin")
	reg.Options.PublicKey.RPID = reg.Options.PublicKey.RP.ID
	stranger := s.browser()
	if code, body := stranger.assert(reg, aliceKey, aliceKey.handle, origin); code != 400 || errCode(body) != "ceremony_expired" {
		t.Errorf("a registration ceremony finished as a sign-in: %d %s", code, body)
	}
	if code, _ := stranger.me(); code != 401 {
		t.Error("a registration ceremony signed someone in")
	}
}
