package twiliotest

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/twilio/twilio-go/client"
)

// Signature computes X-Twilio-Signature as Twilio does for a form POST: HMAC-SHA1 with the
// auth token of the URL followed by each parameter's name and value, sorted by name, in
// base64. It is cross-checked with twilio-go's validator, so a test does not pass on a mistake
// made the same way twice.
func Signature(t testing.TB, authToken, webhookURL string, params url.Values) string {
	t.Helper()
	names := make([]string, 0, len(params))
	for k := range params {
		names = append(names, k)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString(webhookURL)
	for _, k := range names {
		for _, v := range params[k] {
			b.WriteString(k + v)
		}
	}
	mac := hmac.New(sha1.New, []byte(authToken))
	mac.Write([]byte(b.String()))
	sig := base64.StdEncoding.EncodeToString(mac.Sum(nil))
	flat := make(map[string]string, len(params))
	for k := range params {
		flat[k] = params.Get(k)
	}
	validator := client.NewRequestValidator(authToken)
	if !validator.Validate(webhookURL, flat, sig) {
		t.Fatalf("the computed Twilio signature does not pass twilio-go's validator")
	}
	return sig
}

// InboundSMS is the form Twilio posts to the inbound webhook when a participant texts.
func InboundSMS(from, to, body string) url.Values {
	return url.Values{
		"MessageSid": {"SM" + randomHex(16)}, "SmsSid": {"SM" + randomHex(16)},
		"AccountSid": {"AC" + randomHex(16)}, "From": {from}, "To": {to}, "Body": {body},
		"NumMedia": {"0"}, "NumSegments": {"1"}, "ApiVersion": {"2010-04-01"},
	}
}

// StatusCallback is the form Twilio posts to a message's status callback.
func StatusCallback(messageSID, status, errorCode string) url.Values {
	v := url.Values{
		"MessageSid": {messageSID}, "SmsSid": {messageSID}, "MessageStatus": {status}, "SmsStatus": {status},
		"AccountSid": {"AC" + randomHex(16)}, "ApiVersion": {"2010-04-01"},
	}
	if errorCode != "" {
		v.Set("ErrorCode", errorCode)
	}
	return v
}

// Response is a webhook's answer.
type Response struct {
	Status      int
	ContentType string
	Body        string
}

// PostSigned posts a form to a webhook as Twilio would, signed with the auth token for
// webhookURL (the URL Twilio was configured with, here also the one posted to).
func PostSigned(t testing.TB, authToken, webhookURL string, params url.Values) Response {
	t.Helper()
	return post(t, webhookURL, params, Signature(t, authToken, webhookURL, params))
}

// PostForged posts a form to a webhook with a signature made with the wrong token.
func PostForged(t testing.TB, webhookURL string, params url.Values) Response {
	t.Helper()
	return post(t, webhookURL, params, Signature(t, "not-the-auth-token", webhookURL, params))
}

func post(t testing.TB, webhookURL string, params url.Values, signature string) Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, webhookURL, strings.NewReader(params.Encode()))
	if err != nil {
		t.Fatalf("making a webhook request: %v", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", signature)
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("posting to the webhook %s: %v", webhookURL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading the webhook's answer: %v", err)
	}
	return Response{Status: resp.StatusCode, ContentType: resp.Header.Get("Content-Type"), Body: string(body)}
}
