package scheduler

import (
	"context"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
)

// portalConfirmTexts are the messages of a code that confirms a change in the portal's
// Settings (a new email address or phone, a password): it is no sign-in code, and its
// receiver (perhaps not the client, if they mistyped) learns only the clinic's name.
var portalConfirmTexts = map[string]portalCodeWords{
	"en": {
		subject: "Your confirmation code",
		email:   "%[1]s is your code to confirm a change in the client portal of %[2]s. It works for 10 minutes.\n\nIf you did not ask for it, ignore this message: nothing changes without the code.",
		sms:     "%[1]s is your code to confirm a change for %[2]s. It works for 10 minutes. Never share it.",
	},
	"fr": {
		subject: "Votre code de confirmation",
		email:   "%[1]s est votre code pour confirmer une modification dans l'espace client de %[2]s. Il est valable 10 minutes.\n\nSi vous ne l'avez pas demandé, ignorez ce message : rien ne change sans ce code.",
		sms:     "%[1]s est votre code de confirmation pour %[2]s. Il est valable 10 minutes. Ne le communiquez à personne.",
	},
}

// SendConfirmationCode sends a code that confirms a change in the portal's Settings.
func (pc *PortalCodes) SendConfirmationCode(ctx context.Context, to bridge.PortalContact, code, lang string) error {
	return pc.send(ctx, to, portalConfirmTexts, code, lang)
}
