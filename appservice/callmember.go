package appservice

import (
	"context"
	"fmt"
	"strings"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

// callMemberType is MatrixRTC's membership state event (MSC3401/MSC4143).
var callMemberType = event.Type{Type: "org.matrix.msc3401.call.member", Class: event.StateEventType}

// SetCallMember writes a web guest's MatrixRTC membership in a session room as their ghost (the
// LiveKit backend's port: Element Call shows a LiveKit participant only beside one). Only the
// bridge's ghosts, and only state keys of their own (_<ghost>_…), are written. The ghost sends
// without joining: a ghost not in the room (taken out already) has no membership to write,
// and its end is then written by the bot (legacy MatrixRTC state keys are not tied to their
// sender), so that Element Call stops showing a guest who is gone.
func (c *Connector) SetCallMember(ctx context.Context, roomID, ghost, stateKey string, content map[string]any) error {
	if !c.IsGhost(ghost) {
		return fmt.Errorf("writing a call membership: %s is not a ghost of the bridge", ghost)
	}
	if !strings.HasPrefix(stateKey, "_"+ghost+"_") {
		return fmt.Errorf("writing a call membership: the state key is not the ghost's")
	}
	resp, err := c.AS.Intent(id.UserID(ghost)).Client.SendStateEvent(ctx, id.RoomID(roomID), callMemberType, stateKey, content)
	if err == nil {
		c.log.Debug().Str("room_id", roomID).Str("ghost", ghost).Bool("present", len(content) > 0).Stringer("event_id", resp.EventID).Msg("Wrote a web guest's call membership as the ghost")
	}
	if err != nil && len(content) == 0 && forbidden(err) {
		resp, err = c.bot.Client.SendStateEvent(ctx, id.RoomID(roomID), callMemberType, stateKey, content)
		if err == nil {
			c.log.Debug().Str("room_id", roomID).Str("ghost", ghost).Stringer("event_id", resp.EventID).Msg("Ended a web guest's call membership as the bot, the ghost being out")
		}
	}
	if err != nil {
		return fmt.Errorf("writing a call membership: %w", err)
	}
	return nil
}

// EndCallMember ends a web guest's MatrixRTC membership as the bot: the guest is being taken
// out of the room, and the ghost's own write, racing the kick, would be accepted (200) and then
// rejected by the homeserver's state resolution (measured on Dendrite: the membership stayed).
// Only the ghosts' state keys.
func (c *Connector) EndCallMember(ctx context.Context, roomID, ghost, stateKey string) error {
	if !c.IsGhost(ghost) || !strings.HasPrefix(stateKey, "_"+ghost+"_") {
		return fmt.Errorf("ending a call membership: not a ghost's")
	}
	// Read back and written again while the room still holds a membership: a write of the
	// ghost's racing this one (or the kick) can leave the homeserver's resolved state on the
	// older event (seen once in a few runs on Dendrite). The read back cannot see one case:
	// when the room's state holds an end the ghost wrote, Dendrite answers this identical
	// write with that event's ID and sends nothing, and state resolution may drop the ghost's
	// end later; so the backend stops the ghost's writes before taking a guest out.
	for attempt := 1; ; attempt++ {
		resp, err := c.bot.Client.SendStateEvent(ctx, id.RoomID(roomID), callMemberType, stateKey, map[string]any{})
		if err != nil {
			return fmt.Errorf("ending a call membership: %w", err)
		}
		c.log.Debug().Str("room_id", roomID).Str("ghost", ghost).Int("attempt", attempt).Stringer("event_id", resp.EventID).Msg("Ended a web guest's call membership as the bot")
		var now map[string]any
		if err := c.bot.Client.StateEvent(ctx, id.RoomID(roomID), callMemberType, stateKey, &now); err != nil || len(now) == 0 {
			return nil // ended (Dendrite answers 404 for an empty state event)
		}
		c.log.Debug().Str("room_id", roomID).Str("ghost", ghost).Msg("A web guest's call membership is still in the room's state: writing its end again")
		if attempt == 3 {
			return fmt.Errorf("ending a call membership: the room still holds it after %d writes", attempt)
		}
	}
}
