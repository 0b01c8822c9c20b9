package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"image"
	"image/color"
	"image/png"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"github.com/telehealth-bridge/telehealth-bridge/database"
	"github.com/telehealth-bridge/telehealth-bridge/internal/bridgetest"
	"github.com/telehealth-bridge/telehealth-bridge/internal/smtptest"
)

// TestPortalCancelInTheBrowser (e2e/portal-cancel.mjs): Jane, signed in to her portal, cancels
// next Friday's session (a confirm dialog first) and sees it said cancelled, and asks to move
// next Tuesday's to two times that suit her (the clinician reads them), and moves Wednesday's
// into one of Dr Martin's free slots herself; today's is too
// close to change online, so the portal says to call the clinic. Her professional shows with
// their Matrix picture. Her own session link, opened in her browser, lands in her portal on
// that session, from which Join opens the session's page once its waiting room is open; the
// same link in a signed-out browser, or in Leo's, keeps its page. The clinician reads the
// cancellation in their control room (through Dendrite), and the outbox sends Jane its notice.
func TestPortalCancelInTheBrowser(t *testing.T) {
	mail := smtptest.Start(t)
	h := newHarnessWith(t, func(cfg map[string]any, _ string) {
		cfg["notifications.clinic_phone"] = "+33123456789"
		cfg["notifications.email.host"] = mail.Host
		cfg["notifications.email.port"] = mail.Port
		cfg["notifications.email.tls"] = "none"
		cfg["notifications.email.from"] = "Cabinet Martin <rdv@cabinet.example>"
		// The clock jumps to the waiting room's opening: the sign-in outlasts it.
		cfg["portal.idle"] = "24h"
		cfg["portal.max_age"] = "48h"
	})
	ctx := context.Background()
	dr := h.clinician.UserID.String()

	// Dr Martin's Matrix picture.
	img := image.NewRGBA(image.Rect(0, 0, 128, 128))
	for x := range 128 {
		for y := range 128 {
			img.Set(x, y, color.RGBA{R: 30, G: uint8(100 + x), B: uint8(120 + y/2), A: 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	up, err := h.clinician.UploadBytes(ctx, buf.Bytes(), "image/png")
	if err != nil {
		t.Fatal(err)
	}
	if err = h.clinician.SetAvatarURL(ctx, up.ContentURI); err != nil {
		t.Fatal(err)
	}

	ids := map[string]int64{}
	for name, req := range map[string]bridge.ClientRequest{
		"JANE": {DisplayName: "Jane Doe", Emails: []string{"jane@example.org"}, Locale: "en", TimeZone: "Europe/Paris", Professionals: []string{dr}},
		"LEO":  {DisplayName: "Leo Roux", Emails: []string{"leo@example.org"}, Locale: "fr", TimeZone: "Europe/Paris", Professionals: []string{dr}},
	} {
		c, err := h.env.App.Sessions.CreateClient(ctx, dr, req)
		if err != nil {
			t.Fatal(err)
		}
		ids[name] = c.ID
		// Signed in to the portal as a sign-in stores it; the scenario sets the cookie.
		token := "e2e-portal-cancel-" + name
		sum := sha256.Sum256([]byte(token))
		now := h.clock.Now()
		if err = h.env.App.DB.PortalSession.Insert(ctx, &database.PortalSession{TokenHash: hex.EncodeToString(sum[:]), ClientID: c.ID,
			CreatedAt: now, LastSeen: now, IdleExpiresAt: now.Add(12 * time.Hour), ExpiresAt: now.Add(12 * time.Hour)}); err != nil {
			t.Fatal(err)
		}
		t.Setenv("PORTAL_TOKEN_"+name, token)
	}
	// Dr Martin takes 50-minute video consultations online, weekday mornings in Paris.
	av := &bridge.Availability{TimeZone: "Europe/Paris", SelfScheduling: true, MinNotice: 24 * time.Hour, Horizon: 30 * 24 * time.Hour,
		Types: []bridge.SessionType{{Name: "Consultation", Duration: 50 * time.Minute, Kind: bridge.KindVideo}}}
	for d := time.Monday; d <= time.Friday; d++ {
		av.Hours = append(av.Hours, bridge.WeeklyHours{Day: d, Start: 9 * 60, End: 12 * 60})
	}
	if err = h.env.App.Sessions.SetAvailability(ctx, dr, av); err != nil {
		t.Fatal(err)
	}
	// book books Jane, for 50 minutes (a consultation she can move into a free slot herself)
	// or for an hour (no such consultation: she asks to move it).
	book := func(at time.Time, length ...time.Duration) (*bridge.Session, string) {
		d := 50 * time.Minute
		if len(length) > 0 {
			d = length[0]
		}
		s, err := h.env.App.Sessions.Schedule(ctx, bridge.ScheduleRequest{Clinician: dr, Start: at, End: at.Add(d), TimeZone: "Europe/Paris",
			Participants: []bridge.ParticipantRequest{{ClientID: ids["JANE"], Invite: bridge.InviteEmail}}})
		if err != nil {
			t.Fatal(err)
		}
		_, ps, _ := h.env.App.Sessions.Lobby(ctx, "", s.ID)
		link, err := h.env.App.Web.ParticipantLink(ctx, s, ps[0])
		if err != nil {
			t.Fatal(err)
		}
		return s, link
	}
	today, todayLink := book(time.Date(2026, 11, 24, 14, 0, 0, 0, time.UTC))
	friday, _ := book(time.Date(2026, 11, 27, 14, 0, 0, 0, time.UTC))
	later, _ := book(time.Date(2026, 12, 1, 14, 0, 0, 0, time.UTC), time.Hour)
	movable, _ := book(time.Date(2026, 12, 2, 14, 0, 0, 0, time.UTC))
	t.Setenv("LATER_ID", later.ID)
	t.Setenv("MOVABLE_ID", movable.ID)
	t.Setenv("TODAY_ID", today.ID)
	t.Setenv("FRIDAY_ID", friday.ID)
	t.Setenv("TODAY_LINK", todayLink)
	// Jane is told of both bookings: told of Friday's, she will be told it is cancelled.
	h.clock.Advance(time.Second) // the sender's next round
	mail.WaitFor(t, 4, 15*time.Second)

	h.run("portal-cancel.mjs")

	if s, _ := h.env.App.Sessions.Session(ctx, friday.ID); s.Status != bridge.StatusCancelled {
		t.Errorf("Friday's session is %s", s.Status)
	}
	if s, _ := h.env.App.Sessions.Session(ctx, today.ID); s.Status == bridge.StatusCancelled {
		t.Errorf("today's session was cancelled")
	}
	// The clinician reads it in their control room, as Element would show it.
	room, err := h.env.App.DB.ControlRoom.Get(ctx, dr)
	if err != nil || room == "" {
		t.Fatalf("no control room for the clinician: %q %v", room, err)
	}
	if _, err = h.clinician.JoinRoomByID(ctx, id.RoomID(room)); err != nil {
		t.Fatal(err)
	}
	evt := bridgetest.WaitMessage(t, h.clinician, id.RoomID(room), 15*time.Second, "the cancellation notice", func(evt *event.Event) bool {
		return evt.Sender == h.env.App.Matrix.Bot() && strings.Contains(evt.Content.AsMessage().Body, "Cancelled from the client portal")
	})
	for _, want := range []string{"Jane Doe", "session " + friday.ID, "Fri 27 Nov 2026 15:00 CET"} {
		if body := evt.Content.AsMessage().Body; !strings.Contains(body, want) {
			t.Errorf("the notice %q lacks %q", body, want)
		}
	}
	// And reads the times Jane would take instead of next Tuesday's.
	evt = bridgetest.WaitMessage(t, h.clinician, id.RoomID(room), 15*time.Second, "the move request", func(evt *event.Event) bool {
		return evt.Sender == h.env.App.Matrix.Bot() && strings.Contains(evt.Content.AsMessage().Body, "Move requested from the client portal")
	})
	for _, want := range []string{"Jane Doe", "session " + later.ID, "Thu 3 Dec 2026 10:30 CET; Fri 4 Dec 2026 16:00 CET"} {
		if body := evt.Content.AsMessage().Body; !strings.Contains(body, want) {
			t.Errorf("the notice %q lacks %q", body, want)
		}
	}
	if s, _ := h.env.App.Sessions.Session(ctx, later.ID); s.Status != bridge.StatusScheduled || !s.Start.Equal(later.Start) {
		t.Errorf("the session asked to move moved by itself: %+v", s)
	}
	// And that Jane moved Wednesday's into one of the free slots: the old one is cancelled, the
	// new one is hers.
	evt = bridgetest.WaitMessage(t, h.clinician, id.RoomID(room), 15*time.Second, "the move", func(evt *event.Event) bool {
		return evt.Sender == h.env.App.Matrix.Bot() && strings.Contains(evt.Content.AsMessage().Body, "Moved from the client portal")
	})
	if body := evt.Content.AsMessage().Body; !strings.Contains(body, "session "+movable.ID) || !strings.Contains(body, "Wed 2 Dec 2026 15:00 CET") {
		t.Errorf("the move notice: %q", body)
	}
	if s, _ := h.env.App.Sessions.Session(ctx, movable.ID); s.Status != bridge.StatusCancelled {
		t.Errorf("the session moved from is %s", s.Status)
	}
	if !h.env.Audited(t, bridge.ClientActor(ids["JANE"]), bridge.AuditClientMoved, movable.ID, nil) {
		t.Errorf("the move is not in the audit trail as Jane's")
	}
	// Jane's reminders are withdrawn, and she is sent the cancellation (no name in its subject).
	h.clock.Advance(time.Second) // the sender's next round
	var subject string
	bridgetest.Eventually(t, 15*time.Second, "the cancellation email", func() bool {
		for _, m := range mail.Messages() {
			for _, line := range strings.Split(string(m.Data), "\r\n") {
				if strings.HasPrefix(line, "Subject: ") && strings.Contains(strings.ToLower(line), "cancel") {
					subject = line
					return true
				}
			}
		}
		return false
	})
	if strings.Contains(subject, "Jane") || strings.Contains(subject, "Martin") {
		t.Errorf("the cancellation email's subject names someone: %q", subject)
	}
	planned, err := h.env.App.DB.Outbox.ForSession(ctx, friday.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range planned {
		if n.Kind == bridge.NoticeReminder && n.Status == bridge.NotificationPending {
			t.Errorf("a reminder is still planned: %+v", n)
		}
	}
	if !h.env.Audited(t, bridge.ClientActor(ids["JANE"]), bridge.AuditCancel, friday.ID, nil) {
		t.Errorf("the cancel is not in the audit trail as Jane's")
	}
}
