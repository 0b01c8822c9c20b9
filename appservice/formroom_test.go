package appservice_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"github.com/telehealth-bridge/telehealth-bridge/internal/bridgetest"
)

// TestSubmittedFormReachesTheMessagesRoom: a client submits the GAD-7 in their portal; the
// professional reads a summary with the score (and no answer) in the client's Messages room,
// and integrators get org.telehealthbridge.form_response with the answers there.
func TestSubmittedFormReachesTheMessagesRoom(t *testing.T) {
	l := newLobby(t, "sqlite")
	ctx := context.Background()
	svc := l.env.App.Sessions
	martin := l.clinician.UserID.String()
	c, err := svc.CreateClient(ctx, martin, bridge.ClientRequest{DisplayName: "Jane Doe", Emails: []string{"jane@example.org"}, Professionals: []string{martin}})
	if err != nil {
		t.Fatal(err)
	}
	form, err := svc.FindForm(ctx, martin, "GAD-7")
	if err != nil {
		t.Fatal(err)
	}
	a, _, err := svc.AssignForm(ctx, martin, c.ID, form.ID)
	if err != nil {
		t.Fatal(err)
	}
	answers := bridge.Answers{}
	for i := 1; i <= 7; i++ {
		answers[fmt.Sprintf("q%d", i)] = json.RawMessage(`"2"`)
	}
	if _, _, err = svc.SaveFormAnswers(ctx, c.ID, a.ID, answers, "en", true); err != nil {
		t.Fatal(err)
	}

	var room id.RoomID
	bridgetest.Eventually(t, wait, "the client's Messages room", func() bool {
		got, err := l.env.App.DB.Client.Get(ctx, c.ID)
		room = id.RoomID(got.MessagesRoom)
		return err == nil && room != "" && l.membership(room.String(), l.clinician.UserID).Membership == event.MembershipInvite
	})
	if _, err = l.clinician.JoinRoomByID(ctx, room); err != nil {
		t.Fatal(err)
	}
	// History is "joined": what the bot posted before the professional joined is not theirs to
	// read, so the bot reads it for the check (as the panel does).
	var notice, response *event.Event
	bridgetest.Eventually(t, wait, "the summary and the response event", func() bool {
		notice, response = nil, nil
		for _, evt := range bridgetest.Messages(t, l.env.App.Matrix.AS.BotClient(), room) {
			switch {
			case evt.Type == event.EventMessage && evt.Content.AsMessage().MsgType == event.MsgNotice:
				notice = evt
			case evt.Type.Type == bridge.FormResponseEventType:
				response = evt
			}
		}
		return notice != nil && response != nil
	})
	body := notice.Content.AsMessage().Body
	if !strings.Contains(body, "Score 14/21") || strings.Contains(body, "More than half the days") {
		t.Errorf("the summary: %q (want the score, no answer)", body)
	}
	if !strings.Contains(string(response.Content.VeryRaw), "q7") {
		t.Errorf("the response event holds no answers: %s", response.Content.VeryRaw)
	}
	if n, err := svc.SendPendingFormNotices(ctx); err != nil || n != 0 {
		t.Errorf("%d notices still pending after posting (%v)", n, err)
	}
	if th, err := l.env.App.DB.MessageThread.Get(ctx, c.ID); err == nil && th.Unread != 0 {
		t.Errorf("the summary counts as %d unread message(s) for the client", th.Unread)
	}
}
