package scheduler_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/rs/zerolog"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"github.com/telehealth-bridge/telehealth-bridge/database"
	"github.com/telehealth-bridge/telehealth-bridge/internal/dbtest"
	"github.com/telehealth-bridge/telehealth-bridge/internal/smtptest"
	"github.com/telehealth-bridge/telehealth-bridge/internal/twiliotest"
	"github.com/telehealth-bridge/telehealth-bridge/scheduler"
)

const authToken = "0123456789abcdef0123456789abcdef"

// clinicDesk stands in for the Matrix side: it records what the clinician would be told.
type clinicDesk struct {
	mu       sync.Mutex
	problems []string
	relayed  []string
}

func (d *clinicDesk) ClinicianName(context.Context, string) (string, error) { return "Dr Martin", nil }
func (d *clinicDesk) NotificationProblem(_ context.Context, _ *bridge.Session, p *bridge.Participant, n *bridge.Notification) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.problems = append(d.problems, fmt.Sprintf("%d %s %s: %s", p.Number, n.Kind, n.Status, n.LastError))
}
func (d *clinicDesk) RelaySMS(_ context.Context, sessionID string, participantID int64, text string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.relayed = append(d.relayed, fmt.Sprintf("%s %d %s", sessionID, participantID, text))
	return nil
}
func (d *clinicDesk) told() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.problems)
}

// guestLinks gives each participant a link of their own, as the web pages do.
type guestLinks struct{}

func (guestLinks) GuestLink(_ context.Context, _ *bridge.Session, p *bridge.Participant) (string, error) {
	return fmt.Sprintf("https://rdv.clinique.example/g/tok%08d", p.ID), nil
}

// clinic is a notifier wired to the loopback Twilio and SMTP servers.
type clinic struct {
	db    *database.Database
	clock *clockwork.FakeClock
	sms   *twiliotest.Fake
	mail  *smtptest.Server
	desk  *clinicDesk
	nt    *scheduler.Notifier
	hooks string
	// logs is what the notifier logged, as JSON lines.
	logs *lockedBuffer
}

// lockedBuffer is a log destination the sender's workers may write to at once.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func newClinic(t *testing.T, db *database.Database, at time.Time) *clinic {
	t.Helper()
	c := &clinic{db: db, clock: clockwork.NewFakeClockAt(at), sms: twiliotest.StartFake(t), mail: smtptest.Start(t), desk: &clinicDesk{}}
	sms, err := scheduler.NewSMS(scheduler.SMSConfig{AccountSID: "AC0123456789abcdef0123456789abcdef", AuthToken: authToken,
		From: "+33123456789", APIURL: c.sms.URL, ClinicName: "Clinique du Parc"}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	mailer, err := scheduler.NewMailer(scheduler.SMTPConfig{Host: c.mail.Host, Port: c.mail.Port, TLS: "none",
		From: "Clinique du Parc <rdv@clinique.example>"}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	c.logs = &lockedBuffer{}
	c.nt = newLoggingNotifier(db, c.clock, sms, mailer, zerolog.New(c.logs))
	c.nt.Use(guestLinks{}, c.desk)
	// Twilio signs the public URL it posts to: here, the test server's own.
	var hooks http.Handler
	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hooks.ServeHTTP(w, r) }))
	t.Cleanup(web.Close)
	hooks, c.hooks = sms.Webhooks(c.nt, web.URL), web.URL
	return c
}

// setClock moves the clock forward to at.
func (c *clinic) setClock(t *testing.T, at time.Time) {
	t.Helper()
	if at.Before(c.clock.Now()) {
		t.Fatalf("the clock cannot go back from %s to %s", c.clock.Now(), at)
	}
	c.clock.Advance(at.Sub(c.clock.Now()))
}

// sendDue runs the sender job once at the clock's time.
func (c *clinic) sendDue(t *testing.T) {
	t.Helper()
	if err := c.nt.SendDue(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// post sends a webhook as Twilio would, signed.
func (c *clinic) post(t *testing.T, path string, form url.Values) twiliotest.Response {
	t.Helper()
	return twiliotest.PostSigned(t, authToken, c.hooks+path, form)
}

func (c *clinic) status(t *testing.T, sessionID string, kind bridge.NoticeKind, ch bridge.Channel) *bridge.Notification {
	t.Helper()
	rows, err := c.db.Outbox.ForSession(context.Background(), sessionID)
	if err != nil {
		t.Fatal(err)
	}
	var last *bridge.Notification
	for _, n := range rows {
		if n.Kind == kind && n.Channel == ch {
			last = n
		}
	}
	if last == nil {
		t.Fatalf("no %s %s planned", kind, ch)
	}
	return last
}

func TestParticipantsAreToldOnTime(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.Database) {
		c := newClinic(t, db, booked)
		start := time.Date(2026, 3, 24, 14, 0, 0, 0, time.UTC)
		s, _ := book(t, db, "told01", start, bridge.KindVideo)
		if err := c.nt.Plan(context.Background(), s); err != nil {
			t.Fatal(err)
		}
		c.sendDue(t)
		sms := c.sms.WaitFor(t, 1, 5*time.Second)
		mails := c.mail.WaitFor(t, 1, 5*time.Second)
		if sms[0].To != "+33612345678" || !strings.Contains(sms[0].Body, "Clinique du Parc") || !strings.Contains(sms[0].Body, "15:00") {
			t.Errorf("confirmation SMS to %s: %q", sms[0].To, sms[0].Body)
		}
		if mails[0].To[0] != "john@example.org" || !strings.Contains(string(mails[0].Data), "text/calendar") {
			t.Errorf("confirmation email to %v without an invite", mails[0].To)
		}
		for _, text := range []string{sms[0].Body, string(mails[0].Data)} {
			if strings.Contains(text, "Dupont") || strings.Contains(text, "Smith") {
				t.Errorf("a participant's name went out: %q", text)
			}
		}
		if n := c.status(t, s.ID, bridge.NoticeConfirmation, bridge.ChannelSMS); n.Status != bridge.NotificationSent || n.ProviderID != sms[0].SID {
			t.Errorf("confirmation row: %+v", n)
		}
		// Nothing is sent twice, and nothing before its time.
		c.sendDue(t)
		c.clock.Advance(24*time.Hour + 4*time.Hour)
		c.sendDue(t)
		if got := len(c.sms.Messages()) + len(c.mail.Messages()); got != 2 {
			t.Fatalf("%d messages before the reminder's time, want 2", got)
		}
		c.setClock(t, start.Add(-24*time.Hour))
		c.sendDue(t)
		c.sms.WaitFor(t, 2, 5*time.Second)
		c.mail.WaitFor(t, 2, 5*time.Second)
		// The waiting room opens: the link goes out.
		c.setClock(t, start.Add(-30*time.Minute))
		c.sendDue(t)
		sms = c.sms.WaitFor(t, 3, 5*time.Second)
		if !strings.Contains(sms[2].Body, "https://rdv.clinique.example/g/tok") {
			t.Errorf("window-open SMS without the link: %q", sms[2].Body)
		}
		c.mail.WaitFor(t, 3, 5*time.Second)
		if problems := c.desk.told(); len(problems) > 0 {
			t.Errorf("the clinician was told of problems: %v", problems)
		}
	})
}

func TestProviderFaultsLoseNothing(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.Database) {
		ctx := context.Background()
		c := newClinic(t, db, booked)
		s, _ := book(t, db, "fault1", time.Date(2026, 3, 24, 14, 0, 0, 0, time.UTC), bridge.KindVideo)
		if err := c.nt.Plan(ctx, s); err != nil {
			t.Fatal(err)
		}
		// Twilio is overloaded and the mail server is down.
		c.sms.ThrottleNext(1, 20*time.Second)
		c.mail.Down()
		c.sendDue(t)
		sms := c.status(t, s.ID, bridge.NoticeConfirmation, bridge.ChannelSMS)
		mail := c.status(t, s.ID, bridge.NoticeConfirmation, bridge.ChannelEmail)
		if sms.Status != bridge.NotificationPending || !sms.Due.Equal(booked.Add(20*time.Second)) {
			t.Errorf("after a 429 with Retry-After 20 s: %s due %s", sms.Status, sms.Due)
		}
		if mail.Status != bridge.NotificationPending || !mail.Due.Equal(booked.Add(scheduler.Backoff(1))) || mail.LastError == "" {
			t.Errorf("with the mail server down: %s due %s (%s)", mail.Status, mail.Due, mail.LastError)
		}
		// Then Twilio fails inside; the mail server is back.
		c.sms.FailNext(1, 500, 20500, "Internal Server Error")
		c.mail.Up()
		c.clock.Advance(scheduler.Backoff(1))
		c.sendDue(t)
		c.mail.WaitFor(t, 1, 5*time.Second)
		if sms = c.status(t, s.ID, bridge.NoticeConfirmation, bridge.ChannelSMS); sms.Status != bridge.NotificationPending || sms.Attempts != 2 {
			t.Errorf("after a 500: %s, %d attempts", sms.Status, sms.Attempts)
		}
		c.clock.Advance(scheduler.Backoff(2))
		c.sendDue(t)
		if sms = c.status(t, s.ID, bridge.NoticeConfirmation, bridge.ChannelSMS); sms.Status != bridge.NotificationSent || sms.Attempts != 3 {
			t.Errorf("third attempt: %s, %d attempts", sms.Status, sms.Attempts)
		}
		if len(c.desk.told()) != 0 {
			t.Errorf("temporary failures reached the clinician: %v", c.desk.told())
		}

		// An invalid number is refused for good: failed, with Twilio's reason, and the
		// clinician hears of it.
		c.sms.FailNext(1, 400, 21211, "The 'To' number is not a valid phone number.")
		c.setClock(t, time.Date(2026, 3, 23, 14, 0, 0, 0, time.UTC))
		c.sendDue(t)
		rem := c.status(t, s.ID, bridge.NoticeReminder, bridge.ChannelSMS)
		if rem.Status != bridge.NotificationFailed || !strings.Contains(rem.LastError, "not a valid phone number") {
			t.Errorf("after 21211: %s (%s)", rem.Status, rem.LastError)
		}
		if told := c.desk.told(); len(told) != 1 || !strings.Contains(told[0], "1 reminder failed: ") {
			t.Errorf("the clinician was told %v", told)
		}
		// The log says what happened without the provider's text, which quotes numbers and
		// addresses.
		logs := c.logs.String()
		if !strings.Contains(logs, `"provider_code":21211`) || !strings.Contains(logs, `"provider_status":429`) {
			t.Errorf("the log lacks the providers' codes:\n%s", logs)
		}
		for _, secret := range []string{"+33612345678", "john@example.org", "not a valid phone number", "Dupont"} {
			if strings.Contains(logs, secret) {
				t.Errorf("the log contains %q", secret)
			}
		}
	})
}

func TestStopAndStart(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.Database) {
		ctx := context.Background()
		c := newClinic(t, db, booked)
		start := time.Date(2026, 3, 24, 14, 0, 0, 0, time.UTC)
		s, ps := book(t, db, "stop01", start, bridge.KindVideo)
		if err := c.nt.Plan(ctx, s); err != nil {
			t.Fatal(err)
		}
		c.sendDue(t)
		c.sms.WaitFor(t, 1, 5*time.Second)

		// A forged STOP changes nothing.
		if r := twiliotest.PostForged(t, c.hooks+"/sms/inbound", twiliotest.InboundSMS(ps[0].Phone, "+33123456789", "STOP")); r.Status != 403 {
			t.Fatalf("forged STOP answered %d", r.Status)
		}
		if r := c.post(t, "/sms/inbound", twiliotest.InboundSMS(ps[0].Phone, "+33123456789", "Stop")); r.Status != 200 {
			t.Fatalf("STOP answered %d %s", r.Status, r.Body)
		}
		c.setClock(t, start.Add(-24*time.Hour))
		c.sendDue(t)
		rem := c.status(t, s.ID, bridge.NoticeReminder, bridge.ChannelSMS)
		if rem.Status != bridge.NotificationSkipped || !strings.Contains(rem.LastError, "STOP") {
			t.Errorf("reminder after STOP: %s (%s)", rem.Status, rem.LastError)
		}
		if told := c.desk.told(); len(told) != 1 || !strings.Contains(told[0], "opted out") {
			t.Errorf("the clinician was told %v", told)
		}
		if n := len(c.sms.Messages()); n != 1 {
			t.Errorf("%d SMS after STOP, want only the confirmation", n)
		}

		// START: the next one goes again.
		if r := c.post(t, "/sms/inbound", twiliotest.InboundSMS(ps[0].Phone, "+33123456789", "START")); r.Status != 200 {
			t.Fatalf("START answered %d", r.Status)
		}
		c.setClock(t, start.Add(-30*time.Minute))
		c.sendDue(t)
		if msgs := c.sms.WaitFor(t, 2, 5*time.Second); msgs[1].To != ps[0].Phone {
			t.Errorf("after START: %+v", msgs[1])
		}

		// Any other text reaches the clinician, in the session they are booked on.
		if r := c.post(t, "/sms/inbound", twiliotest.InboundSMS(ps[0].Phone, "+33123456789", "Running 5 minutes late")); r.Status != 200 {
			t.Fatalf("a reply answered %d", r.Status)
		}
		c.desk.mu.Lock()
		relayed := slices.Clone(c.desk.relayed)
		c.desk.mu.Unlock()
		if want := fmt.Sprintf("%s %d Running 5 minutes late", s.ID, ps[0].ID); !slices.Equal(relayed, []string{want}) {
			t.Errorf("relayed %v, want %q", relayed, want)
		}

		// The carrier could not deliver the last one: the clinician hears of it.
		last := c.sms.Messages()[1]
		if r := c.post(t, "/sms/status", twiliotest.StatusCallback(last.SID, "undelivered", "30003")); r.Status != 200 {
			t.Fatalf("status callback answered %d", r.Status)
		}
		if n := c.status(t, s.ID, bridge.NoticeWindowOpen, bridge.ChannelSMS); n.Status != bridge.NotificationFailed || !strings.Contains(n.LastError, "30003") {
			t.Errorf("after an undelivered report: %s (%s)", n.Status, n.LastError)
		}
	})
}

// No SMS at night in the participant's zone (the exemptions: TestQuietHoursExemptions); email any time.
func TestNoSMSAtNight(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.Database) {
		ctx := context.Background()
		// 21:30 in Paris on the evening before the change to summer time.
		evening := time.Date(2026, 3, 28, 20, 30, 0, 0, time.UTC)
		c := newClinic(t, db, evening)
		start := time.Date(2026, 3, 30, 7, 0, 0, 0, time.UTC) // 09:00 CEST
		s, _ := book(t, db, "night1", start, bridge.KindVideo)
		if err := c.nt.Plan(ctx, s); err != nil {
			t.Fatal(err)
		}
		c.sendDue(t)
		c.mail.WaitFor(t, 1, 5*time.Second)
		conf := c.status(t, s.ID, bridge.NoticeConfirmation, bridge.ChannelSMS)
		morning := time.Date(2026, 3, 29, 6, 0, 0, 0, time.UTC) // 08:00 CEST, the first morning of summer time
		if conf.Status != bridge.NotificationPending || !conf.Due.Equal(morning) || len(c.sms.Messages()) != 0 {
			t.Fatalf("confirmation at 21:30: %s due %s, %d SMS", conf.Status, conf.Due, len(c.sms.Messages()))
		}
		c.setClock(t, morning)
		c.sendDue(t)
		c.sms.WaitFor(t, 1, 5*time.Second)
	})
}
