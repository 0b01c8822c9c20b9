package scheduler_test

import (
	"bytes"
	"context"
	"mime"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"github.com/telehealth-bridge/telehealth-bridge/database"
	"github.com/telehealth-bridge/telehealth-bridge/internal/dbtest"
	"github.com/telehealth-bridge/telehealth-bridge/internal/smtptest"
	"github.com/telehealth-bridge/telehealth-bridge/internal/twiliotest"
	"github.com/telehealth-bridge/telehealth-bridge/scheduler"
)

// TestUnreadMessageNotice: a professional's message unread for 15 minutes brings the client
// "You have a new message from your clinic" by their reminder channel, through real SMTP and
// Twilio's API: once per unread batch, again after the client read the thread and a new message
// came; an SMS waits for the end of quiet hours in the client's zone; a client who wants no
// reminders gets nothing. No notice carries a name (the client's, the professional's, the
// clinic's) or the message.
func TestUnreadMessageNotice(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.Database) {
		ctx := context.Background()
		smtp := smtptest.Start(t)
		fake := twiliotest.StartFake(t)
		sms, _ := newSMS(t, scheduler.SMSConfig{AccountSID: testAccountSID, AuthToken: testAuthToken, From: testFrom, APIURL: fake.URL})
		// 10:00 UTC: 11:00 in Paris, 02:00 in Los Angeles.
		clock := clockwork.NewFakeClockAt(time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC))
		nt := newNotifier(db, clock, sms, newMailer(t, smtp))
		const link = "https://care.example/portal#messages"
		nt.UseMessageNotices(db.MessageThread, db.Store(), link, 15*time.Minute)

		record := func(name string, reminders bridge.ReminderPreference, locale, zone string) int64 {
			c := &bridge.Client{DisplayName: name, Emails: []string{strings.ToLower(strings.Fields(name)[0]) + "@example.org"},
				Phones: []string{"+33612345678"}, Locale: locale, TimeZone: zone, Professionals: []string{"@dr.martin:hs"},
				Reminders: reminders, CreatedAt: clock.Now(), UpdatedAt: clock.Now()}
			if err := db.Client.Insert(ctx, c); err != nil {
				t.Fatal(err)
			}
			if err := db.MessageThread.ProfessionalMessage(ctx, c.ID, clock.Now()); err != nil {
				t.Fatal(err)
			}
			return c.ID
		}
		anna := record("Anna Martin", bridge.RemindEmail, "fr", "Europe/Paris")
		record("Leo Roux", bridge.RemindSMS, "en", "America/Los_Angeles")
		nina := record("Nina Petit", bridge.RemindNone, "en", "Europe/Paris")
		// Omar has his own Matrix account: his Matrix app tells him.
		omar := &bridge.Client{DisplayName: "Omar Diallo", Emails: []string{"omar@example.org"}, MatrixID: "@omar:hs", Locale: "en",
			TimeZone: "Europe/Paris", Reminders: bridge.RemindEmail, CreatedAt: clock.Now(), UpdatedAt: clock.Now()}
		if err := db.Client.Insert(ctx, omar); err != nil {
			t.Fatal(err)
		}
		if err := db.MessageThread.ProfessionalMessage(ctx, omar.ID, clock.Now()); err != nil {
			t.Fatal(err)
		}
		send := func(at time.Duration) {
			t.Helper()
			clock.Advance(time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC).Add(at).Sub(clock.Now()))
			if err := nt.SendMessageNotices(ctx); err != nil {
				t.Fatal(err)
			}
		}
		counts := func() (int, int) { return len(smtp.Messages()), len(fake.Messages()) }
		// Names and words the notices must never carry: the clients', the professional's, the
		// clinic's, and the message (which the notifier never sees anyway).
		forbidden := []string{"Anna", "Martin", "Leo", "Roux", "Nina", "martin", "Clinique", "results"}

		send(14 * time.Minute)
		if e, s := counts(); e+s != 0 {
			t.Fatalf("%d emails and %d SMS before 15 minutes", e, s)
		}
		send(15 * time.Minute)
		mails := smtp.WaitFor(t, 1, 5*time.Second)
		if len(mails) != 1 {
			t.Fatalf("%d emails at 15 minutes, want Anna's alone", len(mails))
		}
		msg, err := mail.ReadMessage(bytes.NewReader(mails[0].Data))
		if err != nil {
			t.Fatal(err)
		}
		subject, _ := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
		var text string
		for _, p := range mimeParts(t, msg.Header, msg.Body) {
			if p.contentType == "text/plain" {
				text = p.body
			}
		}
		if mails[0].To[0] != "anna@example.org" || subject != "Vous avez un nouveau message de votre cabinet" || !strings.Contains(text, link) {
			t.Errorf("Anna's notice: to %v, %q, %q", mails[0].To, subject, text)
		}
		for _, word := range forbidden {
			if strings.Contains(subject, word) || strings.Contains(text, word) {
				t.Errorf("the email says %q: %q / %q", word, subject, text)
			}
		}
		// Leo's SMS waits for 08:00 in Los Angeles (16:00 UTC).
		if _, s := counts(); s != 0 {
			t.Fatalf("an SMS at 02:15 in the client's zone")
		}
		send(5*time.Hour + 59*time.Minute)
		if _, s := counts(); s != 0 {
			t.Fatalf("an SMS before 08:00 in the client's zone")
		}
		send(6 * time.Hour)
		texts := fake.WaitFor(t, 1, 5*time.Second)
		if texts[0].To != "+33612345678" || texts[0].Body != "You have a new message from your clinic. Read it in your client portal: "+link {
			t.Errorf("Leo's SMS: %+v", texts[0])
		}
		for _, word := range forbidden {
			if strings.Contains(texts[0].Body, word) {
				t.Errorf("the SMS says %q", word)
			}
		}
		// Anna's second message in the same batch brings no second notice; once she has read
		// the thread, a new message brings a new one.
		if err = db.MessageThread.ProfessionalMessage(ctx, anna, clock.Now()); err != nil {
			t.Fatal(err)
		}
		send(7 * time.Hour)
		if e, s := counts(); e != 1 || s != 1 {
			t.Fatalf("%d emails and %d SMS for one batch each", e, s)
		}
		if err = db.MessageThread.MarkRead(ctx, anna, clock.Now()); err != nil {
			t.Fatal(err)
		}
		if err = db.MessageThread.ProfessionalMessage(ctx, anna, clock.Now()); err != nil {
			t.Fatal(err)
		}
		send(7*time.Hour + 15*time.Minute)
		smtp.WaitFor(t, 2, 5*time.Second)
		// A message read within the 15 minutes brings nothing.
		if err = db.MessageThread.MarkRead(ctx, anna, clock.Now()); err != nil {
			t.Fatal(err)
		}
		if err = db.MessageThread.ProfessionalMessage(ctx, anna, clock.Now()); err != nil {
			t.Fatal(err)
		}
		if err = db.MessageThread.MarkRead(ctx, anna, clock.Now().Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		send(8 * time.Hour)
		// Nina wants no reminders, Omar reads in his Matrix app: nothing, and their batches are
		// settled.
		if e, s := counts(); e != 2 || s != 1 {
			t.Errorf("%d emails and %d SMS in all, want 2 and 1", e, s)
		}
		for _, id := range []int64{nina, omar.ID} {
			if th, _ := db.MessageThread.Get(ctx, id); !th.Noticed || th.Unread != 1 {
				t.Errorf("client %d's thread: %+v", id, th)
			}
		}
	})
}

// portal.message_notice_after: 0 sends no unread notice at all.
func TestUnreadMessageNoticeOff(t *testing.T) {
	db := dbtest.Open(t, "sqlite")
	ctx := context.Background()
	smtp := smtptest.Start(t)
	clock := clockwork.NewFakeClockAt(time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC))
	nt := newNotifier(db, clock, nil, newMailer(t, smtp))
	nt.UseMessageNotices(db.MessageThread, db.Store(), "https://care.example/portal#messages", 0)
	c := &bridge.Client{DisplayName: "Anna Martin", Emails: []string{"anna@example.org"}, Locale: "en", TimeZone: "UTC",
		Reminders: bridge.RemindEmail, CreatedAt: clock.Now(), UpdatedAt: clock.Now()}
	if err := db.Client.Insert(ctx, c); err != nil {
		t.Fatal(err)
	}
	if err := db.MessageThread.ProfessionalMessage(ctx, c.ID, clock.Now()); err != nil {
		t.Fatal(err)
	}
	clock.Advance(48 * time.Hour)
	if err := nt.SendMessageNotices(ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(smtp.Messages()); n != 0 {
		t.Errorf("%d emails with the notice off", n)
	}
}
