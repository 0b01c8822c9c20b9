package bridge

import (
	"context"
	"errors"
	"time"
)

// AvailabilityStore keeps professionals' availability and the slots clients claim. The Store
// a Service is built with implements it too when self-scheduling is on (database.Store does).
type AvailabilityStore interface {
	// GetAvailability returns ErrNoAvailability when the professional published none.
	GetAvailability(ctx context.Context, clinician string) (*Availability, error)
	// SaveAvailability replaces the professional's availability, its types and days off. New
	// types (ID 0) get their ID; a type ID that is not one of theirs is ErrSessionTypeUnknown.
	SaveAvailability(ctx context.Context, av *Availability) error
	// BusyBetween are the professional's sessions (any status but cancelled) and pending claims
	// (claimed less than ClaimTimeout before now) that overlap [from, to).
	BusyBetween(ctx context.Context, clinician string, from, to, now time.Time) ([]Interval, error)
	// ClaimSlot takes a slot, atomically: ErrSlotTaken if a session or a pending claim of the
	// professional overlaps it, ErrSelfSchedulingOff if they take no bookings online (now).
	ClaimSlot(ctx context.Context, c *SlotClaim) error
	// ClaimBooked records the session a claim became.
	ClaimBooked(ctx context.Context, c *SlotClaim, sessionID string) error
	// ReleaseClaim gives back a claim whose booking failed before its session was stored.
	ReleaseClaim(ctx context.Context, c *SlotClaim) error
}

// ErrNoAvailability: the professional has published no availability.
var ErrNoAvailability = errors.New("no availability published")

// ClaimTimeout is how long a claim holds its slot before its session is stored. Storing a
// session and creating its room takes seconds; a claim older than this is a booking that
// crashed half way, and its slot is free again.
const ClaimTimeout = 5 * time.Minute

// SlotClaim is a slot a client is booking, or booked.
type SlotClaim struct {
	Clinician  string
	Start, End time.Time
	TypeID     int64
	// ClientID is the client record booking it (0 when none).
	ClientID  int64
	SessionID string
	ClaimedAt time.Time
}
