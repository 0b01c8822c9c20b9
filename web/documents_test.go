package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"github.com/telehealth-bridge/telehealth-bridge/internal/bridgetest"
	"github.com/telehealth-bridge/telehealth-bridge/web"
)

// A small PDF, and an HTML page with a script that a sender calls a PNG picture.
var (
	testPDF  = []byte("%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")
	fakePNG  = []byte("<!DOCTYPE html><html><body><script>document.title='owned'</script></body></html>")
	docLimit = 64 << 10
)

type documentList struct {
	Documents []web.DocumentView `json:"documents"`
	Packages  []web.PackageView  `json:"packages"`
}

// fetched is a file answer as the browser gets it.
type fetched struct {
	status      int
	contentType string
	disposition string
	nosniff     string
	csp         string
	body        []byte
}

// fetch GETs a file with the client's portal cookie (or the panel's, client ""), or a bearer.
func (s *site) fetch(path, cookie, bearer string) fetched {
	s.t.Helper()
	req, _ := http.NewRequest("GET", s.env.Config.Web.PublicURL+path, nil)
	if cookie != "" {
		req.AddCookie(&http.Cookie{Name: "telehealth_portal", Value: cookie})
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	client := s.http
	if cookie != "" {
		client = &http.Client{}
	}
	resp, err := client.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return fetched{resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Content-Disposition"), resp.Header.Get("X-Content-Type-Options"),
		resp.Header.Get("Content-Security-Policy"), body}
}

// upload POSTs a multipart form with a file, as the panel does.
func (s *site) upload(path, name string, data []byte, fields map[string]string, out any) int {
	s.t.Helper()
	return s.postFile(s.http, "", path, name, data, fields, out)
}

// postFile POSTs a multipart form with a file through client, with a portal sign-in cookie
// unless it is "", and decodes the answer into out.
func (s *site) postFile(client *http.Client, cookie, path, name string, data []byte, fields map[string]string, out any) int {
	s.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		_ = mw.WriteField(k, v)
	}
	part, _ := mw.CreatePart(map[string][]string{
		"Content-Disposition": {fmt.Sprintf(`form-data; name="file"; filename=%q`, name)},
		"Content-Type":        {"image/png"}, // what the browser says is never trusted
	})
	_, _ = part.Write(data)
	_ = mw.Close()
	req, _ := http.NewRequest("POST", s.env.Config.Web.PublicURL+path, &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("X-Requested-With", "telehealth")
	if cookie != "" {
		req.AddCookie(&http.Cookie{Name: "telehealth_portal", Value: cookie})
	}
	resp, err := client.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			s.t.Fatalf("upload %s: %d %s", path, resp.StatusCode, raw)
		}
	}
	return resp.StatusCode
}

// TestDocuments: Dr Martin shares files with Jane by posting them in her Messages room from
// his Matrix client (one PDF, one HTML page he calls a PNG), and from the panel. The bridge
// indexes each event once; Jane's portal lists them newest first with his name, and serves her
// the PDF inline and the fake picture as a plain-text attachment, never as HTML. Another
// client's cookie, another clinician, nobody: 404 or 401. The panel's reads are audited; an
// upload too large or of a type not allowed is refused with words and loses nothing.
func TestDocuments(t *testing.T) {
	s := newSiteWith(t, func(cfg map[string]any) { cfg["documents.max_size"] = docLimit })
	ctx := context.Background()
	s.login(roomWithBot(t, s))
	martin := s.clinician.UserID.String()
	drOther := s.as("dr.other")
	other := drOther.clinician.UserID.String()
	call, ids := s.signedIn(map[string]bridge.ClientRequest{
		"jane": {DisplayName: "Jane Doe", Emails: []string{"jane@example.org"}, Professionals: []string{martin}},
		"bob":  {DisplayName: "Bob Roux", Emails: []string{"bob@example.org"}, Professionals: []string{martin}},
		"zoe":  {DisplayName: "Zoé Petit", Emails: []string{"zoe@example.org"}, Professionals: []string{other}},
	})
	var list documentList
	if code := call("GET", "/api/portal/documents", "jane", nil, &list); code != 200 || len(list.Documents) != 0 {
		t.Fatalf("Jane's documents before any: %d %+v", code, list)
	}
	// Jane's room (the thread makes it); Dr Martin joins it from his Matrix client.
	var thread web.ThreadView
	call("GET", "/api/portal/messages", "jane", nil, &thread)
	jane, err := s.env.App.DB.Client.Get(ctx, ids["jane"])
	if err != nil || jane.MessagesRoom == "" {
		t.Fatalf("Jane's record: %+v %v", jane, err)
	}
	room := id.RoomID(jane.MessagesRoom)
	bridgetest.Eventually(t, wait, "Dr Martin in Jane's room", func() bool {
		_, err := s.clinician.JoinRoomByID(ctx, room)
		return err == nil
	})
	post := func(name, claimed string, data []byte, msgtype event.MessageType) id.EventID {
		t.Helper()
		up, err := s.clinician.UploadBytesWithName(ctx, data, claimed, name)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := s.clinician.SendMessageEvent(ctx, room, event.EventMessage, &event.MessageEventContent{
			MsgType: msgtype, Body: name, FileName: name, URL: up.ContentURI.CUString(), Info: &event.FileInfo{MimeType: claimed, Size: len(data)},
		})
		if err != nil {
			t.Fatal(err)
		}
		return resp.EventID
	}
	pdfEvent := post("consent-form.pdf", "application/octet-stream", testPDF, event.MsgFile)
	post("photo.png", "image/png", fakePNG, event.MsgImage)
	bridgetest.Eventually(t, wait, "both files in Jane's documents", func() bool {
		call("GET", "/api/portal/documents", "jane", nil, &list)
		return len(list.Documents) == 2
	})
	if d := list.Documents; d[0].Name != "photo.png" || d[1].Name != "consent-form.pdf" || d[1].SharedBy == "" || strings.Contains(d[1].SharedBy, "@") ||
		d[1].ContentType != "application/pdf" || !d[1].Inline || d[0].ContentType != "text/plain; charset=utf-8" || d[0].Inline || d[1].Size != int64(len(testPDF)) {
		t.Errorf("Jane's documents: %+v", d)
	}
	var indexed int
	_ = s.env.App.DB.QueryRow(ctx, "SELECT COUNT(*) FROM telehealth_document WHERE event_id=$1", pdfEvent.String()).Scan(&indexed)
	if indexed != 1 {
		t.Errorf("the PDF's event is indexed %d times", indexed)
	}
	pdfID, fakeID := list.Documents[1].ID, list.Documents[0].ID
	pdfPath, fakePath := fmt.Sprintf("/api/portal/documents/%d/file", pdfID), fmt.Sprintf("/api/portal/documents/%d/file", fakeID)

	// Jane opens them: the PDF inline, the "picture" as text to download, both with nosniff.
	janeCookie := "portal-token-jane"
	if f := s.fetch(pdfPath, janeCookie, ""); f.status != 200 || f.contentType != "application/pdf" || !strings.HasPrefix(f.disposition, "inline") ||
		f.nosniff != "nosniff" || !strings.Contains(f.csp, "script-src 'self'") || !bytes.Equal(f.body, testPDF) {
		t.Errorf("Jane's PDF: %d %q %q %q %q %d bytes", f.status, f.contentType, f.disposition, f.nosniff, f.csp, len(f.body))
	}
	if f := s.fetch(fakePath, janeCookie, ""); f.status != 200 || f.contentType != "text/plain; charset=utf-8" || !strings.HasPrefix(f.disposition, "attachment") ||
		f.nosniff != "nosniff" {
		t.Errorf("the HTML called a PNG: %d %q %q %q", f.status, f.contentType, f.disposition, f.nosniff)
	}

	// Bob's cookie: his own list is empty, Jane's document is none. Nobody and a forged cookie
	// are signed out.
	if code := call("GET", fmt.Sprintf("/api/portal/documents?client=%d", ids["jane"]), "bob", nil, &list); code != 200 || len(list.Documents) != 0 {
		t.Errorf("Bob's documents: %d %+v", code, list)
	}
	for who, want := range map[string]int{"portal-token-bob": 404, "": 401, "forged": 401} {
		if f := s.fetch(pdfPath, who, ""); f.status != want || bytes.Contains(f.body, []byte("PDF")) {
			t.Errorf("%q opening Jane's PDF: %d %s", who, f.status, f.body)
		}
	}
	if f := s.fetch(fmt.Sprintf("/api/portal/documents/%d/file", pdfID+1000), janeCookie, ""); f.status != 404 {
		t.Errorf("an unknown document: %d", f.status)
	}

	// The panel: Dr Martin lists Jane's documents and opens one, both audited.
	panelList := fmt.Sprintf("/api/panel/clients/%d/documents", ids["jane"])
	if code := s.call("GET", panelList, "", nil, &list); code != 200 || len(list.Documents) != 2 {
		t.Fatalf("the panel's list: %d %+v", code, list)
	}
	if !s.env.Audited(t, martin, bridge.AuditParticipantDataViewed, "", map[string]string{"view": "documents", "via": "panel"}) {
		t.Error("listing a record's documents is not audited")
	}
	panelFile := fmt.Sprintf("/api/panel/clients/%d/documents/%d/file", ids["jane"], pdfID)
	if f := s.fetch(panelFile, "", ""); f.status != 200 || !bytes.Equal(f.body, testPDF) {
		t.Errorf("the panel's file: %d", f.status)
	}
	if !s.env.Audited(t, martin, bridge.AuditDocumentViewed, "", map[string]string{"document": fmt.Sprint(pdfID), "via": "panel"}) {
		t.Error("opening a document on the panel is not audited")
	}
	// Jane's document under Bob's record (whom Dr Martin also sees) is none.
	if f := s.fetch(fmt.Sprintf("/api/panel/clients/%d/documents/%d/file", ids["bob"], pdfID), "", ""); f.status != 404 {
		t.Errorf("Jane's document under Bob's record: %d", f.status)
	}
	// Another clinician, and nobody.
	for who, c := range map[string]*site{"another clinician": drOther, "nobody": s.anonymous()} {
		want := 404
		if who == "nobody" {
			want = 401
		}
		if code, body := c.raw("GET", panelList, nil); code != want || strings.Contains(body, "consent") {
			t.Errorf("%s listing Jane's documents: %d %s", who, code, body)
		}
		if f := c.fetch(panelFile, "", ""); f.status != want {
			t.Errorf("%s opening Jane's PDF: %d", who, f.status)
		}
		if code := c.upload(panelList, "x.pdf", testPDF, nil, nil); code != want {
			t.Errorf("%s sharing with Jane: %d", who, code)
		}
	}

	// Sharing from the panel: posted in Jane's room by the bot, listed at once under his name.
	var shared web.DocumentView
	if code := s.upload(panelList, "letter.pdf", testPDF, nil, &shared); code != 200 || shared.Name != "letter.pdf" || shared.ContentType != "application/pdf" {
		t.Fatalf("sharing from the panel: %d %+v", code, shared)
	}
	call("GET", "/api/portal/documents", "jane", nil, &list)
	if len(list.Documents) != 3 || list.Documents[0].ID != shared.ID || list.Documents[0].SharedBy != list.Documents[1].SharedBy {
		t.Errorf("after the panel's share: %+v", list.Documents)
	}
	if f := s.fetch(fmt.Sprintf("/api/portal/documents/%d/file", shared.ID), janeCookie, ""); f.status != 200 || !bytes.Equal(f.body, testPDF) {
		t.Errorf("the panel's share in Jane's portal: %d", f.status)
	}
	// Too large, or HTML called a picture: refused with words, nothing shared, nothing lost.
	var refusal apiErr
	if code := s.upload(panelList, "scan.pdf", append(bytes.Clone(testPDF), make([]byte, docLimit)...), nil, &refusal); code != http.StatusRequestEntityTooLarge ||
		refusal.Code != "too_large" || !strings.Contains(refusal.Error, "64 KB") {
		t.Errorf("an upload too large: %d %+v", code, refusal)
	}
	// A small file behind a pile of other form fields: the request as a whole is bounded too.
	padding := map[string]string{}
	for i := range 40 {
		padding[fmt.Sprintf("pad%d", i)] = strings.Repeat("x", 4000)
	}
	if code := s.upload(panelList, "padded.pdf", testPDF, padding, &refusal); code != http.StatusRequestEntityTooLarge || refusal.Code != "too_large" {
		t.Errorf("an upload padded with %d KB of fields: %d %+v", 40*4000/1000, code, refusal)
	}
	if code := s.upload(panelList, "photo.png", fakePNG, nil, &refusal); code != http.StatusUnsupportedMediaType || refusal.Code != "unsupported_type" {
		t.Errorf("HTML called a picture: %d %+v", code, refusal)
	}
	call("GET", "/api/portal/documents", "jane", nil, &list)
	if len(list.Documents) != 3 {
		t.Errorf("after the refused uploads Jane has %d documents", len(list.Documents))
	}
	// A file over the limit shared from Element is listed, and refused with words when opened.
	post("scan.pdf", "application/pdf", append(bytes.Clone(testPDF), make([]byte, docLimit)...), event.MsgFile)
	bridgetest.Eventually(t, wait, "the large scan listed", func() bool {
		call("GET", "/api/portal/documents", "jane", nil, &list)
		return len(list.Documents) == 4
	})
	if f := s.fetch(fmt.Sprintf("/api/portal/documents/%d/file", list.Documents[0].ID), janeCookie, ""); f.status != http.StatusRequestEntityTooLarge ||
		!strings.Contains(string(f.body), "64 KB") {
		t.Errorf("opening a file over the limit: %d %s", f.status, f.body)
	}
	// A file name with a path and quotes keeps its last part only, without the quotes.
	if code := s.upload(panelList, `..\..\etc/"notes".txt`, []byte("plain notes"), nil, &shared); code != 200 || shared.Name != "notes.txt" {
		t.Errorf("a file name with a path: %d %+v", code, shared)
	}
	// Zoé's record is Dr Other's: Dr Martin shares nothing with her.
	if code := s.upload(fmt.Sprintf("/api/panel/clients/%d/documents", ids["zoe"]), "x.pdf", testPDF, nil, nil); code != 404 {
		t.Errorf("sharing with another clinician's client: %d", code)
	}
}

// TestSessionDocuments: Dr Martin adds a consent template that needs acknowledgement and books
// Jane with it. Jane's session page lists it and opens the file; her acknowledgement without
// the tick or her name is refused with words; with them it is recorded with the file's
// SHA-256, her record and the time, and the panel's lobby shows her "acknowledged". Another
// session's link reads nothing of it; nobody is signed out; the file of a template not in the
// package is none.
func TestSessionDocuments(t *testing.T) {
	s := newSite(t)
	ctx := context.Background()
	s.signInDirect()
	var consent web.TemplateView
	if code := s.upload("/api/panel/templates", "consent.pdf", testPDF, map[string]string{"title_en": "Consent", "title_fr": "Consentement", "needs_ack": "true"}, &consent); code != 200 ||
		!consent.NeedsAck || consent.Title["fr"] != "Consentement" || len(consent.SHA256) != 64 {
		t.Fatalf("the consent template: %d %+v", code, consent)
	}
	var notInPackage web.TemplateView
	s.upload("/api/panel/templates", "other.pdf", testPDF, map[string]string{"title_en": "Other"}, &notInPackage)
	var e apiErr
	if code := s.upload("/api/panel/templates", "x.pdf", testPDF, map[string]string{"title_fr": "Sans titre anglais"}, &e); code != 400 || e.Code != "field:title_en" {
		t.Errorf("a template without an English title: %d %+v", code, e)
	}
	book := func(name string, docs []int64) (web.PanelSession, string) {
		t.Helper()
		form := web.ScheduleForm{Date: "2026-11-25", Time: "10:00", TimeZone: "Europe/Paris", Name: name, Invite: "none", Locale: "en",
			ParticipantZone: "Europe/Paris", Documents: docs}
		var booked web.PanelSession
		if code := s.call("POST", "/api/panel/sessions", "", form, &booked); code != 200 {
			t.Fatalf("booking %s: %d", name, code)
		}
		sess, err := s.env.App.Sessions.Session(ctx, booked.Session.ID)
		if err != nil {
			t.Fatal(err)
		}
		_, ps, _ := s.env.App.Sessions.Lobby(ctx, "", sess.ID)
		link, err := s.env.App.Web.ParticipantLink(ctx, sess, ps[0])
		if err != nil {
			t.Fatal(err)
		}
		return booked, link[strings.LastIndex(link, "/")+1:]
	}
	if code := s.call("POST", "/api/panel/sessions", "", web.ScheduleForm{Date: "2026-11-25", Time: "10:00", TimeZone: "Europe/Paris", Name: "Nobody Here",
		Invite: "none", Locale: "en", ParticipantZone: "Europe/Paris", Documents: []int64{99999}}, &e); code != 400 || e.Code != "field:documents" {
		t.Errorf("booking with a template that does not exist: %d %+v", code, e)
	}
	booked, jane := book("Jane Doe", []int64{consent.ID})
	if len(booked.Documents) != 1 || booked.Participants[0].Documents != "not_acknowledged" {
		t.Errorf("the panel before Jane acknowledged: %+v %+v", booked.Documents, booked.Participants)
	}
	_, other := book("Paul Autre", nil)

	var docs struct {
		Documents []web.TemplateView `json:"documents"`
	}
	if code := s.call("GET", "/api/call/documents", jane, nil, &docs); code != 200 || len(docs.Documents) != 1 || docs.Documents[0].ID != consent.ID || docs.Documents[0].AckedAt != 0 {
		t.Fatalf("Jane's session documents: %d %+v", code, docs)
	}
	if f := s.anonymous().fetch(fmt.Sprintf("/api/call/documents/%d/file", consent.ID), "", jane); f.status != 200 || !bytes.Equal(f.body, testPDF) || f.contentType != "application/pdf" {
		t.Errorf("Jane opening the consent: %d %q", f.status, f.contentType)
	}
	// Paul's link, nobody, and a template outside Jane's package.
	if code := s.call("GET", "/api/call/documents", other, nil, &docs); code != 200 || len(docs.Documents) != 0 {
		t.Errorf("Paul's session documents: %d %+v", code, docs)
	}
	for who, c := range map[string]struct {
		path, bearer string
		want         int
	}{
		"Paul, Jane's consent":      {fmt.Sprintf("/api/call/documents/%d/file", consent.ID), other, 404},
		"nobody":                    {fmt.Sprintf("/api/call/documents/%d/file", consent.ID), "", 401},
		"Jane, a template not hers": {fmt.Sprintf("/api/call/documents/%d/file", notInPackage.ID), jane, 404},
		"a forged link":             {fmt.Sprintf("/api/call/documents/%d/file", consent.ID), "a.b.c", 403}, // as at every guest door
	} {
		if f := s.anonymous().fetch(c.path, "", c.bearer); f.status != c.want || bytes.Equal(f.body, testPDF) {
			t.Errorf("%s: %d, want %d", who, f.status, c.want)
		}
	}
	ack := func(bearer string, id int64, body map[string]any, out any) int {
		t.Helper()
		return s.anonymous().call("POST", fmt.Sprintf("/api/call/documents/%d/ack", id), bearer, body, out)
	}
	if code := ack(other, consent.ID, map[string]any{"name": "Paul Autre", "ticked": true}, &e); code != 404 {
		t.Errorf("Paul acknowledging Jane's consent: %d %+v", code, e)
	}
	if code := ack(jane, consent.ID, map[string]any{"name": "Jane Doe", "ticked": false}, &e); code != 400 || e.Code != "bad_acknowledgement" || !strings.Contains(e.Error, "tick") {
		t.Errorf("without the tick: %d %+v", code, e)
	}
	if code := ack(jane, consent.ID, map[string]any{"name": " ", "ticked": true}, &e); code != 400 || e.Code != "bad_acknowledgement" {
		t.Errorf("without a name: %d %+v", code, e)
	}
	var acked struct {
		AckedAt int64 `json:"acked_at"`
	}
	if code := ack(jane, consent.ID, map[string]any{"name": "Jane  Doe", "ticked": true}, &acked); code != 200 || acked.AckedAt != s.clock.Now().UnixMilli() {
		t.Fatalf("Jane's acknowledgement: %d %+v", code, acked)
	}
	rows, err := s.env.App.DB.DocumentAck.ForSession(ctx, booked.Session.ID)
	if err != nil || len(rows) != 1 || rows[0].TypedName != "Jane Doe" || rows[0].SHA256 != consent.SHA256 || rows[0].TemplateID != consent.ID {
		t.Errorf("the stored acknowledgement: %v %+v", err, rows)
	}
	var lobby web.PanelSession
	if code := s.call("GET", "/api/panel/sessions/"+booked.Session.ID, "", nil, &lobby); code != 200 || lobby.Participants[0].Documents != "acknowledged" {
		t.Errorf("the panel after Jane acknowledged: %d %+v", code, lobby.Participants)
	}
	if code := s.call("GET", "/api/call/documents", jane, nil, &docs); code != 200 || docs.Documents[0].AckedAt == 0 {
		t.Errorf("Jane's page after acknowledging: %+v", docs)
	}
	// Another clinician's panel cannot set or read this session's package.
	drOther := s.as("dr.other")
	if code, body := drOther.raw("GET", "/api/panel/sessions/"+booked.Session.ID, nil); code == 200 || strings.Contains(body, "Consent") {
		t.Errorf("another clinician reading the lobby: %d %s", code, body)
	}
}
