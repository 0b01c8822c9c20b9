package media

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"time"
)

// Claims are what a call credential grants: one Matrix user, in one session, until a time.
type Claims struct {
	Session string `json:"s"`
	User    string `json:"u"`
	Host    bool   `json:"h,omitempty"`
	// Waiting: a waiting credential, for someone who knocked and is not let in yet. It opens a
	// connection that forwards nothing either way until the holder is admitted (Server.enterRoom).
	Waiting bool `json:"w,omitempty"`
	// Expires is Unix seconds.
	Expires int64  `json:"e"`
	Nonce   string `json:"n"`
}

// Credential errors; none says more than "no" to the holder.
var (
	ErrForged  = errors.New("the credential is not valid")
	ErrExpired = errors.New("the credential has expired")
)

var b64 = base64.RawURLEncoding

// Issue signs claims into a credential: base64url(JSON) "." base64url(HMAC-SHA256).
func Issue(secret []byte, c Claims) string {
	if c.Nonce == "" {
		n := make([]byte, 9)
		_, _ = rand.Read(n)
		c.Nonce = b64.EncodeToString(n)
	}
	body, _ := json.Marshal(c)
	payload := b64.EncodeToString(body)
	return payload + "." + b64.EncodeToString(sign(secret, payload))
}

// Verify checks a credential's signature and expiry and returns its claims.
func Verify(secret []byte, credential string, now time.Time) (Claims, error) {
	payload, sig, ok := strings.Cut(credential, ".")
	if !ok {
		return Claims{}, ErrForged
	}
	given, err := b64.DecodeString(sig)
	if err != nil || !hmac.Equal(given, sign(secret, payload)) {
		return Claims{}, ErrForged
	}
	body, err := b64.DecodeString(payload)
	if err != nil {
		return Claims{}, ErrForged
	}
	var c Claims
	if err = json.Unmarshal(body, &c); err != nil || c.Session == "" || c.User == "" {
		return Claims{}, ErrForged
	}
	if now.Unix() >= c.Expires {
		return Claims{}, ErrExpired
	}
	return c, nil
}

func sign(secret []byte, payload string) []byte {
	h := hmac.New(sha256.New, secret)
	h.Write([]byte("telehealth-call-credential\x00"))
	h.Write([]byte(payload))
	return h.Sum(nil)
}
