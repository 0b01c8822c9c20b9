package appservice

import (
	"context"
	"strings"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/id"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
)

var _ bridge.ClientChangeNotifier = (*Connector)(nil)

// The clinician hears in their control room of the changes their clients made to their
// sessions from the portal. The control room holds only the clinician and the bot, so the
// client's name may show there; the client gave no reason, so none is said.

// ClientCancelled: a client cancelled one of their sessions.
func (c *Connector) ClientCancelled(ctx context.Context, s *bridge.Session, p *bridge.Participant) {
	n := (&notice{}).text("Cancelled from the client portal: ").user(p.DisplayName()).
		text(" cancelled session " + s.ID + " on " + bridge.FormatTime(s.Start, s.Location()) + ". Their reminders are withdrawn and they were sent the cancellation.")
	c.tellClinician(ctx, s, n, "a client's cancellation")
}

// MoveRequested: a client asked to move one of their sessions, to one of their preferred times.
func (c *Connector) MoveRequested(ctx context.Context, s *bridge.Session, p *bridge.Participant, r *bridge.MoveRequest) {
	times := make([]string, len(r.Preferred))
	for i, t := range r.Preferred {
		times[i] = bridge.FormatTime(t, s.Location())
	}
	n := (&notice{}).text("Move requested from the client portal: ").user(p.DisplayName()).
		text(" asks to move session " + s.ID + " on " + bridge.FormatTime(s.Start, s.Location()) + ". Times that suit them: " + strings.Join(times, "; ") + ".").line().
		code("!reschedule " + s.ID + " <date> <time>").text(" · ").code("!cancel " + s.ID)
	c.tellClinician(ctx, s, n, "a client's move request")
}

// ClientMoved: a client moved one of their sessions into one of the clinician's free slots.
func (c *Connector) ClientMoved(ctx context.Context, from, to *bridge.Session, p *bridge.Participant) {
	n := (&notice{}).text("Moved from the client portal: ").user(p.DisplayName()).
		text(" moved session " + from.ID + " on " + bridge.FormatTime(from.Start, from.Location()) + " to " + bridge.FormatTime(to.Start, to.Location()) +
			", session " + to.ID + ". The first one is cancelled.").line().
		code("!lobby " + to.ID).text(" · ").code("!reschedule " + to.ID + " <date> <time>").text(" · ").code("!cancel " + to.ID)
	c.tellClinician(ctx, to, n, "a client's move")
}

func (c *Connector) tellClinician(ctx context.Context, s *bridge.Session, n *notice, what string) {
	room, err := c.controlRoom(ctx, id.UserID(s.Clinician))
	if err != nil {
		zerolog.Ctx(ctx).Err(err).Str("session_id", s.ID).Msg("Failed to find a control room to tell of " + what)
		return
	}
	if err = c.send(ctx, room, n); err != nil {
		zerolog.Ctx(ctx).Err(err).Str("session_id", s.ID).Msg("Failed to tell the clinician of " + what)
	}
}
