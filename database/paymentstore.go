package database

import (
	"context"
	"time"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
)

var _ bridge.PaymentStore = (*Store)(nil)

func (s *Store) PricedServices(ctx context.Context, all bool) ([]*bridge.PricedService, error) {
	return s.db.PricedService.List(ctx, all)
}

func (s *Store) GetPricedService(ctx context.Context, id int64) (*bridge.PricedService, error) {
	return s.db.PricedService.Get(ctx, id)
}

func (s *Store) PutPricedService(ctx context.Context, ps *bridge.PricedService) error {
	return s.db.PricedService.Put(ctx, ps)
}

func (s *Store) InsertPayment(ctx context.Context, p *bridge.Payment) error {
	return s.db.Payment.Insert(ctx, p)
}

func (s *Store) UpdatePayment(ctx context.Context, p *bridge.Payment) error {
	return s.db.Payment.Update(ctx, p)
}

func (s *Store) GetPayment(ctx context.Context, id int64) (*bridge.Payment, error) {
	return s.db.Payment.Get(ctx, id)
}

func (s *Store) ParticipantPayment(ctx context.Context, participantID int64) (*bridge.Payment, error) {
	return s.db.Payment.ForParticipant(ctx, participantID)
}

func (s *Store) CheckoutPayment(ctx context.Context, checkoutID string) (*bridge.Payment, error) {
	return s.db.Payment.ForCheckout(ctx, checkoutID)
}

func (s *Store) SessionPayments(ctx context.Context, sessionID string) ([]*bridge.Payment, error) {
	return s.db.Payment.ForSession(ctx, sessionID)
}

func (s *Store) ClientPayments(ctx context.Context, clientID int64) ([]*bridge.Payment, error) {
	return s.db.Payment.ForClient(ctx, clientID)
}

func (s *Store) PendingPayments(ctx context.Context) ([]*bridge.Payment, error) {
	return s.db.Payment.Pending(ctx)
}

func (s *Store) PaymentCustomer(ctx context.Context, clientID int64) (string, error) {
	return s.db.PaymentCustomer.Get(ctx, clientID)
}

func (s *Store) SetPaymentCustomer(ctx context.Context, clientID int64, customerID string) error {
	return s.db.PaymentCustomer.Put(ctx, clientID, customerID)
}

func (s *Store) MarkEventProcessed(ctx context.Context, eventID string, at time.Time) (bool, error) {
	return s.db.StripeEvent.Mark(ctx, eventID, at)
}

func (s *Store) GetInsurance(ctx context.Context, clientID int64) (*bridge.Insurance, error) {
	return s.db.Insurance.Get(ctx, clientID)
}

func (s *Store) PutInsurance(ctx context.Context, ins *bridge.Insurance) error {
	return s.db.Insurance.Put(ctx, ins)
}
