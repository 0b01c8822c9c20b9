package scheduler_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"github.com/telehealth-bridge/telehealth-bridge/internal/twiliotest"
	"github.com/telehealth-bridge/telehealth-bridge/scheduler"
)

const (
	testCallerID       = "+33123456789"
	testClinicianPhone = "+33699887766"
	testClientPhone    = "+33612345612"
)

func newVoice(t *testing.T, apiURL, publicURL string) *scheduler.Voice {
	t.Helper()
	v, err := scheduler.NewVoice(scheduler.VoiceConfig{AccountSID: testAccountSID, AuthToken: testAuthToken, CallerID: testCallerID,
		PublicURL: publicURL, APIURL: apiURL, RingTimeout: 25 * time.Second}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func attempt() *bridge.CallAttempt {
	s := &bridge.Session{ID: "k7m2pq"}
	return bridge.NewCallAttempt(s, &bridge.Participant{Number: 1}, "@dr.martin:clinique.example", time.Now())
}

// TestVoiceContract places a call through Prism serving Twilio's own API description: the
// request twilio-go makes for us is what Twilio documents.
func TestVoiceContract(t *testing.T) {
	v := newVoice(t, twiliotest.StartPrism(t), "https://bridge.clinique.example")
	sid, err := v.Ring(context.Background(), attempt(), testClinicianPhone)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(sid, "CA") || len(sid) != 34 {
		t.Errorf("call SID %q", sid)
	}
}

// What the bridge asks Twilio: ring the clinician from the clinic's number with a prompt and
// signed callbacks; the client's number is not in it. Refusals come back in words.
func TestVoiceRequestsAndRefusals(t *testing.T) {
	fake := twiliotest.StartFake(t)
	v := newVoice(t, fake.URL, "https://bridge.clinique.example/")
	a := attempt()
	sid, err := v.Ring(context.Background(), a, testClinicianPhone)
	if err != nil {
		t.Fatal(err)
	}
	calls := fake.Calls()
	if len(calls) != 1 || calls[0].SID != sid {
		t.Fatalf("calls %+v", calls)
	}
	c := calls[0]
	if c.To != testClinicianPhone || c.From != testCallerID || c.Timeout != "25" ||
		c.StatusCallback != "https://bridge.clinique.example/voice/status/"+a.ID {
		t.Errorf("call request %+v", c)
	}
	if !strings.Contains(c.Twiml, `<Gather numDigits="1"`) || !strings.Contains(c.Twiml, "/voice/accept/"+a.ID) || strings.Contains(c.Twiml, testClientPhone) {
		t.Errorf("prompt TwiML %s", c.Twiml)
	}
	// A French clinic's clinicians hear French.
	fr, err := scheduler.NewVoice(scheduler.VoiceConfig{AccountSID: testAccountSID, AuthToken: testAuthToken, CallerID: testCallerID,
		PublicURL: "https://bridge.clinique.example", APIURL: fake.URL, Language: "fr"}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	if _, err = fr.Ring(context.Background(), attempt(), testClinicianPhone); err != nil {
		t.Fatal(err)
	}
	if twiml := fake.Calls()[1].Twiml; !strings.Contains(twiml, `<Say language="fr-FR">`) || !strings.Contains(twiml, "Tapez 1") {
		t.Errorf("French prompt: %s", twiml)
	}
	fake.FailNext(1, http.StatusBadRequest, 21211, "Invalid 'To' Phone Number: +3369988")
	_, err = v.Ring(context.Background(), attempt(), "+3369988")
	var ce *scheduler.CallError
	if !errors.As(err, &ce) || !ce.Permanent || !strings.Contains(err.Error(), "21211") || !strings.Contains(err.Error(), "Invalid 'To' Phone Number") {
		t.Errorf("refused call: %v", err)
	}
}

// voiceEvents records what the callbacks told the domain.
type voiceEvents struct {
	mu       sync.Mutex
	reports  []string
	accepted []string
}

func (e *voiceEvents) AcceptCall(_ context.Context, id string) (string, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if id == "unknown" {
		return "", bridge.ErrNotFound
	}
	e.accepted = append(e.accepted, id)
	return testClientPhone, nil
}

func (e *voiceEvents) CallReport(_ context.Context, id string, leg bridge.CallLeg, st bridge.CallStatus) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if id == "unknown" {
		return bridge.ErrNotFound
	}
	e.reports = append(e.reports, id+" "+string(leg)+" "+string(st))
	return nil
}

// The calls' callbacks: only Twilio's signature for the very URL is accepted; the keypress
// connects the client with the clinic's caller ID; each leg's outcome reaches the domain.
func TestVoiceCallbacks(t *testing.T) {
	var hooks http.Handler
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hooks.ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	v := newVoice(t, "https://api.twilio.com", srv.URL)
	ev := &voiceEvents{}
	hooks = v.Webhooks(ev)
	id := "0123456789abcdef0123456789abcdef"

	// Unsigned, forged, or signed for another attempt's URL: refused, nothing recorded.
	status := twiliotest.CallStatus("CA0123", "in-progress")
	if r := twiliotest.PostForged(t, srv.URL+"/voice/status/"+id, status); r.Status != http.StatusForbidden {
		t.Errorf("forged status: %d", r.Status)
	}
	sig := twiliotest.Signature(t, testAuthToken, srv.URL+"/voice/status/other", status)
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/voice/status/"+id, strings.NewReader(status.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", sig)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("a signature for another URL: %v %v", resp, err)
	}
	if r := twiliotest.PostForged(t, srv.URL+"/voice/accept/"+id, url.Values{"Digits": {"1"}}); r.Status != http.StatusForbidden || strings.Contains(r.Body, testClientPhone) {
		t.Errorf("forged accept: %d %s", r.Status, r.Body)
	}
	if len(ev.reports)+len(ev.accepted) != 0 {
		t.Fatalf("unsigned callbacks acted: %v %v", ev.reports, ev.accepted)
	}

	post := func(kind string, form url.Values) twiliotest.Response {
		return twiliotest.PostSigned(t, testAuthToken, srv.URL+"/voice/"+kind+"/"+id, form)
	}
	if r := post("status", status); r.Status != 200 {
		t.Errorf("status: %d", r.Status)
	}
	// Another key than 1: no dial.
	if r := post("accept", url.Values{"Digits": {"2"}}); !strings.Contains(r.Body, "<Hangup/>") || strings.Contains(r.Body, "<Dial") {
		t.Errorf("key 2: %s", r.Body)
	}
	r := post("accept", url.Values{"Digits": {"1"}})
	if !strings.Contains(r.Body, `<Dial callerId="`+testCallerID+`"`) || !strings.Contains(r.Body, ">"+testClientPhone+"</Number>") ||
		!strings.Contains(r.Body, "/voice/client/"+id) || !strings.Contains(r.Body, "/voice/dialed/"+id) {
		t.Errorf("dial TwiML: %s", r.Body)
	}
	post("client", twiliotest.CallStatus("CA0456", "in-progress"))
	if r := post("dialed", url.Values{"DialCallStatus": {"busy"}}); !strings.Contains(r.Body, "busy") {
		t.Errorf("dialed busy: %s", r.Body)
	}
	// A dial that completed was answered, whether or not its "answered" report came.
	post("dialed", url.Values{"DialCallStatus": {"completed"}})
	want := []string{id + " clinician answered", id + " client answered", id + " client busy", id + " client answered", id + " client completed"}
	if !slices.Equal(ev.reports, want) || len(ev.accepted) != 1 {
		t.Errorf("reports %v, accepted %v", ev.reports, ev.accepted)
	}
	// An attempt the bridge does not know.
	if r := twiliotest.PostSigned(t, testAuthToken, srv.URL+"/voice/status/unknown", status); r.Status != http.StatusNotFound {
		t.Errorf("unknown attempt: %d", r.Status)
	}
	if r := twiliotest.PostSigned(t, testAuthToken, srv.URL+"/voice/accept/unknown", url.Values{"Digits": {"1"}}); strings.Contains(r.Body, "<Dial") {
		t.Errorf("unknown accept dialled: %s", r.Body)
	}
}
