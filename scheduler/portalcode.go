package scheduler

import (
	"context"
	"errors"
	"fmt"
	"html"
	"strings"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
)

// PortalCodes sends the client portal's one-time sign-in codes by email or SMS, at once and
// not through the outbox: a code is useful for ten minutes and never sent again (the client
// asks for a new one). The message names the clinic only: no client name, no session, nothing
// about care, as a code may reach a shared inbox or a phone's lock screen.
type PortalCodes struct {
	clinic  Clinic
	email   EmailSender
	sms     SMSSender
	optOuts OptOuts
}

// NewPortalCodes makes the sender; email or sms may be nil when the clinic has not configured
// that channel.
func NewPortalCodes(clinic Clinic, email EmailSender, sms SMSSender, optOuts OptOuts) *PortalCodes {
	return &PortalCodes{clinic: clinic, email: email, sms: sms, optOuts: optOuts}
}

// ErrChannelOff is returned for a code to a channel the clinic has not configured, or to a
// phone that answered STOP.
var ErrChannelOff = errors.New("this channel cannot carry the code")

type portalCodeWords struct{ subject, email, sms string }

// portalCodeTexts are the messages, by language. The SMS stays in GSM-7 (é and è are in it).
var portalCodeTexts = map[string]portalCodeWords{
	"en": {
		subject: "Your sign-in code",
		email:   "%[1]s is your code to sign in to the client portal of %[2]s. It works for 10 minutes.\n\nIf you did not ask for it, ignore this message: nobody can sign in without the code.",
		sms:     "%[1]s is your sign-in code for %[2]s. It works for 10 minutes. Never share it.",
	},
	"fr": {
		subject: "Votre code de connexion",
		email:   "%[1]s est votre code pour vous connecter à l'espace client de %[2]s. Il est valable 10 minutes.\n\nSi vous ne l'avez pas demandé, ignorez ce message : personne ne peut se connecter sans ce code.",
		sms:     "%[1]s est votre code de connexion pour %[2]s. Il est valable 10 minutes. Ne le communiquez à personne.",
	},
}

// SendPortalCode sends the code to the contact, in the language (en or fr).
func (pc *PortalCodes) SendPortalCode(ctx context.Context, to bridge.PortalContact, code, lang string) error {
	words, ok := portalCodeTexts[lang]
	if !ok {
		words = portalCodeTexts["en"]
	}
	clinic := pc.clinic.Name
	switch {
	case to.Email != "":
		if pc.email == nil {
			return fmt.Errorf("sending a portal code by email: %w", ErrChannelOff)
		}
		text := fmt.Sprintf(words.email, code, clinic)
		var b strings.Builder
		for _, para := range strings.Split(text, "\n\n") {
			b.WriteString("<p>" + html.EscapeString(para) + "</p>")
		}
		_, err := pc.email.Send(ctx, to.Email, Email{Subject: words.subject, Text: text, HTML: b.String()})
		if err != nil {
			return fmt.Errorf("sending a portal code by email: %w", err)
		}
	case to.Phone != "":
		if pc.sms == nil {
			return fmt.Errorf("sending a portal code by SMS: %w", ErrChannelOff)
		}
		if pc.optOuts != nil {
			out, err := pc.optOuts.OptedOut(ctx, to.Phone)
			if err != nil {
				return fmt.Errorf("reading the SMS opt-outs: %w", err)
			}
			if out {
				return fmt.Errorf("sending a portal code by SMS: the number answered STOP: %w", ErrChannelOff)
			}
		}
		if _, err := pc.sms.Send(ctx, to.Phone, fmt.Sprintf(words.sms, code, clinic)); err != nil {
			return fmt.Errorf("sending a portal code by SMS: %w", err)
		}
	default:
		return errors.New("sending a portal code: no email address or phone number")
	}
	return nil
}

// PortalCodes is the portal's code sender on the notifier's channels: its clinic, email, SMS
// and opt-out ledger.
func (nt *Notifier) PortalCodes() *PortalCodes {
	return NewPortalCodes(nt.cfg.Clinic, nt.email, nt.sms, nt.optOuts)
}
