package appservice

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/id"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
)

// Prospects on the Matrix side: the notice that someone signed up on the portal, and the
// commands !prospects and !link-prospect. Who may use the commands: the clinic's clinicians
// (and admins); the answers name people, so they go to the sender's control room only.

var _ bridge.ProspectNotifier = (*Connector)(nil)

// ProspectWaiting tells every clinician who has a control room that someone signed up. A
// control room the bot finds holding someone else gets a notice without the name.
func (c *Connector) ProspectWaiting(ctx context.Context, p *bridge.Prospect) {
	log := zerolog.Ctx(ctx).With().Int64("prospect_id", p.ID).Logger()
	rooms, err := c.db.ControlRoom.All(ctx)
	if err != nil {
		log.Err(err).Msg("Failed to list the control rooms for a sign-up notice")
		return
	}
	for _, room := range rooms {
		if !c.cfg.IsClinician(room.User) {
			continue
		}
		private, err := c.onlyBotAnd(ctx, id.RoomID(room.RoomID), id.UserID(room.User))
		if err != nil {
			log.Err(err).Str("room_id", room.RoomID).Msg("Failed to check who is in a control room")
			continue
		}
		n := (&notice{}).text("New sign-up waiting to be confirmed")
		if private {
			n.text(": ").user(p.Name).text(fmt.Sprintf(" (prospect %d). Open the panel's Prospects, or link them to a record with ", p.ID)).
				code(fmt.Sprintf("!link-prospect %d <client>", p.ID)).text(".")
		} else {
			n.text(": open the panel (Prospects), or send ").code("!prospects").text(" in your direct chat with me.")
		}
		if err = c.send(ctx, id.RoomID(room.RoomID), n); err != nil {
			log.Err(err).Str("room_id", room.RoomID).Msg("Failed to post a sign-up notice")
		}
	}
}

// cmdProspects lists the prospects waiting, oldest first.
func cmdProspects(ce *commandEvent) {
	ps, err := ce.Meta.svc.Prospects(ce.Ctx, ce.Sender.String())
	if err != nil {
		replyErr(ce, "list the sign-ups", err)
		return
	}
	if len(ps) == 0 {
		reply(ce, (&notice{}).text("Nobody is waiting to be confirmed."))
		return
	}
	n := (&notice{}).text(fmt.Sprintf("%d sign-up(s) waiting to be confirmed, oldest first:", len(ps))).line()
	for _, p := range ps {
		n.text(fmt.Sprintf("%d · ", p.ID)).user(p.Name).text(" · " + p.Contact.String() + " · signed up " +
			bridge.FormatTime(p.CreatedAt, time.UTC) + " — ").code(fmt.Sprintf("!link-prospect %d <client>", p.ID)).line()
	}
	n.text("The client is a record number (#12) or a name, email or phone that matches one of your records.")
	reply(ce, n)
}

// cmdLinkProspect links a prospect to a client record: its number, or a search that finds
// exactly one of the sender's records.
func cmdLinkProspect(ce *commandEvent) {
	usage := func() {
		reply(ce, (&notice{}).text("Usage: ").code("!link-prospect <prospect> <client>").text(", e.g. ").code("!link-prospect 3 #12").
			text(" or ").code("!link-prospect 3 Jane Doe").text(". ").code("!prospects").text(" lists who is waiting."))
	}
	if len(ce.Args) < 2 {
		usage()
		return
	}
	prospectID, ok := bridge.ParseProspectID(ce.Args[0])
	if !ok {
		usage()
		return
	}
	actor := ce.Sender.String()
	q := strings.TrimSpace(strings.Join(ce.Args[1:], " "))
	clientID, err := strconv.ParseInt(strings.TrimPrefix(q, "#"), 10, 64)
	if err != nil || clientID <= 0 {
		found, err := ce.Meta.svc.FindClients(ce.Ctx, actor, q, 2)
		if err != nil {
			replyErr(ce, "find the client", err)
			return
		}
		switch len(found) {
		case 0:
			reply(ce, (&notice{}).text("No client of yours matches ").user(q).text(". Find the record with ").code("!client").text(", then give its number."))
			return
		case 1:
			clientID = found[0].ID
		default:
			reply(ce, (&notice{}).text("More than one client matches ").user(q).text(": give the record's number (").code("!client "+q).text(" lists them)."))
			return
		}
	}
	c, err := ce.Meta.svc.LinkProspect(ce.Ctx, actor, prospectID, clientID)
	switch {
	case errors.Is(err, bridge.ErrProspectNotFound):
		replyText(ce, "Prospect %d is not waiting: another clinician may have linked or dismissed them. Send !prospects for the list.", prospectID)
	case errors.Is(err, bridge.ErrClientNotFound):
		replyText(ce, "There is no client record %d of yours.", clientID)
	case err != nil:
		replyErr(ce, "link the sign-up", err)
	default:
		reply(ce, (&notice{}).text(fmt.Sprintf("Prospect %d is linked to client #%d ", prospectID, c.ID)).user(c.DisplayName).
			text(": their portal now shows their record."))
	}
}
