package web_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"github.com/telehealth-bridge/telehealth-bridge/web"
)

// signInDirect signs the site's clinician in to the panel with a fresh one-time link.
func (s *site) signInDirect() {
	s.t.Helper()
	link, err := s.env.App.Web.LoginLink(context.Background(), s.clinician.UserID.String())
	if err != nil {
		s.t.Fatal(err)
	}
	if resp := s.click(link, s.env.Config.Web.PublicURL); resp.Request.URL.Path != "/panel" {
		s.t.Fatalf("login link landed on %s (%d)", resp.Request.URL, resp.StatusCode)
	}
}

// TestPanelFormAndNames: the clinic's zone reaches the panel; a refused schedule names its
// field; the panel shows the booked name with the one the client typed; the clinician's call
// page follows the panel's language, a guest's keeps their booked one; another clinician's
// session can be neither moved, nor entered, nor read.
func TestPanelFormAndNames(t *testing.T) {
	s := newSiteWith(t, func(cfg map[string]any) { cfg["notifications.clinic_time_zone"] = "Europe/Paris" })
	s.signInDirect()
	var me struct {
		ClinicTimeZone string `json:"clinic_time_zone"`
	}
	if code := s.call("GET", "/api/panel/me", "", nil, &me); code != 200 || me.ClinicTimeZone != "Europe/Paris" {
		t.Errorf("me: %d %+v", code, me)
	}

	var e apiErr
	past := web.ScheduleForm{Date: "2026-11-23", Time: "10:00", TimeZone: "Europe/Paris", Name: "Jane Doe", Invite: "none", Locale: "fr", ParticipantZone: "Europe/Paris"}
	if code := s.call("POST", "/api/panel/sessions", "", past, &e); code != http.StatusBadRequest || e.Code != "field:date" || !strings.Contains(e.Error, "over already") {
		t.Errorf("a session in the past: %d %+v", code, e)
	}
	// What a hidden e-mail field would have sent is not needed: text message with no e-mail.
	sms := web.ScheduleForm{Date: "2026-11-24", Time: "15:00", TimeZone: "Europe/Paris", Name: "Jane Doe", Invite: "sms", Phone: "+33612345678", Locale: "fr", ParticipantZone: "Europe/Paris"}
	var created web.PanelSession
	if code := s.call("POST", "/api/panel/sessions", "", sms, &created); code != 200 {
		t.Fatalf("schedule by SMS: %d", code)
	}

	sess, token := s.guestSession(bridge.ParticipantRequest{Name: "Jane Doe", Locale: "fr", TimeZone: "Europe/Paris"})
	s.openWindow(sess)
	s.signInDirect() // the clock moved past the panel's idle time
	var st web.CallState
	if code := s.call("POST", "/api/call/knock", token, map[string]string{"name": "Jane"}, &st); code != 200 {
		t.Fatalf("knock: %d", code)
	}
	var view web.PanelSession
	waitingOnPanel := func() bool {
		s.call("GET", "/api/panel/sessions/"+sess.ID, "", nil, &view)
		return len(view.Participants) == 1 && view.Participants[0].State == "waiting"
	}
	deadline := time.Now().Add(wait)
	for !waitingOnPanel() && time.Now().Before(deadline) {
		<-time.After(20 * time.Millisecond)
	}
	if len(view.Participants) != 1 {
		t.Fatalf("the lobby on the panel: %+v", view)
	}
	if p := view.Participants[0]; p.BookedName != "Jane Doe" || p.JoinedName != "Jane" || p.Name != "Jane" {
		t.Errorf("names on the panel: %+v", p)
	}

	// The guest's page speaks their booked language whatever the address says; the
	// clinician's follows the panel's.
	if code := s.call("GET", "/api/call/state?lang=en", token, nil, &st); code != 200 || st.Me.Locale != "fr" {
		t.Errorf("guest with ?lang=en: %d %q", code, st.Me.Locale)
	}
	var enter struct {
		URL string `json:"url"`
	}
	if code := s.call("POST", "/api/panel/sessions/"+sess.ID+"/enter", "", struct{}{}, &enter); code != 200 {
		t.Fatalf("enter: %d", code)
	}
	callToken := enter.URL[strings.Index(enter.URL, "#")+1:]
	if code := s.call("GET", "/api/call/state?lang=fr", callToken, nil, &st); code != 200 || st.Me.Locale != "fr" || !st.Me.Host {
		t.Errorf("clinician with ?lang=fr: %d %+v", code, st.Me)
	}
	if code := s.call("GET", "/api/call/state?lang=xx", callToken, nil, &st); code != 200 || st.Me.Locale != "en" {
		t.Errorf("clinician with ?lang=xx: %d %q", code, st.Me.Locale)
	}

	// Another clinician's session: no move (even a refused one says nothing of its fields),
	// no call page, no lobby.
	other := s.env.User(t, "dr.other")
	otherSess, err := s.env.App.Sessions.Schedule(context.Background(), bridge.ScheduleRequest{
		Clinician: other.UserID.String(), Start: time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC),
		End: time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC), TimeZone: "Europe/Paris",
		Participants: []bridge.ParticipantRequest{{Name: "XY"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	move := web.ScheduleForm{Date: "2026-11-27", Time: "10:00", TimeZone: "Europe/Paris"}
	if code := s.call("PUT", "/api/panel/sessions/"+otherSess.ID, "", move, &e); code != http.StatusForbidden {
		t.Errorf("moving another clinician's session: %d %+v", code, e)
	}
	move.Date = "2026-11-20"
	if code := s.call("PUT", "/api/panel/sessions/"+otherSess.ID, "", move, &e); code == 200 || strings.HasPrefix(e.Code, "field:") && e.Code != "field:date" {
		t.Errorf("moving another clinician's session into the past: %d %+v", code, e)
	}
	for _, action := range []string{"enter", "link", "cancel"} {
		if code := s.call("POST", "/api/panel/sessions/"+otherSess.ID+"/"+action, "", map[string]string{"participant": "1"}, &e); code != http.StatusForbidden {
			t.Errorf("%s on another clinician's session: %d %+v", action, code, e)
		}
	}
	if code := s.call("GET", "/api/panel/sessions/"+otherSess.ID, "", nil, &e); code != http.StatusForbidden {
		t.Errorf("another clinician's lobby: %d %+v", code, e)
	}
	got, _ := s.env.App.Sessions.Session(context.Background(), otherSess.ID)
	if !got.Start.Equal(otherSess.Start) || got.Status != otherSess.Status {
		t.Errorf("another clinician's session changed: %+v", got)
	}
}

// TestSignInPageSpeaksTheBrowsersLanguage: the one-time sign-in link's page, and the page of a
// spent link, are in French for a French browser and in English otherwise.
func TestSignInPageSpeaksTheBrowsersLanguage(t *testing.T) {
	s := newSite(t)
	link, err := s.env.App.Web.LoginLink(context.Background(), s.clinician.UserID.String())
	if err != nil {
		t.Fatal(err)
	}
	get := func(method, lang string) (int, string) {
		req, _ := http.NewRequest(method, link, nil)
		req.Header.Set("Accept-Language", lang)
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		data, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(data)
	}
	for _, c := range []struct{ lang, want, button string }{
		{"fr-FR,fr;q=0.9,en;q=0.8", `lang="fr"`, ">Se connecter<"},
		{"en-GB,fr;q=0.5", `lang="en"`, ">Sign in<"},
		{"", `lang="en"`, ">Sign in<"},
	} {
		if code, page := get("GET", c.lang); code != 200 || !strings.Contains(page, c.want) || !strings.Contains(page, c.button) {
			t.Errorf("Accept-Language %q: %d %s", c.lang, code, page)
		}
	}
	if code, _ := get("POST", "fr"); code != http.StatusSeeOther {
		t.Fatalf("signing in: %d", code)
	}
	if code, page := get("POST", "fr"); code != http.StatusGone || !strings.Contains(page, "Ce lien a déjà servi") {
		t.Errorf("a spent link for a French browser: %d %s", code, page)
	}
}
