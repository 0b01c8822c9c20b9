package scheduler_test

import (
	"strings"
	"testing"
	"time"

	ics "github.com/arran4/golang-ical"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"github.com/telehealth-bridge/telehealth-bridge/scheduler"
)

// A 20-character clinic name and a 70-character link: the longest the SMS must fit.
const (
	testClinicName = "Clinique du Parc 123"
	testLink       = "https://bridge.clinique.example/p/Zk3v9QmWcR7tYx2LbN4hJd8sFa6uEq1oGi5p"
)

var allKinds = []bridge.NoticeKind{
	bridge.NoticeConfirmation, bridge.NoticeReminder, bridge.NoticeWindowOpen,
	bridge.NoticeReschedule, bridge.NoticeCancellation, bridge.NoticePhoneIntro,
}

func mustLoad(t *testing.T, zone string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(zone)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// testNotice is a notice to Jeanne Dupont, whose name must never show, for a session starting
// at start (given in the session's zone).
func testNotice(kind bridge.NoticeKind, locale, participantZone string, start time.Time) scheduler.Notice {
	s := &bridge.Session{ID: "k7m2pq", Clinician: "@dr.martin:clinique.example", Start: start.UTC(),
		End: start.Add(30 * time.Minute).UTC(), TimeZone: start.Location().String(), Kind: bridge.KindVideo,
		Status: bridge.StatusScheduled, Revision: 2}
	p := &bridge.Participant{ID: 42, SessionID: s.ID, Number: 1, Name: "Jeanne Dupont", Email: "j.d@example.org",
		Phone: "+33612345678", Locale: locale, TimeZone: participantZone, Invite: bridge.InviteSMS}
	n := scheduler.Notice{Kind: kind, Session: s, Participant: p, Window: bridge.DefaultWindow, Link: testLink,
		Clinic:   scheduler.Clinic{Name: testClinicName, Phone: "+33123456789", Email: "rdv@clinique.example", Domain: "clinique.example"},
		Sequence: 2, Now: time.Date(2026, 2, 20, 9, 0, 0, 0, time.UTC)}
	if kind == bridge.NoticePhoneIntro {
		s.Kind, n.Link, n.ClinicianName = bridge.KindPhone, "", "Dr Hélène Côté"
	}
	return n
}

func TestEveryKindRendersInEveryLanguage(t *testing.T) {
	paris := mustLoad(t, "Europe/Paris")
	// The longest date and time: a Wednesday in September, 10 PM, summer time.
	starts := []time.Time{
		time.Date(2026, 9, 30, 22, 0, 0, 0, paris),
		time.Date(2026, 8, 12, 10, 30, 0, 0, paris), // août: not GSM-7 as such
		time.Date(2026, 12, 16, 9, 0, 0, 0, paris),
	}
	for _, start := range starts {
		for _, locale := range []string{"en", "fr"} {
			for _, kind := range allKinds {
				n := testNotice(kind, locale, "Europe/Paris", start)
				sms, err := scheduler.RenderSMS(n)
				if err != nil {
					t.Fatalf("%s %s: %v", kind, locale, err)
				}
				t.Logf("%s %s (%d): %s", kind, locale, len([]rune(sms)), sms)
				if !scheduler.IsGSM7(sms) {
					t.Errorf("%s %s SMS is not GSM-7: %q", kind, locale, sms)
				}
				if scheduler.SMSSegments(sms) != 1 {
					t.Errorf("%s %s SMS takes %d segments (%d characters): %q", kind, locale, scheduler.SMSSegments(sms), len([]rune(sms)), sms)
				}
				noName(t, string(kind)+" SMS", sms)
				if strings.Contains(sms, "CANCEL") {
					t.Errorf("%s %s SMS mentions CANCEL: %q", kind, locale, sms)
				}
				if !strings.Contains(sms, testClinicName) {
					t.Errorf("%s %s SMS does not name the clinic: %q", kind, locale, sms)
				}
				e, err := scheduler.RenderEmail(n)
				if err != nil {
					t.Fatalf("%s %s email: %v", kind, locale, err)
				}
				noName(t, string(kind)+" email", e.Subject+e.Text+e.HTML+string(e.Invite))
				if strings.Contains(e.Subject, "Clinique") || e.Subject == "" {
					t.Errorf("%s %s subject names the clinic or is empty: %q", kind, locale, e.Subject)
				}
				if e.Text == "" || !strings.Contains(e.HTML, "<html") {
					t.Errorf("%s %s email lacks a part", kind, locale)
				}
				if n.Link != "" && (!strings.Contains(e.Text, n.Link) || !strings.Contains(e.HTML, n.Link)) {
					t.Errorf("%s %s email lacks the link", kind, locale)
				}
				withInvite := kind != bridge.NoticeWindowOpen && kind != bridge.NoticePhoneIntro
				if withInvite != (e.Invite != nil) {
					t.Errorf("%s %s email: invite %v, want %v", kind, locale, e.Invite != nil, withInvite)
				}
			}
		}
	}
}

func noName(t *testing.T, what, s string) {
	t.Helper()
	for _, w := range []string{"Jeanne", "Dupont"} {
		if strings.Contains(s, w) {
			t.Errorf("%s names the participant (%s): %q", what, w, s)
		}
	}
}

func TestSMSTexts(t *testing.T) {
	paris := mustLoad(t, "Europe/Paris")
	start := time.Date(2026, 3, 3, 15, 0, 0, 0, paris) // a Tuesday
	cases := []struct {
		kind   bridge.NoticeKind
		locale string
		want   string
	}{
		{bridge.NoticeConfirmation, "en", testClinicName + ": appointment booked Tue 3 Mar 3:00 PM CET. " + testLink + " Reply STOP to opt out"},
		{bridge.NoticeConfirmation, "fr", testClinicName + ": RDV le mar. 3 mars à 15:00 CET. " + testLink + " STOP pour ne plus recevoir"},
		{bridge.NoticeWindowOpen, "en", testClinicName + ": your waiting room is open now: " + testLink + " (appointment 3:00 PM CET)"},
		{bridge.NoticeReschedule, "fr", testClinicName + ": votre RDV est déplacé au mar. 3 mars à 15:00 CET. " + testLink},
		{bridge.NoticePhoneIntro, "en", "Dr Hélène Coté from " + testClinicName + " will call you at about 3:00 PM CET from +33123456789."},
		{bridge.NoticePhoneIntro, "fr", "Dr Hélène Coté de " + testClinicName + " vous appellera vers 15:00 CET depuis le +33123456789."},
	}
	for _, c := range cases {
		got, err := scheduler.RenderSMS(testNotice(c.kind, c.locale, "", start))
		if err != nil {
			t.Fatal(err)
		}
		if got != c.want {
			t.Errorf("%s %s:\n got %q\nwant %q", c.kind, c.locale, got, c.want)
		}
	}
	// A participant who joins from Matrix has no link: the message still reads well.
	n := testNotice(bridge.NoticeWindowOpen, "fr", "", start)
	n.Link = ""
	if got, _ := scheduler.RenderSMS(n); got != testClinicName+": votre salle d'attente est ouverte (RDV à 15:00 CET)" {
		t.Errorf("window open without a link: %q", got)
	}
}

func TestEmailSubjects(t *testing.T) {
	paris := mustLoad(t, "Europe/Paris")
	start := time.Date(2026, 3, 3, 15, 0, 0, 0, paris)
	for _, c := range []struct {
		kind         bridge.NoticeKind
		locale, want string
	}{
		{bridge.NoticeConfirmation, "en", "Your appointment on Tue 3 Mar"},
		{bridge.NoticeConfirmation, "fr", "Votre rendez-vous du mardi 3 mars"},
		{bridge.NoticeReminder, "en", "Reminder: your appointment on Tue 3 Mar"},
		{bridge.NoticeCancellation, "fr", "Votre rendez-vous du mardi 3 mars est annulé"},
	} {
		e, err := scheduler.RenderEmail(testNotice(c.kind, c.locale, "", start))
		if err != nil {
			t.Fatal(err)
		}
		if e.Subject != c.want {
			t.Errorf("%s %s subject %q, want %q", c.kind, c.locale, e.Subject, c.want)
		}
	}
}

func TestHTMLIsEscaped(t *testing.T) {
	n := testNotice(bridge.NoticeConfirmation, "en", "", time.Date(2026, 3, 3, 15, 0, 0, 0, mustLoad(t, "Europe/Paris")))
	n.Clinic.Name = `<img src=x onerror=alert(1)>`
	e, err := scheduler.RenderEmail(n)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(e.HTML, "<img") || !strings.Contains(e.HTML, "&lt;img") {
		t.Errorf("the clinic name is not escaped in the HTML part:\n%s", e.HTML)
	}
}

// TestDaylightSavingChanges: sessions on the day after each change show the zone's new
// abbreviation and the booked local hour, in Paris and New York (which change on other days).
func TestDaylightSavingChanges(t *testing.T) {
	paris, ny := mustLoad(t, "Europe/Paris"), mustLoad(t, "America/New_York")
	for _, c := range []struct {
		start        time.Time
		locale, want string
		utcHour      int
	}{
		{start: time.Date(2026, 3, 28, 15, 0, 0, 0, paris), locale: "fr", want: "15:00 CET", utcHour: 14},
		{start: time.Date(2026, 3, 30, 15, 0, 0, 0, paris), locale: "fr", want: "15:00 CEST", utcHour: 13},
		{start: time.Date(2026, 10, 26, 15, 0, 0, 0, paris), locale: "fr", want: "15:00 CET", utcHour: 14},
		{start: time.Date(2026, 3, 9, 15, 0, 0, 0, ny), locale: "en", want: "3:00 PM EDT", utcHour: 19},
		{start: time.Date(2026, 11, 2, 15, 0, 0, 0, ny), locale: "en", want: "3:00 PM EST", utcHour: 20},
	} {
		n := testNotice(bridge.NoticeReminder, c.locale, "", c.start)
		if n.Session.Start.Hour() != c.utcHour {
			t.Fatalf("%v is %v UTC, want %d:00", c.start, n.Session.Start, c.utcHour)
		}
		sms, err := scheduler.RenderSMS(n)
		if err != nil {
			t.Fatal(err)
		}
		e, err := scheduler.RenderEmail(n)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(sms, c.want) {
			t.Errorf("SMS for %v: %q, want %q", c.start, sms, c.want)
		}
		if !strings.Contains(e.Text, c.want[:strings.LastIndexByte(c.want, ' ')]) || !strings.Contains(e.Text, c.want[strings.LastIndexByte(c.want, ' ')+1:]) {
			t.Errorf("email for %v does not say %q:\n%s", c.start, c.want, e.Text)
		}
	}
}

// TestParticipantInAnotherZone: times are the participant's, including the day.
func TestParticipantInAnotherZone(t *testing.T) {
	paris := mustLoad(t, "Europe/Paris")
	// Wednesday 4 March, 03:00 in Paris, is Tuesday 3 March, 9 PM in New York.
	n := testNotice(bridge.NoticeConfirmation, "en", "America/New_York", time.Date(2026, 3, 4, 3, 0, 0, 0, paris))
	sms, err := scheduler.RenderSMS(n)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(sms, "Tue 3 Mar 9:00 PM EST") {
		t.Errorf("SMS in New York time: %q", sms)
	}
	e, err := scheduler.RenderEmail(n)
	if err != nil {
		t.Fatal(err)
	}
	if e.Subject != "Your appointment on Tue 3 Mar" || !strings.Contains(e.Text, "Tuesday 3 March 2026, 9:00 PM – 9:30 PM (EST, America/New_York)") {
		t.Errorf("email in New York time: %q\n%s", e.Subject, e.Text)
	}
	// No zone of their own: the session's.
	n.Participant.TimeZone, n.Participant.Locale = "", "fr"
	if sms, _ = scheduler.RenderSMS(n); !strings.Contains(sms, "mer. 4 mars à 03:00 CET") {
		t.Errorf("SMS in the session's zone: %q", sms)
	}
}

func TestGSM7(t *testing.T) {
	for s, want := range map[string]bool{
		"Rendez-vous à 15:00, déplacé {ok} €": true,
		"Hélène":  true,
		"fenêtre": false,
		"ça":      false,
		"août":    false,
		"`":       false,
		"👍":       false,
	} {
		if got := scheduler.IsGSM7(s); got != want {
			t.Errorf("IsGSM7(%q) = %v, want %v", s, got, want)
		}
	}
	for _, c := range []struct {
		s    string
		want int
	}{
		{strings.Repeat("a", 160), 1},
		{strings.Repeat("a", 161), 2},
		{strings.Repeat("a", 159) + "€", 2}, // an extension character counts twice
		{strings.Repeat("a", 306), 2},
		{strings.Repeat("ê", 70), 1},
		{strings.Repeat("ê", 71), 2},
	} {
		if got := scheduler.SMSSegments(c.s); got != c.want {
			t.Errorf("SMSSegments(%d × %q) = %d, want %d", len([]rune(c.s)), c.s[len(c.s)-1:], got, c.want)
		}
	}
}

func TestNextSendTimeQuietHours(t *testing.T) {
	paris, ny := mustLoad(t, "Europe/Paris"), mustLoad(t, "America/New_York")
	for _, c := range []struct {
		due  time.Time
		zone string
		kind bridge.NoticeKind
		want time.Time
	}{
		{time.Date(2026, 3, 3, 22, 0, 0, 0, paris), "Europe/Paris", bridge.NoticeReminder, time.Date(2026, 3, 4, 8, 0, 0, 0, paris)},
		{time.Date(2026, 3, 3, 21, 0, 0, 0, paris), "Europe/Paris", bridge.NoticeConfirmation, time.Date(2026, 3, 4, 8, 0, 0, 0, paris)},
		{time.Date(2026, 3, 4, 7, 59, 0, 0, paris), "Europe/Paris", bridge.NoticeReschedule, time.Date(2026, 3, 4, 8, 0, 0, 0, paris)},
		{time.Date(2026, 3, 4, 8, 0, 0, 0, paris), "Europe/Paris", bridge.NoticeReminder, time.Date(2026, 3, 4, 8, 0, 0, 0, paris)},
		{time.Date(2026, 3, 4, 20, 59, 0, 0, paris), "Europe/Paris", bridge.NoticeReminder, time.Date(2026, 3, 4, 20, 59, 0, 0, paris)},
		{time.Date(2026, 3, 3, 23, 0, 0, 0, paris), "Europe/Paris", bridge.NoticeWindowOpen, time.Date(2026, 3, 3, 23, 0, 0, 0, paris)},
		{time.Date(2026, 3, 3, 6, 0, 0, 0, paris), "Europe/Paris", bridge.NoticePhoneIntro, time.Date(2026, 3, 3, 6, 0, 0, 0, paris)},
		// Across the changes: the night is 9 or 11 hours long, and 08:00 stays 08:00.
		{time.Date(2026, 3, 28, 23, 0, 0, 0, paris), "Europe/Paris", bridge.NoticeReminder, time.Date(2026, 3, 29, 8, 0, 0, 0, paris)},
		{time.Date(2026, 10, 24, 22, 0, 0, 0, paris), "Europe/Paris", bridge.NoticeReminder, time.Date(2026, 10, 25, 8, 0, 0, 0, paris)},
		{time.Date(2026, 3, 7, 23, 30, 0, 0, ny), "America/New_York", bridge.NoticeCancellation, time.Date(2026, 3, 8, 8, 0, 0, 0, ny)},
		// The recipient's zone decides: 22:00 in Paris is 4 PM in New York.
		{time.Date(2026, 3, 3, 22, 0, 0, 0, paris), "America/New_York", bridge.NoticeReminder, time.Date(2026, 3, 3, 22, 0, 0, 0, paris)},
	} {
		got := scheduler.NextSendTime(c.due, c.zone, c.kind)
		if !got.Equal(c.want) {
			t.Errorf("NextSendTime(%v, %s, %s) = %v, want %v", c.due, c.zone, c.kind, got.In(c.want.Location()), c.want)
		}
	}
	if got := scheduler.NextSendTime(time.Date(2026, 3, 28, 23, 0, 0, 0, paris), "Europe/Paris", bridge.NoticeReminder); got.UTC() != time.Date(2026, 3, 29, 6, 0, 0, 0, time.UTC) {
		t.Errorf("08:00 on the day summer time starts is %v, want 06:00 UTC", got.UTC())
	}
}

func TestCalendarInvite(t *testing.T) {
	paris := mustLoad(t, "Europe/Paris")
	start := time.Date(2026, 3, 30, 15, 0, 0, 0, paris)
	for _, c := range []struct {
		kind           bridge.NoticeKind
		locale         string
		method, status string
		summary        string
	}{
		{bridge.NoticeConfirmation, "en", "REQUEST", "CONFIRMED", "Appointment with " + testClinicName},
		{bridge.NoticeReschedule, "fr", "REQUEST", "CONFIRMED", "Rendez-vous avec " + testClinicName},
		{bridge.NoticeCancellation, "en", "CANCEL", "CANCELLED", "Appointment with " + testClinicName},
	} {
		n := testNotice(c.kind, c.locale, "America/New_York", start)
		n.Sequence = 3
		e, err := scheduler.RenderEmail(n)
		if err != nil {
			t.Fatal(err)
		}
		if e.InviteMethod != c.method {
			t.Errorf("%s: method %q, want %q", c.kind, e.InviteMethod, c.method)
		}
		cal, err := ics.ParseCalendar(strings.NewReader(string(e.Invite)))
		if err != nil {
			t.Fatalf("%s: parsing the invite: %v\n%s", c.kind, err, e.Invite)
		}
		method := ""
		for _, p := range cal.CalendarProperties {
			if p.IANAToken == string(ics.PropertyMethod) {
				method = p.Value
			}
		}
		if method != c.method {
			t.Errorf("%s: METHOD %q, want %q", c.kind, method, c.method)
		}
		evs := cal.Events()
		if len(evs) != 1 {
			t.Fatalf("%s: %d events", c.kind, len(evs))
		}
		ev := evs[0]
		prop := func(p ics.ComponentProperty) string {
			if v := ev.GetProperty(p); v != nil {
				return v.Value
			}
			return ""
		}
		checks := map[ics.ComponentProperty]string{
			ics.ComponentPropertyUniqueId:  "session-k7m2pq-42@clinique.example",
			ics.ComponentPropertySequence:  "3",
			ics.ComponentPropertyDtStart:   "20260330T130000Z",
			ics.ComponentPropertyDtEnd:     "20260330T133000Z",
			ics.ComponentPropertyDtstamp:   "20260220T090000Z",
			ics.ComponentPropertyStatus:    c.status,
			ics.ComponentPropertySummary:   c.summary,
			ics.ComponentPropertyOrganizer: "mailto:rdv@clinique.example",
			ics.ComponentPropertyAttendee:  "mailto:j.d@example.org",
			ics.ComponentPropertyUrl:       testLink,
		}
		for p, want := range checks {
			if got := prop(p); got != want {
				t.Errorf("%s: %s %q, want %q", c.kind, p, got, want)
			}
		}
		if strings.Count(string(e.Invite), "\n") != strings.Count(string(e.Invite), "\r\n") {
			t.Errorf("%s: invite lines do not all end with CRLF", c.kind)
		}
		if got, err := ev.GetStartAt(); err != nil || !got.Equal(start) {
			t.Errorf("%s: start %v (%v), want %v", c.kind, got, err, start)
		}
		if !strings.Contains(prop(ics.ComponentPropertyDescription), testLink) {
			t.Errorf("%s: no link in the description", c.kind)
		}
	}
}

// TestCalendarInviteQuoting: a clinic name with the separators of the format stays one value.
func TestCalendarInviteQuoting(t *testing.T) {
	n := testNotice(bridge.NoticeConfirmation, "en", "", time.Date(2026, 3, 30, 15, 0, 0, 0, mustLoad(t, "Europe/Paris")))
	n.Clinic.Name = `Centre; Nord: "Soins", Est`
	invite, method, err := scheduler.RenderInvite(n)
	if err != nil || method != "REQUEST" {
		t.Fatal(err, method)
	}
	cal, err := ics.ParseCalendar(strings.NewReader(string(invite)))
	if err != nil {
		t.Fatalf("parsing: %v\n%s", err, invite)
	}
	ev := cal.Events()[0]
	if got := ev.GetProperty(ics.ComponentPropertySummary).Value; got != "Appointment with "+n.Clinic.Name {
		t.Errorf("summary %q\n%s", got, invite)
	}
	org := ev.GetProperty(ics.ComponentPropertyOrganizer)
	if org.Value != "mailto:rdv@clinique.example" {
		t.Errorf("organizer %q\n%s", org.Value, invite)
	}
}
