package scheduler_test

import (
	"context"
	"testing"
	"time"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"github.com/telehealth-bridge/telehealth-bridge/internal/twiliotest"
	"github.com/telehealth-bridge/telehealth-bridge/scheduler"
)

// A Settings confirmation code says it confirms a change, not a sign-in, and names only the
// clinic.
func TestPortalConfirmationCode(t *testing.T) {
	fake := twiliotest.StartFake(t)
	sms, _ := newSMS(t, scheduler.SMSConfig{AccountSID: testAccountSID, AuthToken: testAuthToken, From: testFrom, APIURL: fake.URL})
	codes := scheduler.NewPortalCodes(scheduler.Clinic{Name: "Clinique du Parc"}, nil, sms, optOutSet{})
	if err := codes.SendConfirmationCode(context.Background(), bridge.PortalContact{Phone: "+33612345678"}, "042917", "fr"); err != nil {
		t.Fatal(err)
	}
	sent := fake.WaitFor(t, 1, 5*time.Second)[0]
	if sent.To != "+33612345678" || sent.Body != "042917 est votre code de confirmation pour Clinique du Parc. Il est valable 10 minutes. Ne le communiquez à personne." {
		t.Errorf("SMS %+v", sent)
	}
}
