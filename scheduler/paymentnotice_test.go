package scheduler_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"github.com/telehealth-bridge/telehealth-bridge/database"
	"github.com/telehealth-bridge/telehealth-bridge/internal/dbtest"
	"github.com/telehealth-bridge/telehealth-bridge/scheduler"
)

// TestPaymentNoticeSaysOnlyThatSomethingIsToComplete: a session with payment required tells
// each participant, by their invitation's channel, only that they have something to complete,
// with their session page's link: no service, no amount, in the text, the email's subject and
// body, and no calendar invite.
func TestPaymentNoticeSaysOnlyThatSomethingIsToComplete(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.Database) {
		ctx := context.Background()
		morning := time.Date(2026, 3, 23, 9, 0, 0, 0, time.UTC)
		c := newClinic(t, db, morning)
		s, ps := book(t, db, "pay001", time.Date(2026, 3, 26, 9, 0, 0, 0, time.UTC), bridge.KindVideo)
		for _, p := range ps {
			if err := c.nt.QueuePaymentNotice(ctx, s, p); err != nil {
				t.Fatal(err)
			}
		}
		expect(t, outline(t, db, s.ID),
			"p1 payment_due sms pending 03-23T09:00",
			"p2 payment_due email pending 03-23T09:00")
		c.sendDue(t)
		text := c.sms.WaitFor(t, 1, 5*time.Second)[0].Body
		if !strings.HasPrefix(text, "Clinique du Parc: vous avez quelque chose à compléter avant votre séance. http") {
			t.Errorf("the text: %q", text)
		}
		got := c.mail.WaitFor(t, 1, 5*time.Second)
		body := string(got[0].Data)
		if !strings.Contains(body, "Something to complete before your session") || strings.Contains(body, "BEGIN:VCALENDAR") {
			t.Errorf("the email:\n%s", body)
		}
	})
}

// TestPaymentNoticeEmail: the email and the Matrix message link to the session page; a telephone
// session's keeps its link too.
func TestPaymentNoticeEmail(t *testing.T) {
	s := &bridge.Session{ID: "pay002", Clinician: "@dr:hs", Start: time.Date(2026, 3, 26, 9, 0, 0, 0, time.UTC),
		End: time.Date(2026, 3, 26, 10, 0, 0, 0, time.UTC), TimeZone: "Europe/Paris", Kind: bridge.KindPhone}
	const link = "https://rdv.clinique.example/g/token"
	for _, lang := range []string{"en", "fr"} {
		p := &bridge.Participant{ID: 7, Name: "Jeanne Dupont", Locale: lang, TimeZone: "Europe/Paris", Email: "j@example.org", Phone: "+33612345678"}
		n := scheduler.Notice{Kind: bridge.NoticePaymentDue, Clinic: scheduler.Clinic{Name: "Clinique du Parc", Domain: "clinique.example"},
			Session: s, Participant: p, Window: bridge.DefaultWindow, Link: link, Now: s.Start.Add(-48 * time.Hour)}
		e, err := scheduler.RenderEmail(n)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string][]string{
			"en": {"Something to complete before your session", "You have something to complete before your session with Clinique du Parc", "Open my session's page: " + link},
			"fr": {"Quelque chose à compléter avant votre séance", "Vous avez quelque chose à compléter avant votre séance avec Clinique du Parc", "Ouvrir la page de ma séance: " + link},
		}[lang]
		if e.Subject != want[0] || !strings.Contains(e.Text, want[1]) || !strings.Contains(e.Text, want[2]) || e.Invite != nil || strings.Contains(e.Text, "Jeanne") {
			t.Errorf("%s email: %q\n%s", lang, e.Subject, e.Text)
		}
		sms, err := scheduler.RenderSMS(n)
		if err != nil || !strings.HasSuffix(sms, link) {
			t.Errorf("%s text: %q %v", lang, sms, err)
		}
		msg, err := scheduler.RenderMatrix(n, "")
		if err != nil || !strings.Contains(msg.Text, link) {
			t.Errorf("%s Matrix message: %q %v", lang, msg.Text, err)
		}
	}
}
