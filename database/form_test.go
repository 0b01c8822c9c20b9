package database_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"github.com/telehealth-bridge/telehealth-bridge/database"
	"github.com/telehealth-bridge/telehealth-bridge/internal/dbtest"
)

// TestFormStorage: versions of a form keep their own definitions; an assignment and its
// response round-trip; of two submissions racing, one is stored and the other refused; the
// pending room notices are listed until recorded as posted.
func TestFormStorage(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.Database) {
		ctx := context.Background()
		store := db.Store()
		now := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
		def := func(title string) *bridge.FormDefinition {
			return &bridge.FormDefinition{Title: bridge.Text{"en": title}, Sections: []bridge.FormSection{{ID: "s", Fields: []bridge.FormField{
				{ID: "x", Type: bridge.FieldYesNo, Label: bridge.Text{"en": "X?", "fr": "X ?"}}}}}}
		}
		v1 := &bridge.Form{Version: 1, Definition: def("Zeta"), CreatedBy: "@dr:hs", CreatedAt: now}
		if err := store.InsertFormVersion(ctx, v1); err != nil {
			t.Fatal(err)
		}
		v2 := &bridge.Form{ID: v1.ID, Version: 2, Definition: def("Zeta two"), CreatedBy: "@dr:hs", CreatedAt: now.Add(time.Hour)}
		std := &bridge.Form{Version: 1, Standard: "phq9", Definition: def("PHQ"), CreatedBy: "@bot:hs", CreatedAt: now}
		for _, f := range []*bridge.Form{v2, std} {
			if err := store.InsertFormVersion(ctx, f); err != nil {
				t.Fatal(err)
			}
		}
		if err := store.InsertFormVersion(ctx, &bridge.Form{ID: v1.ID, Version: 2, Definition: def("Dup"), CreatedAt: now}); err == nil {
			t.Error("two version 2 of one form were stored")
		}
		if err := store.InsertFormVersion(ctx, &bridge.Form{Version: 1, Standard: "phq9", Definition: def("PHQ again"), CreatedAt: now}); err == nil {
			t.Error("the PHQ-9 was stored twice")
		}
		// New forms made at once each get their own ID.
		var made sync.WaitGroup
		madeErrs := make([]error, 8)
		for i := range madeErrs {
			made.Add(1)
			go func() {
				defer made.Done()
				madeErrs[i] = store.InsertFormVersion(ctx, &bridge.Form{Version: 1, Definition: def("Many"), CreatedBy: "@dr:hs", CreatedAt: now})
			}()
		}
		made.Wait()
		if err := errors.Join(madeErrs...); err != nil {
			t.Errorf("forms made at once: %v", err)
		}
		if got, err := store.FormVersion(ctx, v1.VersionID); err != nil || got.Definition.Title.In("en") != "Zeta" || got.Definition.Fields()[0].Label.In("fr") != "X ?" {
			t.Errorf("version 1: %+v %v", got, err)
		}
		if got, err := store.LatestForm(ctx, v1.ID); err != nil || got.Version != 2 || got.VersionID != v2.VersionID || !got.CreatedAt.Equal(v2.CreatedAt) {
			t.Errorf("latest: %+v %v", got, err)
		}
		all, err := store.LatestForms(ctx)
		if err != nil || len(all) != 10 || all[0].Standard != "phq9" || all[9].Version != 2 {
			t.Errorf("latest forms: %+v %v", all, err)
		}
		if _, err := store.StandardForm(ctx, "gad7"); !errors.Is(err, bridge.ErrFormNotFound) {
			t.Errorf("a missing standard form: %v", err)
		}

		c := &bridge.Client{DisplayName: "Ana", Locale: "en", TimeZone: "UTC", Reminders: bridge.RemindNone, CreatedAt: now, UpdatedAt: now}
		if err := store.InsertClient(ctx, c); err != nil {
			t.Fatal(err)
		}
		a := &bridge.FormAssignment{ClientID: c.ID, FormID: v1.ID, FormVersionID: v1.VersionID, AssignedBy: "@dr:hs", AssignedAt: now,
			Status: bridge.AssignmentToDo, UpdatedAt: now}
		if err := store.InsertAssignment(ctx, a); err != nil {
			t.Fatal(err)
		}
		if r, err := store.GetResponse(ctx, a.ID); r != nil || err != nil {
			t.Errorf("a response before any answer: %v %v", r, err)
		}
		if _, err := store.GetAssignment(ctx, a.ID+100); !errors.Is(err, bridge.ErrAssignmentNotFound) {
			t.Errorf("unknown assignment: %v", err)
		}
		draft := *a
		draft.Status, draft.UpdatedAt = bridge.AssignmentInProgress, now.Add(time.Minute)
		if err := store.SaveResponse(ctx, &draft, &bridge.FormResponse{AssignmentID: a.ID, FormVersionID: a.FormVersionID,
			Answers: bridge.Answers{"x": json.RawMessage(`true`)}, SavedAt: now.Add(time.Minute)}); err != nil {
			t.Fatal(err)
		}

		// Two submissions at once: one wins.
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				done := draft
				done.Status, done.SubmittedAt, done.SummaryPending, done.EventPending = bridge.AssignmentDone, now.Add(2*time.Minute), true, true
				errs[i] = store.SaveResponse(ctx, &done, &bridge.FormResponse{AssignmentID: a.ID, FormVersionID: a.FormVersionID,
					Answers: bridge.Answers{"x": json.RawMessage(`false`)}, Score: &bridge.FormScore{Score: 3, Max: 9, Band: bridge.Text{"en": "Mild"}},
					SavedAt: now.Add(2 * time.Minute), SubmittedAt: now.Add(2 * time.Minute)})
			}()
		}
		wg.Wait()
		if (errs[0] == nil) == (errs[1] == nil) || !errors.Is(errors.Join(errs...), bridge.ErrFormSubmitted) {
			t.Errorf("racing submissions: %v", errs)
		}
		got, err := store.GetAssignment(ctx, a.ID)
		if err != nil || got.Status != bridge.AssignmentDone || !got.SubmittedAt.Equal(now.Add(2*time.Minute)) || !got.SummaryPending {
			t.Errorf("submitted assignment: %+v %v", got, err)
		}
		r, err := store.GetResponse(ctx, a.ID)
		if err != nil || string(r.Answers["x"]) != "false" || r.Score.Score != 3 || r.Score.Band.In("fr") != "Mild" || !r.Submitted() {
			t.Errorf("response: %+v %v", r, err)
		}
		pending, err := store.PendingFormNotices(ctx)
		if err != nil || len(pending) != 1 || pending[0].ID != a.ID {
			t.Errorf("pending: %+v %v", pending, err)
		}
		if err := store.SetFormNoticesPending(ctx, a.ID, false, false); err != nil {
			t.Fatal(err)
		}
		if pending, _ := store.PendingFormNotices(ctx); len(pending) != 0 {
			t.Errorf("still pending: %+v", pending)
		}
		if list, err := store.ClientAssignments(ctx, c.ID); err != nil || len(list) != 1 {
			t.Errorf("client's assignments: %v %v", list, err)
		}
	})
}
