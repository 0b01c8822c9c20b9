package appservice

import (
	"context"
	"fmt"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/id"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
)

// CallChanged tells the clinician, in their control room, where the telephone call they
// placed is: ringing, connected, ended, or why it did not go through. It names no number.
func (c *Connector) CallChanged(ctx context.Context, s *bridge.Session, a *bridge.CallAttempt) {
	room, err := c.controlRoom(ctx, id.UserID(a.Clinician))
	if err != nil {
		zerolog.Ctx(ctx).Err(err).Msg("Failed to find a control room to report a call")
		return
	}
	msg := (&notice{}).text(fmt.Sprintf("Session %s, call to participant %d: %s", s.ID, a.Participant, a.Words()))
	if a.State == bridge.CallFailed {
		msg.text(fmt.Sprintf(" Send !call %s to try again.", s.ID))
	}
	if err = c.send(ctx, room, msg); err != nil {
		zerolog.Ctx(ctx).Err(err).Msg("Failed to report a call")
	}
}

var _ bridge.CallWatcher = (*Connector)(nil)

// cmdCall places a telephone session's call: the clinician's own phone rings, then the
// client's. Only the session's clinician may (their phone rings); the command is for
// clinicians, so a participant's `!call` is refused before this.
func cmdCall(ce *commandEvent) {
	c := ce.Meta
	sessionID, ok := sessionArg(ce)
	if !ok {
		return
	}
	ref := ""
	if len(ce.Args) > 0 {
		ref = ce.Args[0]
	}
	a, err := c.svc.PlaceCall(ce.Ctx, ce.Sender.String(), sessionID, ref)
	if err != nil {
		replyErr(ce, "place the call", err)
		return
	}
	replyText(ce, "Calling your phone for session %s: answer it and press 1, then the bridge calls participant %d. Both of you see only the clinic's number.", sessionID, a.Participant)
}
