package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"go.mau.fi/util/dbutil"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"github.com/telehealth-bridge/telehealth-bridge/internal/bridgetest"
	"github.com/telehealth-bridge/telehealth-bridge/internal/dbtest"
)

// snapshot is the row count of every table of the bridge's database.
func snapshot(t *testing.T, db *dbutil.Database) map[string]int {
	t.Helper()
	ctx := context.Background()
	list := "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
	if db.Dialect == dbutil.Postgres {
		list = "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
	}
	rows, err := db.Query(ctx, list)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var name string
		if err = rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, name)
	}
	rows.Close()
	out := map[string]int{}
	for _, table := range tables {
		var n int
		if err = db.QueryRow(ctx, `SELECT COUNT(*) FROM "`+table+`"`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		out[table] = n
	}
	return out
}

// badInput is one bad request and the answer it must get.
type badInput struct {
	name         string
	method, path string
	// auth: "panel" (the signed-in clinician's cookie), "" (nothing), or a bearer token.
	auth   string
	body   string
	status int
	code   string
}

// TestBadInputs sends every endpoint what a careless or hostile client would: a body too
// large, a wrong JSON type, a missing field, a session that does not exist, another
// clinician's session, another client's credential. Each gets a 4xx with a JSON error a person
// can read, the server stays up, and the database holds exactly the rows it held before.
func TestBadInputs(t *testing.T) {
	for _, kind := range dbtest.Kinds {
		t.Run(kind, func(t *testing.T) { badInputs(t, kind) })
	}
}

func badInputs(t *testing.T, kind string) {
	clock := bridgetestClock()
	env := bridgetest.New(t, bridgetest.Options{DB: kind, Clock: clock, Config: func(cfg map[string]any) {
		// Each row comes from its own client address, so that the rate limit on failures
		// (tested elsewhere) does not answer in their place.
		cfg["web.trusted_proxies"] = []any{"127.0.0.1/32"}
	}})
	env.Start(t)
	jar, _ := cookiejar.New(nil)
	s := &site{t: t, env: env, clock: clock, clinician: env.User(t, "dr.martin"), http: &http.Client{Jar: jar, Timeout: 40 * time.Second}}
	ctx := context.Background()
	mine, guest := s.guestSession(bridge.ParticipantRequest{Name: "JD"})
	s.openWindow(mine)
	s.login(roomWithBot(t, s))
	var enter struct {
		URL string `json:"url"`
	}
	s.call("POST", "/api/panel/sessions/"+mine.ID+"/enter", "", struct{}{}, &enter)
	hostToken := enter.URL[strings.Index(enter.URL, "#")+1:]
	other := env.User(t, "dr.other")
	theirs, err := env.App.Sessions.Schedule(ctx, bridge.ScheduleRequest{
		Clinician: other.UserID.String(), Start: time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC),
		End: time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC), TimeZone: "Europe/Paris",
		Participants: []bridge.ParticipantRequest{{Name: "XY"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(guest, ".")
	unknownSession := "zzzzzz." + parts[1] + "." + parts[2]
	huge := `{"name":"` + strings.Repeat("a", 100<<10) + `"}`
	form := `{"date":"2026-11-25","time":"10:00","time_zone":"Europe/Paris","name":"Jane Doe","invite":"none","locale":"en","participant_time_zone":"Europe/Paris"}`

	rows := []badInput{
		// The participant's page.
		{"state: unknown session", "GET", "/api/call/state", unknownSession, "", 403, "forged_link"},
		{"state: no token", "GET", "/api/call/state", "", "", 401, "signed_out"},
		{"state: the panel's cookie is not a call token", "GET", "/api/call/state", "panel", "", 401, "signed_out"},
		{"knock: oversized", "POST", "/api/call/knock", guest, huge, 413, "too_large"},
		{"knock: wrong type", "POST", "/api/call/knock", guest, `{"name":5}`, 400, "bad_request"},
		{"knock: not an object", "POST", "/api/call/knock", guest, `"Jane"`, 400, "bad_request"},
		{"knock: not JSON", "POST", "/api/call/knock", guest, `{"name":`, 400, "bad_request"},
		{"knock: unknown field", "POST", "/api/call/knock", guest, `{"name":"Jane","admin":true}`, 400, "bad_request"},
		{"knock: missing field", "POST", "/api/call/knock", guest, `{}`, 400, "bad_name"},
		{"knock: unknown session", "POST", "/api/call/knock", unknownSession, `{"name":"Jane"}`, 403, "forged_link"},
		{"knock: the clinician's call token", "POST", "/api/call/knock", hostToken, `{"name":"Jane"}`, 409, "use_matrix"},
		{"join: unknown session", "POST", "/api/call/join", unknownSession, `{}`, 403, "forged_link"},
		{"join: not let in", "POST", "/api/call/join", guest, `{}`, 403, "not_admitted"},
		{"leave: unknown session", "POST", "/api/call/leave", unknownSession, `{}`, 403, "forged_link"},
		{"my sessions: unknown session", "GET", "/api/call/sessions", unknownSession, "", 403, "forged_link"},
		{"my sessions: a call token is not a guest link", "GET", "/api/call/sessions", hostToken, "", 403, "guests_only"},
		{"chat: unknown session", "GET", "/api/call/chat", unknownSession, "", 403, "forged_link"},
		{"chat: a guest not let in", "GET", "/api/call/chat", guest, "", 403, "not_in_session"},
		{"chat send: unknown session", "POST", "/api/call/chat", unknownSession, `{"text":"hi"}`, 403, "forged_link"},
		{"chat send: oversized", "POST", "/api/call/chat", hostToken, huge, 413, "too_large"},
		{"chat send: wrong type", "POST", "/api/call/chat", hostToken, `{"text":5}`, 400, "bad_request"},
		{"chat send: unknown field", "POST", "/api/call/chat", hostToken, `{"text":"hi","sender":"@dr:x"}`, 400, "bad_request"},
		{"chat send: missing field", "POST", "/api/call/chat", hostToken, `{}`, 400, "bad_message"},
		{"host: a guest's token", "POST", "/api/call/host/admit", guest, `{"participant":"1"}`, 403, "host_only"},
		{"host: oversized", "POST", "/api/call/host/message", hostToken, huge, 413, "too_large"},
		{"host: wrong type", "POST", "/api/call/host/admit", hostToken, `{"participant":1}`, 400, "bad_request"},
		{"host: missing field", "POST", "/api/call/host/admit", hostToken, `{}`, 409, "refused"}, // the only participant, not waiting
		{"host: unknown action", "POST", "/api/call/host/explode", hostToken, `{}`, 404, "unknown_action"},
		{"host: unknown session", "POST", "/api/call/host/admit", unknownSession, `{"participant":"1"}`, 403, "forged_link"},
		{"widget: oversized", "POST", "/api/widget/login", "", huge, 413, "too_large"},
		{"widget: wrong type", "POST", "/api/widget/login", "", `{"access_token":["x"],"matrix_server_name":"example.org"}`, 400, "bad_request"},
		{"widget: missing field", "POST", "/api/widget/login", "", `{"access_token":"x"}`, 400, "bad_request"},
		{"widget: made-up token", "POST", "/api/widget/login", "", `{"access_token":"x","matrix_server_name":"` + env.Config.Homeserver.Domain + `","session_id":"zzzzzz"}`, 403, "openid_refused"},
		// The panel.
		{"me: no sign-in", "GET", "/api/panel/me", "", "", 401, "signed_out"},
		{"me: a guest's token", "GET", "/api/panel/me", guest, "", 401, "signed_out"},
		{"me: a call token", "GET", "/api/panel/me", hostToken, "", 401, "signed_out"},
		{"sessions: a guest's token", "GET", "/api/panel/sessions", guest, "", 401, "signed_out"},
		{"schedule: oversized", "POST", "/api/panel/sessions", "panel", huge, 413, "too_large"},
		{"schedule: wrong type", "POST", "/api/panel/sessions", "panel", strings.Replace(form, `"time":"10:00"`, `"time":1000`, 1), 400, "bad_request"},
		{"schedule: duration as text", "POST", "/api/panel/sessions", "panel", strings.Replace(form, `"date"`, `"duration_minutes":"50","date"`, 1), 400, "bad_request"},
		{"schedule: missing date", "POST", "/api/panel/sessions", "panel", strings.Replace(form, `"date":"2026-11-25",`, "", 1), 400, "field:date"},
		{"schedule: missing name", "POST", "/api/panel/sessions", "panel", strings.Replace(form, `"name":"Jane Doe",`, "", 1), 400, "field:name"},
		{"schedule: a guest's token", "POST", "/api/panel/sessions", guest, form, 401, "signed_out"},
		{"schedule: 20000 minutes", "POST", "/api/panel/sessions", "panel", strings.Replace(form, `"date"`, `"duration_minutes":20000,"date"`, 1), 400, "field:duration_minutes"},
		{"lobby: unknown session", "GET", "/api/panel/sessions/zzzzzz", "panel", "", 404, "not_found"},
		{"lobby: another clinician's session", "GET", "/api/panel/sessions/" + theirs.ID, "panel", "", 403, "forbidden"},
		{"reschedule: oversized", "PUT", "/api/panel/sessions/" + mine.ID, "panel", huge, 413, "too_large"},
		{"reschedule: wrong type", "PUT", "/api/panel/sessions/" + mine.ID, "panel", `{"date":[]}`, 400, "bad_request"},
		{"reschedule: missing fields", "PUT", "/api/panel/sessions/" + mine.ID, "panel", `{}`, 400, "field:time_zone"},
		{"reschedule: unknown session", "PUT", "/api/panel/sessions/zzzzzz", "panel", form, 404, "not_found"},
		{"reschedule: another clinician's session", "PUT", "/api/panel/sessions/" + theirs.ID, "panel", form, 403, "forbidden"},
		{"reschedule: a guest's token", "PUT", "/api/panel/sessions/" + mine.ID, guest, form, 401, "signed_out"},
		{"availability: a guest's token", "GET", "/api/panel/availability", guest, "", 401, "signed_out"},
		{"availability: oversized", "PUT", "/api/panel/availability", "panel", huge, 413, "too_large"},
		{"availability: hours as text", "PUT", "/api/panel/availability", "panel", `{"hours":"9-5"}`, 400, "bad_request"},
		{"availability: nothing", "PUT", "/api/panel/availability", "panel", `{}`, 400, "field:time_zone"},
		{"action: oversized", "POST", "/api/panel/sessions/" + mine.ID + "/message", "panel", huge, 413, "too_large"},
		{"action: wrong type", "POST", "/api/panel/sessions/" + mine.ID + "/message", "panel", `{"text":true}`, 400, "bad_request"},
		{"action: missing participant", "POST", "/api/panel/sessions/" + mine.ID + "/link", "panel", `{}`, 400, "bad_request"},
		{"action: unknown action", "POST", "/api/panel/sessions/" + mine.ID + "/explode", "panel", `{}`, 404, "unknown_action"},
		{"action: unknown session", "POST", "/api/panel/sessions/zzzzzz/cancel", "panel", `{}`, 404, "not_found"},
		{"action: another clinician's session", "POST", "/api/panel/sessions/" + theirs.ID + "/cancel", "panel", `{}`, 403, "forbidden"},
		{"action: another clinician's participant link", "POST", "/api/panel/sessions/" + theirs.ID + "/link", "panel", `{"participant":"1"}`, 403, "forbidden"},
		{"action: enter another clinician's session", "POST", "/api/panel/sessions/" + theirs.ID + "/enter", "panel", `{}`, 403, "forbidden"},
		{"action: a call token", "POST", "/api/panel/sessions/" + mine.ID + "/cancel", hostToken, `{}`, 401, "signed_out"},
		{"contacts: a guest's token", "GET", "/api/panel/contacts?q=j", guest, "", 401, "signed_out"},
		{"clients: a guest's token", "GET", "/api/panel/clients?q=j", guest, "", 401, "signed_out"},
		{"client: a guest's token", "GET", "/api/panel/clients/1", guest, "", 401, "signed_out"},
		{"client: a call token", "GET", "/api/panel/clients/1", hostToken, "", 401, "signed_out"},
		{"client: unknown", "GET", "/api/panel/clients/999999", "panel", "", 404, "not_found"},
		{"client: not a number", "GET", "/api/panel/clients/1e3", "panel", "", 404, "not_found"},
		{"client edit: oversized", "PUT", "/api/panel/clients/1", "panel", huge, 413, "too_large"},
		{"client edit: wrong type", "PUT", "/api/panel/clients/1", "panel", `{"emails":"a@b.org"}`, 400, "bad_request"},
		{"client edit: unknown field", "PUT", "/api/panel/clients/1", "panel", `{"display_name":"Jane","admin":true}`, 400, "bad_request"},
		{"client edit: a guest's token", "PUT", "/api/panel/clients/1", guest, `{"display_name":"Jane"}`, 401, "signed_out"},
		{"client create: missing name", "POST", "/api/panel/clients", "panel", `{}`, 400, "field:display_name"},
		{"client create: a guest's token", "POST", "/api/panel/clients", guest, `{"display_name":"Jane"}`, 401, "signed_out"},
		{"schedule: unknown client", "POST", "/api/panel/sessions", "panel", strings.Replace(form, `"date"`, `"client_id":999999,"date"`, 1), 404, "not_found"},
		{"schedule: client as text", "POST", "/api/panel/sessions", "panel", strings.Replace(form, `"date"`, `"client_id":"1","date"`, 1), 400, "bad_request"},
		// Routes that do not exist.
		{"unknown API route", "GET", "/api/nothing", "", "", 404, "no_endpoint"},
		{"unknown API method", "DELETE", "/api/panel/me", "panel", "", 404, "no_endpoint"},
	}

	// The homeserver is still delivering the set-up's events: start once the rows stand still.
	var before map[string]int
	same := 0
	bridgetest.Eventually(t, wait, "the database to settle after the set-up", func() bool {
		prev := before
		before = snapshot(t, env.App.DB.Database)
		if fmt.Sprint(prev) == fmt.Sprint(before) {
			same++
		} else {
			same = 0
		}
		return same >= 25 // half a second without a change
	})
	anon := &http.Client{Timeout: 40 * time.Second}
	for i, row := range rows {
		req, err := http.NewRequest(row.method, env.Config.Web.PublicURL+row.path, strings.NewReader(row.body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("X-Requested-With", "telehealth")
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Forwarded-For", fmt.Sprintf("198.51.100.%d", i+1))
		client := anon
		switch row.auth {
		case "panel":
			client = s.http
		case "":
		default:
			req.Header.Set("Authorization", "Bearer "+row.auth)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("%s: %v (is the server still up?)", row.name, err)
		}
		data, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var e apiErr
		if err = json.Unmarshal(data, &e); err != nil || resp.Header.Get("Content-Type") != "application/json" {
			t.Errorf("%s: %d, not a JSON error: %.200s", row.name, resp.StatusCode, data)
			continue
		}
		if resp.StatusCode != row.status || e.Code != row.code || len(e.Error) < 10 {
			t.Errorf("%s: %d %s %q, want %d %s", row.name, resp.StatusCode, e.Code, e.Error, row.status, row.code)
		}
		if strings.Contains(e.Error, "aaaaaaaaaa") {
			t.Errorf("%s: the error echoes the body", row.name)
		}
	}
	// One-time links are pages, not API: an unknown one says so in a page.
	for _, link := range []string{"/l/unknown", "/j/unknown"} {
		if resp := s.click(env.Config.Web.PublicURL+link, env.Config.Web.PublicURL); resp.StatusCode != http.StatusGone {
			t.Errorf("POST %s: %d", link, resp.StatusCode)
		}
	}
	if code := s.call("GET", "/api/panel/me", "", nil, nil); code != 200 {
		t.Errorf("the panel after the bad requests: %d", code)
	}
	after := snapshot(t, env.App.DB.Database)
	for table, n := range before {
		if after[table] != n {
			t.Errorf("table %s had %d rows before the bad requests and %d after", table, n, after[table])
		}
	}
}

func bridgetestClock() *clockwork.FakeClock {
	return clockwork.NewFakeClockAt(time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC))
}
