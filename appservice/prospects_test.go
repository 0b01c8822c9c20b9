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

// TestProspectCommands: a sign-up is announced in the clinicians' control rooms (with the name
// in a private one, without it in one someone else was let into); !prospects lists who waits;
// !link-prospect links one to a record by number or by a name with one match; someone not a
// clinician is refused both, and learns no name.
func TestProspectCommands(t *testing.T) {
	l := newLobbyWith(t, bridgetest.Options{Config: func(v map[string]any) {
		v["permissions"] = map[string]any{"@dr.martin:localhost": "clinician", "@dr.other:localhost": "clinician"}
	}})
	ctx := context.Background()
	svc := l.env.App.Sessions

	// dr.other's control room is not private any more: a visitor was let in.
	other := l.env.User(t, "dr.other")
	otherRoom := roomWithBot(t, l.env, other)
	visitor := l.env.User(t, "visitor")
	if _, err := other.InviteUser(ctx, otherRoom, &mautrix.ReqInviteUser{UserID: visitor.UserID}); err != nil {
		t.Fatal(err)
	}
	// A patient booked with their Matrix account: the bot talks with them, as with no stranger.
	session := l.schedule(`2026-11-25 10:00 Europe/Paris "Vi Sitor" none`)
	if _, err := svc.Schedule(ctx, bridge.ScheduleRequest{
		Clinician: l.clinician.UserID.String(), Start: session.Start.Add(48 * time.Hour), End: session.End.Add(48 * time.Hour),
		TimeZone: "Europe/Paris", Participants: []bridge.ParticipantRequest{{Name: "Vi Sitor", MatrixID: visitor.UserID.String()}},
	}); err != nil {
		t.Fatal(err)
	}
	visitorRoom := roomWithBot(t, l.env, visitor)

	p, err := svc.SignUp(ctx, bridge.SignUpRequest{Name: "Anna Martin", Contact: bridge.PortalContact{Email: "anna@example.org"}, Locale: "fr", TimeZone: "Europe/Paris"})
	if err != nil {
		t.Fatal(err)
	}
	bridgetest.WaitMessage(t, l.clinician, l.control, wait, "the sign-up notice, named", func(evt *event.Event) bool {
		body := bridgetest.Shown(evt.Content.AsMessage().Body)
		return evt.Sender == l.bot() && strings.Contains(body, "New sign-up waiting to be confirmed: Anna Martin") &&
			strings.Contains(body, fmt.Sprintf("!link-prospect %d", p.ID))
	})
	bridgetest.WaitMessage(t, other, otherRoom, wait, "the sign-up notice, unnamed", func(evt *event.Event) bool {
		return evt.Sender == l.bot() && strings.Contains(evt.Content.AsMessage().Body, "New sign-up waiting to be confirmed: open the panel")
	})
	for _, e := range append(bridgetest.Messages(t, other, otherRoom), bridgetest.Messages(t, visitor, visitorRoom)...) {
		if strings.Contains(e.Content.AsMessage().Body, "Anna") {
			t.Errorf("a name where someone else reads: %q", e.Content.AsMessage().Body)
		}
	}

	// Someone not a clinician: refused, no name.
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
	for _, cmd := range []string{"!prospects", fmt.Sprintf("!link-prospect %d Anna", p.ID)} {
		if body := ask(visitor, visitorRoom, cmd, "Only the clinic's clinicians"); strings.Contains(body, "Anna") {
			t.Errorf("%s answered a visitor with %q", cmd, body)
		}
	}

	l.command("!prospects", fmt.Sprintf("%d · Anna Martin · anna@example.org", p.ID))
	if !l.env.Audited(t, l.clinician.UserID.String(), bridge.AuditParticipantDataViewed, "", map[string]string{"view": "prospects", "via": "matrix"}) {
		t.Error("!prospects is not in the audit trail")
	}
	l.command("!link-prospect", "Usage: !link-prospect")
	l.command("!link-prospect x 1", "Usage: !link-prospect")

	// Two records of dr.martin's named Anna: a name must match one.
	first, err := svc.CreateClient(ctx, l.clinician.UserID.String(), bridge.ClientRequest{DisplayName: "Anna Martin", Phones: []string{"+33612345678"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err = svc.CreateClient(ctx, l.clinician.UserID.String(), bridge.ClientRequest{DisplayName: "Anna Petit"}); err != nil {
		t.Fatal(err)
	}
	theirs, err := svc.CreateClient(ctx, other.UserID.String(), bridge.ClientRequest{DisplayName: "Zoé Autre"})
	if err != nil {
		t.Fatal(err)
	}
	l.command(fmt.Sprintf("!link-prospect %d Anna", p.ID), "More than one client matches")
	l.command(fmt.Sprintf("!link-prospect %d Nobody", p.ID), "No client of yours matches")
	l.command(fmt.Sprintf("!link-prospect %d #%d", p.ID, theirs.ID), fmt.Sprintf("There is no client record %d of yours", theirs.ID))
	l.command(fmt.Sprintf("!link-prospect %d anna mar", p.ID), fmt.Sprintf("Prospect %d is linked to client #%d Anna Martin", p.ID, first.ID))
	if got, _ := svc.Client(ctx, l.clinician.UserID.String(), first.ID); got == nil || len(got.Emails) != 1 || got.Emails[0] != "anna@example.org" {
		t.Errorf("the record after the link: %+v", got)
	}
	if !l.env.Audited(t, l.clinician.UserID.String(), bridge.AuditProspectLinked, "", map[string]string{"client": fmt.Sprint(first.ID), "via": "matrix"}) {
		t.Error("the link is not in the audit trail")
	}
	l.command(fmt.Sprintf("!link-prospect %d #%d", p.ID, first.ID), "is not waiting")
	l.command("!prospects", "Nobody is waiting to be confirmed.")
}
