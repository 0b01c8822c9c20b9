package scheduler

import (
	"bytes"
	"fmt"
	"html/template"
	"strings"
	"time"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
)

// Email is a rendered email notification.
type Email struct {
	Subject string
	Text    string
	HTML    string
	// Invite is a text/calendar object (RFC 5546), nil when the notice carries none.
	Invite []byte
	// InviteMethod is the invite's METHOD: REQUEST or CANCEL.
	InviteMethod string
}

// French short names for SMS dates: written in GSM-7 ("aout", not "août", which would switch
// the whole message to UCS-2 and 70 characters per segment).
var (
	frShortDays   = []string{"dim.", "lun.", "mar.", "mer.", "jeu.", "ven.", "sam."}
	frShortMonths = []string{"janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "aout", "sept.", "oct.", "nov.", "déc."}
)

// when is a notice's session schedule as its participant reads it.
type when struct {
	fr    bool
	start time.Time // in the participant's zone
	local bridge.LocalTime
}

func (w when) zone() string { return w.local.ZoneAbbr }

// smsDate is a short day for text messages: "Tue 3 Mar", "mar. 3 mars".
func (w when) smsDate() string {
	if w.fr {
		return fmt.Sprintf("%s %d %s", frShortDays[w.start.Weekday()], w.start.Day(), frShortMonths[w.start.Month()-1])
	}
	return w.start.Format("Mon 2 Jan")
}

// subjectDate is the day in email subjects: "Tue 3 Mar", "mardi 3 mars".
func (w when) subjectDate() string {
	if w.fr {
		return fmt.Sprintf("%s %d %s", bridge.FrenchDay(w.start.Weekday()), w.start.Day(), bridge.FrenchMonth(w.start.Month()))
	}
	return w.start.Format("Mon 2 Jan")
}

// whenOf checks a notice and writes its schedule in the participant's zone (the session's if
// they have none) and language.
func whenOf(n Notice) (when, error) {
	if n.Session == nil || n.Participant == nil {
		return when{}, fmt.Errorf("rendering a %s notice: no session or participant", n.Kind)
	}
	switch n.Kind {
	case bridge.NoticeConfirmation, bridge.NoticeReminder, bridge.NoticeWindowOpen, bridge.NoticeReschedule, bridge.NoticeCancellation,
		bridge.NoticeFormToDo, bridge.NoticePaymentDue:
	case bridge.NoticeMessage:
		if strings.TrimSpace(n.Body) == "" {
			return when{}, fmt.Errorf("rendering a text message for session %s: it is empty (or was already sent)", n.Session.ID)
		}
	case bridge.NoticePhoneIntro:
		// Without a clinic caller ID the introduction still says who will call, without a number.
		if strings.TrimSpace(n.ClinicianName) == "" {
			return when{}, fmt.Errorf("rendering a telephone introduction for session %s: the clinician's name is needed", n.Session.ID)
		}
	default:
		return when{}, fmt.Errorf("rendering a notice for session %s: unknown kind %q", n.Session.ID, n.Kind)
	}
	if strings.TrimSpace(n.Clinic.Name) == "" {
		return when{}, fmt.Errorf("rendering a %s notice for session %s: the clinic has no name", n.Kind, n.Session.ID)
	}
	zone := n.Participant.TimeZone
	loc, err := time.LoadLocation(zone)
	if zone == "" || err != nil {
		zone, loc = n.Session.TimeZone, n.Session.Location()
	}
	fr := n.Participant.Locale == "fr"
	locale := "en"
	if fr {
		locale = "fr"
	}
	return when{fr: fr, start: n.Session.Start.In(loc), local: bridge.LocalTimeOf(n.Session, n.Window, zone, locale)}, nil
}

// RenderSMS writes a notice as a text message of one GSM-7 segment. It names the clinic and,
// for a telephone introduction, the clinician; never the participant, a reason or a
// specialty: a text message may be read by anyone holding the phone.
func RenderSMS(n Notice) (string, error) {
	if !n.Kind.SomethingToComplete() {
		n = withoutVideoLink(n)
	}
	w, err := whenOf(n)
	if err != nil {
		return "", err
	}
	clinic, err := gsmName(n.Clinic.Name)
	if err != nil {
		return "", fmt.Errorf("rendering a %s text message for session %s: the clinic name: %w", n.Kind, n.Session.ID, err)
	}
	at := w.local.Start + " " + w.zone()
	day := w.smsDate()
	link := ""
	if n.Link != "" {
		link = " " + n.Link
	}
	if n.Kind == bridge.NoticeMessage {
		// The clinician's own words, after the clinic's name so that the client knows who
		// writes; they may need UCS-2 (and more segments), which is the clinician's choice.
		return clinic + ": " + strings.TrimSpace(n.Body), nil
	}
	var msg string
	phone := n.Session.Kind == bridge.KindPhone && !n.Kind.SomethingToComplete()
	switch {
	// Something to complete: what it is stays in the portal, behind its sign-in.
	case n.Kind.SomethingToComplete() && w.fr:
		msg = fmt.Sprintf("%s: vous avez quelque chose à compléter avant votre séance.%s", clinic, link)
	case n.Kind.SomethingToComplete():
		msg = fmt.Sprintf("%s: you have something to complete before your session.%s", clinic, link)
	// A telephone session's client is called on this very number: the texts say so and
	// carry no link (there is no waiting room to open).
	case phone && n.Kind == bridge.NoticeConfirmation && w.fr:
		msg = fmt.Sprintf("%s: RDV téléphonique le %s à %s, nous appellerons ce numéro. STOP pour ne plus recevoir", clinic, day, at)
	case phone && n.Kind == bridge.NoticeConfirmation:
		msg = fmt.Sprintf("%s: telephone appointment booked %s %s, we will call this number. Reply STOP to opt out", clinic, day, at)
	case phone && n.Kind == bridge.NoticeReminder && w.fr:
		msg = fmt.Sprintf("%s: rappel, RDV téléphonique le %s à %s, nous appellerons ce numéro.", clinic, day, at)
	case phone && n.Kind == bridge.NoticeReminder:
		msg = fmt.Sprintf("%s: reminder, telephone appointment %s %s, we will call this number.", clinic, day, at)
	case phone && n.Kind == bridge.NoticeReschedule && w.fr:
		msg = fmt.Sprintf("%s: votre RDV téléphonique est déplacé au %s à %s.", clinic, day, at)
	case phone && n.Kind == bridge.NoticeReschedule:
		msg = fmt.Sprintf("%s: your telephone appointment moved to %s %s.", clinic, day, at)
	case phone && n.Kind == bridge.NoticeCancellation && w.fr:
		msg = fmt.Sprintf("%s: votre RDV téléphonique du %s à %s est annulé.", clinic, day, at)
	case phone && n.Kind == bridge.NoticeCancellation:
		msg = fmt.Sprintf("%s: your telephone appointment %s %s is cancelled.", clinic, day, at)
	case n.Kind == bridge.NoticeConfirmation && w.fr:
		msg = fmt.Sprintf("%s: RDV le %s à %s.%s STOP pour ne plus recevoir", clinic, day, at, link)
	case n.Kind == bridge.NoticeConfirmation:
		msg = fmt.Sprintf("%s: appointment booked %s %s.%s Reply STOP to opt out", clinic, day, at, link)
	case n.Kind == bridge.NoticeReminder && w.fr:
		msg = fmt.Sprintf("%s: rappel, RDV le %s à %s.%s", clinic, day, at, link)
	case n.Kind == bridge.NoticeReminder:
		msg = fmt.Sprintf("%s: reminder, appointment %s %s.%s", clinic, day, at, link)
	case n.Kind == bridge.NoticeWindowOpen && w.fr && n.Link != "":
		msg = fmt.Sprintf("%s: votre salle d'attente est ouverte: %s (RDV à %s)", clinic, n.Link, at)
	case n.Kind == bridge.NoticeWindowOpen && w.fr:
		msg = fmt.Sprintf("%s: votre salle d'attente est ouverte (RDV à %s)", clinic, at)
	case n.Kind == bridge.NoticeWindowOpen && n.Link != "":
		msg = fmt.Sprintf("%s: your waiting room is open now: %s (appointment %s)", clinic, n.Link, at)
	case n.Kind == bridge.NoticeWindowOpen:
		msg = fmt.Sprintf("%s: your waiting room is open now (appointment %s)", clinic, at)
	case n.Kind == bridge.NoticeReschedule && w.fr:
		msg = fmt.Sprintf("%s: votre RDV est déplacé au %s à %s.%s", clinic, day, at, link)
	case n.Kind == bridge.NoticeReschedule:
		msg = fmt.Sprintf("%s: your appointment moved to %s %s.%s", clinic, day, at, link)
	case n.Kind == bridge.NoticeCancellation && w.fr:
		msg = fmt.Sprintf("%s: votre RDV du %s à %s est annulé.%s", clinic, day, at, link)
	case n.Kind == bridge.NoticeCancellation:
		msg = fmt.Sprintf("%s: your appointment %s %s is cancelled.%s", clinic, day, at, link)
	case n.Kind == bridge.NoticePhoneIntro:
		clinician, err := gsmName(n.ClinicianName)
		if err != nil {
			return "", fmt.Errorf("rendering a telephone introduction for session %s: the clinician's name: %w", n.Session.ID, err)
		}
		switch {
		case w.fr && n.Clinic.Phone != "":
			msg = fmt.Sprintf("%s de %s vous appellera vers %s depuis le %s.", clinician, clinic, at, n.Clinic.Phone)
		case w.fr:
			msg = fmt.Sprintf("%s: votre praticien %s vous appellera vers %s.", clinic, clinician, at)
		case n.Clinic.Phone != "":
			msg = fmt.Sprintf("%s from %s will call you at about %s from %s.", clinician, clinic, at, n.Clinic.Phone)
		default:
			msg = fmt.Sprintf("%s: your clinician %s will call you at about %s.", clinic, clinician, at)
		}
	}
	if !IsGSM7(msg) {
		return "", fmt.Errorf("rendering a %s text message for session %s: it cannot be written in GSM-7 (check the link)", n.Kind, n.Session.ID)
	}
	return msg, nil
}

// withoutVideoLink drops the link from a telephone session's notices: the client is called,
// there is no waiting room to join.
func withoutVideoLink(n Notice) Notice {
	if n.Session != nil && n.Session.Kind == bridge.KindPhone {
		n.Link = ""
	}
	return n
}

// emailTemplate is every notification email's HTML: paragraphs, a button-like link, a footer.
// html/template escapes what comes from configuration or people (a clinic's or clinician's name).
var emailTemplate = template.Must(template.New("email").Parse(`<!DOCTYPE html>
<html lang="{{.Lang}}">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>{{.Subject}}</title></head>
<body style="font-family: sans-serif; line-height: 1.5; color: #1a1a1a; max-width: 36em; margin: 1em auto; padding: 0 1em;">
{{range .Paragraphs}}<p>{{.}}</p>
{{end}}{{if .Link}}<p><a href="{{.Link}}" style="display: inline-block; padding: 0.6em 1.2em; background: #1d4ed8; color: #ffffff; text-decoration: none; border-radius: 4px;">{{.LinkLabel}}</a></p>
<p style="font-size: 0.9em; color: #555555;">{{.LinkHint}} <a href="{{.Link}}">{{.Link}}</a></p>
{{end}}<hr style="border: none; border-top: 1px solid #dddddd;">
<p style="font-size: 0.85em; color: #555555;">{{.Footer}}</p>
</body>
</html>
`))

// emailContent is what an email says, before it is laid out as text and HTML.
type emailContent struct {
	Lang, Subject                   string
	Paragraphs                      []string
	Link, LinkLabel, LinkHint       string
	Footer                          string
	inviteSummary, inviteLinkPrefix string
	// inviteDescription is the calendar event's description when it has no link (a telephone
	// session: who calls which number).
	inviteDescription string
}

// RenderEmail writes a notice as an email with text and HTML parts and, for a confirmation,
// reminder, reschedule or cancellation, a calendar invite. Subjects carry no names at all
// (they show in lock-screen previews); bodies name the clinic, never the participant, a reason
// or a specialty.
func RenderEmail(n Notice) (Email, error) {
	if !n.Kind.SomethingToComplete() {
		n = withoutVideoLink(n)
	}
	w, err := whenOf(n)
	if err != nil {
		return Email{}, err
	}
	c := emailContentOf(n, w)
	var text strings.Builder
	for _, p := range c.Paragraphs {
		text.WriteString(p + "\n\n")
	}
	if c.Link != "" {
		text.WriteString(c.LinkLabel + ": " + c.Link + "\n\n")
	}
	text.WriteString("-- \n" + c.Footer + "\n")
	var html bytes.Buffer
	if err = emailTemplate.Execute(&html, c); err != nil {
		return Email{}, fmt.Errorf("rendering the %s email for session %s: %w", n.Kind, n.Session.ID, err)
	}
	e := Email{Subject: c.Subject, Text: text.String(), HTML: html.String()}
	if e.Invite, e.InviteMethod, err = RenderInvite(n); err != nil {
		return Email{}, err
	}
	return e, nil
}

func emailContentOf(n Notice, w when) emailContent {
	clinic, lt := n.Clinic.Name, w.local
	schedule := fmt.Sprintf("%s, %s – %s (%s, %s)", lt.Date, lt.Start, lt.End, lt.ZoneAbbr, lt.Zone)
	c := emailContent{Lang: "en", Link: n.Link}
	if w.fr {
		c.Lang = "fr"
		schedule = fmt.Sprintf("%s, de %s à %s (%s, %s)", lt.Date, lt.Start, lt.End, lt.ZoneAbbr, lt.Zone)
		c.Paragraphs = []string{"Bonjour,"}
		c.LinkLabel, c.LinkHint = "Voir mes rendez-vous", "Si le bouton ne fonctionne pas, copiez ce lien :"
		c.Footer = fmt.Sprintf("Ce message vous est envoyé par %s. Ne le transférez pas : le lien est personnel.", clinic)
		day := w.subjectDate()
		switch n.Kind {
		case bridge.NoticeConfirmation:
			c.Subject = "Votre rendez-vous du " + day
			c.Paragraphs = append(c.Paragraphs, fmt.Sprintf("Votre rendez-vous avec %s est confirmé :", clinic), schedule,
				fmt.Sprintf("La salle d'attente en ligne ouvre à %s.", lt.Opens))
		case bridge.NoticeReminder:
			c.Subject = "Rappel : votre rendez-vous du " + day
			c.Paragraphs = append(c.Paragraphs, fmt.Sprintf("Nous vous rappelons votre rendez-vous avec %s :", clinic), schedule,
				fmt.Sprintf("La salle d'attente en ligne ouvre à %s.", lt.Opens))
		case bridge.NoticeWindowOpen:
			c.Subject = "Votre salle d'attente est ouverte"
			c.Paragraphs = append(c.Paragraphs, fmt.Sprintf("Votre salle d'attente avec %s est ouverte dès maintenant.", clinic),
				fmt.Sprintf("Votre rendez-vous commence à %s (%s).", lt.Start, lt.ZoneAbbr))
			c.LinkLabel = "Rejoindre la salle d'attente"
		case bridge.NoticeReschedule:
			c.Subject = "Votre rendez-vous est déplacé au " + day
			c.Paragraphs = append(c.Paragraphs, fmt.Sprintf("Votre rendez-vous avec %s a changé d'horaire. Nouvel horaire :", clinic), schedule)
		case bridge.NoticeCancellation:
			c.Subject = fmt.Sprintf("Votre rendez-vous du %s est annulé", day)
			c.Paragraphs = append(c.Paragraphs, fmt.Sprintf("Votre rendez-vous avec %s est annulé :", clinic), schedule,
				"Contactez le cabinet pour en fixer un autre.")
		case bridge.NoticePhoneIntro:
			c.Subject = "Votre rendez-vous téléphonique du " + day
			from := ""
			if n.Clinic.Phone != "" {
				from = " depuis le " + n.Clinic.Phone
			}
			c.Paragraphs = append(c.Paragraphs, fmt.Sprintf("%s de %s vous appellera vers %s (%s)%s.", n.ClinicianName, clinic, lt.Start, lt.ZoneAbbr, from))
		case bridge.NoticeFormToDo:
			c.Subject = "Quelque chose à compléter avant votre séance"
			c.Paragraphs = append(c.Paragraphs, fmt.Sprintf("Vous avez quelque chose à compléter avant votre séance avec %s (%s).", clinic, lt.Date),
				"Vous le trouverez dans votre espace client, rubrique « À faire ».")
			c.LinkLabel = "Ouvrir mon espace client"
			c.Footer = fmt.Sprintf("Ce message vous est envoyé par %s.", clinic)
			return c
		case bridge.NoticePaymentDue:
			c.Subject = "Quelque chose à compléter avant votre séance"
			c.Paragraphs = append(c.Paragraphs, fmt.Sprintf("Vous avez quelque chose à compléter avant votre séance avec %s (%s).", clinic, lt.Date),
				"Ouvrez la page de votre séance pour le faire.")
			c.LinkLabel = "Ouvrir la page de ma séance"
			c.Footer = fmt.Sprintf("Ce message vous est envoyé par %s. Ne le transférez pas : le lien est personnel.", clinic)
			return c
		}
		c.inviteSummary = "Rendez-vous avec " + clinic
		if n.Session.Kind == bridge.KindPhone {
			phoneEmailFr(&c, n, clinic, schedule, day)
		}
		return c
	}
	c.Paragraphs = []string{"Hello,"}
	c.LinkLabel, c.LinkHint = "See my appointments", "If the button does not work, copy this link:"
	c.Footer = fmt.Sprintf("This message is sent to you by %s. Please do not forward it: the link is personal.", clinic)
	day := w.subjectDate()
	switch n.Kind {
	case bridge.NoticeConfirmation:
		c.Subject = "Your appointment on " + day
		c.Paragraphs = append(c.Paragraphs, fmt.Sprintf("Your appointment with %s is booked:", clinic), schedule,
			fmt.Sprintf("The online waiting room opens at %s.", lt.Opens))
	case bridge.NoticeReminder:
		c.Subject = "Reminder: your appointment on " + day
		c.Paragraphs = append(c.Paragraphs, fmt.Sprintf("This is a reminder of your appointment with %s:", clinic), schedule,
			fmt.Sprintf("The online waiting room opens at %s.", lt.Opens))
	case bridge.NoticeWindowOpen:
		c.Subject = "Your waiting room is open"
		c.Paragraphs = append(c.Paragraphs, fmt.Sprintf("Your waiting room with %s is open now.", clinic),
			fmt.Sprintf("Your appointment starts at %s (%s).", lt.Start, lt.ZoneAbbr))
		c.LinkLabel = "Join the waiting room"
	case bridge.NoticeReschedule:
		c.Subject = "Your appointment has moved to " + day
		c.Paragraphs = append(c.Paragraphs, fmt.Sprintf("Your appointment with %s has moved. The new time is:", clinic), schedule)
	case bridge.NoticeCancellation:
		c.Subject = fmt.Sprintf("Your appointment on %s is cancelled", day)
		c.Paragraphs = append(c.Paragraphs, fmt.Sprintf("Your appointment with %s is cancelled:", clinic), schedule,
			"Please contact the practice to book another.")
	case bridge.NoticePhoneIntro:
		c.Subject = "Your telephone appointment on " + day
		from := ""
		if n.Clinic.Phone != "" {
			from = " from " + n.Clinic.Phone
		}
		c.Paragraphs = append(c.Paragraphs, fmt.Sprintf("%s from %s will call you at about %s (%s)%s.", n.ClinicianName, clinic, lt.Start, lt.ZoneAbbr, from))
	case bridge.NoticeFormToDo:
		c.Subject = "Something to complete before your session"
		c.Paragraphs = append(c.Paragraphs, fmt.Sprintf("You have something to complete before your session with %s (%s).", clinic, lt.Date),
			"You will find it in your client portal, under To-do.")
		c.LinkLabel = "Open my portal"
		c.Footer = fmt.Sprintf("This message is sent to you by %s.", clinic)
		return c
	case bridge.NoticePaymentDue:
		c.Subject = "Something to complete before your session"
		c.Paragraphs = append(c.Paragraphs, fmt.Sprintf("You have something to complete before your session with %s (%s).", clinic, lt.Date),
			"Open your session's page to do it.")
		c.LinkLabel = "Open my session's page"
		c.Footer = fmt.Sprintf("This message is sent to you by %s. Do not forward it: the link is personal.", clinic)
		return c
	}
	c.inviteSummary = "Appointment with " + clinic
	if n.Session.Kind == bridge.KindPhone {
		phoneEmail(&c, n, clinic, schedule, day)
	}
	return c
}

// phoneEmail rewrites an email about a telephone session: it says "telephone", tells the
// client the clinician will call their number (masked: emails are forwarded and previewed)
// and carries no link.
func phoneEmail(c *emailContent, n Notice, clinic, schedule, day string) {
	c.Link, c.inviteSummary = "", "Telephone appointment with "+clinic
	c.inviteDescription = "Your clinician will call you."
	if masked := bridge.MaskPhone(n.Participant.Phone); masked != "" {
		c.inviteDescription = fmt.Sprintf("Your clinician will call you at %s.", masked)
	}
	call := c.inviteDescription
	switch n.Kind {
	case bridge.NoticeConfirmation:
		c.Subject = "Your telephone appointment on " + day
		c.Paragraphs = []string{"Hello,", fmt.Sprintf("Your telephone appointment with %s is booked:", clinic), schedule, call}
	case bridge.NoticeReminder:
		c.Subject = "Reminder: your telephone appointment on " + day
		c.Paragraphs = []string{"Hello,", fmt.Sprintf("This is a reminder of your telephone appointment with %s:", clinic), schedule, call}
	case bridge.NoticeReschedule:
		c.Subject = "Your telephone appointment has moved to " + day
		c.Paragraphs = []string{"Hello,", fmt.Sprintf("Your telephone appointment with %s has moved. The new time is:", clinic), schedule, call}
	case bridge.NoticeCancellation:
		c.Subject = fmt.Sprintf("Your telephone appointment on %s is cancelled", day)
		c.Paragraphs = []string{"Hello,", fmt.Sprintf("Your telephone appointment with %s is cancelled:", clinic), schedule,
			"Please contact the practice to book another."}
	}
	c.Footer = fmt.Sprintf("This message is sent to you by %s.", clinic)
}

// phoneEmailFr is phoneEmail in French.
func phoneEmailFr(c *emailContent, n Notice, clinic, schedule, day string) {
	c.Link, c.inviteSummary = "", "Rendez-vous téléphonique avec "+clinic
	c.inviteDescription = "Votre praticien vous appellera."
	if masked := bridge.MaskPhone(n.Participant.Phone); masked != "" {
		c.inviteDescription = fmt.Sprintf("Votre praticien vous appellera au %s.", masked)
	}
	call := c.inviteDescription
	switch n.Kind {
	case bridge.NoticeConfirmation:
		c.Subject = "Votre rendez-vous téléphonique du " + day
		c.Paragraphs = []string{"Bonjour,", fmt.Sprintf("Votre rendez-vous téléphonique avec %s est confirmé :", clinic), schedule, call}
	case bridge.NoticeReminder:
		c.Subject = "Rappel : votre rendez-vous téléphonique du " + day
		c.Paragraphs = []string{"Bonjour,", fmt.Sprintf("Nous vous rappelons votre rendez-vous téléphonique avec %s :", clinic), schedule, call}
	case bridge.NoticeReschedule:
		c.Subject = "Votre rendez-vous téléphonique est déplacé au " + day
		c.Paragraphs = []string{"Bonjour,", fmt.Sprintf("Votre rendez-vous téléphonique avec %s a changé d'horaire. Nouvel horaire :", clinic), schedule, call}
	case bridge.NoticeCancellation:
		c.Subject = fmt.Sprintf("Votre rendez-vous téléphonique du %s est annulé", day)
		c.Paragraphs = []string{"Bonjour,", fmt.Sprintf("Votre rendez-vous téléphonique avec %s est annulé :", clinic), schedule,
			"Contactez le cabinet pour en fixer un autre."}
	}
	c.Footer = fmt.Sprintf("Ce message vous est envoyé par %s.", clinic)
}

// NextSendTime is when a text message due at due may go out: not from 21:00 to 08:00 in the
// recipient's zone, where it is held until 08:00. The waiting room opening and a telephone
// introduction are about now, so they are never held. Email is not held (it does not ring).
func NextSendTime(due time.Time, zone string, kind bridge.NoticeKind) time.Time {
	if kind == bridge.NoticeWindowOpen || kind == bridge.NoticePhoneIntro || kind == bridge.NoticeMessage {
		return due
	}
	loc, err := time.LoadLocation(zone)
	if err != nil {
		loc = time.UTC
	}
	local := due.In(loc)
	y, m, d := local.Date()
	switch {
	case local.Hour() >= 21:
		// time.Date in the location, not Add(24h): a day across a daylight-saving change
		// lasts 23 or 25 hours.
		return time.Date(y, m, d+1, 8, 0, 0, 0, loc)
	case local.Hour() < 8:
		return time.Date(y, m, d, 8, 0, 0, 0, loc)
	}
	return due
}

// The GSM 03.38 default alphabet and its extension table (each extension character costs two
// septets: an escape and itself).
const (
	gsm7Basic = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
		"¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
	gsm7Extension = "\f^{}\\[~]|€"
)

// IsGSM7 reports whether a text message can be sent in the GSM 7-bit alphabet (160 characters
// per segment rather than 70).
func IsGSM7(s string) bool {
	for _, r := range s {
		if !strings.ContainsRune(gsm7Basic, r) && !strings.ContainsRune(gsm7Extension, r) {
			return false
		}
	}
	return true
}

// SMSSegments is how many segments a text message is sent as: GSM-7 holds 160 septets in one
// segment and 153 per segment once split; UCS-2 holds 70 UTF-16 units, 67 once split.
func SMSSegments(s string) int {
	if s == "" {
		return 0
	}
	units, single, multi := 0, 160, 153
	if IsGSM7(s) {
		for _, r := range s {
			units++
			if strings.ContainsRune(gsm7Extension, r) {
				units++
			}
		}
	} else {
		single, multi = 70, 67
		for _, r := range s {
			units++
			if r > 0xFFFF {
				units++ // a surrogate pair
			}
		}
	}
	if units <= single {
		return 1
	}
	return (units + multi - 1) / multi
}

// gsmFolds writes letters that GSM-7 lacks with the nearest ones it has, so that a name with
// "ô" or "ç" does not turn a message into UCS-2.
var gsmFolds = map[rune]string{
	'ç': "c", 'â': "a", 'ê': "e", 'î': "i", 'ô': "o", 'û': "u", 'ë': "e", 'ï': "i", 'ÿ': "y",
	'á': "a", 'í': "i", 'ó': "o", 'ú': "u", 'ã': "a", 'õ': "o", 'œ': "oe", 'Œ': "OE",
	'À': "A", 'Â': "A", 'È': "E", 'Ê': "E", 'Ë': "E", 'Î': "I", 'Ï': "I", 'Ô': "O", 'Ù': "U", 'Û': "U",
	'’': "'", '‘': "'", '“': "\"", '”': "\"", '–': "-", '—': "-", '\u00a0': " ",
}

// gsmName writes a name (a clinic's, a clinician's) in GSM-7: folded letters, accents dropped
// where GSM-7 has no accented form, and what cannot be written at all (emoji) left out.
func gsmName(name string) (string, error) {
	var b strings.Builder
	for _, r := range strings.TrimSpace(name) {
		switch {
		case r == '\n' || r == '\r' || r == '\f':
			b.WriteByte(' ') // a name is one line; its words stay apart
		case IsGSM7(string(r)):
			b.WriteRune(r)
		case gsmFolds[r] != "":
			b.WriteString(gsmFolds[r])
		default:
			// A base letter and combining marks: keep the letter if GSM-7 has it.
			for _, d := range norm.NFD.String(string(r)) {
				if !unicode.Is(unicode.Mn, d) && IsGSM7(string(d)) && d != '\n' && d != '\r' && d != '\f' {
					b.WriteRune(d)
				}
			}
		}
	}
	out := strings.Join(strings.Fields(b.String()), " ")
	if out == "" {
		return "", fmt.Errorf("%q has no character a text message can carry", name)
	}
	return out, nil
}
