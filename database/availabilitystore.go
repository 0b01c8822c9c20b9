package database

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
)

var _ bridge.AvailabilityStore = (*Store)(nil)

// GetAvailability returns a professional's availability with its types and days off.
func (s *Store) GetAvailability(ctx context.Context, clinician string) (*bridge.Availability, error) {
	av, err := s.db.Availability.Get(ctx, clinician)
	if err != nil {
		return nil, err
	}
	if av.Types, err = s.db.SessionType.ForClinician(ctx, clinician); err != nil {
		return nil, fmt.Errorf("loading session types: %w", err)
	}
	if av.DaysOff, err = s.db.DayOff.ForClinician(ctx, clinician); err != nil {
		return nil, fmt.Errorf("loading days off: %w", err)
	}
	return av, nil
}

// SaveAvailability replaces a professional's availability, types and days off together.
func (s *Store) SaveAvailability(ctx context.Context, av *bridge.Availability) error {
	return s.db.DoTxn(ctx, nil, func(ctx context.Context) error {
		if err := s.db.Availability.Put(ctx, av); err != nil {
			return fmt.Errorf("storing the availability: %w", err)
		}
		old, err := s.db.SessionType.ForClinician(ctx, av.Clinician)
		if err != nil {
			return fmt.Errorf("loading session types: %w", err)
		}
		for i := range av.Types {
			t := &av.Types[i]
			if t.ID == 0 {
				if err = s.db.SessionType.Insert(ctx, av.Clinician, i, t); err != nil {
					return fmt.Errorf("storing a session type: %w", err)
				}
				continue
			}
			// Another professional's type ID updates nothing, and is refused.
			if ok, err := s.db.SessionType.Update(ctx, av.Clinician, i, t); err != nil {
				return fmt.Errorf("storing a session type: %w", err)
			} else if !ok {
				return fmt.Errorf("%w: %d", bridge.ErrSessionTypeUnknown, t.ID)
			}
		}
		for _, t := range old {
			if !slices.ContainsFunc(av.Types, func(n bridge.SessionType) bool { return n.ID == t.ID }) {
				if err = s.db.SessionType.Delete(ctx, av.Clinician, t.ID); err != nil {
					return fmt.Errorf("removing a session type: %w", err)
				}
			}
		}
		if err = s.db.DayOff.Replace(ctx, av.Clinician, av.DaysOff); err != nil {
			return fmt.Errorf("storing days off: %w", err)
		}
		return nil
	})
}

// BusyBetween are the professional's sessions and pending claims overlapping [from, to).
func (s *Store) BusyBetween(ctx context.Context, clinician string, from, to, now time.Time) ([]bridge.Interval, error) {
	return s.db.SlotClaim.Busy(ctx, clinician, from, to, now)
}

// ClaimSlot takes a slot if nothing of the professional's overlaps it. The professional's
// availability row is held for the transaction, so claims on their slots are one at a time.
func (s *Store) ClaimSlot(ctx context.Context, c *bridge.SlotClaim) error {
	return s.db.DoTxn(ctx, nil, func(ctx context.Context) error {
		on, err := s.db.Availability.Lock(ctx, c.Clinician)
		if errors.Is(err, bridge.ErrNoAvailability) || (err == nil && !on) {
			return bridge.ErrSelfSchedulingOff
		} else if err != nil {
			return fmt.Errorf("locking the availability: %w", err)
		}
		if err = s.db.SlotClaim.DropDead(ctx, c.Clinician, c.ClaimedAt); err != nil {
			return fmt.Errorf("dropping dead claims: %w", err)
		}
		busy, err := s.db.SlotClaim.Busy(ctx, c.Clinician, c.Start, c.End, c.ClaimedAt)
		if err != nil {
			return fmt.Errorf("checking the slot: %w", err)
		}
		if len(busy) > 0 {
			return bridge.ErrSlotTaken
		}
		if err = s.db.SlotClaim.Insert(ctx, c); err != nil {
			return fmt.Errorf("claiming the slot: %w", err)
		}
		return nil
	})
}

func (s *Store) ClaimBooked(ctx context.Context, c *bridge.SlotClaim, sessionID string) error {
	return s.db.SlotClaim.Booked(ctx, c, sessionID)
}

func (s *Store) ReleaseClaim(ctx context.Context, c *bridge.SlotClaim) error {
	return s.db.SlotClaim.Release(ctx, c)
}
