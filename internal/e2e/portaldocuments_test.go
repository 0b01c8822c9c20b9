package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"github.com/telehealth-bridge/telehealth-bridge/database"
)

// TestPortalDocumentsInTheBrowser (e2e/portal-documents.mjs): Dr Martin adds a consent
// template that needs acknowledgement on the panel's Documents page and attaches it when he
// books Jane; Jane opens her session link, sees the consent, opens it and acknowledges it with
// her typed name and the tick; the panel's lobby shows her "acknowledged" without a reload.
// Then Dr Martin shares a PDF from Jane's record (the bot posts it in her Messages room on
// Dendrite), and Jane's portal Documents tab lists it with his name and opens it. The GAD-7
// given at booking shows on her session page, she completes it in her portal's To-do tab, and
// the lobby shows her forms done without a reload. She adds a picture of her insurance card in
// Payment & Insurances (a PDF refused); it is not listed among the shared documents.
func TestPortalDocumentsInTheBrowser(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	dr := h.clinician.UserID.String()
	c, err := h.env.App.Sessions.CreateClient(ctx, dr, bridge.ClientRequest{DisplayName: "Jane Doe", Emails: []string{"jane@example.org"},
		Locale: "en", TimeZone: "Europe/Paris", Professionals: []string{dr}, Reminders: bridge.RemindNone})
	if err != nil {
		t.Fatal(err)
	}
	// Her portal is open (the session page links her package's forms to its To-do tab).
	if err = h.env.App.DB.Client.SetPortal(ctx, c.ID, true, false, h.clock.Now()); err != nil {
		t.Fatal(err)
	}
	token := "e2e-portal-documents-jane"
	sum := sha256.Sum256([]byte(token))
	now := h.clock.Now()
	if err = h.env.App.DB.PortalSession.Insert(ctx, &database.PortalSession{TokenHash: hex.EncodeToString(sum[:]), ClientID: c.ID,
		CreatedAt: now, LastSeen: now, IdleExpiresAt: now.Add(12 * time.Hour), ExpiresAt: now.Add(12 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PORTAL_TOKEN_JANE", token)

	mux := http.NewServeMux()
	// GET /panel-link: the clinician's one-time panel sign-in link, and the client's record.
	mux.HandleFunc("GET /panel-link", func(w http.ResponseWriter, r *http.Request) {
		link, err := h.env.App.Web.LoginLink(ctx, dr)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"url": link, "client_id": c.ID})
	})
	runNode(t, "portal-documents.mjs", h.env.Config.Web.PublicURL, serveControl(t, mux), "portal-documents")

	// What the browser did is what the bridge holds: Jane's acknowledgement of the consent's
	// very file, against her record, and the shared PDF indexed once for her.
	docs, err := h.env.App.Sessions.ClientDocuments(ctx, c.ID)
	if err != nil || len(docs) != 1 || docs[0].ContentType != "application/pdf" || docs[0].SharedBy != dr {
		t.Fatalf("Jane's documents after the scenario: %+v %v", docs, err)
	}
	// The picture of her card: hers, of its kind, not a shared document.
	if cards, err := h.env.App.Sessions.InsuranceCards(ctx, c.ID); err != nil || len(cards) != 1 || cards[0].ContentType != "image/png" ||
		cards[0].SharedBy != bridge.ClientActor(c.ID) {
		t.Errorf("Jane's insurance cards after the scenario: %+v %v", cards, err)
	}
	// The GAD-7 of the session's package: on Jane's record, tied to the session, done.
	forms, err := h.env.App.Sessions.TodoForms(ctx, c.ID)
	if err != nil || len(forms) != 1 || forms[0].Assignment.SessionID == "" || forms[0].Assignment.Status != bridge.AssignmentDone || forms[0].Form.Standard != "gad7" {
		t.Errorf("Jane's forms after the scenario: %+v %v", forms, err)
	}
	var acks, matching int
	if err = h.env.App.DB.QueryRow(ctx, `SELECT COUNT(*), COUNT(CASE WHEN a.sha256 = t.sha256 AND a.client_id = $1 AND a.typed_name = 'Jane Doe' THEN 1 END)
		FROM telehealth_document_ack a JOIN telehealth_document_template t ON t.id = a.template_id`, c.ID).Scan(&acks, &matching); err != nil || acks != 1 || matching != 1 {
		t.Errorf("acknowledgements: %d, %d matching Jane's record, name and the file's SHA-256 (%v)", acks, matching, err)
	}
}
