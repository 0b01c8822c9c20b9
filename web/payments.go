package web

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
)

// Payment before the session on the web: the panel's price list and the payment column of
// the lobby, the Pay button of the guest page and the portal, the portal's Payment &
// Insurances tab, and Stripe's webhook.

// StripeWebhooks checks a Stripe webhook's signature and reads the checkout it is about from
// Stripe (stripepay.Provider).
type StripeWebhooks interface {
	Webhook(ctx context.Context, payload []byte, header string) (eventID string, co *bridge.Checkout, err error)
}

// UseStripe mounts POST /stripe/webhook.
func (srv *Server) UseStripe(hooks StripeWebhooks) {
	srv.Mount("/stripe/webhook", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { srv.stripeWebhook(w, r, hooks) }))
}

// stripeWebhook applies a signed Stripe event. A bad or old signature is 400 and a replayed
// event 409: neither changes anything. Stripe retries anything but a 2xx.
func (srv *Server) stripeWebhook(w http.ResponseWriter, r *http.Request, hooks StripeWebhooks) {
	if r.Method != http.MethodPost {
		http.Error(w, "Method not allowed", http.StatusMethodNotAllowed)
		return
	}
	log := srv.log.With().Str("path", "/stripe/webhook").Logger()
	ctx := log.WithContext(r.Context())
	payload, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		writeJSON(w, http.StatusRequestEntityTooLarge, map[string]string{"error": "The request is too large.", "code": "too_large"})
		return
	}
	eventID, co, err := hooks.Webhook(ctx, payload, r.Header.Get("Stripe-Signature"))
	if err != nil {
		if eventID == "" {
			log.Warn().Err(err).Msg("Refused a Stripe webhook")
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "The signature is not valid.", "code": "bad_signature"})
			return
		}
		log.Err(err).Str("event_id", eventID).Msg("Failed to read a webhook's checkout from Stripe")
		writeJSON(w, http.StatusBadGateway, map[string]string{"error": "Stripe could not be reached; send it again.", "code": "retry"})
		return
	}
	if co != nil {
		err = srv.svc.CheckoutChanged(ctx, eventID, co)
	}
	switch {
	case errors.Is(err, bridge.ErrEventReplayed):
		log.Warn().Str("event_id", eventID).Msg("Refused a replayed Stripe event")
		writeJSON(w, http.StatusConflict, map[string]string{"error": "This event was processed already.", "code": "replayed"})
	case err != nil:
		log.Err(err).Str("event_id", eventID).Msg("Failed to apply a Stripe event")
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "Something went wrong on our side.", "code": "internal"})
	default:
		writeJSON(w, http.StatusOK, map[string]bool{"received": true})
	}
}

// PaymentView is a payment as the client and the clinician see it. Service names and amounts
// are on screens only, never in notifications.
type PaymentView struct {
	ID      int64  `json:"id"`
	Status  string `json:"status"`
	Service string `json:"service"`
	// Amount is in minor units; AmountText is it as shown ("80.00 EUR").
	Amount     int64  `json:"amount"`
	Currency   string `json:"currency"`
	AmountText string `json:"amount_text"`
	// Date is when it was asked (Unix ms); PaidAt when paid.
	Date       int64  `json:"date"`
	PaidAt     int64  `json:"paid_at,omitempty"`
	ReceiptURL string `json:"receipt_url,omitempty"`
	// CanPay: the client may pay it online now.
	CanPay    bool   `json:"can_pay,omitempty"`
	SessionID string `json:"session_id,omitempty"`
}

func (srv *Server) paymentView(p *bridge.Payment) *PaymentView {
	v := &PaymentView{ID: p.ID, Status: string(p.Status), Service: p.ServiceName, Amount: p.Amount, Currency: p.Currency,
		AmountText: bridge.FormatAmount(p.Amount, p.Currency), Date: p.CreatedAt.UnixMilli(), ReceiptURL: p.ReceiptURL, SessionID: p.SessionID,
		CanPay: srv.svc.OnlinePayment() && !p.Status.Settled()}
	if !p.PaidAt.IsZero() {
		v.PaidAt = p.PaidAt.UnixMilli()
	}
	return v
}

// paymentError turns the payment journey's refusals into what a person reads.
func paymentError(err error) error {
	switch {
	case errors.Is(err, bridge.ErrPaymentsOff):
		return errorf(http.StatusNotFound, "payments_off", "Payments are not available.")
	case errors.Is(err, bridge.ErrPaymentNotFound):
		return errorf(http.StatusNotFound, "not_found", "There is no such payment.")
	case errors.Is(err, bridge.ErrServiceNotFound):
		return errorf(http.StatusNotFound, "not_found", "There is no such service.")
	case errors.Is(err, bridge.ErrNoPaymentProvider):
		return errorf(http.StatusConflict, "no_online_payment", "Online payment is not available: please contact your clinic.")
	case errors.Is(err, bridge.ErrInvalidPayment):
		return errorf(http.StatusBadRequest, "bad_request", "%s", capitalize(strings.TrimPrefix(err.Error(), bridge.ErrInvalidPayment.Error()+": ")))
	case errors.Is(err, bridge.ErrAdminOnly), errors.Is(err, bridge.ErrNotClinician):
		return errorf(http.StatusForbidden, "forbidden", "%s", capitalize(err.Error()))
	case errors.Is(err, bridge.ErrPaymentBlocked):
		return errorf(http.StatusConflict, "payment_blocked", "%s. This clinic does not admit without payment.", capitalize(strings.SplitN(err.Error(), ": ", 2)[1]))
	case errors.Is(err, bridge.ErrPaymentDue):
		return errorf(http.StatusConflict, "payment_due", "%s", capitalize(strings.SplitN(err.Error(), ": ", 2)[1]))
	}
	return err
}

// checkoutRedirect is where the provider sends the client back: a page of the bridge that
// returns to where they were, so that no access link is ever given to the provider.
func (srv *Server) checkoutReturn(status string) string {
	return srv.cfg.PublicURL + "/paid?" + url.Values{"status": {status}}.Encode()
}

// --- The guest page ---

// callPay opens the checkout of the guest's own payment: POST /api/call/pay → {url}.
func (srv *Server) callPay(w http.ResponseWriter, r *http.Request) (any, error) {
	v, err := srv.viewerFrom(r)
	if err != nil {
		return nil, err
	}
	if v.participant == nil {
		return nil, errorf(http.StatusForbidden, "forbidden", "Only the participant pays.")
	}
	if err := decode(r, &struct{}{}); err != nil {
		return nil, err
	}
	u, err := srv.svc.StartCheckout(r.Context(), v.participant.ID, srv.checkoutReturn("paid"), srv.checkoutReturn("cancelled"))
	if err != nil {
		return nil, paymentError(err)
	}
	return map[string]string{"url": u}, nil
}

// myPayment is the viewer's own payment for their page, or nil.
func (srv *Server) myPayment(ctx context.Context, p *bridge.Participant) *PaymentView {
	pay, err := srv.svc.ParticipantPayment(ctx, p.ID)
	if err != nil {
		zerolog.Ctx(ctx).Err(err).Int64("participant_id", p.ID).Msg("Failed to load a participant's payment")
		return nil
	}
	if pay == nil {
		return nil
	}
	return srv.paymentView(pay)
}

// lobbyPayments are the session's payments by participant ID, for the clinician's views.
func (srv *Server) lobbyPayments(ctx context.Context, s *bridge.Session) map[int64]*bridge.Payment {
	pays, err := srv.svc.SessionPayments(ctx, "", s.ID)
	if err != nil {
		if ctx.Err() != nil {
			return nil // the page went away
		}
		zerolog.Ctx(ctx).Err(err).Str("session_id", s.ID).Msg("Failed to load the session's payments")
		return nil
	}
	return pays
}

// --- The portal ---

// PortalPayments is the Payment & Insurances tab.
type PortalPayments struct {
	Payments []*PaymentView `json:"payments"`
	// PaymentMode is the saved payment mode at the provider ("Visa ending 4242"), or "".
	PaymentMode string         `json:"payment_mode"`
	Insurance   *InsuranceView `json:"insurance"`
	Online      bool           `json:"online"`
	// InsuranceCards are the pictures of their insurance card the client uploaded, newest
	// first (opened through GET /api/portal/documents/{id}/file).
	InsuranceCards []DocumentView `json:"insurance_cards"`
}

// InsuranceView is the client's insurance details.
type InsuranceView struct {
	Insurer  string `json:"insurer"`
	MemberID string `json:"member_id"`
}

func (srv *Server) portalPayments(_ http.ResponseWriter, r *http.Request, in *portalSignIn) (any, error) {
	ctx := r.Context()
	cards := []DocumentView{}
	if list, err := srv.svc.InsuranceCards(ctx, in.clientID); err == nil {
		cards = srv.documentViews(ctx, list)
	} else if !errors.Is(err, bridge.ErrNoDocuments) {
		return nil, err
	}
	if !srv.svc.PaymentsEnabled() {
		return &PortalPayments{Payments: []*PaymentView{}, Insurance: &InsuranceView{}, InsuranceCards: cards}, nil
	}
	pays, err := srv.svc.ClientPayments(ctx, in.clientID)
	if err != nil {
		return nil, err
	}
	out := &PortalPayments{Payments: make([]*PaymentView, 0, len(pays)), Insurance: &InsuranceView{}, Online: srv.svc.OnlinePayment(),
		InsuranceCards: cards}
	for _, p := range pays {
		out.Payments = append(out.Payments, srv.paymentView(p))
	}
	// The saved mode is Stripe's to say; the tab shows without it when Stripe does not answer.
	if out.PaymentMode, err = srv.svc.PaymentMode(ctx, in.clientID); err != nil {
		zerolog.Ctx(ctx).Err(err).Int64("client_id", in.clientID).Msg("Failed to read the saved payment mode")
	}
	if ins, err := srv.svc.ClientInsurance(ctx, in.clientID); err != nil {
		return nil, err
	} else if ins != nil {
		out.Insurance = &InsuranceView{Insurer: ins.Insurer, MemberID: ins.MemberID}
	}
	return out, nil
}

// portalPay opens the checkout of one of the client's own payments: another's is 404.
func (srv *Server) portalPay(_ http.ResponseWriter, r *http.Request, in *portalSignIn) (any, error) {
	id, err := pathID(r, bridge.ErrPaymentNotFound)
	if err != nil {
		return nil, paymentError(err)
	}
	if err := decode(r, &struct{}{}); err != nil {
		return nil, err
	}
	pays, err := srv.svc.ClientPayments(r.Context(), in.clientID)
	if err != nil {
		return nil, paymentError(err)
	}
	for _, p := range pays {
		if p.ID == id {
			u, err := srv.svc.StartCheckout(r.Context(), p.ParticipantID, srv.cfg.PublicURL+"/portal#payments", srv.cfg.PublicURL+"/portal#payments")
			if err != nil {
				return nil, paymentError(err)
			}
			return map[string]string{"url": u}, nil
		}
	}
	return nil, paymentError(bridge.ErrPaymentNotFound)
}

func (srv *Server) portalSetInsurance(_ http.ResponseWriter, r *http.Request, in *portalSignIn) (any, error) {
	var req InsuranceView
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	ins, err := srv.svc.SetClientInsurance(r.Context(), in.clientID, req.Insurer, req.MemberID)
	if err != nil {
		return nil, paymentError(err)
	}
	return &InsuranceView{Insurer: ins.Insurer, MemberID: ins.MemberID}, nil
}

// --- The panel ---

// ServiceView is a service of the price list.
type ServiceView struct {
	ID              int64  `json:"id"`
	Name            string `json:"name"`
	DurationMinutes int    `json:"duration_minutes"`
	Price           int64  `json:"price"`
	Currency        string `json:"currency"`
	PriceText       string `json:"price_text"`
	// Digits are the currency's minor-unit digits: the page turns 80.00 into 8000 with them.
	Digits   int  `json:"digits"`
	Archived bool `json:"archived"`
}

func (srv *Server) panelServices(r *http.Request, clinician string) (any, error) {
	all := r.URL.Query().Get("all") == "1"
	list, err := srv.svc.PricedServices(r.Context(), clinician, all)
	if err != nil {
		return nil, paymentError(err)
	}
	out := make([]ServiceView, 0, len(list))
	for _, s := range list {
		out = append(out, ServiceView{ID: s.ID, Name: s.Name, DurationMinutes: int(s.Duration / time.Minute), Price: s.Price, Currency: s.Currency,
			PriceText: bridge.FormatAmount(s.Price, s.Currency), Digits: bridge.CurrencyDigits(s.Currency), Archived: s.Archived})
	}
	return map[string]any{"services": out, "can_edit": srv.svc.MayEditPrices(clinician), "online": srv.svc.OnlinePayment()}, nil
}

func (srv *Server) panelSaveService(r *http.Request, clinician string) (any, error) {
	var req ServiceView
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	s := &bridge.PricedService{Name: req.Name, Duration: time.Duration(req.DurationMinutes) * time.Minute, Price: req.Price,
		Currency: req.Currency, Archived: req.Archived}
	if r.Method == http.MethodPut {
		id, err := pathID(r, bridge.ErrServiceNotFound)
		if err != nil {
			return nil, paymentError(err)
		}
		s.ID = id
	}
	if err := srv.svc.SavePricedService(r.Context(), clinician, s); err != nil {
		return nil, paymentError(err)
	}
	return ServiceView{ID: s.ID, Name: s.Name, DurationMinutes: int(s.Duration / time.Minute), Price: s.Price, Currency: s.Currency,
		PriceText: bridge.FormatAmount(s.Price, s.Currency), Digits: bridge.CurrencyDigits(s.Currency), Archived: s.Archived}, nil
}
