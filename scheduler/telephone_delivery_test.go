package scheduler_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"github.com/telehealth-bridge/telehealth-bridge/database"
	"github.com/telehealth-bridge/telehealth-bridge/internal/bridgetest"
	"github.com/telehealth-bridge/telehealth-bridge/internal/dbtest"
	"github.com/telehealth-bridge/telehealth-bridge/scheduler"
)

// namelessDesk is a Matrix side whose clinician has no display name.
type namelessDesk struct{ clinicDesk }

func (d *namelessDesk) ClinicianName(context.Context, string) (string, error) { return " ", nil }

// The introduction SMS goes without a clinic caller ID (notifications.clinic_phone empty, the
// default), also for a session booked less than phone_intro_before ahead; one that cannot be
// written is reported to the clinician at once, not after the session.
func TestPhoneIntroWithoutCallerID(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.Database) {
		ctx := context.Background()
		c := newClinic(t, db, booked)
		c.nt = scheduler.NewNotifier(scheduler.NotifyConfig{
			Clinic: scheduler.Clinic{Name: "Clinique du Parc", Email: "rdv@clinique.example", Domain: "clinique.example"},
			Window: bridge.DefaultWindow, PhoneIntroBefore: 10 * time.Minute,
		}, c.clock, zerolog.Nop(), db.Outbox, db.OptOut, db.Store(), mustSMS(t, c), nil)
		c.nt.Use(guestLinks{}, c.desk)

		// Booked 5 minutes ahead: the introduction goes now.
		s, _ := book(t, db, "intro1", booked.Add(5*time.Minute), bridge.KindPhone)
		if err := c.nt.Plan(ctx, s); err != nil {
			t.Fatal(err)
		}
		c.sendDue(t)
		sms := c.sms.WaitFor(t, 1, 5*time.Second)
		if sms[0].To != "+33612345678" || !strings.Contains(sms[0].Body, "praticien Dr Martin vous appellera vers 10:05") || strings.Contains(sms[0].Body, "+33") {
			t.Errorf("introduction SMS to %s: %q", sms[0].To, sms[0].Body)
		}
		if n := c.status(t, s.ID, bridge.NoticePhoneIntro, bridge.ChannelSMS); n.Status != bridge.NotificationSent {
			t.Errorf("introduction row: %+v", n)
		}

		// A clinician without a name: the introduction cannot be written, and they are told now.
		desk := &namelessDesk{}
		c.nt.Use(guestLinks{}, desk)
		s2, _ := book(t, db, "intro2", booked.Add(time.Hour), bridge.KindPhone)
		if err := c.nt.Plan(ctx, s2); err != nil {
			t.Fatal(err)
		}
		c.setClock(t, s2.Start.Add(-10*time.Minute))
		c.sendDue(t)
		if n := c.status(t, s2.ID, bridge.NoticePhoneIntro, bridge.ChannelSMS); n.Status != bridge.NotificationFailed || !strings.Contains(n.LastError, "clinician's name") {
			t.Errorf("unwritable introduction: %+v", n)
		}
		if told := desk.told(); len(told) != 1 || !strings.Contains(told[0], "phone_intro failed") {
			t.Errorf("the clinician was told %v", told)
		}
	})
}

func mustSMS(t *testing.T, c *clinic) *scheduler.SMS {
	t.Helper()
	sms, err := scheduler.NewSMS(scheduler.SMSConfig{AccountSID: "AC0123456789abcdef0123456789abcdef", AuthToken: authToken,
		From: "+33123456789", APIURL: c.sms.URL, ClinicName: "Clinique du Parc"}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	return sms
}

// A clinician's own text goes through the outbox: sent by SMS after the clinic's name, kept in
// the database only until it is settled, never sent to a number that answered STOP, and not
// dropped by a re-plan of a participant invited by email.
func TestClinicianTextThroughTheOutbox(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.Database) {
		ctx := context.Background()
		c := newClinic(t, db, booked)
		s, ps := book(t, db, "text01", booked.Add(2*time.Hour), bridge.KindPhone)
		ps[1].Phone = "+12125550123" // John, invited by email, has a phone too
		if err := db.Store().UpdateParticipant(ctx, ps[1]); err != nil {
			t.Fatal(err)
		}
		if err := c.nt.QueueText(ctx, s, ps[1], "Je vous appelle dans 5 minutes, êtes-vous disponible ?"); err != nil {
			t.Fatal(err)
		}
		if err := c.nt.Plan(ctx, s); err != nil {
			t.Fatal(err)
		}
		c.sendDue(t)
		var got string
		bridgetest.Eventually(t, 5*time.Second, "the text message", func() bool {
			for _, m := range c.sms.Messages() {
				if m.To == "+12125550123" {
					got = m.Body
				}
			}
			return got != ""
		})
		if got != "Clinique du Parc: Je vous appelle dans 5 minutes, êtes-vous disponible ?" {
			t.Errorf("text message %q", got)
		}
		n := c.status(t, s.ID, bridge.NoticeMessage, bridge.ChannelSMS)
		if n.Status != bridge.NotificationSent || n.Body != "" {
			t.Errorf("settled row keeps %q (%s)", n.Body, n.Status)
		}
		if strings.Contains(c.logs.String(), "disponible") {
			t.Error("the text reached the log")
		}
		// A number that answered STOP gets no text, and the clinician hears why.
		if err := db.OptOut.OptOut(ctx, "+33612345678", booked); err != nil {
			t.Fatal(err)
		}
		if err := c.nt.QueueText(ctx, s, ps[0], "Bonjour"); err != nil {
			t.Fatal(err)
		}
		c.sendDue(t)
		rows, _ := db.Outbox.ForSession(ctx, s.ID)
		for _, r := range rows {
			if r.Kind == bridge.NoticeMessage && r.ParticipantID == ps[0].ID && (r.Status != bridge.NotificationSkipped || r.Body != "") {
				t.Errorf("text to an opted-out number: %+v", r)
			}
		}
	})
}
