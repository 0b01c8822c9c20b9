package appservice

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"github.com/telehealth-bridge/telehealth-bridge/scheduler"
)

// RelaySMS carries a participant's text message reply ("running 5 minutes late") into the
// session's room, where the clinician reads it in Element. A participant in the session speaks
// as their ghost; one not in the room (they cannot post there before being let in) is quoted
// by the bot, which names them. The clinician's control room gets the same notice.
func (c *Connector) RelaySMS(ctx context.Context, sessionID string, participantID int64, text string) error {
	s, ps, err := c.svc.Lobby(ctx, "", sessionID)
	if err != nil {
		return err
	}
	var p *bridge.Participant
	for _, candidate := range ps {
		if candidate.ID == participantID {
			p = candidate
		}
	}
	if p == nil {
		return bridge.ErrParticipantUnkn
	}
	if s.RoomID == "" {
		return errors.New("the session has no room")
	}
	if c.IsGhost(p.MatrixID) && p.State == bridge.StateInSession {
		_, err = c.AS.Intent(id.UserID(p.MatrixID)).SendMessageEvent(ctx, id.RoomID(s.RoomID), event.EventMessage,
			&event.MessageEventContent{MsgType: event.MsgText, Body: relayedText(text), Mentions: &event.Mentions{}})
		return err
	}
	n := (&notice{}).text("Text message from ").user(p.DisplayName()).text(fmt.Sprintf(" (participant %d): ", p.Number)).user(text)
	if err = c.send(ctx, id.RoomID(s.RoomID), n); err != nil {
		return fmt.Errorf("relaying a text message: %w", err)
	}
	if room, err := c.controlRoom(ctx, id.UserID(s.Clinician)); err == nil {
		n = (&notice{}).text(fmt.Sprintf("Session %s: text message from ", s.ID)).user(p.DisplayName()).text(": ").user(text)
		_ = c.send(ctx, room, n)
	}
	return nil
}

// relayedText is an SMS as its ghost posts it: marked as an SMS, so that it can never start
// with `!` and read as a command, whoever's client or bot reads the room.
func relayedText(text string) string { return "SMS: " + text }

// ClinicianName is the name a clinician shows participants: their Matrix display name, or
// their user ID's localpart if they have none.
func (c *Connector) ClinicianName(ctx context.Context, userID string) (string, error) {
	user := id.UserID(userID)
	resp, err := c.bot.GetDisplayName(ctx, user)
	if err == nil && resp.DisplayName != "" {
		return resp.DisplayName, nil
	}
	localpart, _, parseErr := user.Parse()
	if parseErr != nil {
		return "", fmt.Errorf("%q is not a user ID: %w", userID, parseErr)
	}
	return localpart, nil
}

var _ scheduler.Clinicians = (*Connector)(nil)

// NotificationProblem tells the clinician, in their control room, that a participant was not
// notified and why, so that they can reach them another way. It names the participant by their
// number and booked name only, and never quotes the message.
func (c *Connector) NotificationProblem(ctx context.Context, s *bridge.Session, p *bridge.Participant, n *bridge.Notification) {
	room, err := c.controlRoom(ctx, id.UserID(s.Clinician))
	if err != nil {
		zerolog.Ctx(ctx).Err(err).Msg("Failed to find a control room to report a notification problem")
		return
	}
	what := fmt.Sprintf("Session %s: the %s %s to participant %d (", s.ID, strings.ReplaceAll(string(n.Kind), "_", " "), n.Channel, p.Number)
	msg := (&notice{}).text(what).user(p.DisplayName()).text(") was not sent: ").user(n.LastError)
	if err = c.send(ctx, room, msg); err != nil {
		zerolog.Ctx(ctx).Err(err).Msg("Failed to report a notification problem")
	}
}
