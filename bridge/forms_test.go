package bridge_test

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"github.com/telehealth-bridge/telehealth-bridge/database"
	"github.com/telehealth-bridge/telehealth-bridge/internal/dbtest"
)

// roomLog is a FormRoom that keeps what it was given; failing makes it refuse.
type roomLog struct {
	mu        sync.Mutex
	failing   bool
	summaries []bridge.FormSummary
	events    []bridge.FormResponseEvent
}

func (r *roomLog) PostFormSummary(_ context.Context, _ *bridge.Client, s bridge.FormSummary) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.failing {
		return errors.New("homeserver down")
	}
	r.summaries = append(r.summaries, s)
	return nil
}

func (r *roomLog) EmitFormResponse(_ context.Context, _ *bridge.Client, ev bridge.FormResponseEvent) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.failing {
		return errors.New("homeserver down")
	}
	r.events = append(r.events, ev)
	return nil
}

type formFixture struct {
	ctx   context.Context
	svc   *bridge.Service
	clock *clockwork.FakeClock
	audit *auditLog
	ana   *bridge.Client
}

const (
	drForms    = "@dr:hs"
	otherForms = "@other:hs"
	adminForms = "@admin:hs"
)

func newFormFixture(t *testing.T, db *database.Database) *formFixture {
	ctx := context.Background()
	f := &formFixture{ctx: ctx, clock: clockwork.NewFakeClockAt(time.Date(2026, 11, 24, 13, 0, 0, 0, time.UTC)), audit: &auditLog{}}
	f.svc = bridge.New(bridge.Options{Store: db.Store(), Clock: f.clock, Bot: "@bot:hs", Audit: f.audit, Clients: db.Store(), Forms: db.Store(),
		IsAdmin: func(u string) bool { return u == adminForms }})
	var err error
	if f.ana, err = f.svc.CreateClient(ctx, drForms, bridge.ClientRequest{DisplayName: "Ana Lopez", Locale: "fr", TimeZone: "Europe/Paris"}); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *formFixture) phq9(t *testing.T) *bridge.Form {
	t.Helper()
	form, err := f.svc.FindForm(f.ctx, drForms, "PHQ-9")
	if err != nil || form.Standard != "phq9" {
		t.Fatalf("PHQ-9: %+v %v", form, err)
	}
	return form
}

// TestFormsJourney: the shipped instruments are there; a clinician assigns the PHQ-9 to their
// client; the client's draft keeps its valid answers and names the others in French; the
// submission is scored, read-only, and reaches the room (later, when the room is wired); the
// clinician's view of the answers is audited.
func TestFormsJourney(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.Database) {
		f := newFormFixture(t, db)
		ctx := f.ctx
		forms, err := f.svc.Forms(ctx, drForms)
		if err != nil || len(forms) != 2 || forms[0].Standard == "" || forms[1].Standard == "" {
			t.Fatalf("forms: %v %v", forms, err)
		}
		phq := f.phq9(t)

		// Only those who may see Ana may assign her a form or see her forms.
		for _, who := range []string{otherForms, ""} {
			if _, _, err := f.svc.AssignForm(ctx, who, f.ana.ID, phq.ID); !errors.Is(err, bridge.ErrClientNotFound) {
				t.Errorf("%q assigned a form to another's client: %v", who, err)
			}
			if _, err := f.svc.ClientForms(ctx, who, f.ana.ID); !errors.Is(err, bridge.ErrClientNotFound) {
				t.Errorf("%q listed another's client's forms: %v", who, err)
			}
		}
		a, _, err := f.svc.AssignForm(ctx, drForms, f.ana.ID, phq.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(f.audit.find(bridge.AuditFormAssigned, bridge.ClientSubject(f.ana.ID))) != 1 {
			t.Error("the assignment is not in the audit trail")
		}
		todo, err := f.svc.TodoForms(ctx, f.ana.ID)
		if err != nil || len(todo) != 1 || todo[0].Assignment.Status != bridge.AssignmentToDo {
			t.Fatalf("Ana's to-do: %+v %v", todo, err)
		}
		// Another client does not reach Ana's assignment.
		leo, _ := f.svc.CreateClient(ctx, drForms, bridge.ClientRequest{DisplayName: "Leo Lopez"})
		if _, _, err := f.svc.TodoForm(ctx, leo.ID, a.ID); !errors.Is(err, bridge.ErrAssignmentNotFound) {
			t.Errorf("Leo opened Ana's form: %v", err)
		}
		if _, _, err := f.svc.SaveFormAnswers(ctx, leo.ID, a.ID, answers("q1", `"1"`), "en", false); !errors.Is(err, bridge.ErrAssignmentNotFound) {
			t.Errorf("Leo answered Ana's form: %v", err)
		}

		// A draft: the valid answer is kept, the bad one named in French.
		_, r, err := f.svc.SaveFormAnswers(ctx, f.ana.ID, a.ID, answers("q1", `"2"`, "q2", `"9"`), "fr", false)
		if errs := fieldErrors(t, err); errs["q2"] != "Choisissez l'une des options." || len(errs) != 1 {
			t.Errorf("draft errors: %v", errs)
		}
		if r == nil || string(r.Answers["q1"]) != `"2"` || r.Answers["q2"] != nil {
			t.Errorf("draft kept %v", r)
		}
		item, r, err := f.svc.TodoForm(ctx, f.ana.ID, a.ID)
		if err != nil || item.Assignment.Status != bridge.AssignmentInProgress || string(r.Answers["q1"]) != `"2"` {
			t.Fatalf("after the draft: %+v %+v %v", item, r, err)
		}
		// The draft is Ana's until she sends it: the clinician sees the status, not the answers.
		if item, r, err := f.svc.ShowFormResponse(ctx, drForms, a.ID); err != nil || r != nil || item.Assignment.Status != bridge.AssignmentInProgress {
			t.Errorf("the clinician's view of a draft: %+v %+v %v", item, r, err)
		}
		// A submission with a required answer missing stores nothing and names it.
		all := chosen(phq.Definition, 2, 1, 1, 1, 1, 1, 1, 2, 0)
		delete(all, "q5")
		if _, _, err := f.svc.SaveFormAnswers(ctx, f.ana.ID, a.ID, all, "fr", true); fieldErrors(t, err)["q5"] != "Cette question demande une réponse." {
			t.Errorf("submission without q5: %v", err)
		}
		if item, _, _ := f.svc.TodoForm(ctx, f.ana.ID, a.ID); item.Assignment.Status != bridge.AssignmentInProgress {
			t.Errorf("a refused submission changed the status to %s", item.Assignment.Status)
		}
		all["q5"] = json.RawMessage(`"1"`)
		item, r, err = f.svc.SaveFormAnswers(ctx, f.ana.ID, a.ID, all, "fr", true)
		if err != nil {
			t.Fatal(err)
		}
		if r.Score == nil || r.Score.Score != 10 || r.Score.Band.In("en") != "Moderate depression" || item.Assignment.Status != bridge.AssignmentDone {
			t.Errorf("submitted: %+v %+v", item.Assignment, r.Score)
		}
		// Read-only from now on.
		if _, _, err := f.svc.SaveFormAnswers(ctx, f.ana.ID, a.ID, all, "fr", false); !errors.Is(err, bridge.ErrFormSubmitted) {
			t.Errorf("changed a submitted form: %v", err)
		}

		// No room yet: the notices wait, and go when it is wired; a failing room keeps them.
		room := &roomLog{failing: true}
		f.svc.UseFormRoom(room)
		if left, err := f.svc.SendPendingFormNotices(ctx); err != nil || left != 1 {
			t.Errorf("with a failing room: %d left, %v", left, err)
		}
		room.failing = false
		if left, err := f.svc.SendPendingFormNotices(ctx); err != nil || left != 0 {
			t.Errorf("with the room: %d left, %v", left, err)
		}
		if len(room.summaries) != 1 || room.summaries[0].Score.Score != 10 || room.summaries[0].AssignmentID != a.ID || len(room.events) != 1 {
			t.Errorf("room got %+v and %d events", room.summaries, len(room.events))
		}
		if left, _ := f.svc.SendPendingFormNotices(ctx); left != 0 || len(room.summaries) != 1 {
			t.Error("a notice was posted twice")
		}
		// The summary names the form and the score, never an answer; the event has them all.
		notice := room.summaries[0].Notice()
		if !strings.Contains(notice, "PHQ-9") || !strings.Contains(notice, "Score 10/27: Moderate depression") || strings.Contains(notice, "Several days") {
			t.Errorf("summary: %q", notice)
		}
		ev := room.events[0]
		if ev.ClientID != f.ana.ID || ev.AssignmentID != a.ID || ev.Form.Standard != "phq9" || len(ev.Answers) != 10 || ev.Answers[0].Field != "q1" ||
			string(ev.Answers[0].Value) != `"2"` || ev.Answers[0].Text[0].In("en") != "More than half the days" || string(ev.Answers[9].Value) != "null" ||
			ev.Score.Score != 10 || ev.AssignedBy != drForms {
			t.Errorf("event: %+v", ev)
		}
		if data, _ := json.Marshal(ev); !strings.Contains(string(data), `"assignment_id"`) {
			t.Errorf("event JSON: %s", data)
		}

		// The clinician sees the score in the list and the answers in the response, audited;
		// another clinician sees neither; an admin does.
		list, err := f.svc.ClientForms(ctx, drForms, f.ana.ID)
		if err != nil || len(list) != 1 || list[0].Score == nil || list[0].Score.Score != 10 {
			t.Errorf("the clinician's list: %+v %v", list, err)
		}
		if _, _, err := f.svc.ShowFormResponse(ctx, otherForms, a.ID); !errors.Is(err, bridge.ErrAssignmentNotFound) {
			t.Errorf("another clinician read the answers: %v", err)
		}
		for _, who := range []string{drForms, adminForms} {
			_, resp, err := f.svc.ShowFormResponse(ctx, who, a.ID)
			if err != nil || string(resp.Answers["q8"]) != `"2"` {
				t.Errorf("%s: %v %v", who, resp, err)
			}
		}
		viewed := f.audit.find(bridge.AuditFormResponseViewed, bridge.ClientSubject(f.ana.ID))
		if len(viewed) != 2 || viewed[0].Actor != drForms || viewed[0].Detail["assignment"] != strconv.FormatInt(a.ID, 10) {
			t.Errorf("views audited: %+v", viewed)
		}
		if len(f.audit.find(bridge.AuditFormSubmitted, bridge.ClientSubject(f.ana.ID))) != 1 {
			t.Error("the submission is not in the audit trail")
		}
	})
}

const ownForm = `{"title": {"en": "Sleep diary", "fr": "Journal du sommeil"}, "sections": [{"id": "s", "fields": [
 {"id": "hours", "type": "scale", "label": {"en": "Hours slept"}, "min": 0, "max": 12, "required": true}]}]}`

// TestFormVersions: editing a form makes a new version; an assignment made before keeps the
// version it was given, and its answers are checked against that one. Only the form's author
// or an admin edits it; nobody edits a standard instrument.
func TestFormVersions(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.Database) {
		f := newFormFixture(t, db)
		ctx := f.ctx
		form, err := f.svc.CreateForm(ctx, drForms, []byte(ownForm))
		if err != nil || form.Version != 1 {
			t.Fatalf("created %+v %v", form, err)
		}
		if _, err := f.svc.CreateForm(ctx, drForms, []byte(`{"title": {"en": ""}}`)); err == nil {
			t.Error("an invalid form was stored")
		}
		old, _, err := f.svc.AssignForm(ctx, drForms, f.ana.ID, form.ID)
		if err != nil {
			t.Fatal(err)
		}
		edited := `{"title": {"en": "Sleep diary"}, "sections": [{"id": "s", "fields": [
 {"id": "quality", "type": "yes_no", "label": {"en": "Did you sleep well?"}, "required": true}]}]}`
		if _, err := f.svc.UpdateForm(ctx, otherForms, form.ID, []byte(edited)); !errors.Is(err, bridge.ErrNotYourForm) {
			t.Errorf("another clinician edited the form: %v", err)
		}
		v2, err := f.svc.UpdateForm(ctx, drForms, form.ID, []byte(edited))
		if err != nil || v2.ID != form.ID || v2.Version != 2 || v2.VersionID == form.VersionID {
			t.Fatalf("v2: %+v %v", v2, err)
		}
		v3, err := f.svc.UpdateForm(ctx, adminForms, form.ID, []byte(ownForm))
		if err != nil || v3.Version != 3 {
			t.Fatalf("the admin's v3: %+v %v", v3, err)
		}
		if _, err := f.svc.UpdateForm(ctx, adminForms, f.phq9(t).ID, []byte(ownForm)); !errors.Is(err, bridge.ErrStandardForm) {
			t.Errorf("a standard instrument was edited: %v", err)
		}
		// The list shows each form once, at its latest version.
		forms, _ := f.svc.Forms(ctx, otherForms)
		if len(forms) != 3 || forms[2].ID != form.ID || forms[2].Version != 3 {
			t.Errorf("forms: %+v", forms)
		}
		// The old assignment answers version 1 (hours), a new one version 3.
		if _, _, err := f.svc.SaveFormAnswers(ctx, f.ana.ID, old.ID, answers("hours", `7`), "en", true); err != nil {
			t.Errorf("answering version 1: %v", err)
		}
		mid, _, err := f.svc.AssignForm(ctx, adminForms, f.ana.ID, form.ID)
		if err != nil || mid.FormVersionID != v3.VersionID {
			t.Fatalf("a new assignment: %+v %v", mid, err)
		}
		list, _ := f.svc.TodoForms(ctx, f.ana.ID)
		if len(list) != 2 || list[0].Form.Version != 3 || list[1].Form.Version != 1 || list[1].Assignment.Status != bridge.AssignmentDone {
			t.Errorf("to-do: %+v", list)
		}
		// FindForm: by ID, by the start of a title in either language; ambiguity is said.
		for ref, want := range map[string]int64{strconv.FormatInt(form.ID, 10): form.ID, "sleep": form.ID, "journal du": form.ID, "gad-7": 0} {
			got, err := f.svc.FindForm(ctx, drForms, ref)
			if err != nil || want != 0 && got.ID != want || want == 0 && got.Standard != "gad7" {
				t.Errorf("FindForm(%q): %+v %v", ref, got, err)
			}
		}
		if _, err := f.svc.CreateForm(ctx, drForms, []byte(`{"title": {"en": "Sleep habits"}, "sections": [{"id": "s", "fields": [{"id": "x", "type": "text", "label": {"en": "X"}}]}]}`)); err != nil {
			t.Fatal(err)
		}
		var amb *bridge.AmbiguousFormError
		if _, err := f.svc.FindForm(ctx, drForms, "sleep"); !errors.As(err, &amb) || len(amb.Matches) != 2 {
			t.Errorf("two sleep forms: %v", err)
		}
		if _, err := f.svc.FindForm(ctx, drForms, "nothing"); !errors.Is(err, bridge.ErrFormNotFound) {
			t.Errorf("no form: %v", err)
		}
	})
}

// formNotices records the notices a FormNotifier is asked for.
type formNotices struct {
	mu   sync.Mutex
	sent []string
}

func (n *formNotices) QueueFormNotice(_ context.Context, s *bridge.Session, p *bridge.Participant) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.sent = append(n.sent, s.ID+"/"+strconv.FormatInt(p.ClientID, 10))
	return nil
}

// TestAssignmentTellsTheClientBeforeTheirNextSession: an assigned form is announced through the
// client's place in their next session still to come; without one, nothing is sent (the form
// waits in the portal).
func TestAssignmentTellsTheClientBeforeTheirNextSession(t *testing.T) {
	f := newFormFixture(t, dbtest.Open(t, "sqlite"))
	f.svc.Use(&numberedRooms{}, quietRooms{}, nil, nil)
	notices := &formNotices{}
	f.svc.UseFormNotifier(notices)
	phq := f.phq9(t)
	if _, _, err := f.svc.AssignForm(f.ctx, drForms, f.ana.ID, phq.ID); err != nil {
		t.Fatal(err)
	}
	if len(notices.sent) != 0 {
		t.Fatalf("a notice without a session: %v", notices.sent)
	}
	book := func(after time.Duration) *bridge.Session {
		s, err := f.svc.Schedule(f.ctx, bridge.ScheduleRequest{Clinician: drForms, Start: f.clock.Now().Add(after), End: f.clock.Now().Add(after + time.Hour),
			TimeZone: "Europe/Paris", Participants: []bridge.ParticipantRequest{{ClientID: f.ana.ID, Name: "Ana Lopez"}}})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	book(72 * time.Hour)
	next := book(24 * time.Hour)
	if _, _, err := f.svc.AssignForm(f.ctx, drForms, f.ana.ID, phq.ID); err != nil {
		t.Fatal(err)
	}
	if want := next.ID + "/" + strconv.FormatInt(f.ana.ID, 10); len(notices.sent) != 1 || notices.sent[0] != want {
		t.Errorf("notices %v, want %s", notices.sent, want)
	}
}
