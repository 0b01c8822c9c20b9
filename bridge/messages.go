package bridge

import (
	"context"
	"slices"
	"time"

	"github.com/rs/zerolog"
)

// The Messages thread: each client has one direct room with the bot and their assigned
// professionals, where the client speaks as their ghost (or from their own Matrix account) and
// the professionals from Element or the panel. The homeserver keeps the messages; the bridge
// keeps only the thread's bookkeeping (MessageThread): how many of the professionals' messages
// the client has not read since when, for the home's summary and the unread notice.

// MessageThread is the bridge's bookkeeping of a client's Messages thread: no bodies, no senders.
type MessageThread struct {
	ClientID int64
	// Unread counts the professionals' messages since the client last read the thread.
	Unread int
	// LastAt is when the thread's latest message was sent (zero: none yet).
	LastAt time.Time
	// UnreadSince is when the first unread message of the current batch was sent (zero: all
	// read). The unread notice waits from it.
	UnreadSince time.Time
	// Noticed: the current batch's unread notice has gone (or was given up): one per batch.
	Noticed bool
	// NoticeNotBefore holds the notice back (SMS quiet hours, a retry).
	NoticeNotBefore time.Time
	// ReadAt is when the client last read the thread in the portal.
	ReadAt time.Time
}

// MessagesRooms is the Matrix side of the Messages threads, as the records journey needs it.
type MessagesRooms interface {
	// SyncMessagesRoom brings the client's room in line with the record: created if the record
	// asks for one (the portal is enabled) and it does not exist yet, and its members and power
	// levels following the assigned professionals.
	SyncMessagesRoom(ctx context.Context, c *Client) error
}

// UseMessagesRooms connects the Matrix side of the Messages threads: records keep their rooms
// in line from then on.
func (svc *Service) UseMessagesRooms(m MessagesRooms) { svc.messages = m }

// syncMessagesRoom follows a record's change in its Messages room, when the record has one or
// has just had its portal enabled. It runs after the change is stored, apart from the request:
// a homeserver that is slow or down does not refuse a clinician's edit, and the next change
// or the next opening of the thread tries again.
func (svc *Service) syncMessagesRoom(ctx context.Context, old, c *Client) {
	if svc.messages == nil {
		return
	}
	enabled := c.PortalEnabled && (old == nil || !old.PortalEnabled)
	changed := old != nil && c.MessagesRoom != "" && (!slices.Equal(old.Professionals, c.Professionals) || old.MatrixID != c.MatrixID)
	if !enabled && !changed {
		return
	}
	copied := *c
	go func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		if err := svc.messages.SyncMessagesRoom(ctx, &copied); err != nil {
			zerolog.Ctx(ctx).Err(err).Int64("client_id", copied.ID).Msg("Failed to bring a client's Messages room in line with the record")
		}
	}()
}
