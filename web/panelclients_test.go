package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"testing"
	"time"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"github.com/telehealth-bridge/telehealth-bridge/internal/hstest"
	"github.com/telehealth-bridge/telehealth-bridge/web"
)

type clientList struct {
	Clients []web.ClientView `json:"clients"`
}

type clientPage struct {
	Client   web.ClientView    `json:"client"`
	Sessions []web.SessionView `json:"sessions"`
}

// TestPanelClientRecords: the booking form's "pick a client or create one" on the panel. A
// booking of someone new makes a record; the record list finds it by name, email or phone; a
// record opens with its sessions (audited), is edited, and is booked again by its ID with the
// blanks filled from it. Another clinician's record, an unknown one and a malformed ID answer
// alike (404), for reading, editing and booking; an admin sees every record.
func TestPanelClientRecords(t *testing.T) {
	admin := "@dr.admin:" + hstest.ServerName
	s := newSiteWith(t, func(cfg map[string]any) {
		cfg["permissions"] = map[string]any{hstest.ServerName: "clinician", admin: "admin"}
	})
	ctx := context.Background()
	dr := s.clinician.UserID.String()
	s.login(roomWithBot(t, s))

	form := web.ScheduleForm{Date: "2026-11-25", Time: "10:00", TimeZone: "Europe/Paris", Name: "Jane Doe",
		Invite: "sms", Phone: "06 12 34 56 78", PhoneRegion: "FR", Locale: "fr", ParticipantZone: "Europe/Paris"}
	var booked web.PanelSession
	if code := s.call("POST", "/api/panel/sessions", "", form, &booked); code != 200 {
		t.Fatalf("booking someone new: %d", code)
	}
	var list clientList
	for _, q := range []string{"ja", "DOE", "+33 6 12", ""} {
		if code := s.call("GET", "/api/panel/clients?q="+strings.ReplaceAll(q, " ", "%20"), "", nil, &list); code != 200 || len(list.Clients) != 1 ||
			list.Clients[0].DisplayName != "Jane Doe" || list.Clients[0].Phones[0] != "+33612345678" || list.Clients[0].Reminders != "sms" {
			t.Fatalf("the record list for %q: %d %+v", q, code, list)
		}
	}
	jane := list.Clients[0]
	if !s.env.Audited(t, dr, bridge.AuditParticipantDataViewed, "", map[string]string{"view": "clients", "via": "panel"}) {
		t.Error("the record list is not in the audit trail")
	}

	var page clientPage
	if code := s.call("GET", fmt.Sprintf("/api/panel/clients/%d", jane.ID), "", nil, &page); code != 200 || page.Client.ID != jane.ID ||
		len(page.Sessions) != 1 || page.Sessions[0].ID != booked.Session.ID {
		t.Fatalf("opening the record: %d %+v", code, page)
	}
	if !s.env.Audited(t, dr, bridge.AuditParticipantDataViewed, "", map[string]string{"view": "client", "via": "panel"}) {
		t.Error("opening the record is not in the audit trail")
	}

	edit := web.ClientForm{DisplayName: "Jane Doe", PreferredName: "Jenny", Emails: []string{"not an email"}, Phones: []string{"+33612345678"},
		Locale: "fr", TimeZone: "Europe/Paris", Professionals: []string{dr}, Reminders: "email"}
	var e apiErr
	if code := s.call("PUT", fmt.Sprintf("/api/panel/clients/%d", jane.ID), "", edit, &e); code != http.StatusBadRequest || e.Code != "field:emails" {
		t.Errorf("a bad email: %d %+v", code, e)
	}
	edit.Emails = []string{"Jane@Example.org"}
	if code := s.call("PUT", fmt.Sprintf("/api/panel/clients/%d", jane.ID), "", edit, &page); code != 200 || page.Client.PreferredName != "Jenny" ||
		page.Client.Emails[0] != "jane@example.org" || page.Client.Reminders != "email" {
		t.Errorf("editing: %d %+v", code, page.Client)
	}

	// Booking the record by its ID: the form's blanks are the record's.
	var again web.PanelSession
	pick := web.ScheduleForm{Date: "2026-11-26", Time: "10:00", TimeZone: "Europe/Paris", ClientID: jane.ID}
	if code := s.call("POST", "/api/panel/sessions", "", pick, &again); code != 200 || len(again.Participants) != 1 || again.Participants[0].Name != "Jane Doe" {
		t.Fatalf("booking the record: %d %+v", code, again)
	}
	_, ps, _ := s.env.App.Sessions.Lobby(ctx, dr, again.Session.ID)
	if ps[0].ClientID != jane.ID || ps[0].Email != "jane@example.org" || ps[0].Invite != bridge.InviteEmail || ps[0].Locale != "fr" {
		t.Errorf("the booked participant: %+v", ps[0])
	}
	if s.call("GET", fmt.Sprintf("/api/panel/clients/%d", jane.ID), "", nil, &page); len(page.Sessions) != 2 {
		t.Errorf("the record's sessions after a second booking: %+v", page.Sessions)
	}

	// Another clinician's client.
	other := s.env.User(t, "dr.other").UserID.String()
	theirs, err := s.env.App.Sessions.Schedule(ctx, bridge.ScheduleRequest{
		Clinician: other, Start: time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC), End: time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC),
		TimeZone: "Europe/Paris", Participants: []bridge.ParticipantRequest{{Name: "Jane Dupont", Email: "jane@example.org"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	_, theirPs, _ := s.env.App.Sessions.Lobby(ctx, other, theirs.ID)
	theirClient := theirPs[0].ClientID
	if theirClient == 0 || theirClient == jane.ID {
		t.Fatalf("the other clinician's booking made record %d", theirClient)
	}
	if s.call("GET", "/api/panel/clients?q=jane", "", nil, &list); len(list.Clients) != 1 || list.Clients[0].ID != jane.ID {
		t.Errorf("the list shows another clinician's client: %+v", list.Clients)
	}
	unknown := func(id string) (int, string) {
		var e apiErr
		code := s.call("GET", "/api/panel/clients/"+id, "", nil, &e)
		return code, e.Code + " " + e.Error
	}
	wantCode, wantBody := unknown("999999")
	if wantCode != http.StatusNotFound {
		t.Fatalf("an unknown client: %d %s", wantCode, wantBody)
	}
	for _, id := range []string{fmt.Sprint(theirClient), "abc", "-1", "0"} {
		if code, body := unknown(id); code != wantCode || body != wantBody {
			t.Errorf("client %s: %d %s, want it answered as unknown", id, code, body)
		}
		if code := s.call("PUT", "/api/panel/clients/"+id, "", web.ClientForm{DisplayName: "Mine Now"}, &e); code != http.StatusNotFound {
			t.Errorf("editing client %s: %d %+v", id, code, e)
		}
	}
	pick.ClientID = theirClient
	if code := s.call("POST", "/api/panel/sessions", "", pick, &e); code != http.StatusNotFound || e.Code != "not_found" {
		t.Errorf("booking another clinician's client: %d %+v", code, e)
	}
	if c, _ := s.env.App.Sessions.Client(ctx, other, theirClient); c == nil || c.DisplayName != "Jane Dupont" {
		t.Errorf("the other clinician's record changed: %+v", c)
	}

	// An admin sees every record, on their own panel.
	jar, _ := cookiejar.New(nil)
	adm := &site{t: t, env: s.env, clock: s.clock, clinician: s.env.User(t, "dr.admin"), http: &http.Client{Jar: jar, Timeout: 40 * time.Second}}
	adm.login(roomWithBot(t, adm))
	if adm.call("GET", "/api/panel/clients?q=jane", "", nil, &list); len(list.Clients) != 2 {
		t.Errorf("the admin's list: %+v", list.Clients)
	}
	if code := adm.call("GET", fmt.Sprintf("/api/panel/clients/%d", theirClient), "", nil, &page); code != 200 || len(page.Sessions) != 1 {
		t.Errorf("the admin opening a record: %d %+v", code, page)
	}
}
