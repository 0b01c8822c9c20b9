// Package stripetest is a loopback server that answers like Stripe for the calls the bridge
// makes (Checkout Sessions, Refunds, Customers and their payment methods), with a hosted
// checkout page of its own: paying there sends the bridge a webhook signed with stripe-go's
// test signer, then returns to the success URL, as Stripe Checkout does. Tests set errors on
// it: a declined card, an expired session, the API down for some requests.
package stripetest

import (
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v82"
	"github.com/stripe/stripe-go/v82/webhook"
)

// DeclinedCard is the test card that the checkout page declines, as Stripe's does.
const DeclinedCard = "4000000000000002"

// Server is the fake Stripe.
type Server struct {
	URL           string
	WebhookSecret string
	// WebhookURL is where paying sends checkout.session.completed.
	WebhookURL string

	mu        sync.Mutex
	seq       int
	sessions  map[string]*session
	customers map[string][]string // customer -> saved cards' last 4
	idem      map[string][]byte   // idempotency key -> response
	failNext  int
	requests  []string
	refunds   []string
	events    [][]byte
	srv       *httptest.Server
}

type session struct {
	ID, URL, Status, PaymentStatus string
	SuccessURL, CancelURL          string
	Reference, Customer            string
	Amount                         int64
	Currency                       string
	PaymentIntent                  string
}

// New starts the server; it stops with the test.
func New(t testing.TB) *Server {
	s := &Server{WebhookSecret: "whsec_test_" + fmt.Sprint(time.Now().UnixNano()), sessions: map[string]*session{},
		customers: map[string][]string{}, idem: map[string][]byte{}}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL
	t.Cleanup(s.srv.Close)
	return s
}

// FailNext makes the next n API requests fail as Stripe unreachable does: the connection
// closes without an answer (stripe-go retries that; a Stripe error answer it does not).
func (s *Server) FailNext(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failNext = n
}

// Requests are the API requests received ("POST /v1/checkout/sessions"), failed ones too.
func (s *Server) Requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.requests...)
}

// Sessions counts the Checkout Sessions created (an idempotent replay creates none).
func (s *Server) Sessions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sessions)
}

// Refunds are the payment intents refunded.
func (s *Server) Refunds() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.refunds...)
}

// Expire expires a Checkout Session, as Stripe does after 24 hours.
func (s *Server) Expire(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if cs := s.sessions[id]; cs != nil {
		cs.Status = "expired"
	}
}

// Pay completes a Checkout Session as paying on its page does, without sending the webhook
// (a webhook the bridge missed). It returns the checkout.session.completed event's payload.
func (s *Server) Pay(id, card string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cs := s.sessions[id]
	if cs == nil || cs.Status != "open" {
		return nil, fmt.Errorf("no open session %s", id)
	}
	if card == DeclinedCard {
		return nil, fmt.Errorf("Your card was declined.")
	}
	s.seq++
	cs.Status, cs.PaymentStatus, cs.PaymentIntent = "complete", "paid", fmt.Sprintf("pi_test_%d", s.seq)
	if cs.Customer != "" {
		s.customers[cs.Customer] = append(s.customers[cs.Customer], card[len(card)-4:])
	}
	s.seq++
	ev, _ := json.Marshal(map[string]any{"id": fmt.Sprintf("evt_test_%d", s.seq), "object": "event", "api_version": stripe.APIVersion,
		"type": "checkout.session.completed", "created": time.Now().Unix(), "data": map[string]any{"object": s.sessionJSON(cs, false)}})
	s.events = append(s.events, ev)
	return ev, nil
}

// Events are the events the checkout page made, oldest first.
func (s *Server) Events() [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([][]byte(nil), s.events...)
}

// Sign signs a payload as Stripe signs webhooks, at the given time.
func (s *Server) Sign(payload []byte, at time.Time) string {
	return webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: payload, Secret: s.WebhookSecret, Timestamp: at}).Header
}

// Deliver posts a signed event to WebhookURL and returns the status.
func (s *Server) Deliver(payload []byte, at time.Time) (int, error) {
	req, err := http.NewRequest(http.MethodPost, s.WebhookURL, strings.NewReader(string(payload)))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Stripe-Signature", s.Sign(payload, at))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

func (s *Server) sessionJSON(cs *session, expand bool) map[string]any {
	out := map[string]any{"id": cs.ID, "object": "checkout.session", "url": cs.URL, "status": cs.Status, "payment_status": cs.PaymentStatus,
		"mode": "payment", "client_reference_id": cs.Reference, "amount_total": cs.Amount, "currency": cs.Currency,
		"success_url": cs.SuccessURL, "cancel_url": cs.CancelURL}
	if cs.Status != "open" {
		out["url"] = nil
	}
	if cs.Customer != "" {
		out["customer"] = cs.Customer
	}
	if cs.PaymentIntent != "" {
		if expand {
			out["payment_intent"] = map[string]any{"id": cs.PaymentIntent, "object": "payment_intent", "status": "succeeded",
				"latest_charge": map[string]any{"id": "ch_" + cs.PaymentIntent, "object": "charge", "receipt_url": s.URL + "/receipts/" + cs.PaymentIntent}}
		} else {
			out["payment_intent"] = cs.PaymentIntent
		}
	}
	return out
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/pay/") {
		s.page(w, r)
		return
	}
	if strings.HasPrefix(r.URL.Path, "/receipts/") {
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, "<!doctype html><title>Receipt</title><h1>Receipt</h1>")
		return
	}
	if !strings.HasPrefix(r.URL.Path, "/v1/") {
		http.NotFound(w, r) // the browser's favicon
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, r.Method+" "+r.URL.Path)
	if s.failNext > 0 {
		s.failNext--
		if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
			conn.Close()
			return
		}
		apiError(w, http.StatusInternalServerError, "api_error", "", "An unknown error occurred")
		return
	}
	if !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer sk_") {
		apiError(w, http.StatusUnauthorized, "invalid_request_error", "", "Invalid API Key provided")
		return
	}
	key := r.Header.Get("Idempotency-Key")
	if r.Method == http.MethodPost && key != "" {
		if body, ok := s.idem[r.URL.Path+" "+key]; ok {
			w.Header().Set("Content-Type", "application/json")
			w.Write(body)
			return
		}
	}
	_ = r.ParseForm()
	var out any
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/v1/customers":
		s.seq++
		id := fmt.Sprintf("cus_test_%d", s.seq)
		s.customers[id] = nil
		out = map[string]any{"id": id, "object": "customer"}
	case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/v1/customers/") && strings.HasSuffix(r.URL.Path, "/payment_methods"):
		id := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/v1/customers/"), "/payment_methods")
		cards, ok := s.customers[id]
		if !ok {
			apiError(w, http.StatusNotFound, "invalid_request_error", "resource_missing", "No such customer: '"+id+"'")
			return
		}
		data := []any{}
		for _, last4 := range cards {
			data = append(data, map[string]any{"id": "pm_" + last4, "object": "payment_method", "type": "card",
				"card": map[string]any{"brand": "visa", "last4": last4}})
		}
		out = map[string]any{"object": "list", "data": data, "has_more": false, "url": r.URL.Path}
	case r.Method == http.MethodPost && r.URL.Path == "/v1/checkout/sessions":
		s.seq++
		cs := &session{ID: fmt.Sprintf("cs_test_%d", s.seq), Status: "open", PaymentStatus: "unpaid",
			SuccessURL: r.PostForm.Get("success_url"), CancelURL: r.PostForm.Get("cancel_url"), Reference: r.PostForm.Get("client_reference_id"),
			Customer: r.PostForm.Get("customer"), Currency: r.PostForm.Get("line_items[0][price_data][currency]")}
		fmt.Sscan(r.PostForm.Get("line_items[0][price_data][unit_amount]"), &cs.Amount)
		if cs.SuccessURL == "" || cs.Amount <= 0 {
			apiError(w, http.StatusBadRequest, "invalid_request_error", "parameter_missing", "Missing required param")
			return
		}
		cs.URL = s.URL + "/pay/" + cs.ID
		s.sessions[cs.ID] = cs
		out = s.sessionJSON(cs, false)
	case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/v1/checkout/sessions/"):
		cs := s.sessions[strings.TrimPrefix(r.URL.Path, "/v1/checkout/sessions/")]
		if cs == nil {
			apiError(w, http.StatusNotFound, "invalid_request_error", "resource_missing", "No such checkout.session")
			return
		}
		out = s.sessionJSON(cs, len(r.Form["expand[0]"]) > 0)
	case r.Method == http.MethodPost && r.URL.Path == "/v1/refunds":
		pi := r.PostForm.Get("payment_intent")
		found := false
		for _, cs := range s.sessions {
			found = found || cs.PaymentIntent == pi && pi != ""
		}
		if !found {
			apiError(w, http.StatusBadRequest, "invalid_request_error", "resource_missing", "No such payment_intent")
			return
		}
		s.seq++
		s.refunds = append(s.refunds, pi)
		out = map[string]any{"id": fmt.Sprintf("re_test_%d", s.seq), "object": "refund", "status": "succeeded", "payment_intent": pi}
	default:
		apiError(w, http.StatusNotFound, "invalid_request_error", "", "Unrecognized request URL")
		return
	}
	body, _ := json.Marshal(out)
	if r.Method == http.MethodPost && key != "" {
		s.idem[r.URL.Path+" "+key] = body
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(body)
}

func apiError(w http.ResponseWriter, status int, typ, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"type": typ, "code": code, "message": msg}})
}

// page is the hosted checkout: a card number field and Pay. Paying sends the signed webhook
// and then returns to the success URL; a declined card stays on the page with Stripe's words.
func (s *Server) page(w http.ResponseWriter, r *http.Request) {
	id := strings.TrimPrefix(r.URL.Path, "/pay/")
	s.mu.Lock()
	cs := s.sessions[id]
	var status, cancel, success string
	var amount int64
	if cs != nil {
		status, cancel, success, amount = cs.Status, cs.CancelURL, cs.SuccessURL, cs.Amount
	}
	s.mu.Unlock()
	if cs == nil {
		http.NotFound(w, r)
		return
	}
	msg := ""
	if status != "open" {
		msg = "This checkout session has expired."
	}
	if r.Method == http.MethodPost && status == "open" {
		_ = r.ParseForm()
		ev, err := s.Pay(id, strings.ReplaceAll(r.PostForm.Get("card"), " ", ""))
		if err == nil {
			if code, err := s.Deliver(ev, time.Now()); err != nil || code != http.StatusOK {
				msg = fmt.Sprintf("The webhook failed: %d %v", code, err)
			} else {
				http.Redirect(w, r, strings.ReplaceAll(success, "{CHECKOUT_SESSION_ID}", url.QueryEscape(id)), http.StatusSeeOther)
				return
			}
		} else {
			msg = err.Error()
		}
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	fmt.Fprintf(w, `<!doctype html><html><head><title>Checkout</title><link rel="icon" href="data:,"></head><body><h1>Pay %d.%02d</h1><p role="alert">%s</p>
<form method="post"><label>Card number <input name="card" value="4242 4242 4242 4242"></label><button type="submit">Pay</button></form>
<a href="%s">Back</a></body></html>`, amount/100, amount%100, html.EscapeString(msg), html.EscapeString(cancel))
}
