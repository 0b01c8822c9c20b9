package scheduler_test

import (
	"bytes"
	"context"
	"errors"
	"mime"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"github.com/telehealth-bridge/telehealth-bridge/internal/smtptest"
	"github.com/telehealth-bridge/telehealth-bridge/internal/twiliotest"
	"github.com/telehealth-bridge/telehealth-bridge/scheduler"
)

type optOutSet map[string]bool

func (o optOutSet) OptOut(context.Context, string, time.Time) error { return nil }
func (o optOutSet) OptIn(context.Context, string) error             { return nil }
func (o optOutSet) OptedOut(_ context.Context, phone string) (bool, error) {
	return o[phone], nil
}

// TestPortalCodes: a sign-in code goes by email (through SMTP) or SMS (through Twilio's API),
// in the client's language, naming the clinic and nothing about the client; never to a number
// that answered STOP.
func TestPortalCodes(t *testing.T) {
	smtp := smtptest.Start(t)
	fake := twiliotest.StartFake(t)
	sms, _ := newSMS(t, scheduler.SMSConfig{AccountSID: testAccountSID, AuthToken: testAuthToken, From: testFrom, APIURL: fake.URL})
	codes := scheduler.NewPortalCodes(scheduler.Clinic{Name: "Clinique du Parc"}, newMailer(t, smtp), sms, optOutSet{"+33699999999": true})
	ctx := context.Background()

	if err := codes.SendPortalCode(ctx, bridge.PortalContact{Email: "alice@example.org"}, "042917", "fr"); err != nil {
		t.Fatal(err)
	}
	got := smtp.WaitFor(t, 1, 5*time.Second)[0]
	msg, err := mail.ReadMessage(bytes.NewReader(got.Data))
	if err != nil {
		t.Fatal(err)
	}
	if subject, _ := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject")); subject != "Votre code de connexion" || got.To[0] != "alice@example.org" {
		t.Errorf("email %q to %v", subject, got.To)
	}
	var text string
	for _, p := range mimeParts(t, msg.Header, msg.Body) {
		if p.contentType == "text/plain" {
			text = p.body
		}
	}
	if !strings.HasPrefix(text, "042917 est votre code") || !strings.Contains(text, "Clinique du Parc") || !strings.Contains(text, "10 minutes") {
		t.Errorf("email text %q", text)
	}

	if err = codes.SendPortalCode(ctx, bridge.PortalContact{Phone: "+33612345678"}, "042917", "en"); err != nil {
		t.Fatal(err)
	}
	sent := fake.WaitFor(t, 1, 5*time.Second)[0]
	if sent.To != "+33612345678" || sent.Body != "042917 is your sign-in code for Clinique du Parc. It works for 10 minutes. Never share it." {
		t.Errorf("SMS %+v", sent)
	}

	if err = codes.SendPortalCode(ctx, bridge.PortalContact{Phone: "+33699999999"}, "111111", "en"); !errors.Is(err, scheduler.ErrChannelOff) {
		t.Errorf("a code to a number that answered STOP: %v", err)
	}
	noEmail := scheduler.NewPortalCodes(scheduler.Clinic{Name: "Clinique du Parc"}, nil, nil, nil)
	if err = noEmail.SendPortalCode(ctx, bridge.PortalContact{Email: "alice@example.org"}, "111111", "en"); !errors.Is(err, scheduler.ErrChannelOff) {
		t.Errorf("a code without email configured: %v", err)
	}
	if n := len(fake.Messages()); n != 1 {
		t.Errorf("%d SMS sent, want 1", n)
	}

	// The enrolment link: the clinic and the link, nothing else.
	link := "https://portal.example.org/portal/enrol#tok"
	if err = codes.SendPortalEnrolment(ctx, bridge.PortalContact{Phone: "+33612345678"}, link, "fr"); err != nil {
		t.Fatal(err)
	}
	sent = fake.WaitFor(t, 2, 5*time.Second)[1]
	if sent.Body != "Clinique du Parc : créez votre accès à votre espace client : "+link+" (valable une fois, 7 jours)" {
		t.Errorf("enrolment SMS %q", sent.Body)
	}
	if err = codes.SendPortalEnrolment(ctx, bridge.PortalContact{Email: "alice@example.org"}, link, "en"); err != nil {
		t.Fatal(err)
	}
	got = smtp.WaitFor(t, 2, 5*time.Second)[1]
	if msg, err = mail.ReadMessage(bytes.NewReader(got.Data)); err != nil {
		t.Fatal(err)
	}
	if subject := msg.Header.Get("Subject"); subject != "Create your access to your client portal" {
		t.Errorf("enrolment subject %q", subject)
	}
}
