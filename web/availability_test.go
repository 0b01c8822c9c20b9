package web_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"github.com/telehealth-bridge/telehealth-bridge/database"
	"github.com/telehealth-bridge/telehealth-bridge/web"
)

// another signs another clinician in to the panel on the same bridge, with their own cookies.
func (s *site) another(localpart string) *site {
	s.t.Helper()
	jar, _ := cookiejar.New(nil)
	other := &site{t: s.t, env: s.env, clock: s.clock, clinician: s.env.User(s.t, localpart), http: &http.Client{Jar: jar, Timeout: 40 * time.Second}}
	other.login(roomWithBot(s.t, other))
	return other
}

// martinsWeek is a Paris week: Monday to Friday 09-12 and 14-17, one-hour video consultations
// and half-hour calls, a day's notice, 60 days ahead.
func martinsWeek() web.AvailabilityForm {
	f := web.AvailabilityForm{
		TimeZone: "Europe/Paris", SelfScheduling: true, MinNoticeMinutes: 24 * 60, HorizonDays: 60,
		Types: []web.SessionTypeForm{
			{Name: "Consultation", DurationMinutes: 60, Kind: "video"},
			{Name: "Appel de suivi", DurationMinutes: 30, Kind: "phone"},
		},
		DaysOff: []string{"2026-12-25"},
	}
	for _, d := range []string{"monday", "tuesday", "wednesday", "thursday", "friday"} {
		f.Hours = append(f.Hours, web.HoursForm{Day: d, Start: "09:00", End: "12:00"}, web.HoursForm{Day: d, Start: "14:00", End: "17:00"})
	}
	return f
}

// The clinician edits their own availability on the panel; every mistake names its field; a
// second clinician sees and changes only theirs, and cannot touch the first one's types.
func TestPanelAvailability(t *testing.T) {
	s := newSite(t)
	var e apiErr
	if code := s.call("GET", "/api/panel/availability", "", nil, &e); code != http.StatusUnauthorized {
		t.Fatalf("signed out: %d %+v", code, e)
	}
	s.login(roomWithBot(t, s))
	var av web.AvailabilityForm
	if code := s.call("GET", "/api/panel/availability", "", nil, &av); code != 200 || av.SelfScheduling || av.HorizonDays != 60 ||
		av.MinNoticeMinutes != 24*60 || len(av.Types) != 0 || len(av.Hours) != 0 {
		t.Fatalf("nothing published yet: %d %+v", code, av)
	}
	if code := s.call("PUT", "/api/panel/availability", "", martinsWeek(), &av); code != 200 || len(av.Types) != 2 || av.Types[0].ID == 0 || len(av.Hours) != 10 {
		t.Fatalf("publishing: %d %+v", code, av)
	}
	var again web.AvailabilityForm
	s.call("GET", "/api/panel/availability", "", nil, &again)
	if fmt.Sprint(again) != fmt.Sprint(av) || again.Hours[0] != (web.HoursForm{Day: "monday", Start: "09:00", End: "12:00"}) || again.DaysOff[0] != "2026-12-25" {
		t.Errorf("read back\n%+v\nwant\n%+v", again, av)
	}

	for _, c := range []struct {
		field string
		edit  func(f *web.AvailabilityForm)
	}{
		{"hours[0].start", func(f *web.AvailabilityForm) { f.Hours[0].Start = "9h" }},
		{"hours[0].day", func(f *web.AvailabilityForm) { f.Hours[0].Day = "someday" }},
		{"hours[1].start", func(f *web.AvailabilityForm) { f.Hours[1].Start = "11:00" }},
		{"types[0].duration_minutes", func(f *web.AvailabilityForm) { f.Types[0].DurationMinutes = 3 }},
		{"types[1].name", func(f *web.AvailabilityForm) { f.Types[1].Name = "" }},
		{"time_zone", func(f *web.AvailabilityForm) { f.TimeZone = "Mars/Olympus" }},
		{"days_off[0]", func(f *web.AvailabilityForm) { f.DaysOff[0] = "25/12/2026" }},
		{"self_scheduling", func(f *web.AvailabilityForm) { f.Types = nil }},
		{"types[0].id", func(f *web.AvailabilityForm) { f.Types[0].ID = 999999 }},
	} {
		f := martinsWeek()
		c.edit(&f)
		if code := s.call("PUT", "/api/panel/availability", "", f, &e); code != http.StatusBadRequest || e.Code != "field:"+c.field {
			t.Errorf("%s: %d %+v", c.field, code, e)
		}
	}
	// Nobody's availability is named in a request: a body that tries is refused.
	if code := s.call("PUT", "/api/panel/availability", "", map[string]any{"clinician": "@dr.other:localhost", "time_zone": "UTC", "horizon_days": 30}, &e); code != http.StatusBadRequest {
		t.Errorf("a body naming a clinician: %d %+v", code, e)
	}

	other := s.another("dr.other")
	var theirs web.AvailabilityForm
	if code := other.call("GET", "/api/panel/availability", "", nil, &theirs); code != 200 || len(theirs.Types) != 0 || theirs.SelfScheduling {
		t.Errorf("another clinician reads %d %+v", code, theirs)
	}
	stolen := martinsWeek()
	stolen.Types = []web.SessionTypeForm{{ID: av.Types[0].ID, Name: "Mine now", DurationMinutes: 60, Kind: "video"}}
	if code := other.call("PUT", "/api/panel/availability", "", stolen, &e); code != http.StatusBadRequest || e.Code != "field:types[0].id" {
		t.Errorf("another clinician's PUT of a type of Martin's: %d %+v", code, e)
	}
	s.call("GET", "/api/panel/availability", "", nil, &again)
	if again.Types[0].Name != "Consultation" {
		t.Errorf("the other clinician renamed Martin's type: %+v", again.Types)
	}
	// One change stored, one audit entry, by the clinician through the panel.
	changes := 0
	for _, row := range s.env.AuditTrail(t) {
		if row.Action == string(bridge.AuditAvailabilityChanged) {
			changes++
			if row.Actor != s.clinician.UserID.String() || !strings.Contains(string(row.Detail), `"via":"panel"`) {
				t.Errorf("audit entry %+v", row)
			}
		}
	}
	if changes != 1 {
		t.Errorf("%d availability_changed entries, want 1", changes)
	}
}

// signedIn makes each client a record (created by the professional it is assigned to) and a
// portal sign-in, and returns how to call the site as one of them (by name; "" is nobody,
// "forged" a cookie no sign-in issued) and the records' IDs.
func (s *site) signedIn(clients map[string]bridge.ClientRequest) (func(method, path, client string, body, out any) int, map[string]int64) {
	s.t.Helper()
	ctx := context.Background()
	ids, tokens := map[string]int64{}, map[string]string{"forged": "not-a-sign-in"}
	for name, req := range clients {
		c, err := s.env.App.Sessions.CreateClient(ctx, req.Professionals[0], req)
		if err != nil {
			s.t.Fatal(err)
		}
		// A sign-in as the portal stores it: the cookie's token, kept only as its SHA-256.
		token := "portal-token-" + name
		sum := sha256.Sum256([]byte(token))
		now := s.clock.Now()
		if err = s.env.App.DB.PortalSession.Insert(ctx, &database.PortalSession{TokenHash: hex.EncodeToString(sum[:]), ClientID: c.ID,
			CreatedAt: now, LastSeen: now, IdleExpiresAt: now.Add(time.Hour), ExpiresAt: now.Add(time.Hour)}); err != nil {
			s.t.Fatal(err)
		}
		ids[name], tokens[name] = c.ID, token
	}
	return func(method, path, client string, body, out any) int {
		s.t.Helper()
		var reader io.Reader
		if body != nil {
			data, _ := json.Marshal(body)
			reader = bytes.NewReader(data)
		}
		req, err := http.NewRequest(method, s.env.Config.Web.PublicURL+path, reader)
		if err != nil {
			s.t.Fatal(err)
		}
		req.Header.Set("X-Requested-With", "telehealth")
		if client != "" {
			req.AddCookie(&http.Cookie{Name: "telehealth_portal", Value: tokens[client]})
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			s.t.Error(err)
			return 0
		}
		defer resp.Body.Close()
		data, _ := io.ReadAll(resp.Body)
		if err = json.Unmarshal(data, out); err != nil {
			s.t.Errorf("%s %s: %d %s", method, path, resp.StatusCode, data)
		}
		return resp.StatusCode
	}, ids
}

// A client sees their professional's free slots in their own zone and books one; every door
// is tried with another client's professional, a forged professional and another's type; and
// twenty tabs racing for one slot get one booking.
func TestPortalSlotsAndBooking(t *testing.T) {
	s := newSite(t)
	ctx := context.Background()
	martin, other := s.clinician.UserID.String(), "@dr.other:"+s.env.Config.Homeserver.Domain
	offline := "@dr.offline:" + s.env.Config.Homeserver.Domain
	svc := s.env.App.Sessions
	av := &bridge.Availability{
		TimeZone: "Europe/Paris", SelfScheduling: true, MinNotice: 24 * time.Hour, Horizon: 60 * 24 * time.Hour,
		Hours: []bridge.WeeklyHours{{Day: time.Thursday, Start: 9 * 60, End: 12 * 60}, {Day: time.Friday, Start: 14 * 60, End: 16 * 60}},
		Types: []bridge.SessionType{{Name: "Consultation", Duration: time.Hour, Kind: bridge.KindVideo}},
	}
	if err := svc.SetAvailability(ctx, martin, av); err != nil {
		t.Fatal(err)
	}
	theirs := &bridge.Availability{TimeZone: "Europe/Paris", SelfScheduling: true, Horizon: 30 * 24 * time.Hour,
		Hours: av.Hours, Types: []bridge.SessionType{{Name: "Other's", Duration: time.Hour, Kind: bridge.KindVideo}}}
	if err := svc.SetAvailability(ctx, other, theirs); err != nil {
		t.Fatal(err)
	}
	typ, othersType := av.Types[0].ID, theirs.Types[0].ID
	call, ids := s.signedIn(map[string]bridge.ClientRequest{
		"jane": {DisplayName: "Jane Doe", Emails: []string{"jane@example.org"}, Locale: "fr", TimeZone: "America/New_York", Professionals: []string{martin, offline}},
		"bob":  {DisplayName: "Bob Roe", Emails: []string{"bob@example.org"}, Locale: "en", TimeZone: "Europe/London", Professionals: []string{other}},
	})
	// Each client sees only their own professionals who take bookings online, with their types
	// (Jane's second professional publishes nothing: left out).
	for client, want := range map[string]string{"jane": martin, "bob": other} {
		var pros struct {
			Professionals []web.BookableProfessional `json:"professionals"`
		}
		if code := call("GET", "/api/portal/professionals", client, nil, &pros); code != 200 || len(pros.Professionals) != 1 ||
			pros.Professionals[0].UserID != want || len(pros.Professionals[0].Types) != 1 {
			t.Errorf("%s's professionals: %d %+v", client, code, pros)
		}
	}
	slotsOf := func(clinician string, typeID int64) string {
		return fmt.Sprintf("/api/portal/slots?clinician=%s&type=%d&from=2026-11-26&to=2026-11-28", clinician, typeID)
	}

	var slots web.SlotsView
	if code := call("GET", slotsOf(martin, typ), "jane", nil, &slots); code != 200 || len(slots.Slots) != 5 || slots.TimeZone != "America/New_York" {
		t.Fatalf("Jane's slots: %d %+v", code, slots)
	}
	// Thursday 09:00 in Paris is 03:00 in New York, in French.
	if first := slots.Slots[0]; first.Day != "2026-11-26" || first.Local.Start != "03:00" || first.Local.ZoneAbbr != "EST" || !strings.HasPrefix(first.Local.Date, "jeudi 26 novembre") {
		t.Errorf("first slot %+v", first)
	}
	if slots.Type.Name != "Consultation" || slots.Type.DurationMinutes != 60 {
		t.Errorf("type %+v", slots.Type)
	}

	var e apiErr
	thursday10 := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC).UnixMilli()
	for _, c := range []struct {
		name, method, path, client string
		body                       any
		status                     int
		code                       string
	}{
		{"nobody signed in", "GET", slotsOf(martin, typ), "", nil, http.StatusUnauthorized, "signed_out"},
		{"a forged cookie", "GET", slotsOf(martin, typ), "forged", nil, http.StatusUnauthorized, "signed_out"},
		{"a forged cookie books", "POST", "/api/portal/book", "forged", web.BookForm{Clinician: martin, Type: typ, Start: thursday10}, http.StatusUnauthorized, "signed_out"},
		{"nobody's professionals", "GET", "/api/portal/professionals", "", nil, http.StatusUnauthorized, "signed_out"},
		{"nobody signed in books", "POST", "/api/portal/book", "", web.BookForm{Clinician: martin, Type: typ, Start: thursday10}, http.StatusUnauthorized, "signed_out"},
		{"another client's professional", "GET", slotsOf(martin, typ), "bob", nil, http.StatusNotFound, "not_bookable"},
		{"booking another client's professional", "POST", "/api/portal/book", "bob", web.BookForm{Clinician: martin, Type: typ, Start: thursday10}, http.StatusNotFound, "not_bookable"},
		{"a forged professional", "GET", slotsOf("@nobody:localhost", typ), "jane", nil, http.StatusNotFound, "not_bookable"},
		{"booking a forged professional", "POST", "/api/portal/book", "jane", web.BookForm{Clinician: "@nobody:localhost", Type: typ, Start: thursday10}, http.StatusNotFound, "not_bookable"},
		{"another professional's type", "GET", slotsOf(martin, othersType), "jane", nil, http.StatusNotFound, "unknown_type"},
		{"booking another professional's type", "POST", "/api/portal/book", "jane", web.BookForm{Clinician: martin, Type: othersType, Start: thursday10}, http.StatusNotFound, "unknown_type"},
		{"a type that is no number", "GET", "/api/portal/slots?clinician=" + martin + "&type=x", "jane", nil, http.StatusNotFound, "unknown_type"},
		{"a name of one's choosing", "POST", "/api/portal/book", "jane", map[string]any{"clinician": martin, "type": typ, "start": thursday10, "name": "Someone Else"}, http.StatusBadRequest, "bad_request"},
		{"too soon", "POST", "/api/portal/book", "jane", web.BookForm{Clinician: martin, Type: typ, Start: time.Date(2026, 11, 24, 15, 0, 0, 0, time.UTC).UnixMilli()}, http.StatusConflict, "too_soon"},
		{"off the hours", "POST", "/api/portal/book", "jane", web.BookForm{Clinician: martin, Type: typ, Start: thursday10 + 30*60*1000}, http.StatusConflict, "unavailable"},
		{"a search too long", "GET", "/api/portal/slots?clinician=" + martin + fmt.Sprintf("&type=%d&from=2026-11-26&to=2027-06-01", typ), "jane", nil, http.StatusConflict, "refused"},
	} {
		if code := call(c.method, c.path, c.client, c.body, &e); code != c.status || e.Code != c.code {
			t.Errorf("%s: %d %+v, want %d %s", c.name, code, e, c.status, c.code)
		}
	}

	// Twenty tabs book Thursday 10:00 at once: one session, nineteen "just booked".
	var wg sync.WaitGroup
	var mu sync.Mutex
	codes := map[int]int{}
	var booked struct {
		Session web.SessionView `json:"session"`
	}
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var out struct {
				Session web.SessionView `json:"session"`
				Code    string          `json:"code"`
			}
			code := call("POST", "/api/portal/book", "jane", web.BookForm{Clinician: martin, Type: typ, Start: thursday10}, &out)
			mu.Lock()
			defer mu.Unlock()
			codes[code]++
			if code == 200 {
				booked.Session = out.Session
			} else if out.Code != "slot_taken" {
				t.Errorf("a losing tab: %d %s", code, out.Code)
			}
		}()
	}
	wg.Wait()
	if codes[200] != 1 || codes[http.StatusConflict] != 19 {
		t.Fatalf("answers %v", codes)
	}
	if b := booked.Session; b.Kind != "video" || b.Start != thursday10 || b.Local.Start != "04:00" || b.Local.Zone != "America/New_York" {
		t.Errorf("booked %+v", b)
	}
	_, ps, err := svc.Lobby(ctx, martin, booked.Session.ID)
	if err != nil || len(ps) != 1 || ps[0].Name != "Jane Doe" || ps[0].Email != "jane@example.org" || ps[0].Locale != "fr" || ps[0].ClientID != ids["jane"] {
		t.Fatalf("the booking's participant: %+v %v", ps, err)
	}
	call("GET", slotsOf(martin, typ), "jane", nil, &slots)
	if len(slots.Slots) != 4 {
		t.Errorf("the booked slot is still offered: %+v", slots.Slots)
	}
	// The client's record, not their name, is in the audit trail.
	found := false
	for _, row := range s.env.AuditTrail(t) {
		if row.Action == string(bridge.AuditSelfBooked) && row.SessionID == booked.Session.ID {
			found = row.Actor == bridge.ClientActor(ids["jane"]) && !strings.Contains(string(row.Detail), "Jane")
		}
	}
	if !found {
		t.Error("no self_booked audit entry by Jane's record")
	}
}
