package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/mail"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"github.com/telehealth-bridge/telehealth-bridge/internal/smtptest"
)

// TestPortalSignUpInTheBrowser: someone new signs up on the portal with their email, reads the
// code from the clinic's email (through a loopback SMTP server), and sees only "Your clinic
// will confirm your account" (the booking doors refuse them); the clinician links them to a
// record in the panel's Prospects; the prospect checks again and sees the record's home. The
// whole bridge runs, with Dendrite.
func TestPortalSignUpInTheBrowser(t *testing.T) {
	smtp := smtptest.Start(t)
	h := newHarnessWith(t, func(cfg map[string]any, _ string) {
		cfg["portal.signup"] = true
		cfg["notifications.clinic_name"] = "Cabinet Martin"
		cfg["notifications.email.host"] = smtp.Host
		cfg["notifications.email.port"] = smtp.Port
		cfg["notifications.email.from"] = "cabinet@example.org"
		cfg["notifications.email.tls"] = "none"
	})
	ctx := context.Background()
	// The record the clinician will find: booked once by phone, no email yet.
	nora, err := h.env.App.Sessions.CreateClient(ctx, h.clinician.UserID.String(), bridge.ClientRequest{DisplayName: "Nora Blanc", Phones: []string{"+33611223344"}})
	if err != nil {
		t.Fatal(err)
	}

	mux := http.NewServeMux()
	// GET /code?to=: the code in the last email to that address ("" if none yet).
	mux.HandleFunc("GET /code", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]string{"code": lastCode(t, smtp, r.URL.Query().Get("to"))})
	})
	mux.HandleFunc("GET /login-link", func(w http.ResponseWriter, r *http.Request) {
		link, err := h.env.App.Web.LoginLink(r.Context(), h.clinician.UserID.String())
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]string{"url": link})
	})
	runNode(t, "portal-signup.mjs", h.env.Config.Web.PublicURL, serveControl(t, mux), "portal-signup")

	c, err := h.env.App.Sessions.Client(ctx, h.clinician.UserID.String(), nora.ID)
	if err != nil || !slices.Contains(c.Emails, "nora@example.org") {
		t.Errorf("the record after the link: %+v %v", c, err)
	}
	if hash, err := h.env.App.DB.PortalPassword.Get(ctx, nora.ID); err != nil || hash == "" {
		t.Errorf("the password Nora set is not on her record: %v", err)
	}
	// The email named the clinic and the code, not the person.
	for _, m := range smtp.Messages() {
		if bytes.Contains(m.Data, []byte("Nora")) {
			t.Errorf("an email names the person:\n%s", m.Data)
		}
	}
}

var sixDigits = regexp.MustCompile(`\b(\d{6})\b`)

// lastCode reads the 6-digit code of the last email to the address.
func lastCode(t *testing.T, smtp *smtptest.Server, to string) string {
	msgs := smtp.Messages()
	for i := len(msgs) - 1; i >= 0; i-- {
		if !slices.Contains(msgs[i].To, to) {
			continue
		}
		msg, err := mail.ReadMessage(bytes.NewReader(msgs[i].Data))
		if err != nil {
			t.Errorf("reading an email: %v", err)
			return ""
		}
		if m := sixDigits.FindStringSubmatch(plainText(msg.Header.Get("Content-Type"), msg.Header.Get("Content-Transfer-Encoding"), msg.Body)); m != nil {
			return m[1]
		}
	}
	return ""
}

// plainText is the text/plain part of a message, decoded.
func plainText(contentType, encoding string, body io.Reader) string {
	ct, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return ""
	}
	if strings.HasPrefix(ct, "multipart/") {
		r := multipart.NewReader(body, params["boundary"])
		for {
			p, err := r.NextPart() // quoted-printable is decoded here
			if err != nil {
				return ""
			}
			if text := plainText(p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p); text != "" {
				return text
			}
		}
	}
	if ct != "text/plain" {
		return ""
	}
	if strings.EqualFold(encoding, "base64") {
		body = base64.NewDecoder(base64.StdEncoding, body)
	}
	data, _ := io.ReadAll(body)
	return string(data)
}
