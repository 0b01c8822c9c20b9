package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"github.com/telehealth-bridge/telehealth-bridge/internal/dbtest"
	"github.com/telehealth-bridge/telehealth-bridge/web"
)

// sessionFormsPage is GET /api/call/documents's answer as far as forms go.
type sessionFormsPage struct {
	Forms         []web.AssignmentView `json:"forms"`
	FormsInPortal bool                 `json:"forms_in_portal"`
}

// TestSessionPackageForms: a form picked at booking goes to the participant's client record,
// tied to the session; the session page lists it with its status and sends the client to their
// portal; the lobby shows it not done, then done once the client sends it from the portal.
// Another clinician, another client, a guest link of another session and nobody reach nothing.
func TestSessionPackageForms(t *testing.T) {
	for _, kind := range dbtest.Kinds {
		t.Run(kind, func(t *testing.T) { testSessionPackageForms(t, kind) })
	}
}

func testSessionPackageForms(t *testing.T, kind string) {
	s := newFormsSite(t, kind)
	ctx := context.Background()
	dr, other := s.clinician(formsDr), s.clinician(formsOther)
	var list formsList
	if code, body := dr.call("GET", "/api/panel/forms", nil, &list); code != 200 || len(list.Forms) != 2 {
		t.Fatalf("forms: %d %s", code, body)
	}
	var gad int64
	for _, f := range list.Forms {
		if f.Standard == "gad7" {
			gad = f.ID
		}
	}
	form := func(clientID int64, name string, forms ...int64) web.ScheduleForm {
		return web.ScheduleForm{Date: "2026-12-10", Time: "10:00", TimeZone: "Europe/Paris", Name: name, Invite: "none", Locale: "en",
			ParticipantZone: "Europe/Paris", ClientID: clientID, Forms: forms}
	}
	// Refusals name the field; nothing is assigned.
	for what, c := range map[string]struct {
		who  *browser
		form web.ScheduleForm
		want int
		code string
	}{
		"an unknown form":                   {dr, form(s.alice.ID, "", 99999), 400, "field:forms"},
		"forms without a client record":     {dr, form(0, "Jane Doe", gad), 400, "field:forms"},
		"another clinician's client's form": {dr, form(s.bob.ID, "", gad), 404, ""},
		"Alice's record by another":         {other, form(s.alice.ID, "", gad), 404, ""},
	} {
		code, body := c.who.call("POST", "/api/panel/sessions", c.form, nil)
		if code != c.want || c.code != "" && refused(t, body).Code != c.code {
			t.Errorf("booking with %s: %d %s", what, code, body)
		}
	}
	// Booking itself needs the homeserver (the e2e scenario books through the panel); here the
	// sessions are stored as booked and the package's forms set as the booking sets them.
	booked := s.bookWith(formsDr, "pkg-alice", s.alice)
	if err := s.svc.SetSessionForms(ctx, formsDr, booked, []int64{gad, gad}); err != nil {
		t.Fatal(err)
	}
	var lobby web.PanelSession
	if code, body := dr.call("GET", "/api/panel/sessions/"+booked, nil, &lobby); code != 200 || len(lobby.Participants) != 1 || lobby.Participants[0].Forms != "forms_not_done" {
		t.Errorf("the lobby before Alice's answers: %d %s", code, body)
	}
	stored, err := s.db.FormAssignment.ForSession(ctx, booked)
	if err != nil || len(stored) != 1 || stored[0].ClientID != s.alice.ID || stored[0].FormID != gad {
		t.Fatalf("the session's assignments: %v %+v", err, stored)
	}
	// The same form again in the package gives nothing more.
	if err = s.svc.SetSessionForms(ctx, formsDr, booked, []int64{gad}); err != nil {
		t.Fatal(err)
	}
	if stored, _ = s.db.FormAssignment.ForSession(ctx, booked); len(stored) != 1 {
		t.Errorf("the package's form given twice: %+v", stored)
	}
	if err = s.svc.SetSessionForms(ctx, formsOther, booked, []int64{gad}); err == nil {
		t.Errorf("another clinician set the package's forms")
	}

	// The session page: the form, its status, the portal.
	link := func(sessionID string) string {
		t.Helper()
		sess, err := s.db.Session.Get(ctx, sessionID)
		if err != nil {
			t.Fatal(err)
		}
		ps, err := s.db.Participant.ForSession(ctx, sessionID)
		if err != nil {
			t.Fatal(err)
		}
		l, err := s.web.ParticipantLink(ctx, sess, ps[0])
		if err != nil {
			t.Fatal(err)
		}
		return l[strings.LastIndex(l, "/")+1:]
	}
	guest := func(token string, out any) (int, string) {
		t.Helper()
		b := s.browser()
		code, data, _ := b.do("GET", "/api/call/documents", nil, http.Header{"Authorization": {"Bearer " + token}})
		if code == 200 && out != nil {
			if err := json.Unmarshal(data, out); err != nil {
				t.Fatal(err)
			}
		}
		return code, string(data)
	}
	alices := link(booked)
	var page sessionFormsPage
	if code, body := guest(alices, &page); code != 200 || len(page.Forms) != 1 || page.Forms[0].Status != "todo" || !page.FormsInPortal ||
		page.Forms[0].ID != stored[0].ID || page.Forms[0].Title["en"] == "" {
		t.Fatalf("Alice's session page: %d %s", code, body)
	}
	if code, body := guest("", nil); code != 401 {
		t.Errorf("nobody's session page: %d %s", code, body)
	}
	// Bob's session by the other clinician has no form: his link shows none of Alice's.
	bobs := s.bookWith(formsOther, "pkg-bob", s.bob)
	if code, body := guest(link(bobs), &page); code != 200 || len(page.Forms) != 0 || strings.Contains(body, "GAD") {
		t.Errorf("Bob's session page: %d %s", code, body)
	}
	// Another clinician's panel reads nothing of the lobby.
	if code, body := other.call("GET", "/api/panel/sessions/"+booked, nil, nil); code == 200 || strings.Contains(body, "forms_") {
		t.Errorf("another clinician's lobby: %d %s", code, body)
	}

	// Alice's to-do list has it; Bob reaches none of it.
	alice, bob := s.browser(), s.browser()
	alice.signInWithCode(aliceEmail)
	bob.signInWithCode(bobEmail)
	formPath := fmt.Sprintf("/api/portal/forms/%d", stored[0].ID)
	var todo assignmentList
	if code, body := alice.call("GET", "/api/portal/forms", nil, &todo); code != 200 || len(todo.Assignments) != 1 || todo.Assignments[0].ID != stored[0].ID {
		t.Fatalf("Alice's to-do list: %d %s", code, body)
	}
	if code, body := bob.call("GET", formPath, nil, nil); code != 404 {
		t.Errorf("Bob opening Alice's package form: %d %s", code, body)
	}
	if code, body := bob.call("POST", formPath+"/submit", map[string]any{"answers": phqAnswers(0, 0, 0, 0, 0, 0, 0)}, nil); code != 404 {
		t.Errorf("Bob sending Alice's package form: %d %s", code, body)
	}
	if code, body := alice.call("POST", formPath+"/submit", map[string]any{"answers": phqAnswers(1, 1, 1, 1, 1, 1, 1)}, nil); code != 200 {
		t.Fatalf("Alice sending the GAD-7: %d %s", code, body)
	}
	if code, body := guest(alices, &page); code != 200 || len(page.Forms) != 1 || page.Forms[0].Status != "done" || strings.Contains(body, "answers") {
		t.Errorf("Alice's session page once sent: %d %s", code, body)
	}
	if code, body := dr.call("GET", "/api/panel/sessions/"+booked, nil, &lobby); code != 200 || lobby.Participants[0].Forms != "forms_done" {
		t.Errorf("the lobby after Alice's answers: %d %s", code, body)
	}
}

// bookWith stores a session of the clinician's next week with the client as its participant.
func (s *formsSite) bookWith(clinician, id string, c *bridge.Client) string {
	s.t.Helper()
	ctx := context.Background()
	start := s.clock.Now().Add(7 * 24 * time.Hour)
	sess := &bridge.Session{ID: id, Clinician: clinician, Start: start, End: start.Add(50 * time.Minute), TimeZone: "Europe/Paris",
		Kind: bridge.KindVideo, Status: bridge.StatusScheduled, Policy: bridge.PolicyManual, CreatedAt: s.clock.Now(), UpdatedAt: s.clock.Now()}
	if err := s.db.Session.Insert(ctx, sess); err != nil {
		s.t.Fatal(err)
	}
	p := &bridge.Participant{SessionID: id, Number: 1, Name: c.DisplayName, Email: c.Emails[0], Locale: "en", TimeZone: "UTC",
		Invite: bridge.InviteEmail, State: bridge.StateBooked, UpdatedAt: s.clock.Now(), ClientID: c.ID}
	if err := s.db.Participant.Insert(ctx, p); err != nil {
		s.t.Fatal(err)
	}
	return id
}
