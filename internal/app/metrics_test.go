package app_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"maunium.net/go/mautrix/id"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"github.com/telehealth-bridge/telehealth-bridge/internal/bridgetest"
	"github.com/telehealth-bridge/telehealth-bridge/internal/callclient"
	"github.com/telehealth-bridge/telehealth-bridge/internal/dbtest"
	"github.com/telehealth-bridge/telehealth-bridge/internal/homeserver"
	"github.com/telehealth-bridge/telehealth-bridge/internal/smtptest"
	"github.com/telehealth-bridge/telehealth-bridge/web"
)

const wait = 20 * time.Second

// TestMetricsOfAScriptedSession runs a session through the whole bridge (Dendrite, the web
// API, the SFU with two synthetic call clients) and reads the metrics listener as Prometheus
// would after each step: the values are what happened, and no label carries a session, a
// user or a token. On SQLite and PostgreSQL.
func TestMetricsOfAScriptedSession(t *testing.T) {
	for _, kind := range dbtest.Kinds {
		t.Run(kind, func(t *testing.T) { scriptedSession(t, kind) })
	}
}

func scriptedSession(t *testing.T, kind string) {
	metricsPort, err := homeserver.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	clock := clockwork.NewFakeClockAt(time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC))
	mail := smtptest.Start(t)
	mail.RefuseRecipient("kl@example.org", 550, "no such user")
	env := bridgetest.New(t, bridgetest.Options{DB: kind, Clock: clock, Config: func(cfg map[string]any) {
		cfg["metrics.enabled"] = true
		cfg["metrics.listen"] = fmt.Sprintf("127.0.0.1:%d", metricsPort)
		cfg["notifications.email.host"] = mail.Host
		cfg["notifications.email.port"] = mail.Port
		cfg["notifications.email.tls"] = "none"
		cfg["notifications.email.from"] = "rdv@clinique.example"
	}})
	a := env.Start(t)
	scrapeURL := fmt.Sprintf("http://127.0.0.1:%d/metrics", metricsPort)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	clinician := env.User(t, "dr.martin")
	doctor := clinician.UserID.String()

	before := scrape(t, scrapeURL)
	for _, name := range []string{"go_goroutines", "process_resident_memory_bytes", "telehealth_build_info"} {
		if !before.has(name, nil) {
			t.Errorf("%s is not exposed", name)
		}
	}
	if v := before.get(t, "telehealth_sfu_calls", nil); v != 0 {
		t.Errorf("calls before any: %v", v)
	}

	// Booked: a web-link guest invited by email; another whose address the mail server
	// refuses; a third by SMS, which this clinic has not configured.
	sess, err := a.Sessions.Schedule(ctx, bridge.ScheduleRequest{
		Clinician: doctor, Start: time.Date(2026, 11, 24, 14, 0, 0, 0, time.UTC),
		End: time.Date(2026, 11, 24, 14, 50, 0, 0, time.UTC), TimeZone: "Europe/Paris",
		Participants: []bridge.ParticipantRequest{
			{Name: "JD", Email: "jd@example.org", Invite: bridge.InviteEmail},
			{Name: "KL", Email: "kl@example.org", Invite: bridge.InviteEmail},
			{Name: "MN", Phone: "+33612345678", Invite: bridge.InviteSMS},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err = clinician.JoinRoomByID(ctx, id.RoomID(sess.RoomID)); err != nil {
		t.Fatal(err)
	}
	_, ps, _ := a.Sessions.Lobby(ctx, "", sess.ID)
	link, err := a.Web.ParticipantLink(ctx, sess, ps[0])
	if err != nil {
		t.Fatal(err)
	}
	token := link[strings.LastIndex(link, "/")+1:]
	m := scrape(t, scrapeURL)
	m.expect(t, "telehealth_sessions", map[string]string{"status": "scheduled"}, 1)
	m.expect(t, "telehealth_sessions", map[string]string{"status": "live"}, 0)

	// The lobby opens. Each notice the outbox settled (the confirmations, the window's
	// opening) is counted once by channel and outcome, as the database has it, and each was
	// taken from the outbox once.
	clock.Advance(sess.Opens(bridge.DefaultWindow).Sub(clock.Now()))
	bridgetest.Eventually(t, wait, "the lobby to open", func() bool {
		got, _ := a.Sessions.Session(ctx, sess.ID)
		return got.Status == bridge.StatusOpen
	})
	outcomes := func() map[[2]string]int {
		rows, err := a.DB.Outbox.ForSession(ctx, sess.ID)
		if err != nil {
			t.Fatal(err)
		}
		out := map[[2]string]int{}
		for _, r := range rows {
			out[[2]string{string(r.Channel), string(r.Status)}]++
		}
		return out
	}
	var settled map[[2]string]int
	bridgetest.Eventually(t, wait, "the notices sent, refused and skipped", func() bool {
		settled = outcomes()
		return settled[[2]string{"email", "sent"}] >= 2 && settled[[2]string{"email", "failed"}] >= 2 && settled[[2]string{"sms", "skipped"}] >= 2 &&
			settled[[2]string{"email", "pending"}]+settled[[2]string{"email", "sending"}]+settled[[2]string{"sms", "pending"}]+settled[[2]string{"sms", "sending"}] == 0
	})
	t.Logf("outbox rows by channel and status: %v", settled)
	if got := len(mail.Messages()); got != settled[[2]string{"email", "sent"}] {
		t.Errorf("the mail server got %d messages, the outbox says %d sent", got, settled[[2]string{"email", "sent"}])
	}
	m = scrape(t, scrapeURL)
	m.expect(t, "telehealth_outbox_sent_total", map[string]string{"channel": "email"}, float64(settled[[2]string{"email", "sent"}]))
	m.expect(t, "telehealth_outbox_sent_total", map[string]string{"channel": "sms"}, 0)
	m.expect(t, "telehealth_outbox_failed_total", map[string]string{"channel": "email", "reason": "provider"}, float64(settled[[2]string{"email", "failed"}]))
	m.expect(t, "telehealth_outbox_skipped_total", map[string]string{"channel": "sms", "reason": "channel_not_configured"}, float64(settled[[2]string{"sms", "skipped"}]))
	m.expect(t, "telehealth_outbox_lag_seconds_count", map[string]string{"channel": "email"}, float64(settled[[2]string{"email", "sent"}]+settled[[2]string{"email", "failed"}]))
	m.expect(t, "telehealth_outbox_lag_seconds_count", map[string]string{"channel": "sms"}, float64(settled[[2]string{"sms", "skipped"}]))
	m.expect(t, "telehealth_sessions", map[string]string{"status": "open"}, 1)
	m.expect(t, "telehealth_lobby_waiting", nil, 0)

	// The guest knocks from their link.
	var st web.CallState
	if code := apiCall(t, env.Config.Web.PublicURL, "POST", "/api/call/knock", token, map[string]string{"name": "Jane"}, &st); code != 200 {
		t.Fatalf("knock: %d", code)
	}
	m = scrape(t, scrapeURL)
	m.expect(t, "telehealth_lobby_waiting", nil, 1)
	m.expect(t, "telehealth_http_request_duration_seconds_count", map[string]string{"route": "/api/call/knock", "method": "POST", "code": "2xx"}, 1)

	// The clinician lets them in 90 seconds later (the bridge's clock).
	clock.Advance(90 * time.Second)
	m = scrape(t, scrapeURL)
	m.expect(t, "telehealth_lobby_longest_wait_seconds", nil, 90)
	if _, err = a.Sessions.Admit(ctx, doctor, sess.ID, "1"); err != nil {
		t.Fatal(err)
	}
	m = scrape(t, scrapeURL)
	m.expect(t, "telehealth_lobby_waiting", nil, 0)
	m.expect(t, "telehealth_lobby_longest_wait_seconds", nil, 0)
	m.expect(t, "telehealth_lobby_knock_to_admit_seconds_count", nil, 1)
	m.expect(t, "telehealth_lobby_knock_to_admit_seconds_sum", nil, 90)
	m.expect(t, "telehealth_lobby_knock_to_admit_seconds_bucket", map[string]string{"le": "60"}, 0)
	m.expect(t, "telehealth_lobby_knock_to_admit_seconds_bucket", map[string]string{"le": "120"}, 1)

	// The clinician's call connects: the session goes live.
	api, err := callclient.NewAPI("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	ws := "ws" + strings.TrimPrefix(env.Config.Web.PublicURL, "http") + "/call/ws"
	host, err := callclient.Dial(ctx, api, ws, sess.ID, a.Calls.Credential(sess.ID, doctor, true), callclient.Options{Publish: true})
	if err != nil {
		t.Fatal(err)
	}
	defer host.Close()
	bridgetest.Eventually(t, wait, "the session to go live", func() bool {
		got, _ := a.Sessions.Session(ctx, sess.ID)
		return got.Status == bridge.StatusLive
	})

	// The guest joins the call 3 seconds after their admission.
	clock.Advance(3 * time.Second)
	bridgetest.Eventually(t, wait, "the guest to be let into the call", func() bool {
		apiCall(t, env.Config.Web.PublicURL, "GET", "/api/call/state", token, nil, &st)
		return st.Me.CanJoinCall
	})
	var access web.CallAccess
	if code := apiCall(t, env.Config.Web.PublicURL, "POST", "/api/call/join", token, struct{}{}, &access); code != 200 {
		t.Fatalf("the guest's credential: %d", code)
	}
	var fromHost callclient.Counter
	guest, err := callclient.Dial(ctx, api, access.WebSocket, sess.ID, access.Credential, callclient.Options{Publish: true, OnPacket: fromHost.Add})
	if err != nil {
		t.Fatal(err)
	}
	defer guest.Close()
	stop := make(chan struct{})
	defer close(stop)
	stream(host, stop)
	stream(guest, stop)
	bridgetest.Eventually(t, wait, "media from the clinician to the guest", func() bool { return fromHost.Get(doctor+" camera") > 10 })
	bridgetest.Eventually(t, wait, "the admission-to-call time", func() bool {
		return scrape(t, scrapeURL).get(t, "telehealth_lobby_admit_to_call_seconds_count", nil) == 1
	})
	m = scrape(t, scrapeURL)
	m.expect(t, "telehealth_lobby_admit_to_call_seconds_sum", nil, 3)
	m.expect(t, "telehealth_sessions", map[string]string{"status": "live"}, 1)
	m.expect(t, "telehealth_sfu_calls", nil, 1)
	m.expect(t, "telehealth_sfu_peers", nil, 2)
	m.expect(t, "telehealth_sfu_tracks", nil, 4) // a microphone and a camera each
	m.expect(t, "telehealth_http_request_duration_seconds_count", map[string]string{"route": "/api/call/join", "method": "POST", "code": "2xx"}, 1)
	if m.get(t, "telehealth_matrix_transaction_duration_seconds_count", map[string]string{"code": "2xx"}) < 1 {
		t.Error("no Matrix transaction was timed")
	}

	// The clinician ends the session: both calls close.
	if _, err = a.Sessions.End(ctx, doctor, sess.ID); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*callclient.Client{host, guest} {
		select {
		case <-c.Closed():
		case <-time.After(wait):
			t.Fatal("a call stayed open after the end")
		}
	}
	bridgetest.Eventually(t, wait, "the SFU to be empty", func() bool {
		return scrape(t, scrapeURL).get(t, "telehealth_sfu_peers", nil) == 0
	})
	m = scrape(t, scrapeURL)
	m.expect(t, "telehealth_sessions", map[string]string{"status": "ended"}, 1)
	m.expect(t, "telehealth_sessions", map[string]string{"status": "live"}, 0)
	m.expect(t, "telehealth_sfu_calls", nil, 0)
	// What the call forwarded stays counted after it: the guest received the clinician's media,
	// so the SFU received and sent packets and bytes; nothing overflowed.
	if in, out := m.get(t, "telehealth_sfu_packets_received_total", nil), m.get(t, "telehealth_sfu_packets_sent_total", nil); in < 10 || out < 10 {
		t.Errorf("packets received %v, sent %v: want the call's", in, out)
	}
	if m.get(t, "telehealth_sfu_bytes_sent_total", nil) < 1000 {
		t.Error("no bytes counted as forwarded")
	}
	m.expect(t, "telehealth_sfu_send_queue_overflows_total", nil, 0)
	m.expect(t, "telehealth_outbox_due", map[string]string{"channel": "email"}, 0)
	m.expect(t, "telehealth_outbox_oldest_due_seconds", nil, 0)
	// Nothing of the session or of the people in it is a label.
	for _, secret := range []string{sess.ID, token, doctor, access.UserID, sess.RoomID, "Jane", "jd@example.org", "kl@example.org", "no such user", "33612345678"} {
		if strings.Contains(m.text, secret) {
			t.Errorf("the metrics show %q", secret)
		}
	}
	// The public web server does not serve them.
	resp, err := http.Get(env.Config.Web.PublicURL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if bytes.Contains(body, []byte("telehealth_sessions")) {
		t.Error("the public web server serves the metrics")
	}
}

// series is one scrape: each sample's name and labels, and the text as served.
type series struct {
	text    string
	samples []sample
}

type sample struct {
	name   string
	labels map[string]string
	value  float64
}

func scrape(t *testing.T, url string) series {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("scraping: %d %s", resp.StatusCode, data)
	}
	out := series{text: string(data)}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		cut := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[cut+1:], 64)
		if err != nil {
			t.Fatalf("bad sample %q", line)
		}
		s := sample{name: line[:cut], labels: map[string]string{}, value: v}
		if open := strings.IndexByte(s.name, '{'); open >= 0 {
			for _, pair := range strings.Split(strings.TrimSuffix(s.name[open+1:], "}"), ",") {
				if k, v, ok := strings.Cut(pair, "="); ok {
					s.labels[k] = strings.Trim(v, `"`)
				}
			}
			s.name = s.name[:open]
		}
		out.samples = append(out.samples, s)
	}
	return out
}

// find is the sample of that name whose labels include want.
func (s series) find(name string, want map[string]string) (sample, bool) {
	for _, x := range s.samples {
		if x.name != name {
			continue
		}
		ok := true
		for k, v := range want {
			ok = ok && x.labels[k] == v
		}
		if ok {
			return x, true
		}
	}
	return sample{}, false
}

func (s series) has(name string, want map[string]string) bool {
	_, ok := s.find(name, want)
	return ok
}

func (s series) get(t *testing.T, name string, want map[string]string) float64 {
	t.Helper()
	x, ok := s.find(name, want)
	if !ok {
		t.Fatalf("no sample %s%v in:\n%s", name, want, s.grep(name))
	}
	return x.value
}

func (s series) expect(t *testing.T, name string, labels map[string]string, want float64) {
	t.Helper()
	if got := s.get(t, name, labels); got != want {
		t.Errorf("%s%v = %v, want %v", name, labels, got, want)
	}
}

func (s series) grep(name string) string {
	var b strings.Builder
	for _, line := range strings.Split(s.text, "\n") {
		if strings.Contains(line, name) {
			b.WriteString(line + "\n")
		}
	}
	return b.String()
}

// apiCall makes a web API request with a bearer token and decodes the answer.
func apiCall(t *testing.T, base, method, path, bearer string, body, out any) int {
	t.Helper()
	data, _ := json.Marshal(body)
	req, err := http.NewRequest(method, base+path, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Requested-With", "telehealth")
	req.Header.Set("Authorization", "Bearer "+bearer)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode == 200 {
		if err = json.Unmarshal(answer, out); err != nil {
			t.Fatalf("%s %s: %s", method, path, answer)
		}
	}
	return resp.StatusCode
}

// stream publishes audio and video packets every 20 ms until stop is closed.
func stream(c *callclient.Client, stop <-chan struct{}) {
	go func() {
		buf := make([]byte, 1200)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for i := uint32(0); ; i++ {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			_ = c.WriteAudio(uint16(i), i*960, i, 160, buf)
			_ = c.WriteVideo(uint16(i), i*3000, true, i, 1000, buf)
		}
	}()
}
