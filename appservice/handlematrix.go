package appservice

import (
	"context"
	"encoding/json"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

// member is what the bridge reads from a member event, taken from the event's own JSON:
// the state store may rewrite an earlier parsed content after a later event for the same user.
type member struct {
	target     id.UserID
	membership event.Membership
	prev       event.Membership
	reason     string
	name       string
	isDirect   bool
}

func parseMember(evt *event.Event) member {
	var content event.MemberEventContent
	_ = json.Unmarshal(evt.Content.VeryRaw, &content)
	m := member{
		target:     id.UserID(evt.GetStateKey()),
		membership: content.Membership,
		reason:     content.Reason,
		name:       content.Displayname,
		isDirect:   content.IsDirect,
	}
	if evt.Unsigned.PrevContent != nil {
		var prev event.MemberEventContent
		_ = json.Unmarshal(evt.Unsigned.PrevContent.VeryRaw, &prev)
		m.prev = prev.Membership
	}
	return m
}

func (c *Connector) handleMember(ctx context.Context, evt *event.Event) {
	m := parseMember(evt)
	if m.target == c.bot.UserID && m.membership == event.MembershipInvite {
		c.acceptInvite(ctx, evt, m)
	}
}

// acceptInvite joins a room the bot is invited to.
func (c *Connector) acceptInvite(ctx context.Context, evt *event.Event, m member) {
	log := zerolog.Ctx(ctx)
	if _, err := c.bot.JoinRoomByID(ctx, evt.RoomID); err != nil {
		log.Err(err).Msg("Failed to accept an invite")
		return
	}
	log.Info().Stringer("inviter", evt.Sender).Bool("direct", m.isDirect).Msg("Joined a room on invite")
}
