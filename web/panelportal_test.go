package web_test

import (
	"bytes"
	"context"
	"fmt"
	"mime"
	"net/http"
	"net/http/cookiejar"
	"net/mail"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"github.com/telehealth-bridge/telehealth-bridge/internal/bridgetest"
	"github.com/telehealth-bridge/telehealth-bridge/internal/hstest"
	"github.com/telehealth-bridge/telehealth-bridge/internal/smtptest"
	"github.com/telehealth-bridge/telehealth-bridge/internal/twiliotest"
	"github.com/telehealth-bridge/telehealth-bridge/web"
)

// portalAnswer is the answer of the portal endpoints of a record.
type portalAnswer struct {
	Client    web.ClientView `json:"client"`
	SentBy    string         `json:"sent_by"`
	SignedOut int64          `json:"signed_out"`
}

// enrolment is an enrolment email as the client receives it.
type enrolment struct {
	to, subject, token string
}

var enrolLink = regexp.MustCompile(`/portal/enrol#([A-Za-z0-9_-]+)`)

// enrolments are the enrolment emails the loopback SMTP server received, oldest first (the
// bookings' confirmations are left out).
func enrolments(t *testing.T, box *smtptest.Server) []enrolment {
	t.Helper()
	var out []enrolment
	for _, m := range box.Messages() {
		msg, err := mail.ReadMessage(bytes.NewReader(m.Data))
		if err != nil {
			t.Fatal(err)
		}
		subject, _ := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
		// Quoted-printable soft line breaks may cut the link.
		body := strings.ReplaceAll(string(m.Data), "=\r\n", "")
		if found := enrolLink.FindStringSubmatch(body); found != nil {
			out = append(out, enrolment{to: m.To[0], subject: subject, token: found[1]})
		}
	}
	return out
}

var signInCode = regexp.MustCompile(`(\d{6}) is your code`)

// waitCodes waits for n sign-in code emails to the address and returns their codes.
func waitCodes(t *testing.T, box *smtptest.Server, to string, n int) []string {
	t.Helper()
	var codes []string
	bridgetest.Eventually(t, wait, fmt.Sprintf("%d sign-in codes", n), func() bool {
		codes = nil
		for _, m := range box.Messages() {
			if found := signInCode.FindStringSubmatch(string(m.Data)); found != nil && m.To[0] == to {
				codes = append(codes, found[1])
			}
		}
		return len(codes) >= n
	})
	return codes
}

func waitEnrolments(t *testing.T, box *smtptest.Server, n int) []enrolment {
	t.Helper()
	var got []enrolment
	bridgetest.Eventually(t, wait, fmt.Sprintf("%d enrolment emails", n), func() bool {
		got = enrolments(t, box)
		return len(got) >= n
	})
	return got
}

// newMailSite is a site whose clinic sends email through a loopback SMTP server, with
// dr.admin an admin.
func newMailSite(t *testing.T, edit func(cfg map[string]any)) (*site, *smtptest.Server) {
	box := smtptest.Start(t)
	s := newSiteWith(t, func(cfg map[string]any) {
		cfg["permissions"] = map[string]any{hstest.ServerName: "clinician", "@dr.admin:" + hstest.ServerName: "admin"}
		cfg["notifications.clinic_name"] = "Clinique du Parc"
		cfg["notifications.email.host"] = box.Host
		cfg["notifications.email.port"] = box.Port
		cfg["notifications.email.tls"] = "none"
		cfg["notifications.email.from"] = "Clinique du Parc <rdv@clinique.example>"
		// The test moves the clock an hour (the enrolment limit): sign-ins outlast it.
		cfg["web.panel_idle"] = "3h"
		cfg["portal.idle"] = "3h"
		if edit != nil {
			edit(cfg)
		}
	})
	return s, box
}

// as is another signed-in panel user of the same bridge.
func (s *site) as(localpart string) *site {
	jar, _ := cookiejar.New(nil)
	other := &site{t: s.t, env: s.env, clock: s.clock, clinician: s.env.User(s.t, localpart), http: &http.Client{Jar: jar, Timeout: 40 * time.Second}}
	other.login(roomWithBot(s.t, other))
	return other
}

// anonymous is a browser that never signed in.
func (s *site) anonymous() *site {
	jar, _ := cookiejar.New(nil)
	return &site{t: s.t, env: s.env, clock: s.clock, clinician: s.clinician, http: &http.Client{Jar: jar, Timeout: 40 * time.Second}}
}

// raw makes an API request and returns the status and the body as it came.
func (s *site) raw(method, path string, body any) (int, string) {
	s.t.Helper()
	var out map[string]any
	code := s.call(method, path, "", body, &out)
	return code, jsonText(out)
}

// TestPanelClientPortal: the clinician opens a client's portal from the record; the enrolment
// email reaches the client with a link and nothing about them in the subject; the link is in no
// answer; it signs the client in once. Sending again is limited to 3 an hour per record, and
// each new link voids the older ones. Closing the portal signs the client out everywhere and
// removes their ways in. The security table of the endpoints: anonymous 401, another
// clinician's client 404 (as an unknown one), an admin may.
func TestPanelClientPortal(t *testing.T) {
	s, box := newMailSite(t, nil)
	ctx := context.Background()
	dr := s.clinician.UserID.String()
	s.login(roomWithBot(t, s))

	form := web.ScheduleForm{Date: "2026-11-25", Time: "10:00", TimeZone: "Europe/Paris", Name: "Jane Doe",
		Invite: "none", Email: "jane@example.org", Locale: "en", ParticipantZone: "Europe/Paris"}
	var booked web.PanelSession
	if code := s.call("POST", "/api/panel/sessions", "", form, &booked); code != 200 {
		t.Fatalf("booking Jane: %d", code)
	}
	var list clientList
	if s.call("GET", "/api/panel/clients?q=jane", "", nil, &list); len(list.Clients) != 1 || list.Clients[0].PortalEnabled {
		t.Fatalf("Jane's record: %+v", list.Clients)
	}
	jane := list.Clients[0]

	other := s.env.User(t, "dr.other").UserID.String()
	theirs, err := s.env.App.Sessions.Schedule(ctx, bridge.ScheduleRequest{
		Clinician: other, Start: time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC), End: time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC),
		TimeZone: "Europe/Paris", Participants: []bridge.ParticipantRequest{{Name: "Paul Other", Email: "paul@example.org", Invite: bridge.InviteNone}},
	})
	if err != nil {
		t.Fatal(err)
	}
	_, theirPs, _ := s.env.App.Sessions.Lobby(ctx, other, theirs.ID)
	paul := theirPs[0].ClientID

	// The security table: every record endpoint, for someone signed out and for another
	// clinician's client (answered as an unknown one).
	endpoints := []struct{ method, path string }{
		{"GET", "/api/panel/clients/%d"}, {"PUT", "/api/panel/clients/%d"},
		{"POST", "/api/panel/clients/%d/portal"}, {"DELETE", "/api/panel/clients/%d/portal"}, {"POST", "/api/panel/clients/%d/enrolment"},
	}
	anon := s.anonymous()
	edit := web.ClientForm{DisplayName: "Someone Else", Emails: []string{"evil@example.org"}}
	for _, e := range endpoints {
		if code, body := anon.raw(e.method, fmt.Sprintf(e.path, jane.ID), edit); code != http.StatusUnauthorized {
			t.Errorf("anonymous %s %s: %d %s", e.method, e.path, code, body)
		}
		_, unknown := s.raw(e.method, fmt.Sprintf(e.path, 999999), edit)
		if code, body := s.raw(e.method, fmt.Sprintf(e.path, paul), edit); code != http.StatusNotFound || body != unknown {
			t.Errorf("another clinician's client, %s %s: %d %s, want 404 %s", e.method, e.path, code, body, unknown)
		}
	}
	if c, _ := s.env.App.Sessions.Client(ctx, other, paul); c == nil || c.DisplayName != "Paul Other" || c.PortalEnabled {
		t.Errorf("the other clinician's record changed: %+v", c)
	}
	if got := enrolments(t, box); len(got) != 0 {
		t.Fatalf("enrolments sent by refused requests: %+v", got)
	}

	// Saving the record with portal_enabled does not open the portal: only the button does,
	// which sends the enrolment.
	var page clientPage
	save := web.ClientForm{DisplayName: "Jane Doe", PreferredName: "Jenny", Emails: jane.Emails, Locale: "en", TimeZone: "Europe/Paris",
		Professionals: jane.Professionals, Reminders: "email", PortalEnabled: true}
	if code := s.call("PUT", fmt.Sprintf("/api/panel/clients/%d", jane.ID), "", save, &page); code != 200 || page.Client.PortalEnabled {
		t.Errorf("saving with portal_enabled: %d %+v", code, page.Client)
	}
	var e apiErr
	if code := s.call("POST", fmt.Sprintf("/api/panel/clients/%d/enrolment", jane.ID), "", nil, &e); code != http.StatusConflict || e.Code != "portal_off" {
		t.Errorf("resending before the portal is open: %d %+v", code, e)
	}

	// Enable the portal: the email arrives; the answer holds no link.
	code, body := s.raw("POST", fmt.Sprintf("/api/panel/clients/%d/portal", jane.ID), nil)
	if code != 200 || !strings.Contains(body, `"portal_enabled":true`) || !strings.Contains(body, `"sent_by":"email"`) {
		t.Fatalf("enabling the portal: %d %s", code, body)
	}
	if strings.Contains(body, "/portal/enrol") || strings.Contains(body, "#") {
		t.Errorf("the answer holds the enrolment link: %s", body)
	}
	got := waitEnrolments(t, box, 1)[0]
	if got.to != "jane@example.org" || got.subject != "Create your access to your client portal" {
		t.Errorf("the enrolment email: %+v", got)
	}
	for _, secret := range []string{"Jane", "Jenny", "Doe"} {
		if strings.Contains(got.subject, secret) {
			t.Errorf("the subject names the client: %q", got.subject)
		}
	}
	if strings.Contains(s.call2json(t, fmt.Sprintf("/api/panel/clients/%d", jane.ID)), got.token) {
		t.Error("the record shows the enrolment link")
	}
	for _, row := range s.env.AuditTrail(t) {
		if strings.Contains(string(row.Detail), got.token) {
			t.Errorf("the audit trail holds the link: %+v", row)
		}
	}
	if !s.env.Audited(t, dr, bridge.AuditClientPortalEnabled, "", nil) ||
		!s.env.Audited(t, dr, bridge.AuditPortalEnrolmentSent, "", map[string]string{"channel": "email"}) {
		t.Error("enabling and sending are not in the audit trail")
	}

	// The client uses the link: they are signed in to their own portal.
	client := s.anonymous()
	if code, body := client.raw("POST", "/api/portal/auth/enrol", map[string]string{"token": got.token}); code != 200 {
		t.Fatalf("the client's enrolment: %d %s", code, body)
	}
	var me web.PortalMe
	if code := client.call("GET", "/api/portal/auth/me", "", nil, &me); code != 200 || me.ClientID != jane.ID || me.Name != "Jenny" {
		t.Errorf("the client signed in as %d %+v", code, me)
	}

	// Send again: twice more this hour; a new link voids the older one; then the limit.
	for i := 0; i < 2; i++ {
		if code, body := s.raw("POST", fmt.Sprintf("/api/panel/clients/%d/enrolment", jane.ID), nil); code != 200 || strings.Contains(body, "/portal/enrol") {
			t.Fatalf("resending (%d): %d %s", i+1, code, body)
		}
	}
	sent := waitEnrolments(t, box, 3)
	if code, _ := s.anonymous().raw("POST", "/api/portal/auth/enrol", map[string]string{"token": sent[1].token}); code != http.StatusGone {
		t.Errorf("an older enrolment link still works: %d", code)
	}
	if code := s.call("POST", fmt.Sprintf("/api/panel/clients/%d/enrolment", jane.ID), "", nil, &e); code != http.StatusTooManyRequests || e.Code != "rate_limited" || !strings.Contains(e.Error, "3 times") {
		t.Errorf("a fourth enrolment in the hour: %d %+v", code, e)
	}
	s.clock.Advance(61 * time.Minute)
	if code := s.call("POST", fmt.Sprintf("/api/panel/clients/%d/enrolment", jane.ID), "", nil, &e); code != 200 {
		t.Errorf("an enrolment an hour later: %d %+v", code, e)
	}
	latest := waitEnrolments(t, box, 4)[3]

	// An admin may act on any record: Paul's.
	adm := s.as("dr.admin")
	if code, body := adm.raw("POST", fmt.Sprintf("/api/panel/clients/%d/portal", paul), nil); code != 200 {
		t.Errorf("the admin enabling Paul's portal: %d %s", code, body)
	}
	if got := waitEnrolments(t, box, 5)[4]; got.to != "paul@example.org" {
		t.Errorf("Paul's enrolment went to %s", got.to)
	}
	if code, body := adm.raw("DELETE", fmt.Sprintf("/api/panel/clients/%d/portal", paul), nil); code != 200 || !strings.Contains(body, `"portal_enabled":false`) {
		t.Errorf("the admin disabling Paul's portal: %d %s", code, body)
	}

	// Closing Jane's portal signs her out everywhere and voids her unused link.
	var closed portalAnswer
	if code := s.call("DELETE", fmt.Sprintf("/api/panel/clients/%d/portal", jane.ID), "", nil, &closed); code != 200 || closed.Client.PortalEnabled || !closed.Client.PortalClosed || closed.SignedOut != 1 {
		t.Errorf("disabling Jane's portal: %d %+v", code, closed)
	}
	if code := client.call("GET", "/api/portal/auth/me", "", nil, &e); code != http.StatusUnauthorized {
		t.Errorf("the client is still signed in after the portal closed: %d", code)
	}
	if code, _ := s.anonymous().raw("POST", "/api/portal/auth/enrol", map[string]string{"token": latest.token}); code != http.StatusGone {
		t.Errorf("an enrolment link works after the portal closed: %d", code)
	}
	if !s.env.Audited(t, dr, bridge.AuditClientPortalDisabled, "", map[string]string{"signed_out": "1"}) {
		t.Error("closing the portal is not in the audit trail")
	}

	// A closed portal opens with no code either, until a clinician enables it again.
	codeSignIn := func(n int) (int, apiErr) {
		b := s.anonymous()
		var e apiErr
		if code, body := b.raw("POST", "/api/portal/auth/code", map[string]string{"contact": "jane@example.org"}); code != 200 {
			t.Fatalf("asking for a code: %d %s", code, body)
		}
		codes := waitCodes(t, box, "jane@example.org", n)
		code := b.call("POST", "/api/portal/auth/code/verify", "", map[string]string{"contact": "jane@example.org", "code": codes[n-1]}, &e)
		return code, e
	}
	if code, e := codeSignIn(1); code != http.StatusForbidden || e.Code != "portal_closed" {
		t.Errorf("a code sign-in to a closed portal: %d %+v", code, e)
	}
	if code, body := s.raw("POST", fmt.Sprintf("/api/panel/clients/%d/portal", jane.ID), nil); code != 200 || !strings.Contains(body, `"portal_closed":false`) {
		t.Fatalf("enabling the portal again: %d %s", code, body)
	}
	if code, e := codeSignIn(2); code != 200 {
		t.Errorf("a code sign-in once the portal is open again: %d %+v", code, e)
	}

	// A record without any contact: nothing to send, nothing changes.
	var bare clientPage
	if code := s.call("POST", "/api/panel/clients", "", web.ClientForm{DisplayName: "No Contact"}, &bare); code != 200 {
		t.Fatalf("creating a record: %d", code)
	}
	if code := s.call("POST", fmt.Sprintf("/api/panel/clients/%d/portal", bare.Client.ID), "", nil, &e); code != http.StatusConflict || e.Code != "no_contact" {
		t.Errorf("enabling a record without contact: %d %+v", code, e)
	}
	if c, _ := s.env.App.Sessions.Client(ctx, dr, bare.Client.ID); c == nil || c.PortalEnabled {
		t.Errorf("the record without contact: %+v", c)
	}
}

// call2json is GET path's answer as text.
func (s *site) call2json(t *testing.T, path string) string {
	t.Helper()
	_, body := s.raw("GET", path, nil)
	return body
}

// TestEnrolOnFirstBooking: with portal.enrol_on_first_booking, booking a new client with an
// email opens their portal and sends the enrolment; booking them again sends nothing more; a
// client booked without any contact gets no portal.
func TestEnrolOnFirstBooking(t *testing.T) {
	s, box := newMailSite(t, func(cfg map[string]any) { cfg["portal.enrol_on_first_booking"] = true })
	dr := s.clinician.UserID.String()
	s.login(roomWithBot(t, s))
	form := web.ScheduleForm{Date: "2026-11-25", Time: "10:00", TimeZone: "Europe/Paris", Name: "Ana Lima",
		Invite: "email", Email: "ana@example.org", Locale: "fr", ParticipantZone: "Europe/Paris"}
	var booked web.PanelSession
	if code := s.call("POST", "/api/panel/sessions", "", form, &booked); code != 200 {
		t.Fatalf("booking Ana: %d", code)
	}
	got := waitEnrolments(t, box, 1)[0]
	if got.to != "ana@example.org" || got.subject != "Créez votre accès à votre espace client" {
		t.Errorf("Ana's enrolment: %+v", got)
	}
	var list clientList
	if s.call("GET", "/api/panel/clients?q=ana", "", nil, &list); len(list.Clients) != 1 || !list.Clients[0].PortalEnabled {
		t.Fatalf("Ana's record: %+v", list.Clients)
	}
	if !s.env.Audited(t, dr, bridge.AuditClientPortalEnabled, "", map[string]string{"via": "first_booking"}) {
		t.Error("the portal opened by the booking is not in the audit trail")
	}

	form.Date, form.Name, form.Email, form.Invite = "2026-11-26", "", "", ""
	form.ClientID = list.Clients[0].ID
	if code := s.call("POST", "/api/panel/sessions", "", form, &booked); code != 200 {
		t.Fatalf("booking Ana again: %d", code)
	}
	nobody := web.ScheduleForm{Date: "2026-11-27", Time: "10:00", TimeZone: "Europe/Paris", Name: "Zoe Nomail", Invite: "none", Locale: "en", ParticipantZone: "Europe/Paris"}
	if code := s.call("POST", "/api/panel/sessions", "", nobody, &booked); code != 200 {
		t.Fatalf("booking Zoe: %d", code)
	}
	// Bea's booking comes last: once her enrolment arrives, the bookings before hers were
	// handled too (each is handled as it is booked).
	bea := web.ScheduleForm{Date: "2026-11-28", Time: "10:00", TimeZone: "Europe/Paris", Name: "Bea Last", Invite: "none", Email: "bea@example.org", Locale: "en", ParticipantZone: "Europe/Paris"}
	if code := s.call("POST", "/api/panel/sessions", "", bea, &booked); code != 200 {
		t.Fatalf("booking Bea: %d", code)
	}
	sent := waitEnrolments(t, box, 2)
	if len(sent) != 2 || sent[1].to != "bea@example.org" {
		t.Errorf("enrolments %+v, want Ana's first booking's and Bea's only", sent)
	}
	if s.call("GET", "/api/panel/clients?q=zoe", "", nil, &list); len(list.Clients) != 1 || list.Clients[0].PortalEnabled {
		t.Errorf("Zoe's record (no contact): %+v", list.Clients)
	}
}

// TestPanelPortalBySMS: a record without an email gets its enrolment by text message, with the
// link and the clinic's name only; a record with both gets it by email.
func TestPanelPortalBySMS(t *testing.T) {
	sms := twiliotest.StartFake(t)
	s, box := newMailSite(t, func(v map[string]any) {
		v["notifications.sms.account_sid"] = voiceSID
		v["notifications.sms.auth_token"] = voiceToken
		v["notifications.sms.from"] = clinicCallerID
		v["notifications.sms.api_url"] = sms.URL
	})
	s.login(roomWithBot(t, s))
	var leo, mia clientPage
	if code := s.call("POST", "/api/panel/clients", "", web.ClientForm{DisplayName: "Leo Martin", Phones: []string{"06 12 34 56 78"}, PhoneRegion: "FR"}, &leo); code != 200 {
		t.Fatalf("creating Leo: %d", code)
	}
	if code := s.call("POST", "/api/panel/clients", "", web.ClientForm{DisplayName: "Mia Martin", Emails: []string{"mia@example.org"}, Phones: []string{"+33611111111"}}, &mia); code != 200 {
		t.Fatalf("creating Mia: %d", code)
	}
	code, body := s.raw("POST", fmt.Sprintf("/api/panel/clients/%d/portal", leo.Client.ID), nil)
	if code != 200 || !strings.Contains(body, `"sent_by":"sms"`) || strings.Contains(body, "/portal/enrol") {
		t.Fatalf("enabling Leo's portal: %d %s", code, body)
	}
	got := sms.WaitFor(t, 1, wait)[0]
	if got.To != "+33612345678" || !enrolLink.MatchString(got.Body) || !strings.Contains(got.Body, "Clinique du Parc") ||
		strings.Contains(got.Body, "Leo") || strings.Contains(got.Body, "Martin") {
		t.Errorf("Leo's enrolment SMS to %s: %q", got.To, got.Body)
	}
	if code, body := s.raw("POST", fmt.Sprintf("/api/panel/clients/%d/portal", mia.Client.ID), nil); code != 200 || !strings.Contains(body, `"sent_by":"email"`) {
		t.Fatalf("enabling Mia's portal: %d %s", code, body)
	}
	if got := waitEnrolments(t, box, 1)[0]; got.to != "mia@example.org" {
		t.Errorf("Mia's enrolment went to %s", got.to)
	}
	if n := len(sms.Messages()); n != 1 {
		t.Errorf("%d SMS, want Leo's only", n)
	}
}
