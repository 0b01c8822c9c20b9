package bridge

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/rs/zerolog"
)

// The payment journey: a clinician books a session with "Require payment" (a service from the
// price list, the amount filled in and editable); each participant then owes it before
// joining. The client pays through the provider's checkout (the session page or the portal),
// the provider's signed webhook or a reconciliation at start marks it paid; the clinic's own
// billing may mark it paid by a command event; the clinician may waive it. A session
// cancelled once paid is refunded as the clinic's policy says.
//
// Who may do what: every clinician (and admin) reads the price list and books with payment;
// only admins add, change or archive services (prices are the clinic's, not one clinician's).
// Marking paid or waiving is for the session's clinician or an admin (withSession). A client
// pays, and sees, only their own payments: another's is ErrPaymentNotFound, as an unknown one.

// paymentState holds the payment journey's store, provider and policy.
type paymentState struct {
	store    PaymentStore
	provider PaymentProvider
	block    bool
	refund   RefundPolicy
	// notifier tells participants that a payment is due; none if nil.
	notifier PaymentNotifier
}

// UsePaymentNotifier sets who tells participants that a payment is due (the outbox).
func (svc *Service) UsePaymentNotifier(n PaymentNotifier) { svc.payments.notifier = n }

// UsePayments connects the payment journey; without it no session requires payment.
func (svc *Service) UsePayments(opts PaymentOptions) {
	svc.payments = paymentState{store: opts.Store, provider: opts.Provider, block: opts.BlockAdmission, refund: opts.Refund,
		notifier: svc.payments.notifier}
}

// noticePayments tells each participant of a new session with payment required that they have
// something to complete. A failure is logged: the session page shows the payment all the same.
func (svc *Service) noticePayments(ctx context.Context, s *Session, ps []*Participant) {
	if svc.payments.notifier == nil {
		return
	}
	for _, p := range ps {
		if err := svc.payments.notifier.QueuePaymentNotice(ctx, s, p); err != nil {
			zerolog.Ctx(ctx).Err(err).Str("session_id", s.ID).Int("participant", p.Number).Msg("Failed to queue the payment notice")
		}
	}
}

// PaymentsEnabled reports whether sessions can require payment.
func (svc *Service) PaymentsEnabled() bool { return svc.payments.store != nil }

// OnlinePayment reports whether clients can pay online.
func (svc *Service) OnlinePayment() bool { return svc.payments.provider != nil }

// BlocksUnpaidAdmission reports whether admitting an unpaid participant is refused.
func (svc *Service) BlocksUnpaidAdmission() bool { return svc.payments.block }

// ErrPaymentsOff is a payment request on a bridge without payments.
var ErrPaymentsOff = errors.New("payments are not available")

func (svc *Service) paymentStore() (PaymentStore, error) {
	if svc.payments.store == nil {
		return nil, ErrPaymentsOff
	}
	return svc.payments.store, nil
}

// mayBook: a clinician of the clinic or an admin.
func (svc *Service) mayBook(actor string) bool {
	return actor != "" && (svc.isAdmin(actor) || svc.isClinician != nil && svc.isClinician(actor))
}

// PricedServices is the clinic's price list, for its clinicians; archived services too if all.
func (svc *Service) PricedServices(ctx context.Context, actor string, all bool) ([]*PricedService, error) {
	store, err := svc.paymentStore()
	if err != nil {
		return nil, err
	}
	if !svc.mayBook(actor) {
		return nil, ErrNotClinician
	}
	return store.PricedServices(ctx, all)
}

// ErrAdminOnly is a clinician changing what only admins change.
var ErrAdminOnly = errors.New("only the clinic's admins can do this")

// SavePricedService adds a service (ID 0) or changes one: admins only.
func (svc *Service) SavePricedService(ctx context.Context, actor string, ps *PricedService) error {
	store, err := svc.paymentStore()
	if err != nil {
		return err
	}
	if actor == "" || !svc.isAdmin(actor) {
		return ErrAdminOnly
	}
	ps.Name = strings.TrimSpace(ps.Name)
	ps.Currency = strings.ToLower(strings.TrimSpace(ps.Currency))
	switch {
	case ps.Name == "" || utf8.RuneCountInString(ps.Name) > 100:
		return fmt.Errorf("%w: the name must have 1 to 100 characters", ErrInvalidPayment)
	case ps.Duration <= 0 || ps.Duration > 12*time.Hour || ps.Duration%time.Minute != 0:
		return fmt.Errorf("%w: the duration must be whole minutes, up to 12 hours", ErrInvalidPayment)
	case ps.Price < 0 || ps.Price > 100_000_00:
		return fmt.Errorf("%w: the price must be between 0 and 100000", ErrInvalidPayment)
	case !validCurrency(ps.Currency):
		return fmt.Errorf("%w: the currency must be a three-letter code such as EUR", ErrInvalidPayment)
	}
	if ps.ID != 0 {
		if _, err := store.GetPricedService(ctx, ps.ID); err != nil {
			return err
		}
	}
	ps.UpdatedBy, ps.UpdatedAt = actor, svc.clock.Now()
	if err := store.PutPricedService(ctx, ps); err != nil {
		return fmt.Errorf("storing the service: %w", err)
	}
	_ = svc.Audit(ctx, AuditEntry{Actor: actor, Action: AuditPriceChanged, Subject: "service:" + strconv.FormatInt(ps.ID, 10),
		Detail: map[string]string{"price": strconv.FormatInt(ps.Price, 10), "currency": ps.Currency, "archived": strconv.FormatBool(ps.Archived)}})
	return nil
}

func validCurrency(c string) bool {
	if len(c) != 3 {
		return false
	}
	for _, r := range c {
		if r < 'a' || r > 'z' {
			return false
		}
	}
	return true
}

// The payment journey's audit actions: amounts and IDs only, never a service name.
const (
	AuditPriceChanged   AuditAction = "price_changed"
	AuditPaymentDue     AuditAction = "payment_due"
	AuditPaymentPaid    AuditAction = "payment_paid"
	AuditPaymentWaived  AuditAction = "payment_waived"
	AuditPaymentRefund  AuditAction = "payment_refunded"
	AuditAdmitUnpaid    AuditAction = "admit_unpaid"
	AuditPaymentEventIn AuditAction = "payment_event"
)

// checkRequirePayment checks a booking's payment request before anything is stored.
func (svc *Service) checkRequirePayment(ctx context.Context, rp *RequirePayment) (*PricedService, error) {
	store, err := svc.paymentStore()
	if err != nil {
		return nil, err
	}
	ps, err := store.GetPricedService(ctx, rp.ServiceID)
	if err != nil {
		return nil, fmt.Errorf("%w: choose a service from the price list", ErrInvalidSchedule)
	}
	if ps.Archived {
		return nil, fmt.Errorf("%w: the service is no longer offered", ErrInvalidSchedule)
	}
	if rp.Amount < 0 || rp.Amount > 100_000_00 {
		return nil, fmt.Errorf("%w: the amount must be between 0 and 100000", ErrInvalidSchedule)
	}
	return ps, nil
}

// addPayments makes each participant of a new session owe the service's amount.
func (svc *Service) addPayments(ctx context.Context, s *Session, ps []*Participant, rp *RequirePayment, service *PricedService, actor string) error {
	amount := rp.Amount
	if amount == 0 {
		amount = service.Price
	}
	now := svc.clock.Now()
	for _, p := range ps {
		pay := &Payment{SessionID: s.ID, ParticipantID: p.ID, ClientID: p.ClientID, ServiceID: service.ID, ServiceName: service.Name,
			Amount: amount, Currency: service.Currency, Status: PaymentDue, CreatedAt: now, UpdatedAt: now}
		if err := svc.payments.store.InsertPayment(ctx, pay); err != nil {
			return fmt.Errorf("storing participant %d's payment: %w", p.Number, err)
		}
		svc.auditPayment(ctx, pay, AuditPaymentDue, actor)
	}
	return nil
}

func (svc *Service) auditPayment(ctx context.Context, pay *Payment, action AuditAction, actor string) {
	_ = svc.Audit(ctx, AuditEntry{Actor: actor, Action: action, SessionID: pay.SessionID,
		Subject: "participant:" + strconv.FormatInt(pay.ParticipantID, 10),
		Detail:  map[string]string{"payment": strconv.FormatInt(pay.ID, 10), "amount": strconv.FormatInt(pay.Amount, 10), "currency": pay.Currency}})
}

// updatePayment stores a payment's change and tells the lobby's pages (Paid, Not paid).
func (svc *Service) updatePayment(ctx context.Context, pay *Payment) error {
	if err := svc.payments.store.UpdatePayment(ctx, pay); err != nil {
		return err
	}
	var s *Session
	for _, w := range svc.watchers {
		if dw, ok := w.(DetailsWatcher); ok {
			if s == nil {
				var err error
				if s, err = svc.store.GetSession(ctx, pay.SessionID); err != nil {
					return nil // stored; the pages see it on their next change
				}
			}
			dw.DetailsChanged(s)
		}
	}
	return nil
}

// SessionPayments are a session's payments by participant ID, for its clinician or an admin.
// It reads without the session's lock, as Lobby does: the panel's list reads every session's
// payments each time one of them changes, and must not wait behind a change in flight.
func (svc *Service) SessionPayments(ctx context.Context, actor, id string) (map[int64]*Payment, error) {
	out := map[int64]*Payment{}
	if svc.payments.store == nil {
		return out, nil
	}
	if actor != "" {
		s, err := svc.store.GetSession(ctx, id)
		if err != nil {
			return nil, err
		}
		if !svc.mayAct(actor, s) {
			return nil, ErrNotYourSession
		}
	}
	list, err := svc.payments.store.SessionPayments(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("loading the session's payments: %w", err)
	}
	for _, p := range list {
		out[p.ParticipantID] = p
	}
	return out, nil
}

// ParticipantPayment is what a participant owes, or nil: for their own session page.
func (svc *Service) ParticipantPayment(ctx context.Context, participantID int64) (*Payment, error) {
	if svc.payments.store == nil {
		return nil, nil
	}
	pay, err := svc.payments.store.ParticipantPayment(ctx, participantID)
	if errors.Is(err, ErrPaymentNotFound) {
		return nil, nil
	}
	return pay, err
}

// ClientPayments are a client's payments, latest first: for the client's own portal.
func (svc *Service) ClientPayments(ctx context.Context, clientID int64) ([]*Payment, error) {
	store, err := svc.paymentStore()
	if err != nil {
		return nil, err
	}
	return store.ClientPayments(ctx, clientID)
}

// unpaid reports the participant's payment when it is still owed, else nil.
func (svc *Service) unpaid(ctx context.Context, p *Participant) (*Payment, error) {
	if svc.payments.store == nil || p.ID == 0 {
		return nil, nil
	}
	pay, err := svc.payments.store.ParticipantPayment(ctx, p.ID)
	if errors.Is(err, ErrPaymentNotFound) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("loading %s's payment: %w", p.DisplayName(), err)
	}
	if pay.Status.Settled() {
		return nil, nil
	}
	return pay, nil
}

// admissionPaid says whether p may be admitted as far as payment goes: an unpaid participant
// is refused (block) or needs the clinician's "anyway".
func (svc *Service) admissionPaid(ctx context.Context, s *Session, p *Participant, actor string, anyway bool) error {
	pay, err := svc.unpaid(ctx, p)
	if err != nil || pay == nil {
		return err
	}
	if svc.payments.block {
		return fmt.Errorf("%w: %s has not paid", ErrPaymentBlocked, p.DisplayName())
	}
	if !anyway {
		return fmt.Errorf("%w: %s has not paid; admit anyway?", ErrPaymentDue, p.DisplayName())
	}
	svc.auditPayment(ctx, pay, AuditAdmitUnpaid, actor)
	return nil
}

// AdmitAnyway admits a participant who has not paid, the clinician having confirmed it
// ("Admit without payment?"). It is refused where the clinic blocks unpaid admission.
func (svc *Service) AdmitAnyway(ctx context.Context, actor, id, ref string) (*Participant, error) {
	return svc.onParticipant(ctx, actor, id, ref, func(s *Session, p *Participant) error {
		if p.MatrixID == "" {
			return fmt.Errorf("%w: %s has not joined from Matrix or their link yet", ErrInvalidTransition, p.DisplayName())
		}
		if err := svc.admissionPaid(ctx, s, p, actor, true); err != nil {
			return err
		}
		return svc.admitUnchecked(ctx, s, p, actor)
	})
}

// MarkPaid records a payment made outside the provider (the clinic's own billing): for the
// session's clinician or an admin. reference is the clinic's own (an invoice number), kept
// in the audit trail. A payment paid already stays as it is.
func (svc *Service) MarkPaid(ctx context.Context, actor, id, ref, reference string) (*Payment, error) {
	return svc.settleByHand(ctx, actor, id, ref, PaymentPaid, reference)
}

// WaivePayment lets a participant's payment go: for the session's clinician or an admin.
func (svc *Service) WaivePayment(ctx context.Context, actor, id, ref string) (*Payment, error) {
	return svc.settleByHand(ctx, actor, id, ref, PaymentWaived, "")
}

func (svc *Service) settleByHand(ctx context.Context, actor, id, ref string, status PaymentStatus, reference string) (*Payment, error) {
	store, err := svc.paymentStore()
	if err != nil {
		return nil, err
	}
	if utf8.RuneCountInString(reference) > 100 {
		return nil, fmt.Errorf("%w: the reference is longer than 100 characters", ErrInvalidPayment)
	}
	var pay *Payment
	_, err = svc.onParticipant(ctx, actor, id, ref, func(s *Session, p *Participant) error {
		pay, err = store.ParticipantPayment(ctx, p.ID)
		if err != nil {
			return err
		}
		if pay.Status == PaymentPaid || pay.Status == PaymentRefunded || pay.Status == status {
			return nil
		}
		now := svc.clock.Now()
		pay.Status, pay.MarkedBy, pay.UpdatedAt = status, actor, now
		if status == PaymentPaid {
			pay.PaidAt = now
		}
		if err := svc.updatePayment(ctx, pay); err != nil {
			return fmt.Errorf("storing the payment: %w", err)
		}
		action := AuditPaymentPaid
		if status == PaymentWaived {
			action = AuditPaymentWaived
		}
		detail := map[string]string{"payment": strconv.FormatInt(pay.ID, 10), "amount": strconv.FormatInt(pay.Amount, 10), "currency": pay.Currency}
		if reference != "" {
			detail["reference"] = reference
		}
		_ = svc.Audit(ctx, AuditEntry{Actor: actor, Action: action, SessionID: s.ID, Subject: ParticipantSubject(p), Detail: detail})
		svc.publish(ctx, s)
		return nil
	})
	return pay, err
}

// StartCheckout opens (or reopens) the provider's checkout of a participant's payment and
// returns its URL: for the participant themselves (their session page or portal). The
// client's record gets a provider customer, so that the payment mode can be saved.
func (svc *Service) StartCheckout(ctx context.Context, participantID int64, successURL, cancelURL string) (string, error) {
	store, err := svc.paymentStore()
	if err != nil {
		return "", err
	}
	provider := svc.payments.provider
	if provider == nil {
		return "", ErrNoPaymentProvider
	}
	pay, err := store.ParticipantPayment(ctx, participantID)
	if err != nil {
		return "", err
	}
	unlock := svc.locks.Lock(pay.SessionID)
	defer unlock()
	if pay, err = store.GetPayment(ctx, pay.ID); err != nil {
		return "", err
	}
	if pay.Status.Settled() {
		return "", fmt.Errorf("%w: nothing is owed", ErrInvalidPayment)
	}
	if s, err := svc.store.GetSession(ctx, pay.SessionID); err != nil {
		return "", err
	} else if s.Over() {
		return "", fmt.Errorf("%w: the session is %s", ErrSessionOver, s.Status)
	}
	// The key names the checkout this one replaces: a retry reuses it, a new checkout after an
	// expired one gets its own.
	previous := "first"
	if pay.CheckoutID != "" {
		previous = pay.CheckoutID
	}
	if pay.Status == PaymentPending && pay.CheckoutID != "" {
		co, err := provider.GetCheckout(ctx, pay.CheckoutID)
		if err != nil {
			return "", fmt.Errorf("asking the provider about the checkout: %w", err)
		}
		if done, err := svc.applyCheckout(ctx, pay, co); err != nil || done {
			if err == nil {
				err = fmt.Errorf("%w: nothing is owed", ErrInvalidPayment)
			}
			return "", err
		}
		if co.State == CheckoutOpen && co.URL != "" {
			return co.URL, nil
		}
	}
	if pay.ClientID != 0 && pay.CustomerID == "" {
		if pay.CustomerID, err = svc.customerOf(ctx, pay.ClientID); err != nil {
			return "", err
		}
	}
	co, err := provider.CreateCheckout(ctx, CheckoutRequest{
		PaymentID: pay.ID, Amount: pay.Amount, Currency: pay.Currency, Description: pay.ServiceName,
		CustomerID: pay.CustomerID, SuccessURL: successURL, CancelURL: cancelURL,
		IdempotencyKey: "telehealth-checkout-" + strconv.FormatInt(pay.ID, 10) + "-" + previous,
	})
	if err != nil {
		return "", fmt.Errorf("opening the checkout: %w", err)
	}
	pay.Status, pay.CheckoutID, pay.UpdatedAt = PaymentPending, co.ID, svc.clock.Now()
	if err := svc.updatePayment(ctx, pay); err != nil {
		return "", fmt.Errorf("storing the checkout: %w", err)
	}
	zerolog.Ctx(ctx).Info().Int64("payment_id", pay.ID).Str("checkout_id", co.ID).Msg("Checkout opened")
	return co.URL, nil
}

// customerOf is the provider's customer of a client record, made on first use.
func (svc *Service) customerOf(ctx context.Context, clientID int64) (string, error) {
	store := svc.payments.store
	id, err := store.PaymentCustomer(ctx, clientID)
	if err != nil || id != "" {
		return id, err
	}
	id, err = svc.payments.provider.CreateCustomer(ctx, clientID, "telehealth-customer-"+strconv.FormatInt(clientID, 10))
	if err != nil {
		return "", fmt.Errorf("making the client's customer at the provider: %w", err)
	}
	return id, store.SetPaymentCustomer(ctx, clientID, id)
}

// applyCheckout brings a payment in line with its checkout at the provider: paid when paid,
// due again when expired. It reports whether the payment is settled. The caller holds the
// session's lock.
func (svc *Service) applyCheckout(ctx context.Context, pay *Payment, co *Checkout) (bool, error) {
	if pay.Status.Settled() {
		return true, nil
	}
	now := svc.clock.Now()
	switch {
	case co.Paid:
		pay.Status, pay.PaidAt, pay.UpdatedAt = PaymentPaid, now, now
		pay.PaymentIntent, pay.ReceiptURL = co.PaymentIntent, co.ReceiptURL
		if co.CustomerID != "" {
			pay.CustomerID = co.CustomerID
		}
	case co.State == CheckoutExpired && pay.CheckoutID == co.ID:
		pay.Status, pay.UpdatedAt = PaymentDue, now
	default:
		return false, nil
	}
	if err := svc.updatePayment(ctx, pay); err != nil {
		return false, fmt.Errorf("storing the payment: %w", err)
	}
	if pay.Status == PaymentPaid {
		svc.auditPayment(ctx, pay, AuditPaymentPaid, svc.bot)
		zerolog.Ctx(ctx).Info().Int64("payment_id", pay.ID).Str("session_id", pay.SessionID).Msg("Payment received")
		if s, err := svc.store.GetSession(ctx, pay.SessionID); err == nil {
			svc.publish(ctx, s)
		}
		return true, nil
	}
	return false, nil
}

// CheckoutChanged applies a provider's event about a checkout, once its signature is checked:
// the event's ID is recorded so that a replay is refused (ErrEventReplayed), and the
// checkout's state is taken from the provider (co), never from anything else the caller was
// sent. A checkout the bridge does not know is ignored.
func (svc *Service) CheckoutChanged(ctx context.Context, eventID string, co *Checkout) error {
	store, err := svc.paymentStore()
	if err != nil {
		return err
	}
	fresh, err := store.MarkEventProcessed(ctx, eventID, svc.clock.Now())
	if err != nil {
		return fmt.Errorf("recording the event: %w", err)
	}
	if !fresh {
		return ErrEventReplayed
	}
	pay, err := store.CheckoutPayment(ctx, co.ID)
	if errors.Is(err, ErrPaymentNotFound) {
		zerolog.Ctx(ctx).Warn().Str("checkout_id", co.ID).Msg("Event about a checkout the bridge did not open")
		return nil
	} else if err != nil {
		return err
	}
	if co.Reference != "" && co.Reference != strconv.FormatInt(pay.ID, 10) {
		return fmt.Errorf("%w: the checkout's reference is not its payment's", ErrInvalidPayment)
	}
	unlock := svc.locks.Lock(pay.SessionID)
	defer unlock()
	if pay, err = store.GetPayment(ctx, pay.ID); err != nil {
		return err
	}
	_, err = svc.applyCheckout(ctx, pay, co)
	return err
}

// ReconcilePayments asks the provider about every open checkout: a webhook missed while the
// bridge was down is not lost. Each failure is logged; the rest go on.
func (svc *Service) ReconcilePayments(ctx context.Context) error {
	if svc.payments.store == nil || svc.payments.provider == nil {
		return nil
	}
	pending, err := svc.payments.store.PendingPayments(ctx)
	if err != nil {
		return fmt.Errorf("loading the pending payments: %w", err)
	}
	var errs []error
	for _, pay := range pending {
		if pay.CheckoutID == "" {
			continue
		}
		co, err := svc.payments.provider.GetCheckout(ctx, pay.CheckoutID)
		if err != nil {
			errs = append(errs, fmt.Errorf("payment %d: %w", pay.ID, err))
			continue
		}
		func() {
			unlock := svc.locks.Lock(pay.SessionID)
			defer unlock()
			fresh, err := svc.payments.store.GetPayment(ctx, pay.ID)
			if err == nil {
				_, err = svc.applyCheckout(ctx, fresh, co)
			}
			if err != nil {
				errs = append(errs, fmt.Errorf("payment %d: %w", pay.ID, err))
			}
		}()
	}
	if err := errors.Join(errs...); err != nil {
		zerolog.Ctx(ctx).Err(err).Msg("Some payments could not be reconciled")
		return err
	}
	return nil
}

// refundOnCancel refunds a cancelled session's paid payments as the policy says. The caller
// holds the session's lock. A failed refund is logged and the payment stays paid: the clinic
// refunds from its provider's dashboard.
func (svc *Service) refundOnCancel(ctx context.Context, s *Session) {
	if svc.payments.store == nil {
		return
	}
	pays, err := svc.payments.store.SessionPayments(ctx, s.ID)
	if err != nil {
		zerolog.Ctx(ctx).Err(err).Str("session_id", s.ID).Msg("Failed to load the cancelled session's payments")
		return
	}
	now := svc.clock.Now()
	for _, pay := range pays {
		if pay.Status != PaymentPaid || pay.PaymentIntent == "" || svc.payments.provider == nil {
			continue
		}
		if !svc.payments.refund.Refundable(s.Start, now) {
			continue
		}
		if err := svc.payments.provider.Refund(ctx, pay.PaymentIntent, "telehealth-refund-"+strconv.FormatInt(pay.ID, 10)); err != nil {
			zerolog.Ctx(ctx).Err(err).Int64("payment_id", pay.ID).Msg("Failed to refund the cancelled session's payment")
			continue
		}
		pay.Status, pay.UpdatedAt = PaymentRefunded, now
		if err := svc.updatePayment(ctx, pay); err != nil {
			zerolog.Ctx(ctx).Err(err).Int64("payment_id", pay.ID).Msg("Failed to store a refund")
			continue
		}
		svc.auditPayment(ctx, pay, AuditPaymentRefund, svc.bot)
	}
}

// PaymentMode describes a client's saved payment mode at the provider ("" for none), never
// card data the bridge keeps.
func (svc *Service) PaymentMode(ctx context.Context, clientID int64) (string, error) {
	if svc.payments.store == nil || svc.payments.provider == nil {
		return "", nil
	}
	id, err := svc.payments.store.PaymentCustomer(ctx, clientID)
	if err != nil || id == "" {
		return "", err
	}
	return svc.payments.provider.PaymentMode(ctx, id)
}

// ClientInsurance is a client's insurance details, or nil.
func (svc *Service) ClientInsurance(ctx context.Context, clientID int64) (*Insurance, error) {
	store, err := svc.paymentStore()
	if err != nil {
		return nil, err
	}
	return store.GetInsurance(ctx, clientID)
}

// SetClientInsurance stores a client's insurance details, from their portal.
func (svc *Service) SetClientInsurance(ctx context.Context, clientID int64, insurer, memberID string) (*Insurance, error) {
	store, err := svc.paymentStore()
	if err != nil {
		return nil, err
	}
	insurer, memberID = strings.TrimSpace(insurer), strings.TrimSpace(memberID)
	if utf8.RuneCountInString(insurer) > 100 || utf8.RuneCountInString(memberID) > 64 {
		return nil, fmt.Errorf("%w: the insurer has up to 100 characters and the member ID up to 64", ErrInvalidPayment)
	}
	ins := &Insurance{ClientID: clientID, Insurer: insurer, MemberID: memberID, UpdatedAt: svc.clock.Now()}
	if err := store.PutInsurance(ctx, ins); err != nil {
		return nil, fmt.Errorf("storing the insurance details: %w", err)
	}
	return ins, nil
}

// MayEditPrices reports whether actor may change the price list (admins).
func (svc *Service) MayEditPrices(actor string) bool { return actor != "" && svc.isAdmin(actor) }
