package scheduler_test

import (
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/telehealth-bridge/telehealth-bridge/internal/twiliotest"
	"github.com/telehealth-bridge/telehealth-bridge/scheduler"
)

// FuzzSMSWebhooks posts what anyone on the Internet can post to the SMS webhooks: forms signed
// with the auth token (what Twilio sends, with any text a participant may type) and unsigned
// bytes. Whatever arrives, the handler answers (no panic), a signed inbound text gets well-formed
// TwiML and at most the actions of its keyword for its own number, a reply carries the text as
// typed, and nothing unsigned acts at all.
func FuzzSMSWebhooks(f *testing.F) {
	for _, seed := range []struct {
		from, body, sid, status string
		raw                     []byte
	}{
		{testTo, "STOP", "SM0123", "undelivered", nil},
		{testTo, " Arrêt.", "SM0123", "delivered", []byte("From=%2B33612345678&Body=STOP")},
		{testTo, "cancel", "", "failed", []byte("%zz")},
		{testTo, "help!", "SM1", "", []byte("Body=" + strings.Repeat("A", 70<<10))},
		{"+33612345678\x00", "Je serai en retard de 10 min <b>&amp;</b>", "SM\xff", "failed", []byte{0xff, 0xfe, '=', '&'}},
		{"", "", "", "", []byte("")},
		{"not a number", "\u202eSTOP", "SM0123", "failed\n", []byte("MessageSid=SM1&MessageStatus=failed")},
	} {
		f.Add(seed.from, seed.body, seed.sid, seed.status, seed.raw)
	}
	sms, err := scheduler.NewSMS(scheduler.SMSConfig{AccountSID: testAccountSID, AuthToken: testAuthToken, From: testFrom,
		ClinicName: "Clinique <du> Parc"}, zerolog.Nop())
	if err != nil {
		f.Fatal(err)
	}
	const base = "https://video.example"
	in := &inbound{}
	h := sms.Webhooks(in, base+"/")
	post := func(path string, body string, signature string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, base+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if signature != "" {
			req.Header.Set("X-Twilio-Signature", signature)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		return w
	}
	f.Fuzz(func(t *testing.T, from, body, sid, status string, raw []byte) {
		in.take()

		// A participant's text, signed as Twilio signs it.
		form := twiliotest.InboundSMS(from, testFrom, body)
		w := post("/sms/inbound", form.Encode(), twiliotest.Signature(t, testAuthToken, base+"/sms/inbound", form))
		if w.Code != http.StatusOK {
			t.Fatalf("signed inbound text %q from %q: %d %s", body, from, w.Code, w.Body)
		}
		if !strings.HasPrefix(w.Header().Get("Content-Type"), "text/xml") || !wellFormed(w.Body.String()) {
			t.Fatalf("inbound text %q: answer is not TwiML: %q", body, w.Body)
		}
		calls := in.take()
		if len(calls) > 2 {
			t.Fatalf("one text made %d calls: %q", len(calls), calls)
		}
		for _, c := range calls {
			switch {
			case c == "optout "+from, c == "optin "+from:
			case c == "reply "+from+" "+strings.TrimSpace(body):
			default:
				t.Fatalf("text %q from %q made the call %q", body, from, c)
			}
		}

		// A delivery report, signed.
		form = twiliotest.StatusCallback(sid, status, "30003")
		w = post("/sms/status", form.Encode(), twiliotest.Signature(t, testAuthToken, base+"/sms/status", form))
		calls = in.take()
		switch {
		case sid == "" || status == "":
			if w.Code != http.StatusBadRequest || len(calls) != 0 {
				t.Fatalf("status %q/%q without a field: %d, calls %q", sid, status, w.Code, calls)
			}
		case w.Code != http.StatusOK || len(calls) != 1 || calls[0] != "status "+sid+" "+status+" 30003":
			t.Fatalf("status %q/%q: %d, calls %q", sid, status, w.Code, calls)
		}

		// Anything else anyone posts, unsigned or with a made-up signature.
		for _, path := range []string{"/sms/inbound", "/sms/status"} {
			for _, sig := range []string{"", "bm90IGEgc2lnbmF0dXJl"} {
				w = post(path, string(raw), sig)
				if w.Code != http.StatusForbidden && w.Code != http.StatusBadRequest && w.Code != http.StatusRequestEntityTooLarge {
					t.Fatalf("unsigned %s %q: %d", path, raw, w.Code)
				}
				if calls := in.take(); len(calls) != 0 {
					t.Fatalf("unsigned %s %q acted: %q", path, raw, calls)
				}
			}
		}
	})
}

// wellFormed reports whether s is one well-formed XML document.
func wellFormed(s string) bool {
	d := xml.NewDecoder(strings.NewReader(s))
	for {
		_, err := d.Token()
		if errors.Is(err, io.EOF) {
			return true
		}
		if err != nil {
			return false
		}
	}
}
