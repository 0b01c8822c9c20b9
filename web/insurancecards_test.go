package web_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"github.com/telehealth-bridge/telehealth-bridge/web"
)

// cardPNG and cardJPEG are pictures by their first bytes, as the sniffing reads them.
var (
	cardPNG  = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR front of the card")
	cardJPEG = []byte("\xff\xd8\xff\xe0\x00\x10JFIF\x00 back of the card")
)

// portalUpload sends a file from the portal with the client's sign-in cookie (none: "").
func (s *site) portalUpload(path, cookie, name string, data []byte, fields map[string]string, out any) int {
	s.t.Helper()
	return s.postFile(http.DefaultClient, cookie, path, name, data, fields, out)
}

// TestInsuranceCards: Jane adds pictures of her insurance card from the portal's Payment &
// Insurances tab; only PNG, JPEG or WebP pictures by their bytes, within documents.max_size,
// with a side. They are posted in her Messages room on Dendrite, listed in the tab and opened by
// her, never among the documents professionals shared with her; her clinician sees them on her
// record (audited), another clinician and another client reach nothing.
func TestInsuranceCards(t *testing.T) {
	s := newSiteWith(t, func(cfg map[string]any) { cfg["documents.max_size"] = docLimit })
	ctx := context.Background()
	s.login(roomWithBot(t, s))
	martin := s.clinician.UserID.String()
	drOther := s.as("dr.other")
	other := drOther.clinician.UserID.String()
	call, ids := s.signedIn(map[string]bridge.ClientRequest{
		"jane": {DisplayName: "Jane Doe", Emails: []string{"jane@example.org"}, Professionals: []string{martin}},
		"zoe":  {DisplayName: "Zoé Petit", Emails: []string{"zoe@example.org"}, Professionals: []string{other}},
	})
	const cards = "/api/portal/insurance/cards"
	jane := "portal-token-jane"

	var front, back web.DocumentView
	if code := s.portalUpload(cards, jane, "IMG_0001.png", cardPNG, map[string]string{"side": "front"}, &front); code != 200 ||
		front.Kind != "insurance_card" || front.Name != "insurance-card-front.png" || front.ContentType != "image/png" || front.SharedBy != "" {
		t.Fatalf("Jane's card, front: %d %+v", code, front)
	}
	if code := s.portalUpload(cards, jane, "back.jpg", cardJPEG, map[string]string{"side": "back"}, &back); code != 200 || back.Name != "insurance-card-back.jpg" {
		t.Fatalf("Jane's card, back: %d %+v", code, back)
	}
	// Refusals with words: not a picture, HTML called a picture, no side, too large, nobody.
	var refusal apiErr
	for what, c := range map[string]struct {
		cookie, name string
		data         []byte
		side         string
		want         int
		code         string
	}{
		"a PDF":                 {jane, "card.pdf", testPDF, "front", http.StatusUnsupportedMediaType, "unsupported_type"},
		"HTML called a picture": {jane, "card.png", fakePNG, "front", http.StatusUnsupportedMediaType, "unsupported_type"},
		"no side":               {jane, "card.png", cardPNG, "", http.StatusBadRequest, "field:side"},
		"too large":             {jane, "card.png", append(bytes.Clone(cardPNG), make([]byte, docLimit)...), "front", http.StatusRequestEntityTooLarge, "too_large"},
		"nobody":                {"", "card.png", cardPNG, "front", http.StatusUnauthorized, ""},
		"a forged sign-in":      {"forged", "card.png", cardPNG, "front", http.StatusUnauthorized, ""},
	} {
		refusal = apiErr{}
		if code := s.portalUpload(cards, c.cookie, c.name, c.data, map[string]string{"side": c.side}, &refusal); code != c.want || c.code != "" && refusal.Code != c.code {
			t.Errorf("%s: %d %+v", what, code, refusal)
		}
	}

	// The tab lists both, newest first; the Documents tab lists none of them.
	var pays web.PortalPayments
	if code := call("GET", "/api/portal/payments", "jane", nil, &pays); code != 200 || len(pays.InsuranceCards) != 2 || pays.InsuranceCards[0].ID != back.ID {
		t.Errorf("Jane's Payment & Insurances: %d %+v", code, pays.InsuranceCards)
	}
	var list documentList
	if code := call("GET", "/api/portal/documents", "jane", nil, &list); code != 200 || len(list.Documents) != 0 {
		t.Errorf("Jane's cards among her shared documents: %d %+v", code, list.Documents)
	}
	// Posted in her Messages room as hers, indexed once, with its kind.
	var kind, sender string
	if err := s.env.App.DB.QueryRow(ctx, "SELECT kind, shared_by FROM telehealth_document WHERE id=$1", front.ID).Scan(&kind, &sender); err != nil ||
		kind != "insurance_card" || sender != bridge.ClientActor(ids["jane"]) {
		t.Errorf("the stored card: %q %q %v", kind, sender, err)
	}

	// Jane opens hers; Zoé, nobody and a forged sign-in do not.
	path := fmt.Sprintf("/api/portal/documents/%d/file", front.ID)
	if f := s.fetch(path, jane, ""); f.status != 200 || f.contentType != "image/png" || !bytes.Equal(f.body, cardPNG) || f.nosniff != "nosniff" {
		t.Errorf("Jane opening her card: %d %q", f.status, f.contentType)
	}
	for who, want := range map[string]int{"portal-token-zoe": 404, "": 401, "forged": 401} {
		if f := s.fetch(path, who, ""); f.status != want || bytes.Equal(f.body, cardPNG) {
			t.Errorf("%q opening Jane's card: %d", who, f.status)
		}
	}
	if code := call("GET", "/api/portal/payments", "zoe", nil, &pays); code != 200 || len(pays.InsuranceCards) != 0 {
		t.Errorf("Zoé's Payment & Insurances: %d %+v", code, pays.InsuranceCards)
	}

	// Dr Martin sees them on Jane's record, audited; Dr Other reaches nothing.
	record := fmt.Sprintf("/api/panel/clients/%d/documents", ids["jane"])
	if code := s.call("GET", record, "", nil, &list); code != 200 || len(list.Documents) != 2 || list.Documents[0].Kind != "insurance_card" {
		t.Errorf("the record's documents: %d %+v", code, list.Documents)
	}
	file := fmt.Sprintf("%s/%d/file", record, front.ID)
	if f := s.fetch(file, "", ""); f.status != 200 || !bytes.Equal(f.body, cardPNG) {
		t.Errorf("Dr Martin opening the card: %d", f.status)
	}
	if !s.env.Audited(t, martin, bridge.AuditDocumentViewed, "", map[string]string{"document": fmt.Sprint(front.ID), "via": "panel"}) {
		t.Error("opening the card on the panel is not audited")
	}
	if code, body := drOther.raw("GET", record, nil); code != 404 || strings.Contains(body, "insurance") {
		t.Errorf("another clinician listing Jane's cards: %d %s", code, body)
	}
	if f := drOther.fetch(file, "", ""); f.status != 404 {
		t.Errorf("another clinician opening Jane's card: %d", f.status)
	}
}
