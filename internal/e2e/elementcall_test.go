package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/telehealth-bridge/telehealth-bridge/appservice"
	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"github.com/telehealth-bridge/telehealth-bridge/media/livekit"
)

// callMemberType is MatrixRTC's membership state event (MSC3401/MSC4143), which Element Call
// writes for each of its devices in a call.
const callMemberType = "org.matrix.msc3401.call.member"

// TestElementCallInTheBrowser: Element Call (@element-hq/element-call-embedded, from e2e's
// node_modules) in Chromium, hosted as a widget by a minimal Element stand-in
// (e2e/widgethost.mjs) that answers the widget API with a Matrix user's Dendrite account, on the
// LiveKit backend (its webhooks reaching the bridge), in the same call as a web guest on the
// bridge's real call page. The web guest and the Matrix user are let in through the lobby
// first; Element Call gets its token from the bridge and publishes into the session's LiveKit
// room. Both ways: the guest's call page decodes Pat's video, and Element Call shows the guest
// (by the ghost's name) and decodes theirs, through the membership the bridge writes for the
// guest's ghost. The guest's removal ends their membership; Pat's takes Element Call out of
// LiveKit. What Element Call asked of Dendrite and what Dendrite answered is printed. Then, as
// a MatrixRTC client of the test's own: someone booked but never let in, and the Matrix user
// once removed, get no token from either endpoint.
func TestElementCallInTheBrowser(t *testing.T) {
	root, _ := filepath.Abs("../..")
	dist := filepath.Join(root, "e2e", "node_modules", "@element-hq", "element-call-embedded", "dist")
	if _, err := os.Stat(filepath.Join(dist, "index.html")); err != nil {
		t.Fatal("@element-hq/element-call-embedded is missing: `make test` installs it (npm ci in e2e/)")
	}
	h, _ := newLiveKitHarness(t)
	bridgeURL := h.env.Config.Web.PublicURL
	// Element Call on its own origin, as a deployment serves it, with no focus of its own: it
	// must come from the domain's .well-known (Dendrite has no MSC4143 transports).
	ecURL := serveControl(t, elementCallSite(dist))
	users := map[string]*mautrix.Client{"pat": h.env.User(t, "pat"), "mallory": h.env.User(t, "mallory")}
	sc := &ecScenario{h: h, users: users, ec: ecURL, root: root}
	control := serveControl(t, sc.routes())
	runNode(t, "elementcall.mjs", bridgeURL, control, "elementcall")

	// What the room holds afterwards: Element Call wrote Pat's membership through the widget
	// host, for the bridge's focus; Mallory, never let in, could write none.
	ctx := context.Background()
	var pats, mallorys int
	for _, ev := range sc.callMembers(ctx) {
		switch ev.Sender {
		case users["pat"].UserID:
			pats++
		case users["mallory"].UserID:
			mallorys++
		}
	}
	if pats == 0 || mallorys != 0 {
		t.Errorf("call.member events: %d of Pat's, %d of Mallory's", pats, mallorys)
	}

	// Why the host must not pass Element Call's delayed leave events on to Dendrite: MSC4140's
	// delay parameter is not refused, it is ignored, and the "leave in 20 s unless renewed"
	// event is sent at once (which would end the membership just written).
	sc.probeDelayedEvent(ctx, users["mallory"])

	// A MatrixRTC client of the test's own, with real OpenID tokens from Dendrite: Mallory,
	// booked and knocking but never let in, and Pat, removed by the clinician at the end of the
	// scenario (a kick in the room), get no token from either endpoint.
	for _, who := range []string{"mallory", "pat"} {
		for _, endpoint := range []string{"/livekit/jwt/get_token", "/livekit/jwt/sfu/get"} {
			code, body := sc.askToken(ctx, users[who], endpoint)
			if issued := strings.Contains(body, `"jwt"`); code != http.StatusForbidden || issued {
				// The body is not printed: it may hold the token that should not exist.
				t.Errorf("%s on %s: HTTP %d, a LiveKit token issued: %v", who, endpoint, code, issued)
			}
		}
	}
}

// elementCallSite serves Element Call's embedded build: its files, index.html for any other
// path (it routes in the page), and a config.json with small pictures and no LiveKit focus.
func elementCallSite(dist string) http.Handler {
	files := http.FileServer(http.Dir(dist))
	config, _ := json.Marshal(map[string]any{
		"matrix_rtc_session": map[string]any{"wait_for_key_rotation_ms": 5000},
		// A small camera picture, one simulcast layer: three browsers encode on a shared machine.
		"media_quality": map[string]any{"video": map[string]any{"max_resolution": 360, "max_framerate": 15,
			"simulcast_layers": []any{map[string]any{"height": 180, "bitrate": 160000}}}},
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/config.json":
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(config)
		case strings.HasPrefix(r.URL.Path, "/assets/"):
			files.ServeHTTP(w, r)
		default:
			http.ServeFile(w, r, filepath.Join(dist, "index.html"))
		}
	})
}

type ecScenario struct {
	h       *harness
	users   map[string]*mautrix.Client
	ec      string
	root    string
	session *bridge.Session
}

// routes are the harness's control endpoints plus the scenario's own under /ec/.
func (sc *ecScenario) routes() http.Handler {
	h := sc.h
	ctx := context.Background()
	mux := http.NewServeMux()
	mux.Handle("/", h.routes())
	reply := func(w http.ResponseWriter, v any, err error) {
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(v)
	}
	body := func(r *http.Request) map[string]string {
		m := map[string]string{}
		_ = json.NewDecoder(r.Body).Decode(&m)
		return m
	}
	// POST /ec/book: a session soon, manual admission, with a web-link guest (1, Jane Doe), Pat
	// (2) and Mallory (3) on their Matrix accounts; the clinician is in the room.
	mux.HandleFunc("POST /ec/book", func(w http.ResponseWriter, r *http.Request) {
		at := h.clock.Now().Add(20 * time.Minute).Truncate(time.Minute)
		s, err := h.env.App.Sessions.Schedule(ctx, bridge.ScheduleRequest{
			Clinician: h.clinician.UserID.String(), Start: at, End: at.Add(50 * time.Minute), TimeZone: "Europe/Paris",
			Policy: bridge.PolicyManual, Kind: bridge.Kind("video"),
			Participants: []bridge.ParticipantRequest{
				{Name: "Jane Doe", Locale: "en", TimeZone: "Europe/Paris", Invite: bridge.InviteNone},
				{Name: "Pat Quinn", MatrixID: sc.users["pat"].UserID.String()},
				{Name: "Mallory Roe", MatrixID: sc.users["mallory"].UserID.String()},
			},
		})
		if err != nil {
			reply(w, nil, err)
			return
		}
		sc.session = s
		if _, err = h.clinician.JoinRoomByID(ctx, id.RoomID(s.RoomID)); err != nil {
			reply(w, nil, err)
			return
		}
		_, ps, _ := h.env.App.Sessions.Lobby(ctx, "", s.ID)
		link, err := h.env.App.Web.ParticipantLink(ctx, s, ps[0])
		reply(w, map[string]any{"session_id": s.ID, "room_id": s.RoomID, "guest_link": link, "ec": sc.ec}, err)
	})
	// GET /ec/account?user=: what Element would have signed in with (the widget host uses it
	// against Dendrite as Element Web does).
	mux.HandleFunc("GET /ec/account", func(w http.ResponseWriter, r *http.Request) {
		cli := sc.users[r.URL.Query().Get("user")]
		if cli == nil {
			http.NotFound(w, r)
			return
		}
		reply(w, map[string]any{"user_id": cli.UserID, "device_id": cli.DeviceID, "access_token": cli.AccessToken,
			"homeserver": strings.TrimSuffix(cli.HomeserverURL.String(), "/")}, nil)
	})
	// POST /ec/knock {user, name}: the Matrix user asks to enter (a knock, as Element sends it).
	mux.HandleFunc("POST /ec/knock", func(w http.ResponseWriter, r *http.Request) {
		m := body(r)
		cli := sc.users[m["user"]]
		err := appservice.Knock(ctx, cli, id.RoomID(sc.session.RoomID), m["name"], m["name"])
		reply(w, map[string]any{}, err)
	})
	// POST /ec/lobby {action, participant, user}: the clinician's lobby action (admit, remove) on a
	// participant by number; with user, once admitted that Matrix user accepts the invite, as
	// Element does.
	mux.HandleFunc("POST /ec/lobby", func(w http.ResponseWriter, r *http.Request) {
		m := body(r)
		if err := h.env.App.Sessions.HostAction(ctx, h.clinician.UserID.String(), sc.session.ID, m["action"], m["participant"], ""); err != nil {
			reply(w, nil, err)
			return
		}
		cli := sc.users[m["user"]]
		if cli == nil || m["action"] != "admit" {
			reply(w, map[string]any{}, nil)
			return
		}
		err := waitFor(20*time.Second, func() bool {
			var mem event.MemberEventContent
			err := h.clinician.StateEvent(ctx, id.RoomID(sc.session.RoomID), event.StateMember, cli.UserID.String(), &mem)
			return err == nil && mem.Membership == event.MembershipInvite
		})
		if err == nil {
			_, err = cli.JoinRoomByID(ctx, id.RoomID(sc.session.RoomID))
		}
		reply(w, map[string]any{}, err)
	})
	// GET /ec/members: the room's call.member events as the clinician's client reads them.
	mux.HandleFunc("GET /ec/members", func(w http.ResponseWriter, r *http.Request) {
		var out []map[string]any
		for _, ev := range sc.callMembers(ctx) {
			out = append(out, map[string]any{"sender": ev.Sender, "state_key": ev.GetStateKey(), "content": ev.Content.Raw})
		}
		reply(w, map[string]any{"members": out}, nil)
	})
	// GET /ec/livekit: who is connected to the session's LiveKit room, as LiveKit lists them
	// (identity and the Matrix user of their token).
	mux.HandleFunc("GET /ec/livekit", func(w http.ResponseWriter, r *http.Request) {
		ps, err := h.env.App.LiveKit.Participants(ctx, livekit.RoomName(sc.session.RoomID, livekit.RoomSlot))
		out := []map[string]string{}
		for _, p := range ps {
			out = append(out, map[string]string{"identity": p.Identity, "user": p.UserID()})
		}
		reply(w, map[string]any{"participants": out}, err)
	})
	// GET /.well-known/matrix/client: the domain's client discovery, publishing the bridge as
	// the LiveKit focus (docs/element-call.md).
	mux.HandleFunc("GET /.well-known/matrix/client", func(w http.ResponseWriter, r *http.Request) {
		reply(w, map[string]any{
			"m.homeserver":                map[string]any{"base_url": strings.TrimSuffix(sc.users["pat"].HomeserverURL.String(), "/")},
			"org.matrix.msc4143.rtc_foci": []any{map[string]any{"type": "livekit", "livekit_service_url": h.env.Config.Web.PublicURL + "/livekit/jwt"}},
		}, nil)
	})
	// The browser's side of the scenario: the widget host (an Element stand-in).
	mux.HandleFunc("GET /ec/host", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = fmt.Fprint(w, `<!doctype html><html><head><meta charset="utf-8"><title>Element (stand-in)</title>
<style>body{margin:0;font:14px sans-serif} iframe{border:0;width:1200px;height:720px}</style></head>
<body><iframe id="widget" allow="camera; microphone; display-capture; autoplay; encrypted-media; clipboard-write; screen-wake-lock; speaker-selection"></iframe>
<script type="module" src="/ec/widgethost.mjs"></script></body></html>`)
	})
	mux.HandleFunc("GET /ec/widgethost.mjs", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		http.ServeFile(w, r, filepath.Join(sc.root, "e2e", "widgethost.mjs"))
	})
	return mux
}

// callMembers are the session room's MatrixRTC membership events with content (a left
// membership is an empty one).
func (sc *ecScenario) callMembers(ctx context.Context) []*event.Event {
	if sc.session == nil {
		return nil
	}
	state, err := sc.h.clinician.State(ctx, id.RoomID(sc.session.RoomID))
	if err != nil {
		sc.h.t.Errorf("reading the room's state: %v", err)
		return nil
	}
	var out []*event.Event
	for _, ev := range state[event.Type{Type: callMemberType, Class: event.StateEventType}] {
		if len(ev.Content.Raw) > 0 {
			out = append(out, ev)
		}
	}
	return out
}

// probeDelayedEvent sends, in a room of the user's own, a call.member state event with
// MSC4140's delay (as Element Call's delayed leave is sent: PUT …/state/…?org.matrix.msc4140.delay=)
// and logs what Dendrite answered and whether the event is in the room's state at once.
func (sc *ecScenario) probeDelayedEvent(ctx context.Context, cli *mautrix.Client) {
	t := sc.h.t
	created, err := cli.CreateRoom(ctx, &mautrix.ReqCreateRoom{Preset: "private_chat"})
	if err != nil {
		t.Fatal(err)
	}
	stateKey := "_" + cli.UserID.String() + "_" + cli.DeviceID.String() + "_m.call"
	u := cli.BuildClientURL("v3", "rooms", created.RoomID, "state", callMemberType, stateKey)
	u += "?org.matrix.msc4140.delay=20000"
	req, _ := http.NewRequestWithContext(ctx, http.MethodPut, u, strings.NewReader(`{}`))
	req.Header.Set("Authorization", "Bearer "+cli.AccessToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var answer bytes.Buffer
	_, _ = answer.ReadFrom(resp.Body)
	resp.Body.Close()
	var content map[string]any
	inState := cli.StateEvent(ctx, created.RoomID, event.Type{Type: callMemberType, Class: event.StateEventType}, stateKey, &content) == nil
	t.Logf("DENDRITE PUT /_matrix/client/v3/rooms/{room}/state/%s/{state_key}?org.matrix.msc4140.delay=20000 -> HTTP %d %s; in the room's state at once: %v",
		callMemberType, resp.StatusCode, strings.TrimSpace(answer.String()), inState)
}

// askToken is a MatrixRTC client's token request, as Element Call makes it: an OpenID token
// from the user's homeserver, posted to the bridge's endpoint for the session's room. It
// returns the HTTP status and the body.
func (sc *ecScenario) askToken(ctx context.Context, cli *mautrix.Client, endpoint string) (int, string) {
	t := sc.h.t
	openid, err := cli.RequestOpenIDToken(ctx)
	if err != nil {
		t.Fatalf("an OpenID token from Dendrite: %v", err)
	}
	token := map[string]any{"access_token": openid.AccessToken, "token_type": "Bearer", "matrix_server_name": openid.MatrixServerName, "expires_in": 3600}
	req := map[string]any{"room": sc.session.RoomID, "openid_token": token, "device_id": cli.DeviceID}
	if strings.HasSuffix(endpoint, "/get_token") {
		req = map[string]any{"room_id": sc.session.RoomID, "slot_id": "m.call#ROOM", "openid_token": token,
			"member": map[string]any{"id": "m-" + cli.DeviceID.String(), "claimed_user_id": cli.UserID, "claimed_device_id": cli.DeviceID}}
	}
	data, _ := json.Marshal(req)
	resp, err := http.Post(sc.h.env.Config.Web.PublicURL+endpoint, "application/json", bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(resp.Body)
	return resp.StatusCode, buf.String()
}
