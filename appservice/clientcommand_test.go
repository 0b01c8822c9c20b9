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

// TestClientCommand: !client finds the records a clinician may see, in their control room;
// another clinician finds nothing of theirs; an admin finds every record; a patient is refused,
// and in a session room the answer goes to the control room, never to the room.
func TestClientCommand(t *testing.T) {
	l := newLobbyWith(t, bridgetest.Options{Config: func(v map[string]any) {
		v["permissions"] = map[string]any{"@dr.martin:localhost": "clinician", "@dr.other:localhost": "clinician", "@dr.admin:localhost": "admin"}
	}})
	ctx := context.Background()
	janeSession := l.schedule(`2026-11-25 10:00 Europe/Paris "Jane Doe" email jane@example.org`)
	l.schedule(`2026-11-26 10:00 Europe/Paris "Leo Doe" email jane@example.org`)

	// One match: the record and the sessions; audited as a view of that record.
	l.command("!client jane d", "Jane Doe · jane@example.org")
	l.command("!client JANE DOE", janeSession.ID)
	l.command("!client JANE DOE", "Client portal: not open")
	_, ps, _ := l.env.App.Sessions.Lobby(ctx, "", janeSession.ID)
	if !l.env.Audited(t, l.clinician.UserID.String(), bridge.AuditParticipantDataViewed, "", map[string]string{"view": "client", "via": "matrix"}) {
		t.Error("!client's view of a record is not in the audit trail")
	}
	// Several: the list, siblings sharing an email are two records.
	l.command("!client jane@", "Clients matching")
	l.command("!client jane@", fmt.Sprintf("#%d · Jane Doe", ps[0].ClientID))
	l.command("!client jane@", "Leo Doe · jane@example.org")
	l.command("!client nobody", "No client of yours matches")
	l.command("!client", "Whom?")

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
	other := l.env.User(t, "dr.other")
	otherRoom := roomWithBot(t, l.env, other)
	for _, q := range []string{"jane", "jane@example.org", "Leo", "d"} {
		if body := ask(other, otherRoom, "!client "+q, "No client of yours matches"); strings.Contains(body, "example.org") && q != "jane@example.org" {
			t.Errorf("another clinician's answer shows a contact: %q", body)
		}
	}
	admin := l.env.User(t, "dr.admin")
	ask(admin, roomWithBot(t, l.env, admin), "!client jane d", janeSession.ID)

	// A patient booked with their Matrix account: refused, whatever they ask.
	patient := l.env.User(t, "jane")
	if _, err := l.env.App.Sessions.Schedule(ctx, bridge.ScheduleRequest{
		Clinician: l.clinician.UserID.String(), Start: janeSession.Start.Add(48 * time.Hour), End: janeSession.End.Add(48 * time.Hour),
		TimeZone: "Europe/Paris", Participants: []bridge.ParticipantRequest{{Name: "Jane Doe", MatrixID: patient.UserID.String()}},
	}); err != nil {
		t.Fatal(err)
	}
	if body := ask(patient, roomWithBot(t, l.env, patient), "!client jane", "Only the clinic's clinicians"); strings.Contains(body, "example.org") {
		t.Errorf("the patient's answer: %q", body)
	}

	// Typed in the session room (where the client may be): only "sent to our direct chat" there.
	resp, err := l.clinician.SendText(ctx, id.RoomID(janeSession.RoomID), "!client jane d")
	if err != nil {
		t.Fatal(err)
	}
	bridgetest.WaitMessage(t, l.clinician, id.RoomID(janeSession.RoomID), wait, "the pointer to the direct chat", func(evt *event.Event) bool {
		msg := evt.Content.AsMessage()
		return evt.Sender == l.bot() && msg.RelatesTo.GetReplyTo() == resp.EventID && strings.Contains(msg.Body, "direct chat")
	})
	bridgetest.WaitMessage(t, l.clinician, l.control, wait, "the record in the control room", func(evt *event.Event) bool {
		return evt.Sender == l.bot() && strings.Contains(bridgetest.Shown(evt.Content.AsMessage().Body), janeSession.ID)
	})
	for _, e := range bridgetest.Messages(t, l.clinician, id.RoomID(janeSession.RoomID)) {
		if e.Sender == l.bot() && strings.Contains(e.Content.AsMessage().Body, "jane@example.org") {
			t.Errorf("the record was posted in the session room: %q", e.Content.AsMessage().Body)
		}
	}
}
