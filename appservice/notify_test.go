package appservice_test

import (
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/telehealth-bridge/telehealth-bridge/internal/bridgetest"
	"github.com/telehealth-bridge/telehealth-bridge/internal/smtptest"
	"github.com/telehealth-bridge/telehealth-bridge/internal/twiliotest"
)

const (
	twilioSID   = "AC0123456789abcdef0123456789abcdef"
	twilioToken = "0123456789abcdef0123456789abcdef"
	clinicPhone = "+33123456789"
)

// Through the whole bridge and the homeserver: a booking sends the confirmation by SMS or by
// email with a calendar invite; a client's SMS reply reaches the clinician in Element; a number
// Twilio refuses is reported to the clinician in the control room.
func TestParticipantsHearFromTheClinic(t *testing.T) {
	sms, mail := twiliotest.StartFake(t), smtptest.Start(t)
	l := newLobbyWith(t, bridgetest.Options{DB: "sqlite", Config: func(v map[string]any) {
		v["notifications.clinic_name"] = "Clinique du Parc"
		v["notifications.sms.account_sid"] = twilioSID
		v["notifications.sms.auth_token"] = twilioToken
		v["notifications.sms.from"] = clinicPhone
		v["notifications.sms.api_url"] = sms.URL
		v["notifications.email.host"] = mail.Host
		v["notifications.email.port"] = mail.Port
		v["notifications.email.tls"] = "none"
		v["notifications.email.from"] = "Clinique du Parc <rdv@clinique.example>"
	}})
	s := l.schedule(`2026-11-24 15:00 Europe/Paris "Jane Doe" sms +33612345678`)
	l.clock.Advance(time.Second) // the sender's next round
	got := sms.WaitFor(t, 1, wait)[0]
	if got.To != "+33612345678" || got.From != clinicPhone || !strings.Contains(got.Body, "Clinique du Parc") || strings.Contains(got.Body, "Jane") {
		t.Errorf("confirmation SMS from %s to %s: %q", got.From, got.To, got.Body)
	}
	if !strings.Contains(got.StatusCallback, l.env.Config.Web.PublicURL+"/sms/status") {
		t.Errorf("status callback %q", got.StatusCallback)
	}

	// The client answers by SMS; Twilio posts it to the bridge's webhook.
	r := twiliotest.PostSigned(t, twilioToken, l.env.Config.Web.PublicURL+"/sms/inbound",
		twiliotest.InboundSMS("+33612345678", clinicPhone, "Running 5 minutes late <b>sorry</b>"))
	if r.Status != 200 {
		t.Fatalf("inbound SMS answered %d: %s", r.Status, r.Body)
	}
	for _, room := range []id.RoomID{id.RoomID(s.RoomID), l.control} {
		evt := bridgetest.WaitMessage(t, l.clinician, room, wait, "the relayed text message", bridgetest.IsNoticeFrom(l.bot(), "Running 5 minutes late"))
		if html := evt.Content.AsMessage().FormattedBody; strings.Contains(html, "<b>sorry") {
			t.Errorf("the message's markup was not escaped: %s", html)
		}
	}
	forged := twiliotest.PostForged(t, l.env.Config.Web.PublicURL+"/sms/inbound", twiliotest.InboundSMS("+33612345678", clinicPhone, "STOP"))
	if forged.Status != 403 {
		t.Errorf("a forged webhook answered %d", forged.Status)
	}

	// Twilio refuses the next number: the clinician reads why in the control room.
	sms.FailNext(1, 400, 21211, "The 'To' number is not a valid phone number.")
	refused := l.schedule(`2026-11-25 10:00 Europe/Paris JD sms +33698765432`)
	l.clock.Advance(time.Second)
	bridgetest.WaitMessage(t, l.clinician, l.control, wait, "the failed confirmation's notice", func(evt *event.Event) bool {
		body := evt.Content.AsMessage().Body
		return evt.Sender == l.bot() && strings.Contains(body, "was not sent") && strings.Contains(body, "not a valid phone number")
	})
	// The session's notifications, at a glance: what failed and why, what is planned.
	l.command("!notifications "+refused.ID, "1 · JD · sms confirmation · failed: Twilio error 21211: The 'To' number is not a valid phone number.")
	l.command("!notifications "+refused.ID, "sms window open · planned for Wed 25 Nov 2026 09:30 CET")
	l.command("!notifications "+s.ID, "1 · Jane Doe · sms confirmation · sent")

	// An email participant gets the confirmation with a calendar invite.
	l.schedule(`2026-11-26 11:00 Europe/Paris "John Smith" email john@example.org`)
	l.clock.Advance(time.Second)
	m := mail.WaitFor(t, 1, wait)[0]
	if m.To[0] != "john@example.org" || !strings.Contains(string(m.Data), "METHOD:REQUEST") || strings.Contains(string(m.Data), "Smith") {
		t.Errorf("confirmation email to %v:\n%s", m.To, m.Data)
	}
}
