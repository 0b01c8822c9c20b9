package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"maunium.net/go/mautrix/event"

	"github.com/telehealth-bridge/telehealth-bridge/internal/bridgetest"
	"github.com/telehealth-bridge/telehealth-bridge/web"
)

// A telephone session is booked from the panel with any invitation; its card carries
// "phone" and the number to call (the clinician's panel only); the client's page has no Join
// and shows their number masked; the !sessions answer names the number.
func TestTelephoneSessionFromThePanel(t *testing.T) {
	s := newSite(t)
	control := roomWithBot(t, s)
	s.login(control)

	form := web.ScheduleForm{Date: "2026-11-24", Time: "15:00", TimeZone: "Europe/Paris", Name: "Jane Doe", Kind: "phone",
		Invite: "email", Email: "jd@example.org", Locale: "fr", ParticipantZone: "Europe/Paris"}
	var e apiErr
	// Today's bug: a telephone session with an email invitation answered 500.
	if code := s.call("POST", "/api/panel/sessions", "", form, &e); code != http.StatusBadRequest || e.Code != "field:phone" {
		t.Errorf("telephone session without a number: %d %+v", code, e)
	}
	form.Phone = "+33 6 12 34 56 12"
	var created web.PanelSession
	if code := s.call("POST", "/api/panel/sessions", "", form, &created); code != 200 {
		t.Fatalf("telephone session with an email invitation: %d", code)
	}
	if created.Session.Kind != "phone" || len(created.Participants) != 1 || created.Participants[0].Phone != "+33 6 12 34 56 12" {
		t.Errorf("panel card data: %+v", created)
	}
	// The same with no invitation at all.
	form.Invite, form.Email = "none", ""
	if code := s.call("POST", "/api/panel/sessions", "", form, &e); code != 200 {
		t.Errorf("telephone session without invitation: %d %+v", code, e)
	}

	// The client's page: the number masked, no Join, not even in the window.
	ctx := context.Background()
	sess, _ := s.env.App.Sessions.Session(ctx, created.Session.ID)
	_, ps, _ := s.env.App.Sessions.Lobby(ctx, "", sess.ID)
	link, err := s.env.App.Web.ParticipantLink(ctx, sess, ps[0])
	if err != nil {
		t.Fatal(err)
	}
	token := link[strings.LastIndex(link, "/")+1:]
	var st web.CallState
	if code := s.call("GET", "/api/call/state", token, nil, &st); code != 200 {
		t.Fatalf("state: %d", code)
	}
	if st.Me.PhoneMasked != "+33 6 •• •• •• 12" || st.Session.Kind != "phone" || st.Me.CanKnock {
		t.Errorf("client's state: %+v", st.Me)
	}
	if strings.Contains(jsonText(st), "12 34 56") || strings.Contains(jsonText(st), "+3361234") {
		t.Errorf("the client's page carries the whole number: %s", jsonText(st))
	}
	s.openWindow(sess)
	s.call("GET", "/api/call/state", token, nil, &st)
	if st.Me.CanKnock {
		t.Error("a telephone session's client may knock")
	}
	if code := s.call("POST", "/api/call/knock", token, map[string]string{"name": "Jane"}, &e); code != http.StatusConflict || e.Code != "phone_session" {
		t.Errorf("knock on a telephone session: %d %+v", code, e)
	}

	// !sessions names the kind and the number to call, in the control room.
	if _, err := s.clinician.SendText(ctx, control, "!sessions"); err != nil {
		t.Fatal(err)
	}
	bridgetest.WaitMessage(t, s.clinician, control, wait, "the sessions list", func(evt *event.Event) bool {
		body := evt.Content.AsMessage().Body
		return strings.Contains(body, sess.ID+" · ") && strings.Contains(body, "Telephone") && strings.Contains(body, "call 1 at +33 6 12 34 56 12")
	})
	// !schedule books one too, and says whom to call.
	if _, err := s.clinician.SendText(ctx, control, `!schedule 2026-11-25 10:00 Europe/Paris "J. D." none phone=+33612345699 kind=phone`); err != nil {
		t.Fatal(err)
	}
	bridgetest.WaitMessage(t, s.clinician, control, wait, "the schedule answer", func(evt *event.Event) bool {
		body := evt.Content.AsMessage().Body
		return strings.Contains(body, "(telephone)") && strings.Contains(body, "call them at +33 6 12 34 56 99")
	})
}
