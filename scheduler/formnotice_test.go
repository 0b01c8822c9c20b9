package scheduler_test

import (
	"bytes"
	"context"
	"mime"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"github.com/telehealth-bridge/telehealth-bridge/database"
	"github.com/telehealth-bridge/telehealth-bridge/internal/dbtest"
	"github.com/telehealth-bridge/telehealth-bridge/scheduler"
)

// portalLinks are the web server's links, with the portal's address.
type portalLinks struct{ guestLinks }

func (portalLinks) PortalLink(locale string) string {
	return "https://rdv.clinique.example/portal?lang=" + locale + "#todo"
}

// TestFormNoticeSaysOnlyThatSomethingIsToComplete: a form assigned to a client tells them, by
// their invitation's channel, only that they have something to complete before their session,
// with the portal's address (no token, no form name); two forms make one notice; a text is held
// through quiet hours, an email is not.
func TestFormNoticeSaysOnlyThatSomethingIsToComplete(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.Database) {
		ctx := context.Background()
		evening := time.Date(2026, 3, 23, 21, 30, 0, 0, time.UTC) // 22:30 in Paris
		c := newClinic(t, db, evening)
		c.nt.Use(portalLinks{}, c.desk)
		s, ps := book(t, db, "form01", time.Date(2026, 3, 26, 9, 0, 0, 0, time.UTC), bridge.KindVideo)
		for _, p := range ps {
			for range 2 { // two forms assigned together
				if err := c.nt.QueueFormNotice(ctx, s, p); err != nil {
					t.Fatal(err)
				}
			}
		}
		expect(t, outline(t, db, s.ID),
			"p1 form_todo sms pending 03-23T21:30",
			"p2 form_todo email pending 03-23T21:30")

		c.sendDue(t)
		got := c.mail.WaitFor(t, 1, 5*time.Second)
		msg, err := mail.ReadMessage(bytes.NewReader(got[0].Data))
		if err != nil {
			t.Fatal(err)
		}
		subject, _ := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
		if subject != "Something to complete before your session" {
			t.Errorf("email subject %q", subject)
		}
		sms := c.status(t, s.ID, bridge.NoticeFormToDo, bridge.ChannelSMS)
		morning := time.Date(2026, 3, 24, 7, 0, 0, 0, time.UTC) // 08:00 in Paris
		if sms.Status != bridge.NotificationPending || !sms.Due.Equal(morning) || len(c.sms.Messages()) != 0 {
			t.Fatalf("the text at 22:30: %s due %s, %d sent", sms.Status, sms.Due, len(c.sms.Messages()))
		}
		c.setClock(t, morning)
		c.sendDue(t)
		text := c.sms.WaitFor(t, 1, 5*time.Second)[0].Body
		if text != "Clinique du Parc: vous avez quelque chose à compléter avant votre séance. https://rdv.clinique.example/portal?lang=fr#todo" {
			t.Errorf("the text: %q", text)
		}
		// Once sent, a new form makes a new notice.
		if err := c.nt.QueueFormNotice(ctx, s, ps[0]); err != nil {
			t.Fatal(err)
		}
		if n := c.status(t, s.ID, bridge.NoticeFormToDo, bridge.ChannelSMS); n.Status != bridge.NotificationPending {
			t.Errorf("a second form's notice: %s", n.Status)
		}
	})
}

// TestFormNoticeEmail: the email names the clinic and the day, links to the portal, carries no
// calendar invite; a telephone session's notice keeps the portal's link.
func TestFormNoticeEmail(t *testing.T) {
	s := &bridge.Session{ID: "form02", Clinician: "@dr:hs", Start: time.Date(2026, 3, 26, 9, 0, 0, 0, time.UTC),
		End: time.Date(2026, 3, 26, 10, 0, 0, 0, time.UTC), TimeZone: "Europe/Paris", Kind: bridge.KindPhone}
	for _, lang := range []string{"en", "fr"} {
		p := &bridge.Participant{ID: 7, Name: "Jeanne Dupont", Locale: lang, TimeZone: "Europe/Paris", Email: "j@example.org", Phone: "+33612345678"}
		n := scheduler.Notice{Kind: bridge.NoticeFormToDo, Clinic: scheduler.Clinic{Name: "Clinique du Parc", Domain: "clinique.example"},
			Session: s, Participant: p, Window: bridge.DefaultWindow, Link: portalLinks{}.PortalLink(lang), Now: s.Start.Add(-48 * time.Hour)}
		e, err := scheduler.RenderEmail(n)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string][]string{
			"en": {"Something to complete before your session", "You have something to complete before your session with Clinique du Parc", "Open my portal: https://rdv.clinique.example/portal?lang=en#todo"},
			"fr": {"Quelque chose à compléter avant votre séance", "Vous avez quelque chose à compléter avant votre séance avec Clinique du Parc", "Ouvrir mon espace client: https://rdv.clinique.example/portal?lang=fr#todo"},
		}[lang]
		if e.Subject != want[0] || !strings.Contains(e.Text, want[1]) || !strings.Contains(e.Text, want[2]) || e.Invite != nil || strings.Contains(e.Text, "Jeanne") {
			t.Errorf("%s email: %q\n%s", lang, e.Subject, e.Text)
		}
		sms, err := scheduler.RenderSMS(n)
		if err != nil || !strings.HasSuffix(sms, "#todo") || strings.Contains(sms, "Jeanne") {
			t.Errorf("%s text: %q %v", lang, sms, err)
		}
		msg, err := scheduler.RenderMatrix(n, "")
		if err != nil || !strings.Contains(msg.Text, "https://rdv.clinique.example/portal?lang="+lang+"#todo") {
			t.Errorf("%s Matrix message: %q %v", lang, msg.Text, err)
		}
	}
}
