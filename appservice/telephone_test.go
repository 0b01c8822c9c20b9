package appservice_test

import (
	"strings"
	"testing"
	"time"

	"github.com/telehealth-bridge/telehealth-bridge/internal/bridgetest"
	"github.com/telehealth-bridge/telehealth-bridge/internal/twiliotest"
)

// !call: only the session's own clinician places its call, from their control room; a patient
// and another clinician are refused and nothing reaches Twilio.
func TestCallCommand(t *testing.T) {
	fake := twiliotest.StartFake(t)
	l := newLobbyWith(t, bridgetest.Options{DB: "sqlite", Config: func(v map[string]any) {
		v["permissions"] = map[string]any{"@dr.martin:localhost": "clinician", "@dr.other:localhost": "clinician"}
		v["notifications.clinic_phone"] = clinicPhone
		v["notifications.sms.account_sid"] = twilioSID
		v["notifications.sms.auth_token"] = twilioToken
		v["notifications.sms.from"] = clinicPhone
		v["notifications.sms.api_url"] = fake.URL
		v["telephone.clinicians"] = map[string]any{"@dr.martin:localhost": "+33699887766", "@dr.other:localhost": "+33699887755"}
	}})
	s := l.schedule(`2026-11-24 15:00 Europe/Paris "Jane Doe" none phone=+33612345612 kind=phone matrix=@jane:localhost`)
	l.openWindow(s)

	jane := l.env.User(t, "jane")
	janeDM := roomWithBot(t, l.env, jane)
	say(t, jane, janeDM, "!call "+s.ID)
	bridgetest.WaitMessage(t, jane, janeDM, wait, "the refusal of a patient's !call",
		bridgetest.IsNoticeFrom(l.bot(), "Only the clinic's clinicians can use this command."))

	other := l.env.User(t, "dr.other")
	otherControl := roomWithBot(t, l.env, other)
	say(t, other, otherControl, "!call "+s.ID)
	bridgetest.WaitMessage(t, other, otherControl, wait, "the refusal of another clinician's !call",
		bridgetest.IsNoticeFrom(l.bot(), "this is not your session"))
	// In the session's room a participant's `!call` is conversation: no answer, no call.
	if n := len(fake.Calls()); n != 0 {
		t.Fatalf("%d call(s) reached Twilio for refused commands", n)
	}

	l.command("!call "+s.ID, "Calling your phone for session "+s.ID)
	calls := fake.Calls()
	if len(calls) != 1 || calls[0].To != "+33699887766" || calls[0].From != clinicPhone {
		t.Fatalf("calls %+v", calls)
	}
	// The attempt's state reaches the control room; the number does not.
	evt := bridgetest.WaitMessage(t, l.clinician, l.control, wait, "the call's state in the control room",
		bridgetest.IsNoticeFrom(l.bot(), "Calling your phone…"))
	if body := evt.Content.AsMessage().Body; strings.Contains(body, "+33") {
		t.Errorf("the control room shows a number: %q", body)
	}
	l.command("!call "+s.ID, "a call is already in progress")
}

// !sms: only the session's own clinician texts its participant; the answer reminds what a text
// must not hold; a patient and another clinician are refused and nothing is sent.
func TestSMSCommand(t *testing.T) {
	fake := twiliotest.StartFake(t)
	l := newLobbyWith(t, bridgetest.Options{DB: "sqlite", Config: func(v map[string]any) {
		v["permissions"] = map[string]any{"@dr.martin:localhost": "clinician", "@dr.other:localhost": "clinician"}
		v["notifications.sms.account_sid"] = twilioSID
		v["notifications.sms.auth_token"] = twilioToken
		v["notifications.sms.from"] = clinicPhone
		v["notifications.sms.api_url"] = fake.URL
	}})
	s := l.schedule(`2026-11-24 15:00 Europe/Paris "Jane Doe" none phone=+33612345612 kind=phone matrix=@jane:localhost`)

	jane := l.env.User(t, "jane")
	janeDM := roomWithBot(t, l.env, jane)
	say(t, jane, janeDM, "!sms "+s.ID+" hello")
	bridgetest.WaitMessage(t, jane, janeDM, wait, "the refusal of a patient's !sms",
		bridgetest.IsNoticeFrom(l.bot(), "Only the clinic's clinicians can use this command."))
	other := l.env.User(t, "dr.other")
	otherControl := roomWithBot(t, l.env, other)
	say(t, other, otherControl, "!sms "+s.ID+" hello")
	bridgetest.WaitMessage(t, other, otherControl, wait, "the refusal of another clinician's !sms",
		bridgetest.IsNoticeFrom(l.bot(), "this is not your session"))

	l.command("!sms "+s.ID, "Usage: !sms")
	l.command("!sms "+s.ID+" I will call you in 5 minutes", "Reminder: Text messages are not private")
	l.clock.Advance(time.Second) // the sender's next round
	var sent []string
	bridgetest.Eventually(t, wait, "the text to reach Twilio", func() bool {
		sent = nil
		for _, m := range fake.Messages() {
			sent = append(sent, m.To+" "+m.Body)
		}
		return len(sent) > 0
	})
	if len(sent) != 1 || !strings.HasSuffix(sent[0], ": I will call you in 5 minutes") || !strings.HasPrefix(sent[0], "+33612345612 ") {
		t.Errorf("texts sent: %v", sent)
	}
}
