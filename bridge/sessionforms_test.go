package bridge_test

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"github.com/telehealth-bridge/telehealth-bridge/database"
	"github.com/telehealth-bridge/telehealth-bridge/internal/dbtest"
)

// TestSessionForms: a session's package gives its forms to the participants with a client
// record (once each, tied to the session); a participant without one gets none; another
// clinician may neither set them nor read who has done them; a submission shows in the status.
func TestSessionForms(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.Database) {
		f := newFormFixture(t, db)
		ctx := f.ctx
		phq := f.phq9(t)
		start := f.clock.Now().Add(48 * time.Hour)
		s := &bridge.Session{ID: "pkg", Clinician: drForms, Start: start, End: start.Add(time.Hour), TimeZone: "Europe/Paris",
			Kind: bridge.KindVideo, Status: bridge.StatusScheduled, Policy: bridge.PolicyManual, CreatedAt: f.clock.Now(), UpdatedAt: f.clock.Now()}
		if err := db.Session.Insert(ctx, s); err != nil {
			t.Fatal(err)
		}
		ana := &bridge.Participant{SessionID: s.ID, Number: 1, Name: "Ana Lopez", Locale: "fr", TimeZone: "UTC", Invite: bridge.InviteNone,
			State: bridge.StateBooked, UpdatedAt: f.clock.Now(), ClientID: f.ana.ID}
		guest := &bridge.Participant{SessionID: s.ID, Number: 2, Name: "No Record", Locale: "en", TimeZone: "UTC", Invite: bridge.InviteNone,
			State: bridge.StateBooked, UpdatedAt: f.clock.Now()}
		for _, p := range []*bridge.Participant{ana, guest} {
			if err := db.Participant.Insert(ctx, p); err != nil {
				t.Fatal(err)
			}
		}
		for _, who := range []string{otherForms, ""} {
			if err := f.svc.SetSessionForms(ctx, who, s.ID, []int64{phq.ID}); !errors.Is(err, bridge.ErrNotYourSession) {
				t.Errorf("%q set another's session's forms: %v", who, err)
			}
			if _, err := f.svc.SessionFormStatus(ctx, who, s.ID); !errors.Is(err, bridge.ErrNotYourSession) {
				t.Errorf("%q read another's session's forms: %v", who, err)
			}
		}
		if err := f.svc.SetSessionForms(ctx, drForms, s.ID, []int64{424242}); !errors.Is(err, bridge.ErrFormNotFound) {
			t.Errorf("an unknown form: %v", err)
		}
		for range 2 {
			if err := f.svc.SetSessionForms(ctx, drForms, s.ID, []int64{phq.ID, phq.ID}); err != nil {
				t.Fatal(err)
			}
		}
		todo, err := f.svc.TodoForms(ctx, f.ana.ID)
		if err != nil || len(todo) != 1 || todo[0].Assignment.SessionID != s.ID || todo[0].Form.ID != phq.ID {
			t.Fatalf("Ana's to-do list: %v %+v", err, todo)
		}
		if items, err := f.svc.ParticipantForms(ctx, s, guest); err != nil || len(items) != 0 {
			t.Errorf("the participant without a record: %v %+v", err, items)
		}
		status, err := f.svc.SessionFormStatus(ctx, drForms, s.ID)
		if err != nil || len(status) != 1 || status[0].Participant.ID != ana.ID || len(status[0].Missing) != 1 || len(status[0].Done) != 0 {
			t.Fatalf("the status before Ana's answers: %v %+v", err, status)
		}
		answers := bridge.Answers{}
		for _, fd := range phq.Definition.Fields() {
			answers[fd.ID] = json.RawMessage(`"0"`)
		}
		if _, _, err = f.svc.SaveFormAnswers(ctx, f.ana.ID, todo[0].Assignment.ID, answers, "en", true); err != nil {
			t.Fatal(err)
		}
		status, err = f.svc.SessionFormStatus(ctx, adminForms, s.ID)
		if err != nil || len(status) != 1 || len(status[0].Done) != 1 || len(status[0].Missing) != 0 {
			t.Errorf("the status after Ana's answers (as an admin): %v %+v", err, status)
		}
		items, err := f.svc.ParticipantForms(ctx, s, ana)
		if err != nil || len(items) != 1 || items[0].Assignment.Status != bridge.AssignmentDone {
			t.Errorf("Ana's package forms: %v %+v", err, items)
		}
	})
}
