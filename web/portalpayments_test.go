package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"github.com/telehealth-bridge/telehealth-bridge/internal/stripetest"
	"github.com/telehealth-bridge/telehealth-bridge/stripepay"
	"github.com/telehealth-bridge/telehealth-bridge/web"
)

// TestPortalPaymentsTab, on both databases: Alice's tab lists her payment (service, amount,
// status); Pay opens Stripe Checkout, which returns to her portal's tab; once paid, the tab has
// the receipt and the card Checkout saved on her Customer, read from Stripe ("Visa ending
// 4242", nothing stored); her insurance details are kept and too long ones refused.
func TestPortalPaymentsTab(t *testing.T) {
	for _, kind := range []string{"sqlite", "pgx"} {
		t.Run(kind, func(t *testing.T) {
			s := newSettingsSite(t, kind)
			ctx := context.Background()
			fake := stripetest.New(t)
			provider := stripepay.New(stripepay.Config{SecretKey: "sk_test_portal", WebhookSecret: fake.WebhookSecret, APIURL: fake.URL})
			s.svc.UsePayments(bridge.PaymentOptions{Store: s.db.Store(), Provider: provider})
			parts, _ := s.db.Store().Participants(ctx, "ali234")
			pay := &bridge.Payment{SessionID: "ali234", ParticipantID: parts[0].ID, ClientID: s.alice.ID, ServiceName: "Consultation",
				Amount: 8000, Currency: "eur", Status: bridge.PaymentDue, CreatedAt: s.clock.Now(), UpdatedAt: s.clock.Now()}
			if err := s.db.Store().InsertPayment(ctx, pay); err != nil {
				t.Fatal(err)
			}
			// A second payment, newer (listed first): paying the older one pays that one only.
			group, _ := s.db.Store().Participants(ctx, "grp234")
			other := &bridge.Payment{SessionID: "grp234", ClientID: s.alice.ID, ServiceName: "Groupe",
				Amount: 3000, Currency: "eur", Status: bridge.PaymentDue, CreatedAt: s.clock.Now(), UpdatedAt: s.clock.Now()}
			for _, p := range group {
				if p.ClientID == s.alice.ID {
					other.ParticipantID = p.ID
				}
			}
			if err := s.db.Store().InsertPayment(ctx, other); err != nil {
				t.Fatal(err)
			}
			alice := s.enrolled(s.alice.ID)
			tab := func() web.PortalPayments {
				var out web.PortalPayments
				if code, body := alice.call("GET", "/api/portal/payments", nil, &out); code != 200 {
					t.Fatalf("tab: %d %s", code, body)
				}
				return out
			}
			got := tab()
			if len(got.Payments) != 2 || got.Payments[1].Service != "Consultation" || got.Payments[1].AmountText != "80.00 EUR" || !got.Payments[1].CanPay || got.PaymentMode != "" || !got.Online {
				t.Fatalf("before paying: %+v", got)
			}
			var checkout struct {
				URL string `json:"url"`
			}
			if code, body := alice.call("POST", fmt.Sprintf("/api/portal/payments/%d/pay", pay.ID), map[string]any{}, &checkout); code != 200 || !strings.HasPrefix(checkout.URL, fake.URL) {
				t.Fatalf("pay: %d %s", code, body)
			}
			// Checkout returns to the portal's tab: no link with a token went to Stripe.
			id := checkout.URL[strings.LastIndex(checkout.URL, "/")+1:]
			noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			fake.WebhookURL = s.url + "/not-mounted" // the webhook is missed: Pay's next look at Stripe finds it paid
			resp, err := noRedirect.PostForm(checkout.URL, url.Values{"card": {"4242424242424242"}})
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if ev := fake.Events(); len(ev) != 1 {
				t.Fatalf("the checkout page made %d events", len(ev))
			}
			if err := s.svc.ReconcilePayments(ctx); err != nil {
				t.Fatal(err)
			}
			got = tab()
			if p := got.Payments[1]; p.Status != "paid" || p.ReceiptURL == "" || p.CanPay || got.PaymentMode != "Visa ending 4242" {
				t.Errorf("after paying %s: %+v mode %q", id, p, got.PaymentMode)
			}
			if p := got.Payments[0]; p.Service != "Groupe" || p.Status != "due" || !p.CanPay {
				t.Errorf("the other payment after paying the consultation: %+v", p)
			}
			raw, _ := json.Marshal(got)
			if strings.Contains(string(raw), "4242424242424242") {
				t.Errorf("the card number reached the tab: %s", raw)
			}
			var ins web.InsuranceView
			if code, body := alice.call("PUT", "/api/portal/insurance", web.InsuranceView{Insurer: "MGEN", MemberID: "123 456 789"}, &ins); code != 200 || ins.MemberID != "123 456 789" {
				t.Errorf("insurance: %d %s", code, body)
			}
			if code, body := alice.call("PUT", "/api/portal/insurance", web.InsuranceView{Insurer: "x", MemberID: strings.Repeat("9", 65)}, nil); code != 400 {
				t.Errorf("a member ID too long: %d %s", code, body)
			}
			if got = tab(); got.Insurance.Insurer != "MGEN" {
				t.Errorf("insurance kept: %+v", got.Insurance)
			}
			if code, body := s.browser().call("GET", "/api/portal/payments", nil, nil); code != 401 {
				t.Errorf("anonymous: %d %s", code, body)
			}
		})
	}
}
