package twiliotest_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/telehealth-bridge/telehealth-bridge/internal/twiliotest"
)

// TestSignature checks the signature against the example in Twilio's documentation.
func TestSignature(t *testing.T) {
	params := url.Values{"CallSid": {"CA1234567890ABCDE"}, "Caller": {"+12349013030"}, "Digits": {"1234"},
		"From": {"+12349013030"}, "To": {"+18005551212"}}
	got := twiliotest.Signature(t, "12345", "https://mycompany.com/myapp.php?foo=1&bar=2", params)
	if got != "0/KCTR6DLpKmkAf8muzZqo1nDgQ=" {
		t.Errorf("signature %q", got)
	}
}

func TestFake(t *testing.T) {
	f := twiliotest.StartFake(t)
	post := func() int {
		req, _ := http.NewRequest(http.MethodPost, f.URL+"/2010-04-01/Accounts/AC1/Messages.json",
			strings.NewReader(url.Values{"To": {"+33612345678"}, "From": {"+15005550006"}, "Body": {"hi"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth("AC1", "token")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	f.FailNext(1, 400, 21211, "Invalid 'To' Phone Number")
	f.ThrottleNext(1, time.Second)
	for _, want := range []int{400, 429, 201} {
		if got := post(); got != want {
			t.Errorf("status %d, want %d", got, want)
		}
	}
	got := f.WaitFor(t, 3, time.Second)
	if got[0].SID != "" || !strings.HasPrefix(got[2].SID, "SM") || got[2].Body != "hi" {
		t.Errorf("received %+v", got)
	}
}

func TestPrism(t *testing.T) {
	api := twiliotest.StartPrism(t)
	resp, err := http.PostForm(api+"/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Messages.json", url.Values{"Body": {"hi"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	// No credentials and no To: Prism refuses, as Twilio would.
	if resp.StatusCode/100 != 4 {
		t.Errorf("status %d", resp.StatusCode)
	}
}
