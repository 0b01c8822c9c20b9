package web_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix/id"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"github.com/telehealth-bridge/telehealth-bridge/internal/bridgetest"
	"github.com/telehealth-bridge/telehealth-bridge/internal/hstest"
	"github.com/telehealth-bridge/telehealth-bridge/internal/stripetest"
	"github.com/telehealth-bridge/telehealth-bridge/web"
)

// paymentSite is the whole bridge with Stripe Checkout on the loopback Stripe; @boss is an
// admin.
func paymentSite(t *testing.T, block bool) (*site, *stripetest.Server) {
	fake := stripetest.New(t)
	s := newSiteWith(t, func(cfg map[string]any) {
		cfg["payments.provider"] = "stripe"
		cfg["payments.stripe.secret_key"] = "sk_test_web"
		cfg["payments.stripe.webhook_secret"] = fake.WebhookSecret
		cfg["payments.stripe.api_url"] = fake.URL
		cfg["payments.block_admission"] = block
		cfg["permissions"] = map[string]any{hstest.ServerName: "clinician", "@boss:" + hstest.ServerName: "admin"}
	})
	fake.WebhookURL = s.env.Config.Web.PublicURL + "/stripe/webhook"
	return s, fake
}

type guestState struct {
	Me struct {
		State   string           `json:"state"`
		Payment *web.PaymentView `json:"payment"`
	} `json:"me"`
}

type panelView struct {
	Participants []web.ParticipantView `json:"participants"`
}

// paidSession books a guest with payment required for the service, opens the window and has
// the guest knock.
func (s *site) paidSession(serviceID, amount int64) (*bridge.Session, string) {
	s.t.Helper()
	ctx := context.Background()
	sess, err := s.env.App.Sessions.Schedule(ctx, bridge.ScheduleRequest{
		Clinician: s.clinician.UserID.String(), Start: time.Date(2026, 11, 24, 14, 0, 0, 0, time.UTC),
		End: time.Date(2026, 11, 24, 14, 50, 0, 0, time.UTC), TimeZone: "Europe/Paris",
		Participants: []bridge.ParticipantRequest{{Name: "Jane Doe", Email: "jane@example.org", Invite: bridge.InviteEmail}},
		Payment:      &bridge.RequirePayment{ServiceID: serviceID, Amount: amount},
	})
	if err != nil {
		s.t.Fatal(err)
	}
	if _, err = s.clinician.JoinRoomByID(ctx, id.RoomID(sess.RoomID)); err != nil {
		s.t.Fatal(err)
	}
	_, ps, _ := s.env.App.Sessions.Lobby(ctx, "", sess.ID)
	link, err := s.env.App.Web.ParticipantLink(ctx, sess, ps[0])
	if err != nil {
		s.t.Fatal(err)
	}
	token := link[strings.LastIndex(link, "/")+1:]
	s.openWindow(sess)
	if code := s.call("POST", "/api/call/knock", token, map[string]string{"name": "Jane"}, nil); code != 200 {
		s.t.Fatalf("knock: %d", code)
	}
	return sess, token
}

// TestPriceListOnThePanel: an admin adds a service; a clinician reads the list but may not
// change it; anonymous callers get nothing.
func TestPriceListOnThePanel(t *testing.T) {
	s, _ := paymentSite(t, false)
	s.signInDirect()
	boss := s.as("boss")
	var saved web.ServiceView
	if code := boss.call("POST", "/api/panel/services", "", web.ServiceView{Name: "Consultation", DurationMinutes: 45, Price: 8000, Currency: "EUR"}, &saved); code != 200 || saved.ID == 0 || saved.Currency != "eur" || saved.PriceText != "80.00 EUR" {
		t.Fatalf("admin adds a service: %d %+v", code, saved)
	}
	if code, body := s.raw("POST", "/api/panel/services", web.ServiceView{Name: "Cheaper", DurationMinutes: 45, Price: 1, Currency: "eur"}); code != 403 {
		t.Errorf("a clinician adds a service: %d %s", code, body)
	}
	if code, body := s.raw("PUT", fmt.Sprintf("/api/panel/services/%d", saved.ID), web.ServiceView{Name: "Consultation", DurationMinutes: 45, Price: 1, Currency: "eur"}); code != 403 {
		t.Errorf("a clinician changes a price: %d %s", code, body)
	}
	var list struct {
		Services []web.ServiceView `json:"services"`
		CanEdit  bool              `json:"can_edit"`
		Online   bool              `json:"online"`
	}
	if code := s.call("GET", "/api/panel/services", "", nil, &list); code != 200 || len(list.Services) != 1 || list.Services[0].Price != 8000 || list.CanEdit || !list.Online {
		t.Errorf("the clinician's list: %d %+v", code, list)
	}
	for _, r := range [][2]string{{"GET", "/api/panel/services"}, {"POST", "/api/panel/services"}, {"PUT", fmt.Sprintf("/api/panel/services/%d", saved.ID)}} {
		if code, _ := s.anonymous().raw(r[0], r[1], map[string]any{}); code != 401 {
			t.Errorf("anonymous %s %s: %d", r[0], r[1], code)
		}
	}
}

// TestPayBeforeTheSession: the guest's page says payment is required; the panel's lobby shows
// "not paid" and admission asks (409 payment_due); the guest pays on the checkout page (a
// declined card first), Stripe's signed webhook marks it paid and the page returns to /paid;
// the lobby shows paid and the clinician admits. A replayed or forged webhook is refused;
// another clinician and anonymous callers neither see nor admit; a stranger cannot pay.
func TestPayBeforeTheSession(t *testing.T) {
	s, fake := paymentSite(t, false)
	ctx := context.Background()
	service := &bridge.PricedService{Name: "Consultation", Duration: 45 * time.Minute, Price: 8000, Currency: "eur", UpdatedBy: "@boss:x", UpdatedAt: s.clock.Now()}
	if err := s.env.App.DB.Store().PutPricedService(ctx, service); err != nil {
		t.Fatal(err)
	}
	sess, token := s.paidSession(service.ID, 6500)
	var st guestState
	if code := s.call("GET", "/api/call/state", token, nil, &st); code != 200 || st.Me.Payment == nil || st.Me.Payment.Status != "due" || !st.Me.Payment.CanPay || st.Me.Payment.AmountText != "65.00 EUR" {
		t.Fatalf("guest's state: %d %+v", code, st.Me.Payment)
	}

	s.signInDirect()
	lobby := func() *web.PaymentView {
		var v panelView
		if code := s.call("GET", "/api/panel/sessions/"+sess.ID, "", nil, &v); code != 200 || len(v.Participants) != 1 {
			t.Fatalf("panel lobby: %d %+v", code, v)
		}
		return v.Participants[0].Payment
	}
	if p := lobby(); p == nil || p.Status != "due" {
		t.Fatalf("lobby before paying: %+v", p)
	}
	var refusal apiErr
	if code := s.call("POST", "/api/panel/sessions/"+sess.ID+"/admit", "", map[string]string{"participant": "1"}, &refusal); code != 409 || refusal.Code != "payment_due" || !strings.Contains(refusal.Error, "not paid") {
		t.Errorf("admitting unpaid: %d %+v", code, refusal)
	}
	other := s.as("dr.other")
	for _, who := range []*site{other, s.anonymous()} {
		if code, body := who.raw("POST", "/api/panel/sessions/"+sess.ID+"/admit-anyway", map[string]string{"participant": "1"}); code != 403 && code != 401 {
			t.Errorf("%s admits anyway: %d %s", who.clinician.UserID, code, body)
		}
		if code, body := who.raw("GET", "/api/panel/sessions/"+sess.ID, nil); code != 403 && code != 401 || strings.Contains(body, "65.00") {
			t.Errorf("%s reads the lobby: %d %s", who.clinician.UserID, code, body)
		}
	}
	if code, _ := s.anonymous().raw("POST", "/api/call/pay", map[string]any{}); code != 401 {
		t.Errorf("anonymous pays: %d", code)
	}

	var checkout struct {
		URL string `json:"url"`
	}
	if code := s.call("POST", "/api/call/pay", token, map[string]any{}, &checkout); code != 200 || !strings.HasPrefix(checkout.URL, fake.URL+"/pay/") {
		t.Fatalf("pay: %d %+v", code, checkout)
	}
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	submit := func(card string) (*http.Response, string) {
		resp, err := browser.PostForm(checkout.URL, url.Values{"card": {card}})
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp, string(body)
	}
	if resp, body := submit(stripetest.DeclinedCard); resp.Request.URL.Host != strings.TrimPrefix(fake.URL, "http://") || !strings.Contains(body, "declined") {
		t.Fatalf("declined card: %s %s", resp.Request.URL, body)
	}
	if s.call("GET", "/api/call/state", token, nil, &st); st.Me.Payment.Status != "pending" {
		t.Errorf("after a declined card: %s", st.Me.Payment.Status)
	}
	resp, _ := submit("4242 4242 4242 4242")
	if resp.Request.URL.Path != "/paid" || resp.Request.URL.Query().Get("status") != "paid" || resp.StatusCode != 200 {
		t.Fatalf("back from checkout at %s (%d)", resp.Request.URL, resp.StatusCode)
	}
	st = guestState{}
	if s.call("GET", "/api/call/state", token, nil, &st); st.Me.Payment.Status != "paid" || st.Me.Payment.ReceiptURL == "" || st.Me.Payment.CanPay {
		t.Errorf("guest after paying: %+v", st.Me.Payment)
	}
	if p := lobby(); p == nil || p.Status != "paid" {
		t.Errorf("lobby after paying: %+v", p)
	}

	// The event again, signed afresh: refused. Changed after signing, or signed with another
	// secret: refused.
	events := fake.Events()
	last := events[len(events)-1]
	if code, err := fake.Deliver(last, time.Now()); err != nil || code != http.StatusConflict {
		t.Errorf("replayed webhook: %d %v", code, err)
	}
	forged := []byte(strings.Replace(string(last), "evt_", "evt_forged_", 1))
	req, _ := http.NewRequest("POST", fake.WebhookURL, strings.NewReader(string(forged)))
	req.Header.Set("Stripe-Signature", fake.Sign(last, time.Now()))
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusBadRequest {
		t.Errorf("forged webhook: %v %v", resp, err)
	}
	if code, err := fake.Deliver(forged, time.Now().Add(-10*time.Minute)); err != nil || code != http.StatusBadRequest {
		t.Errorf("old signature: %d %v", code, err)
	}

	if code, body := s.raw("POST", "/api/panel/sessions/"+sess.ID+"/admit", map[string]string{"participant": "1"}); code != 200 {
		t.Errorf("admitting once paid: %d %s", code, body)
	}
	bridgetest.Eventually(t, wait, "the guest admitted", func() bool {
		s.call("GET", "/api/call/state", token, nil, &st)
		return st.Me.State == "admitted" || st.Me.State == "in_session"
	})
}

// TestAdmitWithoutPaymentOnThePanel: the clinician confirms and admits anyway; with
// payments.block_admission the panel is told admission is refused.
func TestAdmitWithoutPaymentOnThePanel(t *testing.T) {
	for _, block := range []bool{false, true} {
		t.Run(fmt.Sprint("block=", block), func(t *testing.T) {
			s, _ := paymentSite(t, block)
			service := &bridge.PricedService{Name: "Consultation", Duration: time.Hour, Price: 5000, Currency: "eur", UpdatedBy: "@boss:x", UpdatedAt: s.clock.Now()}
			if err := s.env.App.DB.Store().PutPricedService(context.Background(), service); err != nil {
				t.Fatal(err)
			}
			sess, _ := s.paidSession(service.ID, 0)
			s.signInDirect()
			var refusal apiErr
			code := s.call("POST", "/api/panel/sessions/"+sess.ID+"/admit-anyway", "", map[string]string{"participant": "1"}, &refusal)
			if !block && code != 200 {
				t.Errorf("admit anyway: %d %+v", code, refusal)
			}
			if block && (code != 409 || refusal.Code != "payment_blocked" || !strings.Contains(refusal.Error, "does not admit without payment")) {
				t.Errorf("blocked admission: %d %+v", code, refusal)
			}
		})
	}
}

// TestWebhookMissedWhileDownIsReconciledAtStart: the client pays while the bridge is stopped
// (Stripe's webhook finds nobody); at the next start the bridge asks Stripe and the payment is
// paid, with its receipt, without any webhook.
func TestWebhookMissedWhileDownIsReconciledAtStart(t *testing.T) {
	s, fake := paymentSite(t, false)
	ctx := context.Background()
	service := &bridge.PricedService{Name: "Consultation", Duration: time.Hour, Price: 5000, Currency: "eur", UpdatedBy: "@boss:x", UpdatedAt: s.clock.Now()}
	if err := s.env.App.DB.Store().PutPricedService(ctx, service); err != nil {
		t.Fatal(err)
	}
	_, token := s.paidSession(service.ID, 0)
	var checkout struct {
		URL string `json:"url"`
	}
	if code := s.call("POST", "/api/call/pay", token, map[string]any{}, &checkout); code != 200 {
		t.Fatalf("pay: %d", code)
	}
	s.env.Stop()
	if _, err := fake.Pay(checkout.URL[strings.LastIndex(checkout.URL, "/")+1:], "4242424242424242"); err != nil {
		t.Fatal(err)
	}
	if code, err := fake.Deliver(fake.Events()[0], time.Now()); err == nil {
		t.Fatalf("a webhook reached a stopped bridge: %d", code)
	}
	s.env.Start(t)
	var st guestState
	if code := s.call("GET", "/api/call/state", token, nil, &st); code != 200 || st.Me.Payment == nil || st.Me.Payment.Status != "paid" || st.Me.Payment.ReceiptURL == "" {
		t.Errorf("after the restart: %d %+v", code, st.Me.Payment)
	}
}

// TestBookWithPaymentOnThePanel: "Require payment" on the panel's booking form: the amount of
// this booking replaces the service's price; an unknown or archived service is refused next
// to its field and books nothing.
func TestBookWithPaymentOnThePanel(t *testing.T) {
	s, _ := paymentSite(t, false)
	ctx := context.Background()
	store := s.env.App.DB.Store()
	offered := &bridge.PricedService{Name: "Consultation", Duration: time.Hour, Price: 5000, Currency: "eur", UpdatedBy: "@boss:x", UpdatedAt: s.clock.Now()}
	archived := &bridge.PricedService{Name: "Old", Duration: time.Hour, Price: 1000, Currency: "eur", Archived: true, UpdatedBy: "@boss:x", UpdatedAt: s.clock.Now()}
	for _, sv := range []*bridge.PricedService{offered, archived} {
		if err := store.PutPricedService(ctx, sv); err != nil {
			t.Fatal(err)
		}
	}
	s.signInDirect()
	form := web.ScheduleForm{Date: "2026-11-25", Time: "10:00", TimeZone: "Europe/Paris", Name: "Jane Doe", Invite: "none", Locale: "en",
		ParticipantZone: "Europe/Paris", PaymentServiceID: offered.ID, PaymentAmount: 4200}
	var booked panelView
	if code := s.call("POST", "/api/panel/sessions", "", form, &booked); code != 200 || len(booked.Participants) != 1 || booked.Participants[0].Payment == nil ||
		booked.Participants[0].Payment.Amount != 4200 || booked.Participants[0].Payment.Status != "due" {
		t.Fatalf("booked with payment: %d %+v", code, booked)
	}
	for _, id := range []int64{archived.ID, 999} {
		form.PaymentServiceID = id
		var e apiErr
		if code := s.call("POST", "/api/panel/sessions", "", form, &e); code != 400 || e.Code != "field:payment_service_id" {
			t.Errorf("service %d: %d %+v", id, code, e)
		}
	}
	var sessions int
	if err := s.env.App.DB.QueryRow(ctx, "SELECT COUNT(*) FROM telehealth_session").Scan(&sessions); err != nil || sessions != 1 {
		t.Errorf("%d sessions stored, want 1", sessions)
	}
}
