package bridge

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"crypto/subtle"
	_ "embed"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// The portal's password rule: clients who cannot use a passkey may set a password of at least
// MinPasswordLength characters that is not among the most common ones. No composition rules
// (NIST SP 800-63B): length and a deny-list do more, and annoy less.
const (
	MinPasswordLength = 12
	// maxPasswordLength bounds the work a sign-in asks of argon2 (bytes, not characters).
	maxPasswordLength = 256
)

// Password errors, in words a client reads.
var (
	ErrPasswordTooShort  = fmt.Errorf("the password must have at least %d characters", MinPasswordLength)
	ErrPasswordTooLong   = fmt.Errorf("the password must have at most %d characters", maxPasswordLength)
	ErrPasswordTooCommon = errors.New("this password is among the most common ones; choose another")
)

//go:embed commonpasswords/passwords.txt.gz
var commonPasswordsGz []byte

// commonPasswords is the deny-list, read once: the 10 000 most common passwords (see
// commonpasswords/LICENSE for where they come from), lower case.
var commonPasswords = sync.OnceValue(func() map[string]struct{} {
	zr, err := gzip.NewReader(bytes.NewReader(commonPasswordsGz))
	if err != nil {
		panic("the embedded common password list is not gzip: " + err.Error())
	}
	set := make(map[string]struct{}, 10000)
	sc := bufio.NewScanner(zr)
	for sc.Scan() {
		if w := strings.TrimSpace(sc.Text()); w != "" {
			set[strings.ToLower(w)] = struct{}{}
		}
	}
	if sc.Err() != nil || len(set) < 9000 {
		panic(fmt.Sprintf("the embedded common password list is damaged (%d entries, %v)", len(set), sc.Err()))
	}
	return set
})

// CheckPassword says whether a new password follows the rule. Besides the list itself it
// refuses a listed password padded with digits or symbols ("password1234!") and a single
// character repeated, the usual ways round a length rule.
func CheckPassword(pw string) error {
	if len(pw) > maxPasswordLength {
		return ErrPasswordTooLong
	}
	if utf8.RuneCountInString(pw) < MinPasswordLength {
		return ErrPasswordTooShort
	}
	lower := strings.ToLower(pw)
	list := commonPasswords()
	if _, ok := list[lower]; ok {
		return ErrPasswordTooCommon
	}
	base := strings.TrimFunc(lower, func(r rune) bool { return unicode.IsDigit(r) || unicode.IsPunct(r) || unicode.IsSymbol(r) || r == ' ' })
	if _, ok := list[base]; ok && utf8.RuneCountInString(base) >= 4 {
		return ErrPasswordTooCommon
	}
	if first, _ := utf8.DecodeRuneInString(lower); strings.Count(lower, string(first)) == utf8.RuneCountInString(lower) {
		return ErrPasswordTooCommon
	}
	return nil
}

// argon2id parameters (OWASP's first recommendation: 19 MiB, 2 passes, 1 lane). They are kept in
// each hash, so raising them later leaves existing hashes readable.
const (
	argonMemory  = 19 * 1024
	argonTime    = 2
	argonThreads = 1
	argonKeyLen  = 32
	argonSaltLen = 16
)

var rawB64 = base64.RawStdEncoding

// HashPassword returns the argon2id hash of a password in the PHC string format.
func HashPassword(pw string) (string, error) {
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("drawing a salt: %w", err)
	}
	key := argon2.IDKey([]byte(pw), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		rawB64.EncodeToString(salt), rawB64.EncodeToString(key)), nil
}

// dummyPasswordHash is checked against when there is no hash to check (an unknown contact, a
// client without a password), so that the answer takes as long as a real check.
var dummyPasswordHash = sync.OnceValue(func() string {
	h, err := HashPassword("not a password of anyone")
	if err != nil {
		panic(err)
	}
	return h
})

// VerifyPassword reports whether the password matches the hash. An empty hash (no password)
// never matches, after the same work as a real check.
func VerifyPassword(pw, hash string) bool {
	real := hash != ""
	if !real {
		hash = dummyPasswordHash()
	}
	if len(pw) > maxPasswordLength {
		pw = pw[:maxPasswordLength]
		real = false
	}
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var version int
	var memory, passes uint32
	var threads uint8
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &memory, &passes, &threads); err != nil || memory == 0 || passes == 0 || threads == 0 {
		return false
	}
	salt, err := rawB64.DecodeString(parts[4])
	if err != nil {
		return false
	}
	want, err := rawB64.DecodeString(parts[5])
	if err != nil || len(want) == 0 {
		return false
	}
	got := argon2.IDKey([]byte(pw), salt, passes, memory, threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1 && real
}
