package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/rs/zerolog"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"github.com/telehealth-bridge/telehealth-bridge/internal/dbtest"
	"github.com/telehealth-bridge/telehealth-bridge/web"
)

const (
	formsDr    = "@dr:hs"
	formsOther = "@other:hs"
	formsAdmin = "@admin:hs"
)

// formsSite is the panel and the portal on real client records and forms: Alice (French, Dr's
// client) and Bob (the other clinician's) have records; Carol signs in to the portal without
// one.
type formsSite struct {
	*portalSite
	alice, bob *bridge.Client
	svc        *bridge.Service
}

func newFormsSite(t *testing.T, kind string) *formsSite {
	t.Helper()
	ctx := context.Background()
	db := dbtest.Open(t, kind)
	clock := clockwork.NewFakeClockAt(time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC))
	store := db.Store()
	svc := bridge.New(bridge.Options{Store: store, Clock: clock, Audit: db.Audit, Bot: "@bot:hs", Clients: store, Forms: store,
		IsAdmin: func(u string) bool { return u == formsAdmin }})
	now := clock.Now()
	alice := &bridge.Client{DisplayName: "Alice Martin", Emails: []string{aliceEmail}, Locale: "fr", TimeZone: "Europe/Paris",
		Professionals: []string{formsDr}, Reminders: bridge.RemindEmail, PortalEnabled: true, CreatedAt: now, UpdatedAt: now}
	bob := &bridge.Client{DisplayName: "Bob Secret", Emails: []string{bobEmail}, Locale: "en", TimeZone: "Europe/Paris",
		Professionals: []string{formsOther}, Reminders: bridge.RemindEmail, PortalEnabled: true, CreatedAt: now, UpdatedAt: now}
	for _, c := range []*bridge.Client{alice, bob} {
		if err := store.InsertClient(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://localhost:" + fmt.Sprint(l.Addr().(*net.TCPAddr).Port)
	srv := web.New(web.Config{PublicURL: url, SigningKey: []byte("0123456789abcdef0123456789abcdef"), ClinicName: "Clinique",
		IsClinician: func(u string) bool { return u == formsDr || u == formsOther || u == formsAdmin }},
		db, svc, clock, zerolog.Nop())
	codes := &sentCodes{last: map[string]string{}, sent: make(chan struct{}, 1)}
	srv.UsePortal(&testClients{
		byContact: map[string]int64{aliceEmail: alice.ID, bobEmail: bob.ID, carolEmail: 999},
		names:     map[int64]string{alice.ID: alice.Name(), bob.ID: bob.Name(), 999: "Carol"},
	}, codes)
	hs := &httptest.Server{Listener: l, Config: &http.Server{Handler: srv.Handler()}}
	hs.Start()
	t.Cleanup(hs.Close)
	return &formsSite{portalSite: &portalSite{t: t, url: url, clock: clock, db: db, web: srv, codes: codes}, alice: alice, bob: bob, svc: svc}
}

// clinician is a browser signed in to the panel as the clinician, with a one-time login link.
func (s *formsSite) clinician(userID string) *browser {
	s.t.Helper()
	link, err := s.web.LoginLink(context.Background(), userID)
	if err != nil {
		s.t.Fatal(err)
	}
	b := s.browser()
	req, _ := http.NewRequest("POST", link, nil)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := b.http.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Request.URL.Path != "/panel" {
		s.t.Fatalf("%s's sign-in landed on %s", userID, resp.Request.URL)
	}
	return b
}

// call sends a request and decodes a 200 answer into out (when given); it returns the status
// and the raw answer.
func (b *browser) call(method, path string, body, out any) (int, string) {
	b.s.t.Helper()
	code, data, _ := b.do(method, path, body, nil)
	if code == 200 && out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			b.s.t.Fatalf("%s %s: %v", method, path, err)
		}
	}
	return code, string(data)
}

type formsList struct {
	Forms []web.FormView `json:"forms"`
}

type formAnswer struct {
	Form web.FormView `json:"form"`
}

type assignmentList struct {
	Assignments []web.AssignmentView `json:"assignments"`
}

type assignmentPage struct {
	Assignment web.AssignmentView `json:"assignment"`
	Form       web.FormView       `json:"form"`
	Response   web.ResponseView   `json:"response"`
}

type refusal struct {
	Error  string            `json:"error"`
	Code   string            `json:"code"`
	Fields map[string]string `json:"fields"`
}

func refused(t *testing.T, body string) refusal {
	t.Helper()
	var r refusal
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		t.Fatalf("%s: %v", body, err)
	}
	return r
}

func phqAnswers(values ...int) map[string]any {
	a := map[string]any{}
	for i, v := range values {
		a[fmt.Sprintf("q%d", i+1)] = fmt.Sprint(v)
	}
	return a
}

// TestFormsPanelAndPortal: the clinic's forms in the panel (the standard ones read-only, a
// refused definition names where, versions by the author or an admin); the PHQ-9 assigned to
// Alice; Alice's draft and submission in the portal, the errors in French beside their fields;
// the score and answers in the panel, each reading audited.
func TestFormsPanelAndPortal(t *testing.T) {
	for _, kind := range dbtest.Kinds {
		t.Run(kind, func(t *testing.T) { testFormsPanelAndPortal(t, kind) })
	}
}

func testFormsPanelAndPortal(t *testing.T, kind string) {
	s := newFormsSite(t, kind)
	dr := s.clinician(formsDr)

	var list formsList
	if code, body := dr.call("GET", "/api/panel/forms", nil, &list); code != 200 || len(list.Forms) != 2 {
		t.Fatalf("forms: %d %s", code, body)
	}
	var phq web.FormView
	for _, f := range list.Forms {
		if f.Standard == "phq9" {
			phq = f
		}
	}
	if phq.Standard != "phq9" || phq.Editable || !phq.Scored || phq.Title["fr"] == "" {
		t.Errorf("the PHQ-9 as listed: %+v", phq)
	}
	var one formAnswer
	if code, _ := dr.call("GET", fmt.Sprintf("/api/panel/forms/%d", phq.ID), nil, &one); code != 200 || one.Form.Definition == nil || len(one.Form.Definition.Fields()) != 10 {
		t.Errorf("the PHQ-9's definition: %d %+v", code, one.Form)
	}

	// The clinic's own form: a refusal says where; the author's edits make versions.
	code, body := dr.call("POST", "/api/panel/forms", web.FormEdit{Definition: `{"title": {"en": "Sleep"}, "sections": [{"id": "s", "fields": [{"id": "h", "type": "scale", "label": {"en": "Hours"}}]}]}`}, nil)
	if r := refused(t, body); code != 400 || r.Code != "field:definition" || !strings.Contains(r.Error, "sections[0].fields[0].max") {
		t.Errorf("a scale without ends: %d %s", code, body)
	}
	if code, body := dr.call("POST", "/api/panel/forms", web.FormEdit{Definition: `{"title": `}, nil); code != 400 || refused(t, body).Code != "field:definition" {
		t.Errorf("broken JSON: %d %s", code, body)
	}
	sleep := `{"title": {"en": "Sleep diary", "fr": "Journal du sommeil"}, "sections": [{"id": "s", "fields": [{"id": "h", "type": "scale", "label": {"en": "Hours"}, "min": 0, "max": 12, "required": true}]}]}`
	if code, body := dr.call("POST", "/api/panel/forms", web.FormEdit{Definition: sleep}, &one); code != 200 || !one.Form.Editable || one.Form.Version != 1 {
		t.Fatalf("creating a form: %d %s", code, body)
	}
	own := one.Form
	other := s.clinician(formsOther)
	if code, body := other.call("PUT", fmt.Sprintf("/api/panel/forms/%d", own.ID), web.FormEdit{Definition: sleep}, nil); code != 403 {
		t.Errorf("another clinician edited the form: %d %s", code, body)
	}
	if code, body := dr.call("PUT", fmt.Sprintf("/api/panel/forms/%d", phq.ID), web.FormEdit{Definition: sleep}, nil); code != 403 {
		t.Errorf("the PHQ-9 was edited: %d %s", code, body)
	}
	if code, body := dr.call("PUT", fmt.Sprintf("/api/panel/forms/%d", own.ID), web.FormEdit{Definition: sleep}, &one); code != 200 || one.Form.Version != 2 {
		t.Errorf("a new version: %d %s", code, body)
	}

	// Assigning: to one's own client; another clinician's client, an unknown one, a malformed ID
	// answer 404 alike; an unknown form is named.
	var assigned struct {
		Assignment web.AssignmentView `json:"assignment"`
	}
	aliceForms := fmt.Sprintf("/api/panel/clients/%d/forms", s.alice.ID)
	if code, body := dr.call("POST", aliceForms, web.AssignForm{FormID: phq.ID}, &assigned); code != 200 || assigned.Assignment.Status != "todo" {
		t.Fatalf("assigning the PHQ-9: %d %s", code, body)
	}
	aid := assigned.Assignment.ID
	for _, path := range []string{fmt.Sprintf("/api/panel/clients/%d/forms", s.bob.ID), "/api/panel/clients/9999/forms", "/api/panel/clients/x/forms"} {
		if code, body := dr.call("POST", path, web.AssignForm{FormID: phq.ID}, nil); code != 404 || strings.Contains(body, "Bob") {
			t.Errorf("assigning at %s: %d %s", path, code, body)
		}
		if code, _ := dr.call("GET", path, nil, nil); code != 404 {
			t.Errorf("listing %s: %d", path, code)
		}
	}
	if code, body := dr.call("POST", aliceForms, web.AssignForm{FormID: 9999}, nil); code != 400 || refused(t, body).Code != "field:form_id" {
		t.Errorf("an unknown form: %d %s", code, body)
	}

	// The portal: Alice sees her to-do; Bob and Carol (no record) see nothing of hers.
	alice := s.browser()
	alice.signInWithCode(aliceEmail)
	var todo assignmentList
	if code, body := alice.call("GET", "/api/portal/forms", nil, &todo); code != 200 || len(todo.Assignments) != 1 || todo.Assignments[0].Status != "todo" ||
		strings.Contains(body, "score") || strings.Contains(body, formsDr) {
		t.Fatalf("Alice's to-do: %d %s", code, body)
	}
	formPath := fmt.Sprintf("/api/portal/forms/%d", aid)
	for _, who := range []string{bobEmail, carolEmail} {
		b := s.browser()
		b.signInWithCode(who)
		if code, body := b.call("GET", "/api/portal/forms", nil, &todo); code != 200 || len(todo.Assignments) != 0 {
			t.Errorf("%s's to-do: %d %s", who, code, body)
		}
		for _, req := range []struct{ method, path string }{{"GET", formPath}, {"PUT", formPath}, {"POST", formPath + "/submit"}} {
			if code, body := b.call(req.method, req.path, web.PortalAnswers{Answers: map[string]json.RawMessage{"q1": json.RawMessage(`"3"`)}}, nil); code != 404 {
				t.Errorf("%s: %s %s: %d %s", who, req.method, req.path, code, body)
			}
		}
	}

	// A draft: the valid answers are kept, a wrong one named in French.
	var page web.PortalForm
	draft := map[string]any{"q1": "2", "q2": "7"}
	if code, body := alice.call("PUT", formPath, map[string]any{"answers": draft}, &page); code != 200 ||
		page.Errors["q2"] != "Choisissez l'une des options." || string(page.Response.Answers["q1"]) != `"2"` || page.Assignment.Status != "in_progress" {
		t.Fatalf("Alice's draft: %d %s", code, body)
	}
	if code, _ := alice.call("GET", formPath, nil, &page); code != 200 || string(page.Response.Answers["q1"]) != `"2"` || page.Definition == nil {
		t.Errorf("Alice's form reopened: %+v", page.Response)
	}
	// A submission with a required answer left empty: refused, the field named in French.
	answers := phqAnswers(2, 2, 2, 2, 1, 1, 1, 1)
	code, body = alice.call("POST", formPath+"/submit", map[string]any{"answers": answers}, nil)
	if r := refused(t, body); code != 400 || r.Code != "invalid_answers" || r.Fields["q9"] != "Cette question demande une réponse." || len(r.Fields) != 1 {
		t.Errorf("a submission without q9: %d %s", code, body)
	}
	answers["q9"] = "0"
	if code, body := alice.call("POST", formPath+"/submit", map[string]any{"answers": answers}, &page); code != 200 || page.Assignment.Status != "done" ||
		page.Response.SubmittedAt == 0 || page.Assignment.Score != nil {
		t.Fatalf("Alice's submission: %d %.300s", code, body)
	}
	if code, body := alice.call("PUT", formPath, map[string]any{"answers": answers}, nil); code != 409 || refused(t, body).Code != "submitted" {
		t.Errorf("changing submitted answers: %d %s", code, body)
	}

	// The panel: the score in the list, the answers on the page (audited); not for another
	// clinician; for an admin.
	var mine assignmentList
	if code, body := dr.call("GET", aliceForms, nil, &mine); code != 200 || len(mine.Assignments) != 1 || mine.Assignments[0].Score == nil ||
		mine.Assignments[0].Score.Score != 12 || mine.Assignments[0].Score.Band.In("en") != "Moderate depression" {
		t.Errorf("Alice's forms in the panel: %d %s", code, body)
	}
	answerPath := fmt.Sprintf("/api/panel/assignments/%d", aid)
	var ap assignmentPage
	if code, body := dr.call("GET", answerPath, nil, &ap); code != 200 || string(ap.Response.Answers["q1"]) != `"2"` || ap.Form.Definition == nil {
		t.Errorf("the answers in the panel: %d %s", code, body)
	}
	for _, path := range []string{answerPath, "/api/panel/assignments/9999", "/api/panel/assignments/x"} {
		if code, body := other.call("GET", path, nil, nil); code != 404 || strings.Contains(body, "q1") {
			t.Errorf("another clinician at %s: %d %s", path, code, body)
		}
	}
	admin := s.clinician(formsAdmin)
	if code, _ := admin.call("GET", answerPath, nil, &ap); code != 200 {
		t.Errorf("the admin: %d", code)
	}
	viewed := 0
	for _, l := range s.audit() {
		if l.action == string(bridge.AuditFormResponseViewed) {
			viewed++
			if l.subject != bridge.ClientSubject(s.alice.ID) || !strings.Contains(l.detail, fmt.Sprintf(`"assignment":"%d"`, aid)) || !strings.Contains(l.detail, `"via":"panel"`) {
				t.Errorf("audit line: %+v", l)
			}
		}
		if l.action == string(bridge.AuditFormSubmitted) && (l.actor != bridge.ClientActor(s.alice.ID) || !strings.Contains(l.detail, `"via":"portal"`)) {
			t.Errorf("submission audit line: %+v", l)
		}
	}
	if viewed != 2 {
		t.Errorf("%d views of the answers audited, want 2", viewed)
	}

	// Anonymous callers: signed out, everywhere.
	anon := s.browser()
	for _, req := range []struct{ method, path string }{
		{"GET", "/api/panel/forms"}, {"POST", "/api/panel/forms"}, {"PUT", fmt.Sprintf("/api/panel/forms/%d", own.ID)}, {"GET", aliceForms},
		{"POST", aliceForms}, {"GET", answerPath}, {"GET", "/api/portal/forms"}, {"GET", formPath}, {"PUT", formPath}, {"POST", formPath + "/submit"},
	} {
		if code, body := anon.call(req.method, req.path, map[string]any{}, nil); code != 401 || strings.Contains(body, "Alice") {
			t.Errorf("anonymous %s %s: %d %s", req.method, req.path, code, body)
		}
	}
	// A cross-site form cannot post answers (the API's CSRF guard).
	if code, _, _ := alice.do("PUT", formPath, map[string]any{"answers": answers}, http.Header{"X-Requested-With": nil}); code != 403 {
		t.Errorf("without X-Requested-With: %d", code)
	}
}

// TestFormsBadInput: malformed requests to the forms doors get a clear 4xx and store nothing.
func TestFormsBadInput(t *testing.T) {
	s := newFormsSite(t, "sqlite")
	dr := s.clinician(formsDr)
	var assigned struct {
		Assignment web.AssignmentView `json:"assignment"`
	}
	var list formsList
	dr.call("GET", "/api/panel/forms", nil, &list)
	if code, body := dr.call("POST", fmt.Sprintf("/api/panel/clients/%d/forms", s.alice.ID), web.AssignForm{FormID: list.Forms[0].ID}, &assigned); code != 200 {
		t.Fatalf("assigning: %d %s", code, body)
	}
	alice := s.browser()
	alice.signInWithCode(aliceEmail)
	formPath := fmt.Sprintf("/api/portal/forms/%d", assigned.Assignment.ID)
	huge := map[string]any{"answers": map[string]any{"q1": strings.Repeat("x", 70<<10)}}
	for _, tc := range []struct {
		who          *browser
		method, path string
		body         any
		code         int
		errCode      string
	}{
		{alice, "PUT", formPath, huge, 413, "too_large"},
		{alice, "PUT", formPath, map[string]any{"answers": []string{"2"}}, 400, "bad_request"},
		{alice, "PUT", formPath, map[string]any{"answers": map[string]any{}, "client_id": s.bob.ID}, 400, "bad_request"},
		{alice, "POST", formPath + "/submit", map[string]any{"answers": map[string]any{"q1": map[string]any{"x": 1}}}, 400, "invalid_answers"},
		{alice, "GET", "/api/portal/forms/abc", nil, 404, "not_found"},
		{alice, "GET", "/api/portal/forms/-1", nil, 404, "not_found"},
		{dr, "POST", "/api/panel/forms", map[string]any{"definition": map[string]any{"title": "x"}}, 400, "bad_request"},
		{dr, "POST", "/api/panel/forms", map[string]any{"definition": strings.Repeat(" ", 70<<10)}, 413, "too_large"},
		{dr, "POST", "/api/panel/forms", map[string]any{"definition": ""}, 400, "field:definition"},
		{dr, "POST", fmt.Sprintf("/api/panel/clients/%d/forms", s.alice.ID), map[string]any{"form_id": "1"}, 400, "bad_request"},
		{dr, "GET", "/api/panel/forms/abc", nil, 404, "not_found"},
		{dr, "PUT", "/api/panel/forms/9999", web.FormEdit{Definition: "{}"}, 404, "not_found"},
	} {
		code, body := tc.who.call(tc.method, tc.path, tc.body, nil)
		if r := refused(t, body); code != tc.code || r.Code != tc.errCode || r.Error == "" {
			t.Errorf("%s %s: %d %.200s, want %d %s", tc.method, tc.path, code, body, tc.code, tc.errCode)
		}
	}
	// Nothing was stored by any of them.
	var page web.PortalForm
	if code, _ := alice.call("GET", formPath, nil, &page); code != 200 || page.Assignment.Status != "todo" || len(page.Response.Answers) != 0 {
		t.Errorf("after the bad requests: %d %+v", code, page.Assignment)
	}
}
