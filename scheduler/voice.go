package scheduler

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"
	"github.com/twilio/twilio-go/client"
	openapi "github.com/twilio/twilio-go/rest/api/v2010"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
)

// VoiceConfig configures placing telephone sessions' calls through Twilio Voice.
type VoiceConfig struct {
	AccountSID, AuthToken string
	// CallerID is the clinic's number (E.164, a number of the account): both phones show it.
	CallerID string
	// PublicURL is the bridge's public root: Twilio posts the calls' callbacks under /voice/.
	PublicURL string
	// APIURL is Twilio's API root (tests point it at a mock).
	APIURL string
	// RingTimeout is how long each phone rings.
	RingTimeout time.Duration
	// Language is what the clinician hears: "en" (the default) or "fr".
	Language string
}

// voiceWords are what the clinician hears, by language.
var voiceWords = map[string]map[string]string{
	"en": {
		"prompt": "Your telehealth telephone session. Press 1 to call your client now.", "nokey": "No key was pressed. Goodbye.",
		"calling": "Calling your client.", "ended": "The call has ended. Goodbye.", "busy": "Your client's phone is busy. Goodbye.",
		"noanswer": "Your client did not answer. Goodbye.", "failed": "Your client's number could not be called. Goodbye.",
		"bye": "Goodbye.", "stale": "This call can no longer be connected. Goodbye.",
	},
	"fr": {
		"prompt": "Votre séance de téléconsultation par téléphone. Tapez 1 pour appeler votre patient.", "nokey": "Aucune touche n'a été tapée. Au revoir.",
		"calling": "Appel de votre patient.", "ended": "L'appel est terminé. Au revoir.", "busy": "La ligne de votre patient est occupée. Au revoir.",
		"noanswer": "Votre patient n'a pas répondu. Au revoir.", "failed": "Le numéro de votre patient n'a pas pu être appelé. Au revoir.",
		"bye": "Au revoir.", "stale": "Cet appel ne peut plus être connecté. Au revoir.",
	},
}

// Voice places calls through Twilio's Calls API and serves their callbacks. A call rings the
// clinician's own phone with a short prompt; pressing 1 dials the client with <Dial>, the
// clinic's number as caller ID, so that neither sees the other's number.
type Voice struct {
	cfg       VoiceConfig
	api       *url.URL
	transport http.RoundTripper
	log       zerolog.Logger
}

// NewVoice checks the configuration and returns the caller.
func NewVoice(cfg VoiceConfig, log zerolog.Logger) (*Voice, error) {
	switch {
	case cfg.AccountSID == "" || cfg.AuthToken == "":
		return nil, errors.New("configuring calls: the Twilio account SID and auth token are required")
	case !alphanumeric.MatchString(cfg.AccountSID) || !alphanumeric.MatchString(cfg.AuthToken):
		return nil, errors.New("configuring calls: the Twilio account SID and auth token are letters and digits only")
	case !e164.MatchString(cfg.CallerID):
		return nil, fmt.Errorf("configuring calls: the caller ID %q is not E.164 (+33123456789)", cfg.CallerID)
	}
	if cfg.APIURL == "" {
		cfg.APIURL = "https://api.twilio.com"
	}
	api, err := url.Parse(cfg.APIURL)
	if err != nil || api.Scheme == "" || api.Host == "" {
		return nil, fmt.Errorf("configuring calls: %q is not an API URL such as https://api.twilio.com", cfg.APIURL)
	}
	if u, err := url.Parse(cfg.PublicURL); err != nil || u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("configuring calls: the public URL %q is not absolute", cfg.PublicURL)
	}
	cfg.PublicURL = strings.TrimSuffix(cfg.PublicURL, "/")
	if cfg.RingTimeout <= 0 {
		cfg.RingTimeout = 30 * time.Second
	}
	if _, ok := voiceWords[cfg.Language]; !ok {
		cfg.Language = "en"
	}
	return &Voice{cfg: cfg, api: api, transport: http.DefaultTransport, log: log.With().Str("component", "voice").Logger()}, nil
}

// CallError is Twilio's refusal of a call, in words for the clinician.
type CallError struct{ *SendError }

func (e *CallError) Error() string { return e.Reason }

// Ring asks Twilio to call the clinician's phone for the attempt and returns the call's SID.
// Neither number is logged.
func (v *Voice) Ring(ctx context.Context, a *bridge.CallAttempt, clinicianPhone string) (string, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, sendTimeout)
		defer cancel()
	}
	c, rt := twilioClient(ctx, v.transport, v.api, v.cfg.AccountSID, v.cfg.AuthToken)
	params := &openapi.CreateCallParams{}
	params.SetTo(clinicianPhone).SetFrom(v.cfg.CallerID).SetTwiml(v.promptTwiML(a.ID)).
		SetTimeout(int(v.cfg.RingTimeout.Seconds())).
		// Only the call's end is reported (Twilio's default): the keypress says the clinician
		// answered, and the end says busy, no answer, failed or hung up.
		SetStatusCallback(v.hook("status", a.ID)).SetStatusCallbackMethod(http.MethodPost)
	call, err := openapi.NewApiService(client.NewRequestHandler(c)).CreateCall(params)
	if err != nil {
		se := rt.classify(err)
		v.log.Warn().Str("call", a.ID).Int("status", se.Status).Int("code", se.Code).Msg("Call not accepted")
		return "", &CallError{se}
	}
	if call == nil || call.Sid == nil || *call.Sid == "" {
		return "", &CallError{&SendError{Status: rt.answer().status, Reason: "Twilio accepted the call without giving its SID"}}
	}
	v.log.Info().Str("call", a.ID).Str("provider_id", *call.Sid).Msg("Call placed")
	return *call.Sid, nil
}

// hook is the public URL of one of an attempt's callbacks.
func (v *Voice) hook(kind, attemptID string) string {
	return v.cfg.PublicURL + "/voice/" + kind + "/" + attemptID
}

// promptTwiML is what the clinician hears on answering: press 1 to call the client. The
// keypress also tells a person from a voicemail, which would otherwise be connected.
func (v *Voice) promptTwiML(attemptID string) string {
	return response(
		`<Gather numDigits="1" timeout="10" method="POST" action="`+attr(v.hook("accept", attemptID))+`">`+
			v.say("prompt")+`</Gather>`,
		v.say("nokey"), `<Hangup/>`)
}

// dialTwiML connects the clinician to the client, the clinic's number as caller ID.
func (v *Voice) dialTwiML(attemptID, clientPhone string) string {
	return response(v.say("calling"),
		`<Dial callerId="`+attr(v.cfg.CallerID)+`" timeout="`+strconv.Itoa(int(v.cfg.RingTimeout.Seconds()))+
			`" method="POST" action="`+attr(v.hook("dialed", attemptID))+`">`+
			`<Number statusCallbackEvent="answered completed" statusCallbackMethod="POST" statusCallback="`+attr(v.hook("client", attemptID))+`">`+
			text(clientPhone)+`</Number></Dial>`)
}

func response(parts ...string) string {
	return `<?xml version="1.0" encoding="UTF-8"?><Response>` + strings.Join(parts, "") + `</Response>`
}

// say speaks one of voiceWords in the configured language.
func (v *Voice) say(key string) string {
	lang := map[string]string{"en": "en-GB", "fr": "fr-FR"}[v.cfg.Language]
	return `<Say language="` + lang + `">` + text(voiceWords[v.cfg.Language][key]) + `</Say>`
}

func text(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

func attr(s string) string { return text(s) }

// VoiceEvents is what the calls' callbacks act on (the session domain).
type VoiceEvents interface {
	// AcceptCall returns the client's number once the clinician accepted the call.
	AcceptCall(ctx context.Context, attemptID string) (string, error)
	// CallReport records what became of one leg.
	CallReport(ctx context.Context, attemptID string, leg bridge.CallLeg, st bridge.CallStatus) error
}

// callStatus maps Twilio's call statuses to the domain's.
func callStatus(twilio string) (bridge.CallStatus, bool) {
	switch twilio {
	case "queued", "initiated", "ringing":
		return bridge.CallStatusRinging, true
	case "in-progress", "answered":
		return bridge.CallStatusAnswered, true
	case "busy":
		return bridge.CallStatusBusy, true
	case "no-answer":
		return bridge.CallStatusNoAnswer, true
	case "failed":
		return bridge.CallStatusUnreached, true
	case "canceled":
		return bridge.CallStatusCancelled, true
	case "completed":
		return bridge.CallStatusCompleted, true
	}
	return "", false
}

// Webhooks serves the calls' callbacks under /voice/, each signed by Twilio for its full public
// URL (which names the attempt): status (the clinician's leg), accept (the clinician's
// keypress), client (the client's leg) and dialed (the end of the client's leg). Anything
// unsigned is refused with 403.
func (v *Voice) Webhooks(ev VoiceEvents) http.Handler {
	urlOf := func(r *http.Request) string { return v.cfg.PublicURL + r.URL.Path }
	signed := func(h http.HandlerFunc) http.HandlerFunc { return twilioSigned(v.cfg.AuthToken, urlOf, v.log, h) }
	mux := http.NewServeMux()
	report := func(leg bridge.CallLeg, field string) http.HandlerFunc {
		return signed(func(w http.ResponseWriter, r *http.Request) {
			st, ok := callStatus(r.PostForm.Get(field))
			if !ok {
				http.Error(w, field+" is missing or unknown", http.StatusBadRequest)
				return
			}
			if err := ev.CallReport(r.Context(), r.PathValue("id"), leg, st); errors.Is(err, bridge.ErrNotFound) {
				http.Error(w, "no such call", http.StatusNotFound)
				return
			} else if err != nil {
				v.log.Err(err).Msg("Failed to record a call's status")
				http.Error(w, "could not record the status", http.StatusInternalServerError)
				return
			}
			writeTwiML(w, response())
		})
	}
	mux.HandleFunc("POST /voice/status/{id}", report(bridge.LegClinician, "CallStatus"))
	mux.HandleFunc("POST /voice/client/{id}", report(bridge.LegClient, "CallStatus"))
	mux.HandleFunc("POST /voice/dialed/{id}", signed(func(w http.ResponseWriter, r *http.Request) {
		st, ok := callStatus(r.PostForm.Get("DialCallStatus"))
		if !ok {
			http.Error(w, "DialCallStatus is missing or unknown", http.StatusBadRequest)
			return
		}
		if st == bridge.CallStatusAnswered || st == bridge.CallStatusCompleted {
			// The dial was answered, then ended: whether or not the client's own "answered"
			// report came first, the client was on the line.
			if err := ev.CallReport(r.Context(), r.PathValue("id"), bridge.LegClient, bridge.CallStatusAnswered); err != nil && !errors.Is(err, bridge.ErrNotFound) {
				v.log.Err(err).Msg("Failed to record a dial's answer")
			}
			st = bridge.CallStatusCompleted
		}
		if err := ev.CallReport(r.Context(), r.PathValue("id"), bridge.LegClient, st); err != nil && !errors.Is(err, bridge.ErrNotFound) {
			v.log.Err(err).Msg("Failed to record the end of a dial")
		}
		goodbye := "ended"
		switch st {
		case bridge.CallStatusBusy:
			goodbye = "busy"
		case bridge.CallStatusNoAnswer:
			goodbye = "noanswer"
		case bridge.CallStatusUnreached:
			goodbye = "failed"
		}
		writeTwiML(w, response(v.say(goodbye), `<Hangup/>`))
	}))
	mux.HandleFunc("POST /voice/accept/{id}", signed(func(w http.ResponseWriter, r *http.Request) {
		if strings.TrimSpace(r.PostForm.Get("Digits")) != "1" {
			writeTwiML(w, response(v.say("bye"), `<Hangup/>`))
			return
		}
		phone, err := ev.AcceptCall(r.Context(), r.PathValue("id"))
		if err != nil {
			if !errors.Is(err, bridge.ErrNotFound) {
				v.log.Err(err).Msg("Failed to connect a call to the client")
			}
			writeTwiML(w, response(v.say("stale"), `<Hangup/>`))
			return
		}
		writeTwiML(w, v.dialTwiML(r.PathValue("id"), phone))
	}))
	return mux
}

func writeTwiML(w http.ResponseWriter, body string) {
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	_, _ = io.WriteString(w, body)
}
