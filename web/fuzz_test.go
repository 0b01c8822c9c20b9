package web

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/rs/zerolog"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
)

func fuzzServer() *Server {
	return &Server{
		cfg:     Config{PublicURL: "https://telehealth.example.com", SigningKey: []byte("0123456789abcdef0123456789abcdef")},
		log:     zerolog.Nop(),
		clock:   clockwork.NewFakeClock(),
		limiter: newLimiter(clockwork.NewFakeClock(), 20, time.Minute, nil),
	}
}

// FuzzVerifyGuestToken: a token the bridge made verifies to its session; a token with any
// byte changed, or anything else, does not (and nothing panics).
func FuzzVerifyGuestToken(f *testing.F) {
	srv := fuzzServer()
	valid := srv.guestToken("k3f9qa", 7, 0)
	f.Add(valid, "k3f9qa", int64(7), 0, 5)
	f.Add("k3f9qa.secret.AAAAAAAAAAAAAAAAAAAAAA", "k3f9qa", int64(1), 1, 0)
	f.Add("", "", int64(0), 0, 0)
	f.Add("..", "a.b", int64(-1), -1, 1)
	f.Add(strings.Repeat("a", 40)+".b.c", strings.Repeat("s", 40), int64(1<<40), 1<<30, 3)
	f.Add("x.y.%%%", "\x00", int64(2), 2, 2)
	f.Fuzz(func(t *testing.T, token, sessionID string, participant int64, generation, flip int) {
		if id, ok := srv.verifyGuestToken(token); ok {
			if !strings.HasPrefix(token, id+".") {
				t.Fatalf("%q verified for session %q", token, id)
			}
		}
		made := srv.guestToken(sessionID, participant, generation)
		id, ok := srv.verifyGuestToken(made)
		wantOK := sessionID != "" && len(sessionID) <= 32 && !strings.Contains(sessionID, ".")
		if ok != wantOK || (ok && id != sessionID) {
			t.Fatalf("our own token for session %q: %q, %v", sessionID, id, ok)
		}
		if !ok {
			return
		}
		// Any change to the session ID or the secret breaks the signature.
		signed := strings.LastIndexByte(made, '.')
		k := (flip%signed + signed) % signed
		b := []byte(made)
		b[k] ^= 0x01
		if b[k] == '.' || made[k] == '.' {
			return
		}
		if _, ok := srv.verifyGuestToken(string(b)); ok {
			t.Fatalf("a changed token %q still verifies", b)
		}
	})
}

// FuzzScheduleForm: whatever the panel's form sends, the server answers with an error or a
// sensible session time, never a panic, and a participant it accepts has a valid name.
func FuzzScheduleForm(f *testing.F) {
	f.Add(`{"date":"2026-11-25","time":"10:00","time_zone":"Europe/Paris","name":"Jane Doe","invite":"none","locale":"en","participant_time_zone":"Europe/Paris"}`)
	f.Add(`{"date":"2026-02-30","time":"25:61","time_zone":"Mars/Olympus","duration_minutes":-5}`)
	f.Add(`{"date":"2026-11-25","time":"3:00 PM","time_zone":"America/New_York","duration_minutes":720,"name":"\u202eJD","invite":"sms","phone":"06 12 34 56 78","phone_region":"FR"}`)
	f.Add(`{"date":"tomorrow","time":"noon","time_zone":"UTC","invite":"email","email":"a@b"}`)
	f.Add(`{"duration_minutes":1e309}`)
	f.Add(`[]`)
	f.Add(`{"name":"` + strings.Repeat("é", 100) + `"}`)
	now := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, body string) {
		r := httptest.NewRequest("POST", "/api/panel/sessions", strings.NewReader(body))
		var form ScheduleForm
		if err := decode(r, &form); err != nil {
			var ae *apiError
			if !errors.As(err, &ae) || ae.status/100 != 4 {
				t.Fatalf("decode error %v is not a 4xx", err)
			}
			return
		}
		start, end, err := form.when(now)
		if err == nil {
			if d := end.Sub(start); d < 5*time.Minute || d > 12*time.Hour {
				t.Fatalf("accepted a %s session", d)
			}
		} else if ae, ok := err.(*apiError); !ok || ae.status != http.StatusBadRequest || !strings.HasPrefix(ae.code, "field:") {
			t.Fatalf("form error %v is not a field error", err)
		}
		p, err := bridge.NewParticipant(bridge.ParticipantRequest{
			Name: form.Name, MatrixID: form.MatrixID, Email: form.Email, Phone: form.Phone, PhoneRegion: form.PhoneRegion,
			Locale: form.Locale, TimeZone: form.ParticipantZone, Invite: bridge.InviteMode(form.Invite),
		}, form.TimeZone)
		if err == nil {
			if _, err := bridge.ValidateName(p.Name); err != nil {
				t.Fatalf("accepted participant name %q: %v", p.Name, err)
			}
		}
	})
}

// refuseAll is a homeserver that knows no token; it checks what it is asked.
type refuseAll struct{ t *testing.T }

func (r refuseAll) VerifyOpenID(_ context.Context, token, serverName string) (string, error) {
	if token == "" || serverName == "" {
		r.t.Fatalf("asked about token %q of %q", token, serverName)
	}
	return "", errors.New("unknown token")
}

// FuzzWidgetLogin: any body to the widget sign-in gets a 4xx JSON error (the homeserver here
// knows no token), and the homeserver is never asked about an empty token or server name.
func FuzzWidgetLogin(f *testing.F) {
	f.Add(`{"access_token":"abc","matrix_server_name":"example.org","session_id":"k3f9qa"}`)
	f.Add(`{"access_token":"abc","matrix_server_name":"127.0.0.1:8448","panel":true}`)
	f.Add(`{"access_token":"","matrix_server_name":""}`)
	f.Add(`{"access_token":1}`)
	f.Add(`{"access_token":"a","matrix_server_name":"[::1]","session_id":"` + strings.Repeat("z", 1000) + `"}`)
	f.Add(`{"access_token":"a","matrix_server_name":"x","extra":1}`)
	f.Add(`nul`)
	f.Fuzz(func(t *testing.T, body string) {
		srv := fuzzServer()
		srv.openid = refuseAll{t}
		r := httptest.NewRequest("POST", "/api/widget/login", strings.NewReader(body))
		r.Header.Set("X-Requested-With", "telehealth")
		w := httptest.NewRecorder()
		srv.api(srv.widgetLogin)(w, r)
		var e struct{ Error, Code string }
		if w.Code/100 != 4 || json.Unmarshal(w.Body.Bytes(), &e) != nil || e.Error == "" || e.Code == "" {
			t.Fatalf("%q: %d %s", body, w.Code, w.Body)
		}
	})
}

// FuzzClientKey: a rate-limit key is short whatever the headers say, and a peer that is not a
// trusted proxy is keyed by its own address whatever X-Forwarded-For says.
func FuzzClientKey(f *testing.F) {
	f.Add("127.0.0.1:4321", "203.0.113.9")
	f.Add("127.0.0.1:4321", "192.0.2.1, 203.0.113.9, 10.1.2.3")
	f.Add("[2001:db8::1]:443", "[2001:db8::2]:1, garbage")
	f.Add("198.51.100.7:1", strings.Repeat("1.2.3.4,", 100))
	f.Add(strings.Repeat("x", 300), "")
	f.Add("[fe80::1%eth0]:80", "::ffff:10.0.0.1")
	trusted := []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	f.Fuzz(func(t *testing.T, peer, forwarded string) {
		key := clientKey(peer, forwarded, trusted)
		if len(key) > maxKeyLen {
			t.Fatalf("key of %d bytes", len(key))
		}
		if a, ok := parseHop(peer); ok && !isTrusted(a, trusted) {
			if other := clientKey(peer, "203.0.113.77", trusted); other != key {
				t.Fatalf("an untrusted peer's key changed with X-Forwarded-For: %q vs %q", key, other)
			}
		}
	})
}
