package scheduler

import (
	"context"
	"errors"
	"fmt"
	"html"
	"strings"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
)

// PortalCodes sends the client portal's one-time sign-in codes and enrolment links by email or
// SMS, at once and not through the outbox: a code is useful for ten minutes and never sent
// again (the client asks for a new one), a link is sent again only when the clinic asks. The message names the clinic only: no client name, no session, nothing
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

// portalEnrolTexts are the enrolment messages ("Create your access"), by language: the clinic's
// name and the link, nothing else.
var portalEnrolTexts = map[string]portalCodeWords{
	"en": {
		subject: "Create your access to your client portal",
		email:   "%[2]s has opened a client portal for you: your sessions and messages in one place.\n\nCreate your access (a passkey, or a password): %[1]s\n\nThe link works once, for 7 days. If you did not expect it, ignore this message.",
		sms:     "%[2]s: create your access to your client portal: %[1]s (works once, for 7 days)",
	},
	"fr": {
		subject: "Créez votre accès à votre espace client",
		email:   "%[2]s vous a ouvert un espace client : vos séances et vos messages au même endroit.\n\nCréez votre accès (clé d'accès ou mot de passe) : %[1]s\n\nLe lien ne sert qu'une fois, pendant 7 jours. Si vous ne l'attendiez pas, ignorez ce message.",
		sms:     "%[2]s : créez votre accès à votre espace client : %[1]s (valable une fois, 7 jours)",
	},
}

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
	return pc.send(ctx, to, portalCodeTexts, code, lang)
}

// SendPortalEnrolment sends an enrolment link (web.Server.PortalEnrolLink) to the contact.
func (pc *PortalCodes) SendPortalEnrolment(ctx context.Context, to bridge.PortalContact, link, lang string) error {
	return pc.send(ctx, to, portalEnrolTexts, link, lang)
}

// send sends texts[lang] with the secret (a code or a link) and the clinic's name.
func (pc *PortalCodes) send(ctx context.Context, to bridge.PortalContact, texts map[string]portalCodeWords, secret, lang string) error {
	words, ok := texts[lang]
	if !ok {
		words = texts["en"]
	}
	code, clinic := secret, pc.clinic.Name
	switch {
	case to.Email != "":
		if pc.email == nil {
			return fmt.Errorf("sending a portal message by email: %w", ErrChannelOff)
		}
		text := fmt.Sprintf(words.email, code, clinic)
		var b strings.Builder
		for _, para := range strings.Split(text, "\n\n") {
			b.WriteString("<p>" + html.EscapeString(para) + "</p>")
		}
		_, err := pc.email.Send(ctx, to.Email, Email{Subject: words.subject, Text: text, HTML: b.String()})
		if err != nil {
			return fmt.Errorf("sending a portal message by email: %w", err)
		}
	case to.Phone != "":
		if pc.sms == nil {
			return fmt.Errorf("sending a portal message by SMS: %w", ErrChannelOff)
		}
		if pc.optOuts != nil {
			out, err := pc.optOuts.OptedOut(ctx, to.Phone)
			if err != nil {
				return fmt.Errorf("reading the SMS opt-outs: %w", err)
			}
			if out {
				return fmt.Errorf("sending a portal message by SMS: the number answered STOP: %w", ErrChannelOff)
			}
		}
		if _, err := pc.sms.Send(ctx, to.Phone, fmt.Sprintf(words.sms, code, clinic)); err != nil {
			return fmt.Errorf("sending a portal message by SMS: %w", err)
		}
	default:
		return errors.New("sending a portal message: no email address or phone number")
	}
	return nil
}

// PortalCodes is the portal's code sender on the notifier's channels: its clinic, email, SMS
// and opt-out ledger.
func (nt *Notifier) PortalCodes() *PortalCodes {
	return NewPortalCodes(nt.cfg.Clinic, nt.email, nt.sms, nt.optOuts)
}
