package scheduler_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"github.com/telehealth-bridge/telehealth-bridge/database"
	"github.com/telehealth-bridge/telehealth-bridge/internal/dbtest"
	"github.com/telehealth-bridge/telehealth-bridge/scheduler"
)

// Matrix messages exist in both languages for every kind but the telephone introduction (SMS
// only), never name the participant, carry the room's link only with the waiting room's
// opening, and show a clinic's name as text in their HTML.
func TestMatrixMessagesRender(t *testing.T) {
	paris := mustLoad(t, "Europe/Paris")
	start := time.Date(2026, 9, 30, 22, 0, 0, 0, paris)
	const room = "https://matrix.to/#/%21abc%3Aclinique.example?via=clinique.example"
	for _, locale := range []string{"en", "fr"} {
		for _, kind := range allKinds {
			n := testNotice(kind, locale, "", start)
			n.Link = ""
			n.Clinic.Name = `Clinique <b>du</b> "Parc"`
			m, err := scheduler.RenderMatrix(n, room)
			if kind == bridge.NoticePhoneIntro {
				if err == nil {
					t.Errorf("%s %s: a telephone introduction rendered for Matrix", locale, kind)
				}
				continue
			}
			if err != nil {
				t.Fatalf("%s %s: %v", locale, kind, err)
			}
			if strings.Contains(m.Text, "Jeanne") || strings.Contains(m.Text, "Dupont") {
				t.Errorf("%s %s names the participant: %q", locale, kind, m.Text)
			}
			if strings.Contains(m.HTML, "<b>du</b>") || !strings.Contains(m.HTML, "&lt;b&gt;du&lt;/b&gt;") {
				t.Errorf("%s %s: the clinic's name is not escaped in %q", locale, kind, m.HTML)
			}
			if got := strings.Contains(m.Text, room); got != (kind == bridge.NoticeWindowOpen) {
				t.Errorf("%s %s carries the room's link: %v (%q)", locale, kind, got, m.Text)
			}
			if at := map[string]string{"en": "10:00 PM", "fr": "22:00"}[locale]; !strings.Contains(m.Text, at) {
				t.Errorf("%s %s does not say the time: %q", locale, kind, m.Text)
			}
		}
	}
	fr, _ := scheduler.RenderMatrix(testNotice(bridge.NoticeWindowOpen, "fr", "", start), room)
	en, _ := scheduler.RenderMatrix(testNotice(bridge.NoticeWindowOpen, "en", "", start), room)
	if !strings.Contains(fr.Text, "Demander à rejoindre") || !strings.Contains(en.Text, "Ask to join") {
		t.Errorf("the opening does not say how to ask to join:\n%s\n%s", fr.Text, en.Text)
	}
	if _, err := scheduler.RenderMatrix(testNotice(bridge.NoticeWindowOpen, "en", "", start), ""); err == nil {
		t.Error("an opening without a room rendered")
	}
}

// fakeMatrix is the Matrix side for planning: @ghost_ IDs are the bridge's guests.
type fakeMatrix struct{}

func (fakeMatrix) OwnAccount(userID string) bool { return !strings.HasPrefix(userID, "@ghost_") }
func (fakeMatrix) RoomLink(roomID string) string { return "https://matrix.to/#/" + roomID }
func (fakeMatrix) SendDirect(context.Context, string, scheduler.MatrixMessage) (string, error) {
	return "$event", nil
}

// Someone booked with their own Matrix account is planned on Matrix too, whatever their
// invitation mode; a web guest's ghost never is; a participant whose account is taken off the
// booking has their Matrix rows cancelled.
func TestPlanMatrixAccounts(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.Database) {
		ctx := context.Background()
		clock := clockwork.NewFakeClockAt(booked)
		nt := newNotifier(db, clock, nil, nil)
		nt.UseMatrix(fakeMatrix{})
		start := time.Date(2026, 3, 24, 14, 0, 0, 0, time.UTC)
		s, ps := book(t, db, "plmx01", start, bridge.KindVideo)
		ps[1].MatrixID = "@john:hs"     // email and Matrix
		ps[2].MatrixID = "@ghost_x1:hs" // a web guest who knocked
		for _, p := range ps[1:] {
			if err := db.Store().UpdateParticipant(ctx, p); err != nil {
				t.Fatal(err)
			}
		}
		if err := nt.Plan(ctx, s); err != nil {
			t.Fatal(err)
		}
		p1, p2 := fmt.Sprintf("p%d", ps[0].ID), fmt.Sprintf("p%d", ps[1].ID)
		expect(t, outline(t, db, s.ID),
			p1+" confirmation sms pending 03-20T09:00", p1+" reminder sms pending 03-23T14:00", p1+" window_open sms pending 03-24T13:30",
			p2+" confirmation email pending 03-20T09:00", p2+" reminder email pending 03-23T14:00", p2+" window_open email pending 03-24T13:30",
			p2+" confirmation matrix pending 03-20T09:00", p2+" reminder matrix pending 03-23T14:00", p2+" window_open matrix pending 03-24T13:30",
		)
		ps[1].MatrixID = ""
		if err := db.Store().UpdateParticipant(ctx, ps[1]); err != nil {
			t.Fatal(err)
		}
		if err := nt.Plan(ctx, s); err != nil {
			t.Fatal(err)
		}
		expect(t, outline(t, db, s.ID),
			p1+" confirmation sms pending 03-20T09:00", p1+" reminder sms pending 03-23T14:00", p1+" window_open sms pending 03-24T13:30",
			p2+" confirmation email pending 03-20T09:00", p2+" reminder email pending 03-23T14:00", p2+" window_open email pending 03-24T13:30",
			p2+" confirmation matrix cancelled 03-20T09:00", p2+" reminder matrix cancelled 03-23T14:00", p2+" window_open matrix cancelled 03-24T13:30",
		)
	})
}
