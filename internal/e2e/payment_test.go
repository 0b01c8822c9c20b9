package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"maunium.net/go/mautrix/id"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"github.com/telehealth-bridge/telehealth-bridge/internal/stripetest"
)

// TestPaymentInTheBrowser: a session booked with payment required; the client sees "Payment
// required" on their session page, pays on the (loopback) Stripe Checkout page, which sends the
// signed webhook and returns to the bridge; the page says paid; the panel's lobby shows "Paid"
// and the clinician admits without a question. A second client who has not paid knocks: the
// panel shows "Not paid" and Admit asks "Admit without payment?" before letting them in; a third
// is admitted the same way from the clinician's call page.
func TestPaymentInTheBrowser(t *testing.T) {
	fake := stripetest.New(t)
	h := newHarnessWith(t, func(cfg map[string]any, _ string) {
		cfg["payments.provider"] = "stripe"
		cfg["payments.stripe.secret_key"] = "sk_test_e2e"
		cfg["payments.stripe.webhook_secret"] = fake.WebhookSecret
		cfg["payments.stripe.api_url"] = fake.URL
	})
	fake.WebhookURL = h.env.Config.Web.PublicURL + "/stripe/webhook"
	ctx := context.Background()
	service := &bridge.PricedService{Name: "Consultation", Duration: 50 * time.Minute, Price: 8000, Currency: "eur", UpdatedBy: "@admin:x", UpdatedAt: h.clock.Now()}
	if err := h.env.App.DB.Store().PutPricedService(ctx, service); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/", h.routes())
	// POST /book-paid {name, amount, in_minutes}: a session soon with one web-link guest who owes
	// the service (amount in cents, 0: its price).
	mux.HandleFunc("POST /book-paid", func(w http.ResponseWriter, r *http.Request) {
		var m struct {
			Name      string `json:"name"`
			Amount    int64  `json:"amount"`
			InMinutes int    `json:"in_minutes"`
		}
		_ = json.NewDecoder(r.Body).Decode(&m)
		at := h.clock.Now().Add(time.Duration(m.InMinutes) * time.Minute).Truncate(time.Minute)
		s, err := h.env.App.Sessions.Schedule(ctx, bridge.ScheduleRequest{
			Clinician: h.clinician.UserID.String(), Start: at, End: at.Add(50 * time.Minute), TimeZone: "Europe/Paris",
			Participants: []bridge.ParticipantRequest{{Name: m.Name, Locale: "en", TimeZone: "Europe/Paris", Invite: bridge.InviteNone}},
			Payment:      &bridge.RequirePayment{ServiceID: service.ID, Amount: m.Amount},
		})
		if err == nil {
			_, err = h.clinician.JoinRoomByID(ctx, id.RoomID(s.RoomID))
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		_, ps, _ := h.env.App.Sessions.Lobby(ctx, "", s.ID)
		link, err := h.env.App.Web.ParticipantLink(ctx, s, ps[0])
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"session_id": s.ID, "guest_link": link})
	})
	runNode(t, "payment.mjs", h.env.Config.Web.PublicURL, serveControl(t, mux), "payment")

	// What the pages showed is what the bridge holds: one paid (through the webhook, with its
	// receipt), one admitted without payment, in the audit trail.
	var paid, unpaidAdmitted int
	if err := h.env.App.DB.QueryRow(ctx, "SELECT COUNT(*) FROM telehealth_payment WHERE status='paid' AND receipt_url <> ''").Scan(&paid); err != nil || paid != 1 {
		t.Errorf("paid payments: %d %v", paid, err)
	}
	if err := h.env.App.DB.QueryRow(ctx, "SELECT COUNT(*) FROM telehealth_audit WHERE action=$1", string(bridge.AuditAdmitUnpaid)).Scan(&unpaidAdmitted); err != nil || unpaidAdmitted != 2 {
		t.Errorf("admissions without payment audited: %d %v", unpaidAdmitted, err)
	}
}
