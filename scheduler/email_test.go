package scheduler_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"io"
	"maps"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/net/html"

	"github.com/telehealth-bridge/telehealth-bridge/internal/smtptest"
	"github.com/telehealth-bridge/telehealth-bridge/scheduler"
)

// part is one leaf of a MIME message, decoded.
type part struct {
	contentType string
	params      map[string]string
	disposition string
	body        string
}

// mimeParts walks a message's MIME tree and returns its leaves.
func mimeParts(t *testing.T, header map[string][]string, body io.Reader) []part {
	t.Helper()
	get := func(k string) string {
		if v := header[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	ct, params, err := mime.ParseMediaType(get("Content-Type"))
	if err != nil {
		t.Fatalf("content type %q: %v", get("Content-Type"), err)
	}
	if strings.HasPrefix(ct, "multipart/") {
		var out []part
		r := multipart.NewReader(body, params["boundary"])
		for {
			p, err := r.NextRawPart()
			if err == io.EOF {
				return out
			} else if err != nil {
				t.Fatal(err)
			}
			out = append(out, mimeParts(t, p.Header, p)...)
		}
	}
	switch strings.ToLower(get("Content-Transfer-Encoding")) {
	case "quoted-printable":
		body = quotedprintable.NewReader(body)
	case "base64":
		body = base64.NewDecoder(base64.StdEncoding, body)
	}
	b, err := io.ReadAll(body)
	if err != nil {
		t.Fatal(err)
	}
	disp, _, _ := mime.ParseMediaType(get("Content-Disposition"))
	return []part{{contentType: ct, params: params, disposition: disp, body: string(b)}}
}

func newMailer(t *testing.T, srv *smtptest.Server) *scheduler.Mailer {
	t.Helper()
	m, err := scheduler.NewMailer(scheduler.SMTPConfig{Host: srv.Host, Port: srv.Port, TLS: "none",
		From: "Clinique du Parc <rdv@clinique.example>"}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestEmailThroughSMTP(t *testing.T) {
	srv := smtptest.Start(t)
	m := newMailer(t, srv)
	n := testNotice(bridge.NoticeConfirmation, "fr", "Europe/Paris", time.Date(2026, 3, 3, 15, 0, 0, 0, mustLoad(t, "Europe/Paris")))
	e, err := scheduler.RenderEmail(n)
	if err != nil {
		t.Fatal(err)
	}
	id, err := m.Send(context.Background(), n.Participant.Email, e)
	if err != nil {
		t.Fatal(err)
	}
	got := srv.WaitFor(t, 1, 5*time.Second)[0]
	if got.From != "rdv@clinique.example" || len(got.To) != 1 || got.To[0] != "j.d@example.org" {
		t.Errorf("envelope %s → %v", got.From, got.To)
	}
	msg, err := mail.ReadMessage(bytes.NewReader(got.Data))
	if err != nil {
		t.Fatal(err)
	}
	subject, _ := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if subject != "Votre rendez-vous du mardi 3 mars" {
		t.Errorf("subject %q", subject)
	}
	if msg.Header.Get("Message-Id") != id || !strings.HasSuffix(id, "@clinique.example>") {
		t.Errorf("Message-ID %q, Send returned %q", msg.Header.Get("Message-Id"), id)
	}
	noName(t, "the email as sent", string(got.Data))
	parts := mimeParts(t, msg.Header, msg.Body)
	found := map[string]part{}
	for _, p := range parts {
		key := p.contentType
		if p.disposition == "attachment" {
			key = "attachment " + key
		}
		found[key] = p
	}
	if p := found["text/plain"]; !strings.Contains(p.body, "Votre rendez-vous avec Clinique du Parc 123 est confirmé") || !strings.Contains(p.body, testLink) {
		t.Errorf("text part: %q", p.body)
	}
	if p := found["text/html"]; !strings.Contains(p.body, "<p>Votre rendez-vous avec Clinique du Parc 123 est confirmé") || !strings.Contains(p.body, testLink) {
		t.Errorf("HTML part: %q", p.body)
	}
	cal, ok := found["text/calendar"]
	if !ok || cal.params["method"] != "REQUEST" || !strings.Contains(cal.body, "METHOD:REQUEST") ||
		!strings.Contains(cal.body, "UID:session-k7m2pq-42@clinique.example") {
		t.Errorf("calendar part (%v): %+v", ok, cal)
	}
	if att, ok := found["attachment application/ics"]; !ok || att.body != string(e.Invite) {
		t.Errorf("invite attachment (%v): %+v", ok, found)
	}

	// A cancellation carries METHOD:CANCEL.
	n.Kind = bridge.NoticeCancellation
	if e, err = scheduler.RenderEmail(n); err != nil {
		t.Fatal(err)
	}
	if _, err = m.Send(context.Background(), n.Participant.Email, e); err != nil {
		t.Fatal(err)
	}
	msg, _ = mail.ReadMessage(bytes.NewReader(srv.WaitFor(t, 2, 5*time.Second)[1].Data))
	ok = false
	for _, p := range mimeParts(t, msg.Header, msg.Body) {
		ok = ok || p.contentType == "text/calendar" && p.params["method"] == "CANCEL" && strings.Contains(p.body, "STATUS:CANCELLED")
	}
	if !ok {
		t.Error("the cancellation has no text/calendar; method=CANCEL part")
	}
}

func TestEmailFailures(t *testing.T) {
	srv := smtptest.Start(t)
	m := newMailer(t, srv)
	ctx := context.Background()
	e := scheduler.Email{Subject: "Your appointment on Tue 3 Mar", Text: "Hello", HTML: "<p>Hello</p>"}

	srv.RefuseRecipient("nobody@example.org", 550, "No such user")
	_, err := m.Send(ctx, "nobody@example.org", e)
	if se := sendError(t, err); !se.Permanent || se.Status != 550 {
		t.Errorf("refused recipient: %+v", se)
	}

	srv.Refuse(451, "Try again later")
	_, err = m.Send(ctx, "j.d@example.org", e)
	if se := sendError(t, err); se.Permanent || se.Status != 451 {
		t.Errorf("451: %+v", se)
	}
	srv.Refuse(0, "")

	srv.Down()
	_, err = m.Send(ctx, "j.d@example.org", e)
	if se := sendError(t, err); se.Permanent {
		t.Errorf("relay down: %+v", se)
	}
	srv.Up()
	if _, err = m.Send(ctx, "j.d@example.org", e); err != nil {
		t.Fatalf("after the relay came back: %v", err)
	}
	if got := srv.WaitFor(t, 1, 5*time.Second); len(got) != 1 {
		t.Errorf("received %d messages", len(got))
	}

	if _, err = m.Send(ctx, "not an address", e); err == nil || !sendError(t, err).Permanent {
		t.Errorf("invalid address: %v", err)
	}
}

func TestNewMailerChecksItsConfiguration(t *testing.T) {
	for _, cfg := range []scheduler.SMTPConfig{
		{From: "rdv@clinique.example"},
		{Host: "smtp.example.org", From: "not an address"},
		{Host: "smtp.example.org", From: "rdv@clinique.example", TLS: "none"},
		{Host: "smtp.example.org", From: "rdv@clinique.example", TLS: "ssl3"},
	} {
		if _, err := scheduler.NewMailer(cfg, zerolog.Nop()); err == nil {
			t.Errorf("NewMailer(%+v) accepted", cfg)
		}
	}
	if _, err := scheduler.NewMailer(scheduler.SMTPConfig{Host: "smtp.example.org", From: "rdv@clinique.example"}, zerolog.Nop()); err != nil {
		t.Errorf("STARTTLS on the default port: %v", err)
	}
}

// TestEmailHeadersWithHostileClinicNames: the clinic's name is the From display name of every
// email; whatever it holds, a mail reader shows it as the sender's name, with the clinic's
// address, the subject as written, and no header the bridge did not write.
func TestEmailHeadersWithHostileClinicNames(t *testing.T) {
	srv := smtptest.Start(t)
	start := time.Date(2026, 3, 3, 15, 0, 0, 0, mustLoad(t, "Europe/Paris"))
	sent := 0
	for _, name := range hostileClinicNames {
		m, err := scheduler.NewMailer(scheduler.SMTPConfig{Host: srv.Host, Port: srv.Port, TLS: "none",
			From: "Clinique du Parc <rdv@clinique.example>", Name: name}, zerolog.Nop())
		if err != nil {
			t.Fatalf("%q: %v", name, err)
		}
		// A display name is one line: line breaks and runs of spaces show as one space.
		wantName := strings.Join(strings.Fields(name), " ")
		for _, c := range []struct {
			kind   bridge.NoticeKind
			locale string
		}{{bridge.NoticeReschedule, "fr"}, {bridge.NoticeCancellation, "en"}} {
			n := testNotice(c.kind, c.locale, "", start)
			n.Clinic.Name = name
			e, err := scheduler.RenderEmail(n)
			if err != nil {
				t.Fatal(err)
			}
			if _, err = m.Send(context.Background(), n.Participant.Email, e); err != nil {
				t.Fatalf("%s email for %q: %v", c.kind, name, err)
			}
			sent++
			got := srv.WaitFor(t, sent, 5*time.Second)[sent-1]
			what := fmt.Sprintf("%s email for %q", c.kind, name)
			msg, err := mail.ReadMessage(bytes.NewReader(got.Data))
			if err != nil {
				t.Fatalf("%s: %v\n%s", what, err, got.Data)
			}
			for key := range msg.Header {
				if !slices.Contains([]string{"From", "To", "Subject", "Date", "Message-Id", "Mime-Version", "Content-Type", "User-Agent", "X-Mailer"}, key) {
					t.Errorf("%s: header %q the bridge did not write: %q", what, key, msg.Header[key])
				}
			}
			from, err := msg.Header.AddressList("From")
			if err != nil || len(from) != 1 {
				t.Errorf("%s: From %q: %v", what, msg.Header.Get("From"), err)
			} else if from[0].Name != wantName || from[0].Address != "rdv@clinique.example" {
				t.Errorf("%s: From name %q <%s>, want %q <rdv@clinique.example>", what, from[0].Name, from[0].Address, wantName)
			}
			if to, err := msg.Header.AddressList("To"); err != nil || len(to) != 1 || to[0].Address != "j.d@example.org" {
				t.Errorf("%s: To %q: %v", what, msg.Header.Get("To"), err)
			}
			if subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject")); err != nil || subject != e.Subject {
				t.Errorf("%s: Subject %q (%v), want %q", what, subject, err, e.Subject)
			}
			if got.From != "rdv@clinique.example" || !slices.Equal(got.To, []string{"j.d@example.org"}) {
				t.Errorf("%s: envelope %s → %v", what, got.From, got.To)
			}
			// The HTML part shows the name as text: the same elements as for a plain name.
			for _, p := range mimeParts(t, msg.Header, msg.Body) {
				if p.contentType != "text/html" {
					continue
				}
				n.Clinic.Name = "Clinique du Parc"
				plain, err := scheduler.RenderEmail(n)
				if err != nil {
					t.Fatal(err)
				}
				wantTags, _ := htmlShape(t, plain.HTML)
				tags, text := htmlShape(t, p.body)
				if !maps.Equal(tags, wantTags) {
					t.Errorf("%s: HTML elements %v, want %v", what, tags, wantTags)
				}
				if !strings.Contains(text, " "+wantName+" ") {
					t.Errorf("%s: the HTML does not show %q as text: %q", what, wantName, text)
				}
			}
		}
	}
}

// htmlShape parses HTML as a mail reader does and returns how many elements of each kind it
// holds and its text, whitespace collapsed.
func htmlShape(t *testing.T, s string) (map[string]int, string) {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(s))
	if err != nil {
		t.Fatal(err)
	}
	tags := map[string]int{}
	var text strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		switch n.Type {
		case html.ElementNode:
			tags[n.Data]++
		case html.TextNode:
			text.WriteString(n.Data + " ")
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return tags, strings.Join(strings.Fields(text.String()), " ")
}
