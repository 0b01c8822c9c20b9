package bridge

import (
	"errors"
	"strings"
	"testing"
)

func TestPasswordRule(t *testing.T) {
	if n := len(commonPasswords()); n != 10000 {
		t.Errorf("the common password list has %d entries, want 10 000", n)
	}
	for pw, want := range map[string]error{
		"short pw":                   ErrPasswordTooShort,
		"élèvesàl'é":                 ErrPasswordTooShort, // 10 characters, more bytes
		"123456654321":               ErrPasswordTooCommon,
		"leavemealone":               ErrPasswordTooCommon, // on the list
		"LeaveMeAlone":               ErrPasswordTooCommon, // whatever the case
		"password123456!":            ErrPasswordTooCommon, // a listed one, padded
		"aaaaaaaaaaaaaa":             ErrPasswordTooCommon,
		strings.Repeat("x", 257):     ErrPasswordTooLong,
		"correct horse battery":      nil,
		"Le chat dort sur le balcon": nil,
		"élèvesàl'école":             nil,
	} {
		if got := CheckPassword(pw); !errors.Is(got, want) {
			t.Errorf("CheckPassword(%q) = %v, want %v", pw, got, want)
		}
	}
}

func TestPasswordHash(t *testing.T) {
	h, err := HashPassword("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Errorf("hash %q", h)
	}
	if again, _ := HashPassword("correct horse battery"); again == h {
		t.Error("two hashes of one password are equal: no salt")
	}
	if !VerifyPassword("correct horse battery", h) {
		t.Error("the right password was refused")
	}
	for _, wrong := range []string{"correct horse batterY", "", "correct horse battery "} {
		if VerifyPassword(wrong, h) {
			t.Errorf("%q was accepted", wrong)
		}
	}
	if VerifyPassword("not a password of anyone", "") {
		t.Error("an empty hash matched the dummy's password")
	}
	for _, bad := range []string{"$argon2i$v=19$m=1,t=1,p=1$AAAA$AAAA", "$argon2id$v=19$m=0,t=1,p=1$AAAA$AAAA", "plain"} {
		if VerifyPassword("x", bad) {
			t.Errorf("a malformed hash %q matched", bad)
		}
	}
}
