package scheduler

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"github.com/twilio/twilio-go/client"
	openapi "github.com/twilio/twilio-go/rest/api/v2010"
)

// SendError is a failed send that the provider (or the network) explains: whether trying
// again may help, and when.
type SendError struct {
	// Permanent: sending the same message again fails the same way (invalid number, opted out,
	// mailbox unknown).
	Permanent bool
	// Status is the HTTP status (SMS) or the SMTP reply code (email); 0 without an answer.
	Status int
	// Code is the provider's error code: Twilio's (21211 invalid number, 21610 opted out).
	Code int
	// Reason is the provider's explanation, fit to show a clinician.
	Reason string
	// RetryAfter is how long the provider asked to wait (Retry-After), 0 when it did not say.
	RetryAfter time.Duration

	err error
}

func (e *SendError) Error() string {
	kind := "temporary"
	if e.Permanent {
		kind = "permanent"
	}
	msg := fmt.Sprintf("%s send failure", kind)
	if e.Status != 0 {
		msg += fmt.Sprintf(" (status %d)", e.Status)
	}
	if e.Reason != "" {
		msg += ": " + e.Reason
	}
	return msg
}

// Unwrap gives the underlying error (a context's cancellation, a network error).
func (e *SendError) Unwrap() error { return e.err }

// SMSConfig configures sending text messages through Twilio.
type SMSConfig struct {
	AccountSID string
	AuthToken  string
	// From is the sending number (E.164); MessagingServiceSID may replace it.
	From                string
	MessagingServiceSID string
	// StatusCallbackURL is where Twilio reports delivery (the public URL of /sms/status).
	StatusCallbackURL string
	// APIURL is Twilio's API root: https://api.twilio.com by default; tests point it at a
	// mock.
	APIURL string
	// ClinicName is named in the answer to HELP.
	ClinicName string
}

// SMS sends text messages through Twilio's REST API and serves its webhooks.
type SMS struct {
	cfg       SMSConfig
	api       *url.URL
	transport http.RoundTripper
	log       zerolog.Logger
}

var (
	e164         = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)
	alphanumeric = regexp.MustCompile(`^[a-zA-Z0-9]+$`)
)

// sendTimeout bounds one call to the provider when the caller's context has no deadline.
const sendTimeout = 30 * time.Second

// NewSMS checks the configuration and returns the sender.
func NewSMS(cfg SMSConfig, log zerolog.Logger) (*SMS, error) {
	switch {
	case cfg.AccountSID == "" || cfg.AuthToken == "":
		return nil, errors.New("configuring SMS: the Twilio account SID and auth token are required")
	case !alphanumeric.MatchString(cfg.AccountSID) || !alphanumeric.MatchString(cfg.AuthToken):
		// twilio-go refuses such credentials on every send; say so at start-up instead.
		return nil, errors.New("configuring SMS: the Twilio account SID and auth token are letters and digits only (check for spaces or quotes when pasting them)")
	case cfg.From == "" && cfg.MessagingServiceSID == "":
		return nil, errors.New("configuring SMS: a sending number (from) or a messaging service SID is required")
	case cfg.From != "" && !e164.MatchString(cfg.From):
		return nil, fmt.Errorf("configuring SMS: the sending number %q is not E.164 (+33123456789)", cfg.From)
	}
	if cfg.APIURL == "" {
		cfg.APIURL = "https://api.twilio.com"
	}
	api, err := url.Parse(cfg.APIURL)
	if err != nil || api.Scheme == "" || api.Host == "" {
		return nil, fmt.Errorf("configuring SMS: %q is not an API URL such as https://api.twilio.com", cfg.APIURL)
	}
	if cfg.StatusCallbackURL != "" {
		if u, err := url.Parse(cfg.StatusCallbackURL); err != nil || u.Scheme == "" || u.Host == "" {
			return nil, fmt.Errorf("configuring SMS: the status callback %q is not an absolute URL", cfg.StatusCallbackURL)
		}
	}
	// The sender's workers all talk to one host: keep a connection for each, not Go's default 2.
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.MaxIdleConnsPerHost = 32
	return &SMS{cfg: cfg, api: api, transport: transport, log: log.With().Str("component", "sms").Logger()}, nil
}

// Send sends one text message and returns Twilio's message SID. Errors from Twilio or the
// network are *SendError. The body and the token are never logged.
func (s *SMS) Send(ctx context.Context, to, body string) (string, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, sendTimeout)
		defer cancel()
	}
	c, rt := twilioClient(ctx, s.transport, s.api, s.cfg.AccountSID, s.cfg.AuthToken)
	params := &openapi.CreateMessageParams{}
	params.SetTo(to).SetBody(body)
	if s.cfg.MessagingServiceSID != "" {
		params.SetMessagingServiceSid(s.cfg.MessagingServiceSID)
	}
	if s.cfg.From != "" {
		params.SetFrom(s.cfg.From)
	}
	if s.cfg.StatusCallbackURL != "" {
		params.SetStatusCallback(s.cfg.StatusCallbackURL)
	}
	msg, err := openapi.NewApiService(client.NewRequestHandler(c)).CreateMessage(params)
	if err != nil {
		se := rt.classify(err)
		s.log.Warn().Int("status", se.Status).Int("code", se.Code).Bool("permanent", se.Permanent).Msg("SMS not accepted")
		return "", se
	}
	if msg == nil || msg.Sid == nil || *msg.Sid == "" {
		return "", &SendError{Status: rt.answer().status, Reason: "Twilio accepted the message without giving its SID"}
	}
	status := ""
	if msg.Status != nil {
		status = *msg.Status
	}
	s.log.Info().Str("provider_id", *msg.Sid).Str("status", status).Msg("SMS accepted")
	return *msg.Sid, nil
}

// twilioClient is a twilio-go client for one request. twilio-go sends with a background
// context and keeps no response headers on errors: a transport per call carries the caller's
// context, sends to the configured API root and keeps the status and Retry-After of the answer.
func twilioClient(ctx context.Context, base http.RoundTripper, api *url.URL, sid, token string) (*client.Client, *twilioTransport) {
	rt := &twilioTransport{ctx: ctx, base: base, api: api}
	c := &client.Client{
		Credentials: client.NewCredentials(sid, token),
		HTTPClient: &http.Client{Transport: rt, CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		}},
	}
	c.SetAccountSid(sid)
	return c, rt
}

// twilioTransport sends twilio-go's requests to the configured API root with the caller's
// context, and remembers what answered.
type twilioTransport struct {
	ctx  context.Context
	base http.RoundTripper
	api  *url.URL

	mu         sync.Mutex
	status     int
	retryAfter time.Duration
}

func (t *twilioTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(t.ctx)
	req.URL.Scheme, req.URL.Host, req.Host = t.api.Scheme, t.api.Host, ""
	if p := strings.TrimSuffix(t.api.Path, "/"); p != "" {
		req.URL.Path = p + req.URL.Path
	}
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	t.mu.Lock()
	t.status, t.retryAfter = resp.StatusCode, parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
	t.mu.Unlock()
	return resp, nil
}

type answer struct {
	status     int
	retryAfter time.Duration
}

func (t *twilioTransport) answer() answer {
	t.mu.Lock()
	defer t.mu.Unlock()
	return answer{t.status, t.retryAfter}
}

// classify says whether a failed send may succeed later: 4xx answers (except 429) are
// permanent; 429, 5xx and no answer at all are temporary.
func (t *twilioTransport) classify(err error) *SendError {
	a := t.answer()
	se := &SendError{Status: a.status, RetryAfter: a.retryAfter, err: err}
	var rest *client.TwilioRestError
	var restV1 *client.RestErrorV1
	switch {
	case errors.As(err, &rest):
		se.Code, se.Reason = rest.Code, rest.Message
		if se.Status == 0 {
			se.Status = rest.Status // twilio-go refused before sending (credentials)
		}
	case errors.As(err, &restV1):
		se.Code, se.Reason = restV1.Code, restV1.Message
	}
	switch {
	case se.Status == 0:
		se.Reason = "Twilio could not be reached: " + err.Error()
	case se.Reason == "":
		se.Reason = fmt.Sprintf("Twilio answered %d %s", se.Status, http.StatusText(se.Status))
	}
	if se.Code != 0 {
		se.Reason = fmt.Sprintf("Twilio error %d: %s", se.Code, se.Reason)
	}
	se.Permanent = se.Status >= 400 && se.Status < 500 && se.Status != http.StatusTooManyRequests
	return se
}

// parseRetryAfter reads a Retry-After header: seconds or an HTTP date.
func parseRetryAfter(h string, now time.Time) time.Duration {
	if h == "" {
		return 0
	}
	if secs, err := strconv.Atoi(strings.TrimSpace(h)); err == nil && secs > 0 {
		return time.Duration(secs) * time.Second
	}
	if at, err := http.ParseTime(h); err == nil && at.After(now) {
		return at.Sub(now)
	}
	return 0
}

// Inbound is what text messages from participants and delivery reports act on.
type Inbound interface {
	// OptOut records that a number answered STOP: it gets no more text messages.
	OptOut(ctx context.Context, phone string) error
	// OptIn records that a number answered START.
	OptIn(ctx context.Context, phone string) error
	// Reply carries any other text to the clinician.
	Reply(ctx context.Context, phone, body string) error
	// Status records what became of a sent message (delivered, undelivered, failed).
	Status(ctx context.Context, providerID, status, errorCode string) error
}

// Keywords of inbound text messages, compared in upper case without accents. Carriers and
// Twilio also act on the English ones; ARRET and AIDE are the French conventions. CANCEL is not
// among them: Twilio does opt out a number that sends it, so it is handled apart.
var (
	optOutKeywords = []string{"STOP", "STOPALL", "UNSUBSCRIBE", "END", "QUIT", "ARRET"}
	optInKeywords  = []string{"START", "UNSTOP", "YES"}
	helpKeywords   = []string{"HELP", "INFO", "AIDE"}
)

// maxWebhookBody bounds what a webhook reads: Twilio's forms are a few kilobytes.
const maxWebhookBody = 64 << 10

// Webhooks serves Twilio's webhooks: POST /sms/inbound (a participant's text) and POST
// /sms/status (delivery reports). Requests must carry Twilio's signature of publicURL + path
// (the URL configured at Twilio, as Twilio saw it); anything else is refused with 403.
func (s *SMS) Webhooks(in Inbound, publicURL string) http.Handler {
	base := strings.TrimSuffix(publicURL, "/")
	mux := http.NewServeMux()
	mux.HandleFunc("POST /sms/inbound", s.signed(base+"/sms/inbound", func(w http.ResponseWriter, r *http.Request) {
		from, body := r.PostForm.Get("From"), r.PostForm.Get("Body")
		keyword := strings.ToUpper(strings.Trim(strings.TrimSpace(body), ".!"))
		keyword = strings.NewReplacer("Ê", "E", "ê", "E").Replace(keyword)
		var err error
		switch {
		case slices.Contains(optOutKeywords, keyword):
			err = in.OptOut(r.Context(), from)
		case keyword == "CANCEL":
			// Twilio stops sending to the number, so the ledger must know; but whoever sent it
			// most likely means their appointment, so the clinician reads it too. Messages
			// never ask anyone to send it.
			if err = in.OptOut(r.Context(), from); err == nil {
				err = in.Reply(r.Context(), from, strings.TrimSpace(body))
			}
		case slices.Contains(optInKeywords, keyword):
			err = in.OptIn(r.Context(), from)
		case slices.Contains(helpKeywords, keyword):
			twiml(w, s.helpText())
			return
		default:
			err = in.Reply(r.Context(), from, strings.TrimSpace(body))
		}
		if err != nil {
			s.log.Err(err).Msg("Failed to act on an inbound SMS")
			http.Error(w, "could not process the message", http.StatusInternalServerError)
			return
		}
		twiml(w, "")
	}))
	mux.HandleFunc("POST /sms/status", s.signed(base+"/sms/status", func(w http.ResponseWriter, r *http.Request) {
		sid, status := r.PostForm.Get("MessageSid"), r.PostForm.Get("MessageStatus")
		if sid == "" || status == "" {
			http.Error(w, "MessageSid and MessageStatus are required", http.StatusBadRequest)
			return
		}
		s.log.Debug().Str("provider_id", sid).Str("status", status).Msg("SMS status")
		if err := in.Status(r.Context(), sid, status, r.PostForm.Get("ErrorCode")); err != nil {
			s.log.Err(err).Str("provider_id", sid).Msg("Failed to record an SMS status")
			http.Error(w, "could not record the status", http.StatusInternalServerError)
			return
		}
		twiml(w, "")
	}))
	return mux
}

// signed checks Twilio's signature of the form posted to publicURL before calling next.
func (s *SMS) signed(publicURL string, next http.HandlerFunc) http.HandlerFunc {
	return twilioSigned(s.cfg.AuthToken, func(*http.Request) string { return publicURL }, s.log, next)
}

// twilioSigned checks Twilio's signature, with the account's auth token, of the form posted to
// the public URL urlOf gives for the request (the URL configured at Twilio, as Twilio saw it),
// before calling next; anything else is refused with 403.
func twilioSigned(authToken string, urlOf func(*http.Request) string, log zerolog.Logger, next http.HandlerFunc) http.HandlerFunc {
	validator := client.NewRequestValidator(authToken)
	return func(w http.ResponseWriter, r *http.Request) {
		publicURL := urlOf(r)
		r.Body = http.MaxBytesReader(w, r.Body, maxWebhookBody)
		if err := r.ParseForm(); err != nil {
			http.Error(w, "unreadable form", http.StatusBadRequest)
			return
		}
		signedURL := publicURL
		if r.URL.RawQuery != "" {
			signedURL += "?" + r.URL.RawQuery
		}
		params := make(map[string]string, len(r.PostForm))
		for k, v := range r.PostForm {
			params[k] = v[0]
		}
		if !validator.Validate(signedURL, params, r.Header.Get("X-Twilio-Signature")) {
			log.Warn().Str("path", r.URL.Path).Msg("Refused a webhook without a valid Twilio signature")
			http.Error(w, "invalid signature", http.StatusForbidden)
			return
		}
		next(w, r)
	}
}

// helpText answers HELP: who sends these messages and how to stop them, in both languages
// (the sender's is unknown).
func (s *SMS) helpText() string {
	clinic := s.cfg.ClinicName
	if name, err := gsmName(clinic); err == nil {
		clinic = name
	}
	if clinic == "" {
		clinic = "Appointments"
	}
	return clinic + ": appointment messages. Reply STOP to opt out. / Messages de rendez-vous. STOP pour ne plus recevoir."
}

// twiml answers a webhook with TwiML: an empty response, or one that replies with text.
func twiml(w http.ResponseWriter, message string) {
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	if message == "" {
		_, _ = io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><Response/>`)
		return
	}
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?><Response><Message>`)
	_ = xml.EscapeText(&b, []byte(message))
	b.WriteString(`</Message></Response>`)
	_, _ = io.WriteString(w, b.String())
}
