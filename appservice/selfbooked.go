package appservice

import (
	"context"
	"fmt"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/id"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
)

var _ bridge.SelfBookingNotifier = (*Connector)(nil)

// SelfBooked tells the clinician, in their control room, that a client booked one of their
// slots themselves: who (as booked), which type, when, and the session's commands. The
// control room holds only the clinician and the bot, so the name may show there.
func (c *Connector) SelfBooked(ctx context.Context, s *bridge.Session, p *bridge.Participant, t bridge.SessionType) {
	room, err := c.controlRoom(ctx, id.UserID(s.Clinician))
	if err != nil {
		zerolog.Ctx(ctx).Err(err).Str("session_id", s.ID).Msg("Failed to find a control room to tell of a client's booking")
		return
	}
	n := (&notice{}).text("New booking from the client portal: ").user(p.Name).text(" booked ").user(t.Name).
		text(fmt.Sprintf(" (%s, %d min) on %s, session %s.", t.Kind, int(t.Duration.Minutes()), bridge.FormatTime(s.Start, s.Location()), s.ID)).line().
		code("!lobby " + s.ID).text(" · ").code("!reschedule " + s.ID + " <date> <time>").text(" · ").code("!cancel " + s.ID)
	if err = c.send(ctx, room, n); err != nil {
		zerolog.Ctx(ctx).Err(err).Str("session_id", s.ID).Msg("Failed to tell the clinician of a client's booking")
	}
}
