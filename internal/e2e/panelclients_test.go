package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/telehealth-bridge/telehealth-bridge/internal/smtptest"
)

// TestPanelClientsInTheBrowser: the panel's Clients pages (e2e/panel-clients.mjs). The clinician
// searches a client, opens the record, edits the preferred name (after a refused email, nothing
// typed lost) and enables the portal; the enrolment email arrives on the loopback SMTP server;
// the client opens its link, creates a password and reaches the portal home showing their
// session. The enrolment link never shows on the panel. A new client is created, after a refused
// phone number.
func TestPanelClientsInTheBrowser(t *testing.T) {
	box := smtptest.Start(t)
	h := newHarnessWith(t, func(cfg map[string]any, _ string) {
		cfg["notifications.clinic_name"] = "Clinique du Parc"
		cfg["notifications.email.host"] = box.Host
		cfg["notifications.email.port"] = box.Port
		cfg["notifications.email.tls"] = "none"
		cfg["notifications.email.from"] = "Clinique du Parc <rdv@clinique.example>"
	})
	link := regexp.MustCompile(`http://\S+/portal/enrol#[A-Za-z0-9_-]+`)
	mux := http.NewServeMux()
	mux.Handle("/", h.routes())
	// GET /enrolment?to=: the link of the latest enrolment email to the address ("" if none).
	mux.HandleFunc("GET /enrolment", func(w http.ResponseWriter, r *http.Request) {
		found := ""
		for _, m := range box.Messages() {
			body := strings.ReplaceAll(string(m.Data), "=\r\n", "") // quoted-printable soft breaks
			if len(m.To) == 1 && m.To[0] == r.URL.Query().Get("to") && link.MatchString(body) {
				found = link.FindString(body)
			}
		}
		_ = json.NewEncoder(w).Encode(map[string]string{"url": found})
	})
	runNode(t, "panel-clients.mjs", h.env.Config.Web.PublicURL, serveControl(t, mux), "panel-clients")

	ctx := context.Background()
	found, err := h.env.App.Sessions.FindClients(ctx, h.clinician.UserID.String(), "jane", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(found) != 1 || found[0].PreferredName != "Jenny" || !found[0].PortalEnabled {
		t.Fatalf("Jane's record after the scenario: %+v", found)
	}
	if noa, _ := h.env.App.Sessions.FindClients(ctx, h.clinician.UserID.String(), "noa", 0); len(noa) != 1 || noa[0].Phone() != "+33698765432" {
		t.Errorf("the record created on the panel: %+v", noa)
	}
}
