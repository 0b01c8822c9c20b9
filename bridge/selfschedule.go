package bridge

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"
)

// Self-scheduling: a professional publishes their availability, clients see the free slots in
// their own zone and book one themselves. The booking is an ordinary session (Schedule) once
// its slot is claimed; the claim is what makes two clients racing for a slot end with one.

// SelfBookingNotifier is told when a client booked a slot themselves. The Notifier the service
// uses implements it to tell the clinician in their control room (the Matrix side does).
type SelfBookingNotifier interface {
	SelfBooked(ctx context.Context, s *Session, p *Participant, t SessionType)
}

// AuditAvailabilityChanged: a professional changed their availability. AuditSelfBooked: a
// client booked a slot themselves (Actor "client:<id>", or "portal" without a record).
const (
	AuditAvailabilityChanged AuditAction = "availability_changed"
	AuditSelfBooked          AuditAction = "self_booked"
)

// MaxSlotSearch is the longest span one slot search covers.
const MaxSlotSearch = 92 * 24 * time.Hour

// DefaultAvailability is what a professional who published nothing starts from: self-scheduling
// off, a day's notice, 60 days ahead.
func DefaultAvailability(clinician, zone string) *Availability {
	return &Availability{Clinician: clinician, TimeZone: zone, MinNotice: 24 * time.Hour, Horizon: 60 * 24 * time.Hour}
}

func (svc *Service) availabilityStore() (AvailabilityStore, error) {
	store, ok := svc.store.(AvailabilityStore)
	if !ok {
		return nil, errors.New("this bridge's store keeps no availability")
	}
	return store, nil
}

// Availability is a professional's own availability, for them to edit; a default one (off)
// if they published none. zone is the default's time zone.
func (svc *Service) Availability(ctx context.Context, clinician, zone string) (*Availability, error) {
	store, err := svc.availabilityStore()
	if err != nil {
		return nil, err
	}
	av, err := store.GetAvailability(ctx, clinician)
	if errors.Is(err, ErrNoAvailability) {
		return DefaultAvailability(clinician, zone), nil
	}
	return av, err
}

// SetAvailability checks and stores a professional's own availability. Problems are
// *AvailabilityError naming the field; a type ID that is not theirs is ErrSessionTypeUnknown.
func (svc *Service) SetAvailability(ctx context.Context, clinician string, av *Availability) error {
	store, err := svc.availabilityStore()
	if err != nil {
		return err
	}
	if err = av.Validate(); err != nil {
		return err
	}
	av.Clinician, av.UpdatedAt = clinician, svc.clock.Now()
	if err = store.SaveAvailability(ctx, av); err != nil {
		return err
	}
	_ = svc.Audit(ctx, AuditEntry{Actor: clinician, Action: AuditAvailabilityChanged, Subject: clinician,
		Detail: map[string]string{"self_scheduling": strconv.FormatBool(av.SelfScheduling)}})
	return nil
}

// bookable is a professional's availability for clients: ErrSelfSchedulingOff for an unknown
// professional as for one who takes no bookings online, so that the portal tells nobody who
// is a professional; ErrSessionTypeUnknown for a type that is not theirs.
func (svc *Service) bookable(ctx context.Context, clinician string, typeID int64) (AvailabilityStore, *Availability, SessionType, error) {
	store, err := svc.availabilityStore()
	if err != nil {
		return nil, nil, SessionType{}, err
	}
	av, err := store.GetAvailability(ctx, clinician)
	if errors.Is(err, ErrNoAvailability) || (err == nil && !av.SelfScheduling) {
		return nil, nil, SessionType{}, ErrSelfSchedulingOff
	} else if err != nil {
		return nil, nil, SessionType{}, fmt.Errorf("loading the availability: %w", err)
	}
	t, err := av.Type(typeID)
	return store, av, t, err
}

// FreeSlots are the slots of a professional's session type that a client may book between
// from and to, in the client's zone.
func (svc *Service) FreeSlots(ctx context.Context, clinician string, typeID int64, from, to time.Time, client *time.Location) ([]Slot, error) {
	if !to.After(from) || to.Sub(from) > MaxSlotSearch {
		return nil, fmt.Errorf("%w: search between two instants at most %d days apart", ErrInvalidSchedule, int(MaxSlotSearch.Hours()/24))
	}
	store, av, t, err := svc.bookable(ctx, clinician, typeID)
	if err != nil {
		return nil, err
	}
	now := svc.clock.Now()
	// A session that starts before from can still take a slot's time, as long as it lasts.
	busy, err := store.BusyBetween(ctx, clinician, from.Add(-MaxTypeDuration), to.Add(MaxTypeDuration), now)
	if err != nil {
		return nil, fmt.Errorf("loading the professional's sessions: %w", err)
	}
	return av.FreeSlots(t, from, to, now, busy, client), nil
}

// BookSlot books a slot for a client: it must be one of the professional's free slots now,
// and nobody else's. The session is scheduled the usual way (its room, confirmation and
// reminders), the clinician hears of it in their control room, and the client's record
// (clientID, 0 for none) is kept with the claim. The client's invitation defaults to email,
// or a text message without an email.
func (svc *Service) BookSlot(ctx context.Context, client ParticipantRequest, clientID int64, clinician string, typeID int64, start time.Time) (*Session, error) {
	s, t, err := svc.bookSlot(ctx, client, clientID, clinician, typeID, start, nil)
	if s == nil {
		return nil, err
	}
	if n, ok := svc.notify.(SelfBookingNotifier); ok {
		if ps, psErr := svc.store.Participants(ctx, s.ID); psErr == nil && len(ps) > 0 {
			n.SelfBooked(ctx, s, ps[0], t)
		}
	}
	return s, err
}

// bookSlot books a slot as BookSlot does, without telling the clinician (a move tells them
// once, of the move); check, if not nil, vets the slot's type before the slot is claimed.
func (svc *Service) bookSlot(ctx context.Context, client ParticipantRequest, clientID int64, clinician string, typeID int64, start time.Time, check func(SessionType) error) (*Session, SessionType, error) {
	store, av, t, err := svc.bookable(ctx, clinician, typeID)
	if err != nil {
		return nil, t, err
	}
	if check != nil {
		if err = check(t); err != nil {
			return nil, t, err
		}
	}
	now := svc.clock.Now()
	start = start.UTC()
	if err = av.CheckSlot(t, start, now); err != nil {
		return nil, t, err
	}
	// The participant row points at the client's record: their sessions, the portal's and the
	// clinic's, are one list.
	if clientID != 0 {
		client.ClientID = clientID
	}
	if client.Invite == "" {
		switch {
		case strings.TrimSpace(client.Email) != "":
			client.Invite = InviteEmail
		case strings.TrimSpace(client.Phone) != "":
			client.Invite = InviteSMS
		}
	}
	// Bad contacts are refused before the slot is held.
	if _, err = NewParticipant(client, av.TimeZone); err != nil {
		return nil, t, fmt.Errorf("%w: %w", ErrInvalidSchedule, err)
	}
	claim := &SlotClaim{Clinician: clinician, Start: start, End: start.Add(t.Duration), TypeID: t.ID, ClientID: clientID, ClaimedAt: now}
	if err = store.ClaimSlot(ctx, claim); err != nil {
		return nil, t, err
	}
	s, err := svc.Schedule(ctx, ScheduleRequest{
		Clinician: clinician, Start: claim.Start, End: claim.End, TimeZone: av.TimeZone,
		Kind: t.Kind, Policy: PolicyManual, Participants: []ParticipantRequest{client},
	})
	if s == nil {
		if relErr := store.ReleaseClaim(context.WithoutCancel(ctx), claim); relErr != nil {
			zerolog.Ctx(ctx).Err(relErr).Msg("Failed to give back a slot whose booking failed")
		}
		return nil, t, err
	}
	// From here the session exists (a room that could not be created is retried at start-up).
	if claimErr := store.ClaimBooked(context.WithoutCancel(ctx), claim, s.ID); claimErr != nil {
		zerolog.Ctx(ctx).Err(claimErr).Str("session_id", s.ID).Msg("Failed to link a slot claim to its session")
	}
	actor := "portal"
	if clientID != 0 {
		actor = ClientActor(clientID)
	}
	_ = svc.Audit(ctx, AuditEntry{Actor: actor, Action: AuditSelfBooked, SessionID: s.ID, Subject: clinician,
		Detail: map[string]string{"type_id": strconv.FormatInt(t.ID, 10)}})
	zerolog.Ctx(ctx).Info().Str("session_id", s.ID).Int64("type_id", t.ID).Msg("Slot booked by a client")
	return s, t, err
}
