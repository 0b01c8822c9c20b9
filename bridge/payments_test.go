package bridge_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"github.com/telehealth-bridge/telehealth-bridge/database"
	"github.com/telehealth-bridge/telehealth-bridge/internal/dbtest"
	"github.com/telehealth-bridge/telehealth-bridge/internal/stripetest"
	"github.com/telehealth-bridge/telehealth-bridge/stripepay"
)

// paymentNotices records the "something to complete" notices queued.
type paymentNotices struct {
	mu   sync.Mutex
	sent []string
}

func (n *paymentNotices) QueuePaymentNotice(_ context.Context, s *bridge.Session, p *bridge.Participant) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.sent = append(n.sent, fmt.Sprintf("%s/%d", s.ID, p.Number))
	return nil
}

type payFixture struct {
	notices  *paymentNotices
	ctx      context.Context
	svc      *bridge.Service
	clock    *clockwork.FakeClock
	fake     *stripetest.Server
	provider *stripepay.Provider
	service  *bridge.PricedService
	ana      *bridge.Client
	audit    *auditLog
	details  *detailsLog
}

// detailsLog is a lobby page: it hears of changes beside the lobby's people (payments).
type detailsLog struct {
	mu      sync.Mutex
	changes []string
}

func (d *detailsLog) LobbyChanged(*bridge.Session, []*bridge.Participant) {}
func (d *detailsLog) DetailsChanged(s *bridge.Session) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.changes = append(d.changes, s.ID)
}

func (d *detailsLog) count() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.changes)
}

const (
	drPay    = "@dr:hs"
	otherPay = "@other:hs"
	adminPay = "@admin:hs"
)

func newPayFixture(t *testing.T, db *database.Database, block bool, refund bridge.RefundPolicy) *payFixture {
	f := &payFixture{ctx: context.Background(), clock: clockwork.NewFakeClockAt(time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC))}
	f.fake = stripetest.New(t)
	f.provider = stripepay.New(stripepay.Config{SecretKey: "sk_test_x", WebhookSecret: f.fake.WebhookSecret, APIURL: f.fake.URL})
	f.audit = &auditLog{}
	f.svc = bridge.New(bridge.Options{Store: db.Store(), Clock: f.clock, Bot: "@bot:hs", Clients: db.Store(), Audit: f.audit,
		IsAdmin: func(u string) bool { return u == adminPay }})
	f.svc.UseClinicians(func(u string) bool { return u == drPay || u == otherPay })
	f.svc.Use(&numberedRooms{}, quietRooms{}, nil, nil)
	f.details = &detailsLog{}
	f.svc.Watch(f.details)
	f.notices = &paymentNotices{}
	f.svc.UsePaymentNotifier(f.notices)
	f.svc.UsePayments(bridge.PaymentOptions{Store: db.Store(), Provider: f.provider, BlockAdmission: block, Refund: refund})
	f.service = &bridge.PricedService{Name: "Consultation", Duration: 45 * time.Minute, Price: 8000, Currency: "EUR"}
	if err := f.svc.SavePricedService(f.ctx, adminPay, f.service); err != nil {
		t.Fatal(err)
	}
	var err error
	if f.ana, err = f.svc.CreateClient(f.ctx, drPay, bridge.ClientRequest{DisplayName: "Ana Lopez", Locale: "fr", TimeZone: "Europe/Paris"}); err != nil {
		t.Fatal(err)
	}
	return f
}

// book books Ana with payment required, opens the window and has her knock.
func (f *payFixture) book(t *testing.T, amount int64) (*bridge.Session, *bridge.Participant) {
	t.Helper()
	s, err := f.svc.Schedule(f.ctx, bridge.ScheduleRequest{Clinician: drPay, Start: f.clock.Now().Add(10 * time.Minute), End: f.clock.Now().Add(55 * time.Minute),
		TimeZone: "Europe/Paris", Participants: []bridge.ParticipantRequest{{ClientID: f.ana.ID, Name: "Ana Lopez", MatrixID: "@ana:hs"}},
		Payment: &bridge.RequirePayment{ServiceID: f.service.ID, Amount: amount}})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.svc.OpenWindow(f.ctx, s.ID); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.OnMembership(f.ctx, bridge.Membership{RoomID: s.RoomID, Target: "@ana:hs", Sender: "@ana:hs", Membership: bridge.MemberKnock, Reason: "Ana"}); err != nil {
		t.Fatal(err)
	}
	_, ps, err := f.svc.Lobby(f.ctx, drPay, s.ID)
	if err != nil || ps[0].State != bridge.StateWaiting {
		t.Fatalf("knocked: %v %v", ps, err)
	}
	return s, ps[0]
}

func (f *payFixture) status(t *testing.T, p *bridge.Participant) bridge.PaymentStatus {
	t.Helper()
	pay, err := f.svc.ParticipantPayment(f.ctx, p.ID)
	if err != nil || pay == nil {
		t.Fatalf("payment: %+v %v", pay, err)
	}
	return pay.Status
}

// TestPriceListPermissions: admins edit the price list, clinicians read it, nobody else.
func TestPriceListPermissions(t *testing.T) {
	f := newPayFixture(t, dbtest.Open(t, "sqlite"), false, bridge.RefundPolicy{})
	if err := f.svc.SavePricedService(f.ctx, drPay, &bridge.PricedService{Name: "Cheap", Duration: time.Hour, Price: 1, Currency: "eur"}); !errors.Is(err, bridge.ErrAdminOnly) {
		t.Errorf("a clinician changed prices: %v", err)
	}
	if err := f.svc.SavePricedService(f.ctx, adminPay, &bridge.PricedService{Name: "Bad", Duration: time.Hour, Price: 1, Currency: "euro"}); !errors.Is(err, bridge.ErrInvalidPayment) {
		t.Errorf("a bad currency: %v", err)
	}
	if list, err := f.svc.PricedServices(f.ctx, drPay, false); err != nil || len(list) != 1 || list[0].Currency != "eur" {
		t.Errorf("the clinician's list: %v %v", list, err)
	}
	for _, who := range []string{"", "@stranger:elsewhere"} {
		if _, err := f.svc.PricedServices(f.ctx, who, false); !errors.Is(err, bridge.ErrNotClinician) {
			t.Errorf("%q read the price list: %v", who, err)
		}
	}
}

// TestPaymentJourney, on both databases: booked with payment required (amount edited), the
// client knocks and admission asks for confirmation; they pay on the checkout page (a
// declined card first), the signed webhook marks it paid with a receipt, a replay is refused,
// and the clinician admits without a question. The client's customer keeps the saved card.
func TestPaymentJourney(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.Database) {
		f := newPayFixture(t, db, false, bridge.RefundPolicy{})
		s, p := f.book(t, 6500)
		pays, err := f.svc.SessionPayments(f.ctx, drPay, s.ID)
		if err != nil || pays[p.ID] == nil || pays[p.ID].Amount != 6500 || pays[p.ID].Status != bridge.PaymentDue {
			t.Fatalf("booked payment: %+v %v", pays, err)
		}
		if want := s.ID + "/1"; len(f.notices.sent) != 1 || f.notices.sent[0] != want {
			t.Errorf("payment notices %v, want %s", f.notices.sent, want)
		}
		if _, err := f.svc.SessionPayments(f.ctx, otherPay, s.ID); !errors.Is(err, bridge.ErrNotYourSession) {
			t.Errorf("another clinician saw the payments: %v", err)
		}
		// The panel reads payments without waiting behind a change of the session in flight.
		release := f.svc.HoldSession(s.ID)
		read := make(chan error, 1)
		go func() { _, err := f.svc.SessionPayments(f.ctx, drPay, s.ID); read <- err }()
		select {
		case err := <-read:
			if err != nil {
				t.Error(err)
			}
			release()
		case <-time.After(5 * time.Second):
			release()
			t.Error("reading the payments waited on the session's lock")
		}
		changes := f.details.count()
		if _, err := f.svc.Admit(f.ctx, drPay, s.ID, "1"); !errors.Is(err, bridge.ErrPaymentDue) {
			t.Fatalf("admitting unpaid: %v", err)
		}
		url, err := f.svc.StartCheckout(f.ctx, p.ID, "https://clinic.example/ok", "https://clinic.example/back")
		if err != nil || !strings.HasPrefix(url, f.fake.URL+"/pay/") {
			t.Fatalf("checkout: %q %v", url, err)
		}
		if again, err := f.svc.StartCheckout(f.ctx, p.ID, "https://clinic.example/ok", "https://clinic.example/back"); err != nil || again != url {
			t.Errorf("Pay twice opened %q (%v), want the same %q", again, err, url)
		}
		if st := f.status(t, p); st != bridge.PaymentPending {
			t.Errorf("status with an open checkout: %s", st)
		}
		if f.details.count() == changes {
			t.Error("the lobby's pages did not hear of the open checkout")
		}
		changes = f.details.count()
		id := url[strings.LastIndex(url, "/")+1:]
		if _, err := f.fake.Pay(id, stripetest.DeclinedCard); err == nil {
			t.Fatal("a declined card paid")
		}
		ev, err := f.fake.Pay(id, "4242424242424242")
		if err != nil {
			t.Fatal(err)
		}
		eventID, co, err := f.provider.Webhook(f.ctx, ev, f.fake.Sign(ev, time.Now()))
		if err != nil {
			t.Fatal(err)
		}
		if err := f.svc.CheckoutChanged(f.ctx, eventID, co); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.CheckoutChanged(f.ctx, eventID, co); !errors.Is(err, bridge.ErrEventReplayed) {
			t.Errorf("replayed event: %v", err)
		}
		pay, _ := f.svc.ParticipantPayment(f.ctx, p.ID)
		if pay.Status != bridge.PaymentPaid || pay.ReceiptURL == "" || pay.PaidAt.IsZero() {
			t.Errorf("after the webhook: %+v", pay)
		}
		if f.details.count() == changes {
			t.Error("the lobby's pages did not hear of the payment")
		}
		if _, err := f.svc.Admit(f.ctx, drPay, s.ID, "1"); err != nil {
			t.Errorf("admitting the paid client: %v", err)
		}
		if mode, err := f.svc.PaymentMode(f.ctx, f.ana.ID); err != nil || mode != "Visa ending 4242" {
			t.Errorf("saved payment mode: %q %v", mode, err)
		}
		if list, err := f.svc.ClientPayments(f.ctx, f.ana.ID); err != nil || len(list) != 1 {
			t.Errorf("client's payments: %v %v", list, err)
		}
		if _, err := f.svc.StartCheckout(f.ctx, p.ID, "https://clinic.example/ok", "https://clinic.example/back"); !errors.Is(err, bridge.ErrInvalidPayment) {
			t.Errorf("paying twice: %v", err)
		}
	})
}

// TestAdmitWithoutPayment: "anyway" admits and is audited; with block_admission nobody unpaid
// is admitted, anyway or not; an automatic admission leaves the unpaid client waiting.
func TestAdmitWithoutPayment(t *testing.T) {
	db := dbtest.Open(t, "sqlite")
	f := newPayFixture(t, db, false, bridge.RefundPolicy{})
	s, _ := f.book(t, 0)
	if _, err := f.svc.AdmitAnyway(f.ctx, otherPay, s.ID, "1"); !errors.Is(err, bridge.ErrNotYourSession) {
		t.Errorf("another clinician admitted: %v", err)
	}
	if _, err := f.svc.AdmitAll(f.ctx, drPay, s.ID); !errors.Is(err, bridge.ErrPaymentDue) {
		t.Errorf("admit all with one unpaid: %v", err)
	}
	if p, err := f.svc.AdmitAnyway(f.ctx, drPay, s.ID, "1"); err != nil || p.State != bridge.StateAdmitted {
		t.Errorf("admit anyway: %+v %v", p, err)
	}
	// Waived: nothing is owed, admission no longer asks.
	s3, _ := f.book(t, 0)
	if _, err := f.svc.WaivePayment(f.ctx, otherPay, s3.ID, "1"); !errors.Is(err, bridge.ErrNotYourSession) {
		t.Errorf("another clinician waived: %v", err)
	}
	if err := f.svc.HostAction(f.ctx, drPay, s3.ID, "waive", "1", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Admit(f.ctx, drPay, s3.ID, "1"); err != nil {
		t.Errorf("admitting once waived: %v", err)
	}

	blocked := newPayFixture(t, dbtest.Open(t, "sqlite"), true, bridge.RefundPolicy{})
	s2, _ := blocked.book(t, 0)
	for _, admit := range []func() (*bridge.Participant, error){
		func() (*bridge.Participant, error) { return blocked.svc.Admit(blocked.ctx, drPay, s2.ID, "1") },
		func() (*bridge.Participant, error) { return blocked.svc.AdmitAnyway(blocked.ctx, drPay, s2.ID, "1") },
	} {
		if _, err := admit(); !errors.Is(err, bridge.ErrPaymentBlocked) {
			t.Errorf("blocked admission: %v", err)
		}
	}
	if _, err := blocked.svc.MarkPaid(blocked.ctx, otherPay, s2.ID, "1", "INV-1"); !errors.Is(err, bridge.ErrNotYourSession) {
		t.Errorf("another clinician marked it paid: %v", err)
	}
	if pay, err := blocked.svc.MarkPaid(blocked.ctx, drPay, s2.ID, "1", "INV-1"); err != nil || pay.Status != bridge.PaymentPaid || pay.MarkedBy != drPay {
		t.Errorf("marked paid: %+v %v", pay, err)
	}
	if _, err := blocked.svc.Admit(blocked.ctx, drPay, s2.ID, "1"); err != nil {
		t.Errorf("admitting once marked paid: %v", err)
	}
}

// TestMissedWebhookReconciled: a checkout paid while the bridge heard nothing is paid after
// the reconciliation at start; an expired one is due again and Pay opens a new checkout.
func TestMissedWebhookReconciled(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.Database) {
		f := newPayFixture(t, db, false, bridge.RefundPolicy{})
		_, paid := f.book(t, 0)
		_, lapsed := f.book(t, 0)
		urls := map[int64]string{}
		for _, p := range []*bridge.Participant{paid, lapsed} {
			u, err := f.svc.StartCheckout(f.ctx, p.ID, "https://c.example/ok", "https://c.example/no")
			if err != nil {
				t.Fatal(err)
			}
			urls[p.ID] = u
		}
		id := func(u string) string { return u[strings.LastIndex(u, "/")+1:] }
		if _, err := f.fake.Pay(id(urls[paid.ID]), "4242424242424242"); err != nil {
			t.Fatal(err)
		}
		f.fake.Expire(id(urls[lapsed.ID]))
		f.fake.FailNext(1) // a network failure on the way is retried
		if err := f.svc.ReconcilePayments(f.ctx); err != nil {
			t.Fatal(err)
		}
		if st := f.status(t, paid); st != bridge.PaymentPaid {
			t.Errorf("paid while down: %s", st)
		}
		if st := f.status(t, lapsed); st != bridge.PaymentDue {
			t.Errorf("expired: %s", st)
		}
		again, err := f.svc.StartCheckout(f.ctx, lapsed.ID, "https://c.example/ok", "https://c.example/no")
		if err != nil || again == urls[lapsed.ID] {
			t.Errorf("after expiry: %q %v", again, err)
		}
	})
}

// TestRefundOnCancellation follows the policy: full refunds, before:24h refunds only when
// cancelled that early, none refunds nothing; a refund is asked once.
func TestRefundOnCancellation(t *testing.T) {
	for _, c := range []struct {
		name   string
		policy bridge.RefundPolicy
		want   bridge.PaymentStatus
	}{
		{"full", bridge.RefundPolicy{Always: true}, bridge.PaymentRefunded},
		{"before 24h, cancelled 10 minutes ahead", bridge.RefundPolicy{Before: 24 * time.Hour}, bridge.PaymentPaid},
		{"before 5m, cancelled 10 minutes ahead", bridge.RefundPolicy{Before: 5 * time.Minute}, bridge.PaymentRefunded},
		{"none", bridge.RefundPolicy{}, bridge.PaymentPaid},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newPayFixture(t, dbtest.Open(t, "sqlite"), false, c.policy)
			s, p := f.book(t, 0)
			u, err := f.svc.StartCheckout(f.ctx, p.ID, "https://c.example/ok", "https://c.example/no")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.fake.Pay(u[strings.LastIndex(u, "/")+1:], "4242424242424242"); err != nil {
				t.Fatal(err)
			}
			if err := f.svc.ReconcilePayments(f.ctx); err != nil {
				t.Fatal(err)
			}
			if _, err := f.svc.Cancel(f.ctx, drPay, s.ID); err != nil {
				t.Fatal(err)
			}
			if st := f.status(t, p); st != c.want {
				t.Errorf("after cancelling: %s, want %s", st, c.want)
			}
			if n := len(f.fake.Refunds()); (c.want == bridge.PaymentRefunded) != (n == 1) || n > 1 {
				t.Errorf("%d refunds at Stripe", n)
			}
		})
	}
}
