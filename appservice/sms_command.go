package appservice

import (
	"fmt"
	"strings"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
)

// cmdSMS texts a participant a message of the clinician's own, through the outbox: `!sms
// <session> [#participant] <text>`. Only the session's clinician may. The answer repeats what
// a text message must not hold; the text itself is never echoed nor logged.
func cmdSMS(ce *commandEvent) {
	c := ce.Meta
	sessionID, ok := sessionArg(ce)
	if !ok {
		return
	}
	ref := ""
	if len(ce.Args) > 0 && strings.HasPrefix(ce.Args[0], "#") {
		ref = ce.Args[0]
		ce.ShiftArg()
	}
	text := strings.Join(ce.Args, " ")
	if strings.TrimSpace(text) == "" {
		replyText(ce, "Usage: !sms <session> [#participant] <text>. %s", bridge.TextReminder)
		return
	}
	p, err := c.svc.TextParticipant(ce.Ctx, ce.Sender.String(), sessionID, ref, text)
	if err != nil {
		replyErr(ce, "send the text", err)
		return
	}
	replyText(ce, "%s", fmt.Sprintf("Text to participant %d of session %s queued: it goes out in a few seconds (!notifications %s shows it). Reminder: %s",
		p.Number, sessionID, sessionID, bridge.TextReminder))
}
