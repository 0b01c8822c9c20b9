package twiliotest

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// Message is one message create request the fake received.
type Message struct {
	// SID is what the fake answered (empty when it answered an error).
	SID string
	// AccountSID is the account in the URL; User is the Basic auth user.
	AccountSID, User    string
	To, From, Body      string
	MessagingServiceSID string
	StatusCallback      string
	// At is when the request arrived.
	At time.Time
}

// Call is one call create request the fake received.
type Call struct {
	// SID is what the fake answered (empty when it answered an error).
	SID                 string
	AccountSID, User    string
	To, From, Twiml     string
	StatusCallback      string
	StatusCallbackEvent []string
	Timeout             string
	At                  time.Time
}

// Fake is a loopback server playing Twilio's message and call create endpoints
// (POST /2010-04-01/Accounts/{AccountSid}/Messages.json and Calls.json), which can be told to
// fail (the faults are shared: the next request of either kind fails).
type Fake struct {
	// URL is the API root to configure the sender with.
	URL string

	mu       sync.Mutex
	received []Message
	calls    []Call
	faults   []fault
}

type fault struct {
	status     int
	code       int
	message    string
	retryAfter string
}

// StartFake starts the fake; it stops at the test's end.
func StartFake(t testing.TB) *Fake {
	t.Helper()
	f := &Fake{}
	srv := httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(srv.Close)
	f.URL = srv.URL
	return f
}

// FailNext makes the next n requests fail with the HTTP status and Twilio's error JSON
// ({"code": code, "message": message, "status": status}), e.g. 400 and 21211 for an invalid
// number, 500 and 20500 for an internal error.
func (f *Fake) FailNext(n, status, code int, message string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for range n {
		f.faults = append(f.faults, fault{status: status, code: code, message: message})
	}
}

// ThrottleNext makes the next n requests fail with 429 Too Many Requests and a Retry-After
// header (whole seconds).
func (f *Fake) ThrottleNext(n int, retryAfter time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for range n {
		f.faults = append(f.faults, fault{status: http.StatusTooManyRequests, code: 20429,
			message: "Too Many Requests", retryAfter: fmt.Sprint(int(retryAfter.Seconds()))})
	}
}

// Messages returns the requests received so far, oldest first, failed ones included.
func (f *Fake) Messages() []Message {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Message(nil), f.received...)
}

// WaitFor waits until at least n requests were received and returns them; the test fails if
// they did not come within the deadline.
func (f *Fake) WaitFor(t testing.TB, n int, deadline time.Duration) []Message {
	t.Helper()
	end := time.Now().Add(deadline)
	for {
		got := f.Messages()
		if len(got) >= n {
			return got
		}
		if time.Now().After(end) {
			t.Fatalf("the fake Twilio received %d messages in %v, want %d", len(got), deadline, n)
		}
		<-time.After(10 * time.Millisecond)
	}
}

// Calls returns the call requests received so far, oldest first, failed ones included.
func (f *Fake) Calls() []Call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Call(nil), f.calls...)
}

func (f *Fake) serve(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/"), "/")
	if r.Method == http.MethodPost && len(parts) == 4 && parts[0] == "2010-04-01" && parts[1] == "Accounts" && parts[3] == "Calls.json" {
		f.serveCall(w, r, parts[2])
		return
	}
	if r.Method != http.MethodPost || len(parts) != 4 || parts[0] != "2010-04-01" || parts[1] != "Accounts" || parts[3] != "Messages.json" {
		twilioError(w, http.StatusNotFound, 20404, "The requested resource was not found")
		return
	}
	if err := r.ParseForm(); err != nil {
		twilioError(w, http.StatusBadRequest, 0, "unreadable form")
		return
	}
	user, _, _ := r.BasicAuth()
	m := Message{AccountSID: parts[2], User: user, To: r.PostForm.Get("To"), From: r.PostForm.Get("From"),
		Body: r.PostForm.Get("Body"), MessagingServiceSID: r.PostForm.Get("MessagingServiceSid"),
		StatusCallback: r.PostForm.Get("StatusCallback"), At: time.Now()}
	f.mu.Lock()
	var ft *fault
	if len(f.faults) > 0 {
		ft = &f.faults[0]
		f.faults = f.faults[1:]
	}
	valid := user != "" && user == m.AccountSID && m.To != "" && (m.From != "" || m.MessagingServiceSID != "")
	if ft == nil && valid {
		m.SID = "SM" + randomHex(16)
	}
	f.received = append(f.received, m)
	f.mu.Unlock()
	switch {
	case ft != nil:
		if ft.retryAfter != "" {
			w.Header().Set("Retry-After", ft.retryAfter)
		}
		twilioError(w, ft.status, ft.code, ft.message)
	case user == "" || user != m.AccountSID:
		twilioError(w, http.StatusUnauthorized, 20003, "Authenticate")
	case m.To == "":
		twilioError(w, http.StatusBadRequest, 21604, "A 'To' phone number is required.")
	case m.From == "" && m.MessagingServiceSID == "":
		twilioError(w, http.StatusBadRequest, 21603, "A 'From' phone number is required.")
	default:
		from := m.From
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(map[string]any{
			"sid": m.SID, "account_sid": m.AccountSID, "to": m.To, "from": from, "body": m.Body,
			"messaging_service_sid": m.MessagingServiceSID, "status": "queued", "num_segments": "1",
			"direction": "outbound-api", "api_version": "2010-04-01",
			"date_created": time.Now().UTC().Format(time.RFC1123Z),
		})
	}
}

func (f *Fake) serveCall(w http.ResponseWriter, r *http.Request, account string) {
	if err := r.ParseForm(); err != nil {
		twilioError(w, http.StatusBadRequest, 0, "unreadable form")
		return
	}
	user, _, _ := r.BasicAuth()
	c := Call{AccountSID: account, User: user, To: r.PostForm.Get("To"), From: r.PostForm.Get("From"),
		Twiml: r.PostForm.Get("Twiml"), StatusCallback: r.PostForm.Get("StatusCallback"),
		StatusCallbackEvent: r.PostForm["StatusCallbackEvent"], Timeout: r.PostForm.Get("Timeout"), At: time.Now()}
	f.mu.Lock()
	var ft *fault
	if len(f.faults) > 0 {
		ft = &f.faults[0]
		f.faults = f.faults[1:]
	}
	valid := user != "" && user == account && c.To != "" && c.From != "" && (c.Twiml != "" || r.PostForm.Get("Url") != "")
	if ft == nil && valid {
		c.SID = "CA" + randomHex(16)
	}
	f.calls = append(f.calls, c)
	f.mu.Unlock()
	switch {
	case ft != nil:
		twilioError(w, ft.status, ft.code, ft.message)
	case !valid:
		twilioError(w, http.StatusBadRequest, 21205, "To, From and Url or Twiml are required")
	default:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(map[string]any{"sid": c.SID, "account_sid": account, "to": c.To, "from": c.From,
			"status": "queued", "direction": "outbound-api", "api_version": "2010-04-01"})
	}
}

// CallStatus is the form Twilio posts to a call's status callback (CallStatus: queued,
// ringing, in-progress, completed, busy, no-answer, failed, canceled).
func CallStatus(callSID, status string) url.Values {
	return url.Values{"CallSid": {callSID}, "CallStatus": {status}, "AccountSid": {"AC" + randomHex(16)},
		"Direction": {"outbound-api"}, "ApiVersion": {"2010-04-01"}}
}

func twilioError(w http.ResponseWriter, status, code int, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"code": code, "message": message, "status": status,
		"more_info": fmt.Sprintf("https://www.twilio.com/docs/errors/%d", code)})
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
