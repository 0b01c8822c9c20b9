package scheduler_test

import (
	"strings"
	"testing"
	"time"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"github.com/telehealth-bridge/telehealth-bridge/scheduler"
)

// A telephone session's notices say "telephone", carry no link (no waiting room, no video) and
// tell the client which of their numbers is called, masked.
func TestTelephoneSessionNotices(t *testing.T) {
	paris := mustLoad(t, "Europe/Paris")
	start := time.Date(2026, 3, 3, 15, 0, 0, 0, paris)
	words := map[string][2]string{"en": {"telephone", "+33 6 •• •• •• 78"}, "fr": {"téléphonique", "+33 6 •• •• •• 78"}}
	for _, locale := range []string{"en", "fr"} {
		for _, kind := range []bridge.NoticeKind{bridge.NoticeConfirmation, bridge.NoticeReminder, bridge.NoticeReschedule, bridge.NoticeCancellation} {
			n := testNotice(kind, locale, "", start)
			n.Session.Kind = bridge.KindPhone // the link stays in the notice: the templates drop it
			sms, err := scheduler.RenderSMS(n)
			if err != nil {
				t.Fatalf("%s %s: %v", kind, locale, err)
			}
			if strings.Contains(sms, "http") || !strings.Contains(sms, words[locale][0]) || scheduler.SMSSegments(sms) != 1 {
				t.Errorf("%s %s SMS: %q", kind, locale, sms)
			}
			e, err := scheduler.RenderEmail(n)
			if err != nil {
				t.Fatalf("%s %s email: %v", kind, locale, err)
			}
			all := e.Subject + e.Text + e.HTML + string(e.Invite)
			if strings.Contains(all, "http") || strings.Contains(all, "waiting room") || strings.Contains(all, "salle d'attente") {
				t.Errorf("%s %s email carries a link or a waiting room:\n%s", kind, locale, all)
			}
			if !strings.Contains(strings.ToLower(e.Subject), words[locale][0]) {
				t.Errorf("%s %s subject: %q", kind, locale, e.Subject)
			}
			if kind != bridge.NoticeCancellation && !strings.Contains(e.Text, words[locale][1]) {
				t.Errorf("%s %s email does not say which number is called:\n%s", kind, locale, e.Text)
			}
			if strings.Contains(all, "+33612345678") || strings.Contains(all, "12 34 56") {
				t.Errorf("%s %s email shows the whole number", kind, locale)
			}
			noName(t, string(kind)+" telephone email", all)
			if e.Invite == nil || !strings.Contains(string(e.Invite), "LOCATION:T") {
				t.Errorf("%s %s invite: %s", kind, locale, e.Invite)
			}
		}
	}
}

// Without a clinic caller ID (notifications.clinic_phone empty, the default) the introduction
// still goes: it names the clinician and says they will call, without a number.
func TestPhoneIntroWithoutClinicNumber(t *testing.T) {
	paris := mustLoad(t, "Europe/Paris")
	start := time.Date(2026, 3, 3, 15, 0, 0, 0, paris)
	for locale, want := range map[string]string{
		"en": testClinicName + ": your clinician Dr Hélène Coté will call you at about 3:00 PM CET.",
		"fr": testClinicName + ": votre praticien Dr Hélène Coté vous appellera vers 15:00 CET.",
	} {
		n := testNotice(bridge.NoticePhoneIntro, locale, "", start)
		n.Clinic.Phone = ""
		got, err := scheduler.RenderSMS(n)
		if err != nil {
			t.Fatalf("%s: %v", locale, err)
		}
		if got != want {
			t.Errorf("%s:\n got %q\nwant %q", locale, got, want)
		}
		if _, err = scheduler.RenderEmail(n); err != nil {
			t.Errorf("%s email: %v", locale, err)
		}
	}
}
