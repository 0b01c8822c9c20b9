package web_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"strings"
	"testing"

	"github.com/fxamacker/cbor/v2"
)

var b64 = base64.RawURLEncoding

// softKey is a passkey in a software authenticator: what a phone keeps, for tests that need
// to forge what a phone would never send.
type softKey struct {
	id      []byte
	key     *ecdsa.PrivateKey
	handle  []byte // the user handle stored with it
	counter uint32
}

type ceremonyOptions struct {
	Ceremony string `json:"ceremony"`
	Options  struct {
		PublicKey struct {
			Challenge string `json:"challenge"`
			RP        struct {
				ID string `json:"id"`
			} `json:"rp"`
			RPID string `json:"rpId"`
			User struct {
				ID string `json:"id"`
			} `json:"user"`
		} `json:"publicKey"`
	} `json:"options"`
}

func (b *browser) begin(path string) ceremonyOptions {
	b.s.t.Helper()
	code, data, _ := b.do("POST", path, nil, nil)
	var c ceremonyOptions
	if code != 200 || json.Unmarshal(data, &c) != nil || c.Ceremony == "" {
		b.s.t.Fatalf("%s: %d %s", path, code, data)
	}
	return c
}

func clientData(typ, challenge, origin string) []byte {
	data, _ := json.Marshal(map[string]any{"type": typ, "challenge": challenge, "origin": origin, "crossOrigin": false})
	return data
}

func rpHash(rpID string) []byte {
	h := sha256.Sum256([]byte(rpID))
	return h[:]
}

// register creates a passkey for the signed-in client, as an authenticator would.
func (b *browser) register(origin string) (*softKey, int, string) {
	b.s.t.Helper()
	c := b.begin("/api/portal/auth/passkey/register/begin")
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	handle, _ := b64.DecodeString(c.Options.PublicKey.User.ID)
	k := &softKey{id: make([]byte, 32), key: key, handle: handle}
	_, _ = rand.Read(k.id)
	return b.finishRegistration(c, k, origin)
}

func (b *browser) finishRegistration(c ceremonyOptions, k *softKey, origin string) (*softKey, int, string) {
	b.s.t.Helper()
	x, y := make([]byte, 32), make([]byte, 32)
	k.key.X.FillBytes(x)
	k.key.Y.FillBytes(y)
	cose, _ := cbor.Marshal(map[int]any{1: 2, 3: -7, -1: 1, -2: x, -3: y})
	auth := append([]byte{}, rpHash(c.Options.PublicKey.RP.ID)...)
	auth = append(auth, 0x01|0x04|0x40) // user present, verified, attested credential data
	auth = binary.BigEndian.AppendUint32(auth, 0)
	auth = append(auth, make([]byte, 16)...) // AAGUID
	auth = binary.BigEndian.AppendUint16(auth, uint16(len(k.id)))
	auth = append(auth, k.id...)
	auth = append(auth, cose...)
	att, _ := cbor.Marshal(map[string]any{"fmt": "none", "attStmt": map[string]any{}, "authData": auth})
	code, body := b.post("/api/portal/auth/passkey/register/finish", map[string]any{"ceremony": c.Ceremony, "credential": map[string]any{
		"id": b64.EncodeToString(k.id), "rawId": b64.EncodeToString(k.id), "type": "public-key", "clientExtensionResults": map[string]any{},
		"response": map[string]any{
			"clientDataJSON":    b64.EncodeToString(clientData("webauthn.create", c.Options.PublicKey.Challenge, origin)),
			"attestationObject": b64.EncodeToString(att), "transports": []string{"internal"},
		},
	}})
	return k, code, body
}

// assert signs a sign-in challenge with the passkey, with the user handle given.
func (b *browser) assert(c ceremonyOptions, k *softKey, handle []byte, origin string) (int, string) {
	b.s.t.Helper()
	k.counter++
	auth := append([]byte{}, rpHash(c.Options.PublicKey.RPID)...)
	auth = append(auth, 0x01|0x04)
	auth = binary.BigEndian.AppendUint32(auth, k.counter)
	cd := clientData("webauthn.get", c.Options.PublicKey.Challenge, origin)
	digest := sha256.Sum256(append(append([]byte{}, auth...), func() []byte { h := sha256.Sum256(cd); return h[:] }()...))
	sig, _ := ecdsa.SignASN1(rand.Reader, k.key, digest[:])
	return b.post("/api/portal/auth/passkey/login/finish", map[string]any{"ceremony": c.Ceremony, "credential": map[string]any{
		"id": b64.EncodeToString(k.id), "rawId": b64.EncodeToString(k.id), "type": "public-key", "clientExtensionResults": map[string]any{},
		"response": map[string]any{
			"clientDataJSON": b64.EncodeToString(cd), "authenticatorData": b64.EncodeToString(auth),
			"signature": b64.EncodeToString(sig), "userHandle": b64.EncodeToString(handle),
		},
	}})
}

func TestPortalPasskeys(t *testing.T) {
	s := newPortalSite(t, "sqlite")
	origin := s.url
	rpID := strings.Split(strings.TrimPrefix(s.url, "http://"), ":")[0]
	alice, bob := s.browser(), s.browser()
	alice.signInWithCode(aliceEmail)
	bob.signInWithCode(bobEmail)

	// Registration: for the site's relying party, with a user handle that is not the record ID.
	c := alice.begin("/api/portal/auth/passkey/register/begin")
	if c.Options.PublicKey.RP.ID != rpID || c.Options.PublicKey.User.ID == b64.EncodeToString([]byte("1")) {
		t.Errorf("registration options %+v", c.Options.PublicKey)
	}
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	handle, _ := b64.DecodeString(c.Options.PublicKey.User.ID)
	aliceKey, code, body := alice.finishRegistration(c, &softKey{id: []byte("alice-passkey-0123456789abcdef"), key: key, handle: handle}, origin)
	if code != 200 {
		t.Fatalf("register: %d %s", code, body)
	}
	if _, me := alice.me(); me.Passkeys != 1 {
		t.Errorf("alice has %d passkeys", me.Passkeys)
	}
	// Bob cannot register Alice's credential ID as his.
	c = bob.begin("/api/portal/auth/passkey/register/begin")
	if _, code, body = bob.finishRegistration(c, &softKey{id: aliceKey.id, key: key}, origin); code != 409 {
		t.Errorf("bob registering alice's credential: %d %s", code, body)
	}
	// A registration made for another site is refused.
	if _, code, _ = bob.register("http://evil.example"); code != 401 {
		t.Errorf("registration from another origin: %d", code)
	}
	bobKey, code, body := bob.register(origin)
	if code != 200 {
		t.Fatalf("bob's register: %d %s", code, body)
	}

	// Sign-in: the passkey says whose it is.
	fresh := s.browser()
	if code, body = fresh.assert(fresh.begin("/api/portal/auth/passkey/login/begin"), aliceKey, aliceKey.handle, origin); code != 200 {
		t.Fatalf("alice's passkey sign-in: %d %s", code, body)
	}
	if _, me := fresh.me(); me.ClientID != 1 {
		t.Errorf("alice's passkey signed in client %d", me.ClientID)
	}
	stored, _ := s.db.PortalCredential.Get(t.Context(), b64.EncodeToString(aliceKey.id))
	if stored.SignCount != 1 || stored.LastUsedAt.IsZero() {
		t.Errorf("stored after use: %+v", stored)
	}

	for name, try := range map[string]func(b *browser) (int, string){
		// Alice's passkey claiming to be Bob's (his user handle): refused.
		"another client's user handle": func(b *browser) (int, string) {
			return b.assert(b.begin("/api/portal/auth/passkey/login/begin"), aliceKey, bobKey.handle, origin)
		},
		"another origin": func(b *browser) (int, string) {
			return b.assert(b.begin("/api/portal/auth/passkey/login/begin"), aliceKey, aliceKey.handle, "http://evil.example")
		},
		// A signature over one ceremony's challenge, sent with another ceremony.
		"another ceremony's challenge": func(b *browser) (int, string) {
			first, second := b.begin("/api/portal/auth/passkey/login/begin"), b.begin("/api/portal/auth/passkey/login/begin")
			first.Ceremony = second.Ceremony
			return b.assert(first, aliceKey, aliceKey.handle, origin)
		},
		// The counter going backwards: a cloned authenticator.
		"a counter that went back": func(b *browser) (int, string) {
			aliceKey.counter = 0
			return b.assert(b.begin("/api/portal/auth/passkey/login/begin"), aliceKey, aliceKey.handle, origin)
		},
		"an unknown passkey": func(b *browser) (int, string) {
			k := &softKey{id: []byte("nobody's"), key: key}
			return b.assert(b.begin("/api/portal/auth/passkey/login/begin"), k, handle, origin)
		},
	} {
		b := s.browser()
		if code, body := try(b); code != 401 || errCode(body) != "passkey_refused" {
			t.Errorf("%s: %d %s", name, code, body)
		}
		if code, _ := b.me(); code != 401 {
			t.Errorf("%s: signed in", name)
		}
	}
	// A ceremony works once: replaying a finished sign-in is refused.
	aliceKey.counter = 10
	b := s.browser()
	c = b.begin("/api/portal/auth/passkey/login/begin")
	if code, _ = b.assert(c, aliceKey, aliceKey.handle, origin); code != 200 {
		t.Fatal("sign-in before the replay")
	}
	if code, body = s.browser().assert(c, aliceKey, aliceKey.handle, origin); code != 400 {
		t.Errorf("replayed ceremony: %d %s", code, body)
	}
	// The refusals of Alice's passkey are in the trail, under her record.
	refused := 0
	for _, l := range s.audit() {
		if l.action == "sign_in_refused" && strings.Contains(l.detail, `"by":"passkey"`) {
			if l.subject != "client:1" {
				t.Errorf("refusal of %s", l.subject)
			}
			refused++
		}
	}
	if refused < 3 {
		t.Errorf("%d passkey refusals in the trail", refused)
	}
}
