package appservice_test

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/telehealth-bridge/telehealth-bridge/appservice"
	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"github.com/telehealth-bridge/telehealth-bridge/internal/bridgetest"
)

// waitNotice waits for the bot's message in the clinician's control room that contains want.
func waitNotice(l *lobby, what, want string) *event.Event {
	l.t.Helper()
	return bridgetest.WaitMessage(l.t, l.clinician, l.control, wait, what, func(evt *event.Event) bool {
		return evt.Sender == l.bot() && strings.Contains(evt.Content.AsMessage().Body, want)
	})
}

// A client cancels a session, and asks to move another, from the portal: the clinician reads
// each in their control room (the client's name, the session, the times they would take; no
// reason, none was given), and the cancel's lifecycle event names the client as its actor.
func TestClientChangeNoticesInControlRoom(t *testing.T) {
	l := newLobby(t, "sqlite")
	ctx := context.Background()
	svc := l.env.App.Sessions
	clinician := l.clinician.UserID.String()
	c, err := svc.CreateClient(ctx, clinician, bridge.ClientRequest{DisplayName: "Jane Doe", Emails: []string{"jane@example.org"}, Locale: "en"})
	if err != nil {
		t.Fatal(err)
	}
	book := func(at time.Time) *bridge.Session {
		s, err := svc.Schedule(ctx, bridge.ScheduleRequest{Clinician: clinician, Start: at, End: at.Add(50 * time.Minute), TimeZone: "Europe/Paris",
			Participants: []bridge.ParticipantRequest{{ClientID: c.ID, Invite: bridge.InviteEmail}}})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	cancelled := book(time.Date(2026, 11, 27, 14, 0, 0, 0, time.UTC))
	moving := book(time.Date(2026, 11, 30, 14, 0, 0, 0, time.UTC))
	room := id.RoomID(cancelled.RoomID) // the clinician is in it, as when they scheduled it
	if _, err = l.clinician.JoinRoomByID(ctx, room); err != nil {
		t.Fatal(err)
	}
	if _, err = svc.CancelAsClient(ctx, c.ID, cancelled.ID); err != nil {
		t.Fatal(err)
	}
	evt := waitNotice(l, "the cancellation notice", "Cancelled from the client portal")
	for _, want := range []string{"Jane Doe", "session " + cancelled.ID, "Fri 27 Nov 2026 15:00 CET"} {
		if body := evt.Content.AsMessage().Body; !strings.Contains(body, want) {
			t.Errorf("the notice %q lacks %q", body, want)
		}
	}
	preferred := []time.Time{time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC), time.Date(2026, 12, 1, 16, 30, 0, 0, time.UTC)}
	if _, err = svc.RequestMove(ctx, c.ID, moving.ID, preferred); err != nil {
		t.Fatal(err)
	}
	evt = waitNotice(l, "the move request", "Move requested")
	for _, want := range []string{"Jane Doe", "session " + moving.ID, "Tue 1 Dec 2026 17:30 CET; Wed 2 Dec 2026 10:00 CET", "!reschedule " + moving.ID} {
		if body := evt.Content.AsMessage().Body; !strings.Contains(body, want) {
			t.Errorf("the notice %q lacks %q", body, want)
		}
	}
	// The session's room says who cancelled it: the client, by their record.
	bridgetest.WaitMessage(t, l.clinician, room, wait, "the cancellation's lifecycle event", func(evt *event.Event) bool {
		var life appservice.LifecycleContent
		_ = json.Unmarshal(evt.Content.VeryRaw, &life)
		return evt.Type.Type == appservice.LifecycleEventType.Type && life.Action == "session_cancelled" && life.Actor == bridge.ClientActor(c.ID)
	})
}

// The portal's picture of a professional is their Matrix avatar's thumbnail, fetched by the bot
// from the homeserver; someone without an avatar has none.
func TestAvatarThumbnail(t *testing.T) {
	l := newLobby(t, "sqlite")
	ctx := context.Background()
	img := image.NewRGBA(image.Rect(0, 0, 256, 256))
	for x := range 256 {
		for y := range 256 {
			img.Set(x, y, color.RGBA{R: uint8(x), G: 120, B: uint8(y), A: 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	if data, _, err := l.env.App.Matrix.Avatar(ctx, l.clinician.UserID.String()); err != nil || data != nil {
		t.Fatalf("before any avatar: %d bytes, %v", len(data), err)
	}
	up, err := l.clinician.UploadBytes(ctx, buf.Bytes(), "image/png")
	if err != nil {
		t.Fatal(err)
	}
	if err = l.clinician.SetAvatarURL(ctx, up.ContentURI); err != nil {
		t.Fatal(err)
	}
	data, ctype, err := l.env.App.Matrix.Avatar(ctx, l.clinician.UserID.String())
	if err != nil || len(data) == 0 || !strings.HasPrefix(ctype, "image/") {
		t.Fatalf("the avatar: %d bytes, %q, %v", len(data), ctype, err)
	}
	if _, _, err = image.Decode(bytes.NewReader(data)); err != nil {
		t.Errorf("the avatar is not a picture: %v", err)
	}
}
