package scheduler_test

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/telehealth-bridge/telehealth-bridge/internal/twiliotest"
	"github.com/telehealth-bridge/telehealth-bridge/scheduler"
)

const (
	testAccountSID = "AC0123456789abcdef0123456789abcdef"
	testAuthToken  = "f00dfacef00dfacef00dfacef00dface"
	testFrom       = "+15005550006"
	testTo         = "+33612345678"
	testBody       = "Clinique du Parc: appointment booked Tue 3 Mar 3:00 PM CET. Reply STOP to opt out"
)

func newSMS(t *testing.T, cfg scheduler.SMSConfig) (*scheduler.SMS, *bytes.Buffer) {
	t.Helper()
	var logs bytes.Buffer
	s, err := scheduler.NewSMS(cfg, zerolog.New(&logs))
	if err != nil {
		t.Fatal(err)
	}
	return s, &logs
}

func sendError(t *testing.T, err error) *scheduler.SendError {
	t.Helper()
	var se *scheduler.SendError
	if !errors.As(err, &se) {
		t.Fatalf("error %v (%T) is not a *SendError", err, err)
	}
	return se
}

func TestNewSMSChecksItsConfiguration(t *testing.T) {
	for _, cfg := range []scheduler.SMSConfig{
		{AuthToken: testAuthToken, From: testFrom},
		{AccountSID: testAccountSID, From: testFrom},
		{AccountSID: testAccountSID, AuthToken: testAuthToken},
		{AccountSID: testAccountSID, AuthToken: testAuthToken, From: "0612345678"},
		{AccountSID: testAccountSID, AuthToken: testAuthToken, From: testFrom, APIURL: "not a url"},
	} {
		if _, err := scheduler.NewSMS(cfg, zerolog.Nop()); err == nil {
			t.Errorf("NewSMS(%+v) accepted", cfg)
		}
	}
}

// TestSMSContract sends through Prism serving Twilio's own API description: the requests
// twilio-go makes for us are what Twilio documents.
func TestSMSContract(t *testing.T) {
	apiURL := twiliotest.StartPrism(t)
	ctx := context.Background()
	for name, cfg := range map[string]scheduler.SMSConfig{
		"from":              {From: testFrom},
		"messaging service": {MessagingServiceSID: "MG0123456789abcdef0123456789abcdef"},
	} {
		t.Run(name, func(t *testing.T) {
			cfg.AccountSID, cfg.AuthToken, cfg.APIURL = testAccountSID, testAuthToken, apiURL
			cfg.StatusCallbackURL = "https://bridge.clinique.example/sms/status"
			s, logs := newSMS(t, cfg)
			sid, err := s.Send(ctx, testTo, testBody)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(sid, "SM") || len(sid) != 34 {
				t.Errorf("message SID %q", sid)
			}
			noSecrets(t, logs)
		})
	}
	t.Run("rejected", func(t *testing.T) {
		// Prism checks the request against the description: a malformed service SID is refused.
		s, _ := newSMS(t, scheduler.SMSConfig{AccountSID: testAccountSID, AuthToken: testAuthToken,
			MessagingServiceSID: "MGnot-a-service", APIURL: apiURL})
		_, err := s.Send(ctx, testTo, testBody)
		if err == nil {
			t.Fatal("Prism accepted a malformed messaging service SID")
		}
		if se := sendError(t, err); !se.Permanent || se.Status != http.StatusUnprocessableEntity {
			t.Errorf("rejection: %+v", se)
		}
	})
}

func noSecrets(t *testing.T, logs *bytes.Buffer) {
	t.Helper()
	for _, secret := range []string{testAuthToken, testBody, "appointment"} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("the logs hold %q:\n%s", secret, logs)
		}
	}
}

func TestSMSFailures(t *testing.T) {
	fake := twiliotest.StartFake(t)
	s, logs := newSMS(t, scheduler.SMSConfig{AccountSID: testAccountSID, AuthToken: testAuthToken, From: testFrom,
		StatusCallbackURL: "https://bridge.clinique.example/sms/status", APIURL: fake.URL})
	ctx := context.Background()

	sid, err := s.Send(ctx, testTo, testBody)
	if err != nil {
		t.Fatal(err)
	}
	got := fake.WaitFor(t, 1, 5*time.Second)[0]
	if got.SID != sid || got.To != testTo || got.Body != testBody || got.From != testFrom ||
		got.User != testAccountSID || got.StatusCallback != "https://bridge.clinique.example/sms/status" {
		t.Errorf("Twilio received %+v (answered %s)", got, sid)
	}

	fake.FailNext(1, http.StatusBadRequest, 21211, "Invalid 'To' Phone Number")
	_, err = s.Send(ctx, "+330000", testBody)
	if se := sendError(t, err); !se.Permanent || se.Code != 21211 || se.Status != 400 || !strings.Contains(se.Reason, "Invalid 'To'") {
		t.Errorf("invalid number: %+v", se)
	}

	fake.FailNext(1, http.StatusBadRequest, 21610, "Attempt to send to unsubscribed recipient")
	_, err = s.Send(ctx, testTo, testBody)
	if se := sendError(t, err); !se.Permanent || se.Code != 21610 {
		t.Errorf("opted out: %+v", se)
	}

	fake.ThrottleNext(1, 7*time.Second)
	_, err = s.Send(ctx, testTo, testBody)
	if se := sendError(t, err); se.Permanent || se.Status != 429 || se.RetryAfter != 7*time.Second {
		t.Errorf("throttled: %+v", se)
	}

	fake.FailNext(1, http.StatusInternalServerError, 20500, "Internal Server Error")
	_, err = s.Send(ctx, testTo, testBody)
	if se := sendError(t, err); se.Permanent || se.Status != 500 || se.RetryAfter != 0 {
		t.Errorf("server error: %+v", se)
	}
	noSecrets(t, logs)

	// Nothing listening: temporary, no status.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + l.Addr().String()
	_ = l.Close()
	down, _ := newSMS(t, scheduler.SMSConfig{AccountSID: testAccountSID, AuthToken: testAuthToken, From: testFrom, APIURL: closed})
	_, err = down.Send(ctx, testTo, testBody)
	if se := sendError(t, err); se.Permanent || se.Status != 0 {
		t.Errorf("unreachable: %+v", se)
	}
}

// inbound records what the webhooks act on.
type inbound struct {
	mu    sync.Mutex
	calls []string
}

func (in *inbound) add(call string) error {
	in.mu.Lock()
	in.calls = append(in.calls, call)
	in.mu.Unlock()
	return nil
}
func (in *inbound) OptOut(_ context.Context, phone string) error { return in.add("optout " + phone) }
func (in *inbound) OptIn(_ context.Context, phone string) error  { return in.add("optin " + phone) }
func (in *inbound) Reply(_ context.Context, phone, body string) error {
	return in.add("reply " + phone + " " + body)
}
func (in *inbound) Status(_ context.Context, id, status, code string) error {
	return in.add("status " + id + " " + status + " " + code)
}
func (in *inbound) take() []string {
	in.mu.Lock()
	defer in.mu.Unlock()
	calls := in.calls
	in.calls = nil
	return calls
}

func TestSMSWebhooks(t *testing.T) {
	s, _ := newSMS(t, scheduler.SMSConfig{AccountSID: testAccountSID, AuthToken: testAuthToken, From: testFrom,
		ClinicName: "Clinique <du> Parc"})
	in := &inbound{}
	var h http.Handler
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	h = s.Webhooks(in, srv.URL+"/")
	inboundURL, statusURL := srv.URL+"/sms/inbound", srv.URL+"/sms/status"

	expect := func(what string, resp twiliotest.Response, status int, body string, calls ...string) {
		t.Helper()
		if resp.Status != status || !strings.Contains(resp.Body, body) {
			t.Errorf("%s: answered %d %q, want %d with %q", what, resp.Status, resp.Body, status, body)
		}
		if status == http.StatusOK && !strings.HasPrefix(resp.ContentType, "text/xml") {
			t.Errorf("%s: content type %q", what, resp.ContentType)
		}
		got := in.take()
		if strings.Join(got, "|") != strings.Join(calls, "|") {
			t.Errorf("%s: calls %q, want %q", what, got, calls)
		}
	}
	for _, stop := range []string{"STOP", " stop\n", "Arrêt", "unsubscribe"} {
		expect("signed "+stop, twiliotest.PostSigned(t, testAuthToken, inboundURL, twiliotest.InboundSMS(testTo, testFrom, stop)),
			http.StatusOK, "<Response/>", "optout "+testTo)
	}
	expect("forged STOP", twiliotest.PostForged(t, inboundURL, twiliotest.InboundSMS(testTo, testFrom, "STOP")),
		http.StatusForbidden, "")
	expect("forged status", twiliotest.PostForged(t, statusURL, twiliotest.StatusCallback("SM1", "failed", "30003")),
		http.StatusForbidden, "")
	// Signed by Twilio for another URL (a request replayed from another webhook or site) and
	// posted to the real one: refused, and nothing is recorded (no opt-out, no status).
	expect("signed for another URL", postSignedFor(t, inboundURL, srv.URL+"/elsewhere/sms/inbound", twiliotest.InboundSMS(testTo, testFrom, "STOP")),
		http.StatusForbidden, "")
	expect("a status signed for the inbound URL", postSignedFor(t, statusURL, inboundURL, twiliotest.StatusCallback("SM9", "failed", "30003")),
		http.StatusForbidden, "")
	expect("an inbound SMS signed for the status URL", postSignedFor(t, inboundURL, statusURL, twiliotest.InboundSMS(testTo, testFrom, "STOP")),
		http.StatusForbidden, "")
	expect("START", twiliotest.PostSigned(t, testAuthToken, inboundURL, twiliotest.InboundSMS(testTo, testFrom, "start")),
		http.StatusOK, "<Response/>", "optin "+testTo)
	expect("HELP", twiliotest.PostSigned(t, testAuthToken, inboundURL, twiliotest.InboundSMS(testTo, testFrom, "help")),
		http.StatusOK, "<Response><Message>Clinique &lt;du&gt; Parc: appointment messages. Reply STOP to opt out.")
	expect("AIDE", twiliotest.PostSigned(t, testAuthToken, inboundURL, twiliotest.InboundSMS(testTo, testFrom, "Aide")),
		http.StatusOK, "STOP pour ne plus recevoir.</Message></Response>")
	expect("a reply", twiliotest.PostSigned(t, testAuthToken, inboundURL, twiliotest.InboundSMS(testTo, testFrom, " Je serai en retard de 10 min ")),
		http.StatusOK, "<Response/>", "reply "+testTo+" Je serai en retard de 10 min")
	expect("CANCEL", twiliotest.PostSigned(t, testAuthToken, inboundURL, twiliotest.InboundSMS(testTo, testFrom, "cancel")),
		http.StatusOK, "<Response/>", "optout "+testTo, "reply "+testTo+" cancel")
	expect("status", twiliotest.PostSigned(t, testAuthToken, statusURL, twiliotest.StatusCallback("SM0123", "undelivered", "30003")),
		http.StatusOK, "", "status SM0123 undelivered 30003")
	expect("delivered", twiliotest.PostSigned(t, testAuthToken, statusURL, twiliotest.StatusCallback("SM0123", "delivered", "")),
		http.StatusOK, "", "status SM0123 delivered ")
}

// TestHelpAnswerWithHostileClinicNames: the answer to HELP names the clinic inside TwiML (XML);
// whatever the name holds, Twilio reads one message and nothing else.
func TestHelpAnswerWithHostileClinicNames(t *testing.T) {
	for _, name := range hostileClinicNames {
		s, _ := newSMS(t, scheduler.SMSConfig{AccountSID: testAccountSID, AuthToken: testAuthToken, From: testFrom, ClinicName: name})
		var h http.Handler
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
		h = s.Webhooks(&inbound{}, srv.URL+"/")
		resp := twiliotest.PostSigned(t, testAuthToken, srv.URL+"/sms/inbound", twiliotest.InboundSMS(testTo, testFrom, "HELP"))
		srv.Close()
		var twiml struct {
			XMLName  xml.Name
			Messages []string `xml:"Message"`
			Other    []struct {
				XMLName xml.Name
			} `xml:",any"`
		}
		if err := xml.Unmarshal([]byte(resp.Body), &twiml); err != nil || twiml.XMLName.Local != "Response" ||
			len(twiml.Messages) != 1 || len(twiml.Other) != 0 {
			t.Errorf("%q: HELP answered %d %q (%v)", name, resp.Status, resp.Body, err)
			continue
		}
		msg := twiml.Messages[0]
		if strings.ContainsAny(msg, "\r\n") || !strings.HasSuffix(msg, ": appointment messages. Reply STOP to opt out. / Messages de rendez-vous. STOP pour ne plus recevoir.") {
			t.Errorf("%q: HELP answer %q", name, msg)
		}
		// A name GSM-7 carries as it is comes back as it is (on one line).
		if ascii := strings.Join(strings.Fields(name), " "); !strings.ContainsFunc(ascii, func(r rune) bool { return r > 0x7e }) &&
			!strings.ContainsAny(ascii, "<>&\"") && !strings.HasPrefix(msg, ascii+": ") {
			t.Errorf("%q: HELP answer %q does not start with the name", name, msg)
		}
	}
}

// postSignedFor posts a form to postURL with Twilio's signature of it for signedURL.
func postSignedFor(t *testing.T, postURL, signedURL string, form url.Values) twiliotest.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, postURL, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", twiliotest.Signature(t, testAuthToken, signedURL, form))
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return twiliotest.Response{Status: resp.StatusCode, ContentType: resp.Header.Get("Content-Type"), Body: string(body)}
}
