package appservice_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"github.com/telehealth-bridge/telehealth-bridge/internal/bridgetest"
)

// TestAssignFormCommand: !assign-form gives a client a form by the client's number or name and
// the form's number or title, for the clinicians who may see the client (and admins); another
// clinician's client reads as no client; a patient is refused; typed in a session room, the
// answer (which names the client) goes to the direct chat.
func TestAssignFormCommand(t *testing.T) {
	l := newLobbyWith(t, bridgetest.Options{Config: func(v map[string]any) {
		v["permissions"] = map[string]any{"@dr.martin:localhost": "clinician", "@dr.other:localhost": "clinician", "@dr.admin:localhost": "admin"}
	}})
	ctx := context.Background()
	svc := l.env.App.Sessions
	dr := l.clinician.UserID.String()
	s := l.schedule(`2026-11-25 10:00 Europe/Paris "Jane Doe" email jane@example.org`)
	_, ps, _ := svc.Lobby(ctx, "", s.ID)
	jane := ps[0].ClientID
	count := func() int {
		t.Helper()
		list, err := svc.ClientForms(ctx, dr, jane)
		if err != nil {
			t.Fatal(err)
		}
		return len(list)
	}

	l.command("!assign-form jane doe phq-9", "Assigned PHQ-9 (Patient Health Questionnaire) (version 1) to #")
	l.command(fmt.Sprintf("!assign-form #%d GAD-7", jane), "Jane Doe: it is on their portal's to-do list")
	if n := count(); n != 2 {
		t.Fatalf("%d forms assigned, want 2", n)
	}
	if !l.env.Audited(t, dr, bridge.AuditFormAssigned, "", map[string]string{"via": "matrix"}) {
		t.Error("the assignment is not in the audit trail")
	}
	l.command("!assign-form jane nothing-like-it", "Could not find the form: no such form")
	l.command("!assign-form nobody PHQ-9", `no client of yours matches "nobody"`)
	l.command("!assign-form 99999 PHQ-9", "no client of yours is number 99999")
	l.command("!assign-form jane", "Which client and which form?")

	ask := func(who *mautrix.Client, room id.RoomID, cmd, want string) string {
		t.Helper()
		resp, err := who.SendText(ctx, room, cmd)
		if err != nil {
			t.Fatal(err)
		}
		evt := bridgetest.WaitMessage(t, who, room, wait, fmt.Sprintf("the answer to %q", cmd), func(evt *event.Event) bool {
			msg := evt.Content.AsMessage()
			return evt.Sender == l.bot() && msg.RelatesTo.GetReplyTo() == resp.EventID && strings.Contains(bridgetest.Shown(msg.Body), want)
		})
		return evt.Content.AsMessage().Body
	}
	// Another clinician: Jane is no client of theirs, by number or by name.
	other := l.env.User(t, "dr.other")
	otherRoom := roomWithBot(t, l.env, other)
	ask(other, otherRoom, fmt.Sprintf("!assign-form #%d PHQ-9", jane), fmt.Sprintf("no client of yours is number %d", jane))
	if body := ask(other, otherRoom, "!assign-form jane PHQ-9", "no client of yours matches"); strings.Contains(body, "Doe") {
		t.Errorf("another clinician learns the client's name: %q", body)
	}
	if n := count(); n != 2 {
		t.Errorf("another clinician assigned a form: %d", n)
	}
	// An admin may.
	admin := l.env.User(t, "dr.admin")
	ask(admin, roomWithBot(t, l.env, admin), fmt.Sprintf("!assign-form #%d PHQ-9", jane), "Assigned PHQ-9")
	// A patient (booked with their Matrix account, so the bot talks with them) is refused.
	patient := l.env.User(t, "jane")
	if _, err := svc.Schedule(ctx, bridge.ScheduleRequest{
		Clinician: dr, Start: s.Start.Add(48 * time.Hour), End: s.End.Add(48 * time.Hour),
		TimeZone: "Europe/Paris", Participants: []bridge.ParticipantRequest{{Name: "Jane Doe", MatrixID: patient.UserID.String()}},
	}); err != nil {
		t.Fatal(err)
	}
	ask(patient, roomWithBot(t, l.env, patient), fmt.Sprintf("!assign-form #%d PHQ-9", jane), "Only the clinic's clinicians")
	if n := count(); n != 3 {
		t.Errorf("%d forms assigned, want 3 (the admin's)", n)
	}

	// In the session room (where the client may be): only the pointer to the direct chat.
	resp, err := l.clinician.SendText(ctx, id.RoomID(s.RoomID), fmt.Sprintf("!assign-form #%d GAD-7", jane))
	if err != nil {
		t.Fatal(err)
	}
	bridgetest.WaitMessage(t, l.clinician, id.RoomID(s.RoomID), wait, "the pointer to the direct chat", func(evt *event.Event) bool {
		msg := evt.Content.AsMessage()
		return evt.Sender == l.bot() && msg.RelatesTo.GetReplyTo() == resp.EventID && strings.Contains(msg.Body, "direct chat")
	})
	bridgetest.Eventually(t, wait, "the fourth assignment", func() bool { return count() == 4 })
	bridgetest.WaitMessage(t, l.clinician, l.control, wait, "the confirmation in the control room", func(evt *event.Event) bool {
		return evt.Sender == l.bot() && strings.Contains(bridgetest.Shown(evt.Content.AsMessage().Body), "Assigned GAD-7") &&
			strings.Contains(evt.Content.AsMessage().Body, "(assignment 4)")
	})
	for _, e := range bridgetest.Messages(t, l.clinician, id.RoomID(s.RoomID)) {
		if e.Sender == l.bot() && strings.Contains(e.Content.AsMessage().Body, "Jane Doe") {
			t.Errorf("the client's name was posted in the session room: %q", e.Content.AsMessage().Body)
		}
	}
}
