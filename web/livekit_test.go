package web_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/livekit/protocol/auth"
	lkproto "github.com/livekit/protocol/livekit"
	"github.com/livekit/protocol/webhook"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"github.com/telehealth-bridge/telehealth-bridge/internal/bridgetest"
	"github.com/telehealth-bridge/telehealth-bridge/internal/lkserver"
	"github.com/telehealth-bridge/telehealth-bridge/internal/lktest"
	"github.com/telehealth-bridge/telehealth-bridge/media/livekit"
	"github.com/telehealth-bridge/telehealth-bridge/web"
)

// newLiveKitSite is a bridge whose calls go through a real LiveKit server.
func newLiveKitSite(t *testing.T) (*site, *lkserver.Server) {
	lk := lktest.Start(t)
	s := newSiteWith(t, func(cfg map[string]any) {
		cfg["media.backend"] = "livekit"
		cfg["media.livekit.url"] = "ws" + strings.TrimPrefix(lk.URL, "http")
		cfg["media.livekit.api_key"] = lk.Key
		cfg["media.livekit.api_secret"] = lk.Secret
	})
	return s, lk
}

// grantsOf reads a LiveKit token with LiveKit's own verifier and the server's secret.
// observerToken lets a listener into a LiveKit room, without publishing.
func observerToken(t *testing.T, lk *lkserver.Server, room string) string {
	t.Helper()
	canPublish := false
	at := auth.NewAccessToken(lk.Key, lk.Secret).SetIdentity("observer").SetValidFor(10 * time.Minute).
		SetVideoGrant(&auth.VideoGrant{RoomJoin: true, Room: room, CanPublish: &canPublish})
	token, err := at.ToJWT()
	if err != nil {
		t.Fatal(err)
	}
	return token
}

func grantsOf(t *testing.T, lk *lkserver.Server, token string) (*auth.ClaimGrants, time.Duration) {
	t.Helper()
	v, err := auth.ParseAPIToken(token)
	if err != nil {
		t.Fatal(err)
	}
	claims, grants, err := v.Verify(lk.Secret)
	if err != nil {
		t.Fatalf("LiveKit's verifier refuses the token: %v", err)
	}
	return grants, time.Until(claims.ExpiresAt.Time)
}

// On the LiveKit backend, /api/call/join gives a LiveKit token to those let in and to the
// clinician only, for their session's room; the clinician alone may moderate. The token works
// on the real server, and removing the guest in the lobby disconnects them from LiveKit.
func TestLiveKitCallJoin(t *testing.T) {
	s, lk := newLiveKitSite(t)
	sess, token := s.guestSession(bridge.ParticipantRequest{Name: "J. Doe", Email: "jd@example.org", Invite: bridge.InviteEmail})
	s.openWindow(sess)
	var e apiErr
	if code := s.call("POST", "/api/call/join", token, nil, &e); code != http.StatusForbidden || e.Code != "not_admitted" {
		t.Fatalf("before being let in: %d %+v", code, e)
	}
	if code := s.call("POST", "/api/call/join", "", nil, &e); code != http.StatusUnauthorized && code != http.StatusForbidden {
		t.Errorf("anonymous join: %d %+v", code, e)
	}
	// Waiting: no connection ahead on LiveKit (a token would open the room before the lobby
	// lets them in).
	var waiting web.CallState
	if code := s.call("POST", "/api/call/knock", token, map[string]string{"name": "Jane"}, &waiting); code != 200 || waiting.Me.State != "waiting" || waiting.Me.CanPrepareCall {
		t.Errorf("waiting on LiveKit: %d %s, may connect ahead: %v", code, waiting.Me.State, waiting.Me.CanPrepareCall)
	}
	if code := s.call("POST", "/api/call/prepare", token, nil, &e); code != http.StatusForbidden {
		t.Errorf("a waiting connection on LiveKit: %d %+v", code, e)
	}
	// The pages may reach the LiveKit server (its socket, and its HTTP side where
	// livekit-client asks why it was refused), nothing else new.
	socket := "ws" + strings.TrimPrefix(s.env.Config.Web.PublicURL, "http") + "/call/ws"
	lkWS := "ws" + strings.TrimPrefix(lk.URL, "http")
	for _, path := range []string{"/g/x.y.z", "/call/abc", "/widget"} {
		if got, want := s.csp(path)["connect-src"], "'self' "+socket+" "+lkWS+" "+lk.URL; got != want {
			t.Errorf("%s may connect to %q, want %q", path, got, want)
		}
	}
	ghost := s.admitGuest(sess, token, "Jane")
	var access web.CallAccess
	if code := s.call("POST", "/api/call/join", token, nil, &access); code != 200 || access.LiveKit == nil {
		t.Fatalf("join: %d %+v", code, access)
	}
	if access.LiveKit.URL != s.env.Config.Media.LiveKit.URL || access.Credential == "" {
		t.Errorf("access %+v", access)
	}
	lkRoom := livekit.RoomName(sess.RoomID, livekit.RoomSlot)
	g, ttl := grantsOf(t, lk, access.LiveKit.Token)
	// A web guest connects as their ghost's device WEB, the ghost in the user attribute.
	if g.Identity != ghost.String()+":WEB" || g.Attributes[livekit.UserAttribute] != ghost.String() || g.Video.Room != lkRoom || g.Video.RoomAdmin || !g.Video.RoomJoin || ttl > 10*time.Minute || ttl < 9*time.Minute {
		t.Errorf("guest's grants: %+v %+v, lasts %s", g, g.Video, ttl)
	}
	hostToken := s.callTokenFor(s.clinician.UserID.String(), sess)
	var hostAccess web.CallAccess
	if code := s.call("POST", "/api/call/join", hostToken, nil, &hostAccess); code != 200 || hostAccess.LiveKit == nil {
		t.Fatalf("clinician's join: %d %+v", code, hostAccess)
	}
	if g, _ := grantsOf(t, lk, hostAccess.LiveKit.Token); !g.Video.RoomAdmin || g.Video.Room != lkRoom || g.Identity != s.clinician.UserID.String() {
		t.Errorf("clinician's grants: %+v", g.Video)
	}

	// Both connect to the real server, into the same room, and hear each other; removing the
	// guest in the lobby disconnects them and ends their media.
	guest, err := lktest.Connect(t, access.LiveKit.URL, access.LiveKit.Token)
	if err != nil {
		t.Fatalf("the guest's token: %v", err)
	}
	host, err := lktest.Connect(t, hostAccess.LiveKit.URL, hostAccess.LiveKit.Token)
	if err != nil {
		t.Fatalf("the clinician's token: %v", err)
	}
	if guest.Room != lkRoom || host.Room != lkRoom {
		t.Errorf("rooms %s and %s, want %s", guest.Room, host.Room, lkRoom)
	}
	if err = guest.PublishAudio(); err != nil {
		t.Fatal(err)
	}
	if err = host.PublishAudio(); err != nil {
		t.Fatal(err)
	}
	bridgetest.Eventually(t, wait, "the clinician to hear the guest", func() bool { return host.Received() > 50 })
	bridgetest.Eventually(t, wait, "the guest to hear the clinician", func() bool { return guest.Received() > 50 })
	// An observer in the room, listening only (a token made here, not the bridge's): what it
	// hears of the clinician is the clock of the "nothing arrives" windows below.
	observer, err := lktest.Connect(t, lk.URL, observerToken(t, lk, lkRoom))
	if err != nil {
		t.Fatal(err)
	}
	bridgetest.Eventually(t, wait, "the observer to hear the clinician", func() bool { return observer.Received() > 50 })
	heard := func(what string, packets int64) {
		t.Helper()
		from := observer.Received()
		bridgetest.Eventually(t, wait, what, func() bool { return observer.Received() >= from+packets })
	}
	if err = s.env.App.Sessions.HostAction(context.Background(), s.clinician.UserID.String(), sess.ID, "remove", "1", ""); err != nil {
		t.Fatal(err)
	}
	bridgetest.Eventually(t, wait, "the removed guest to be disconnected from LiveKit", guest.Gone)
	if host.Gone() {
		t.Error("removing the guest disconnected the clinician")
	}
	// Zero packets either way afterwards, while the observer hears the clinician's next 100
	// (2 s of audio; first 25 for what was already on its way).
	heard("packets in flight before the removal to arrive", 25)
	hostBefore, guestBefore := host.Received(), guest.Received()
	heard("the clinician's next 100 packets at the observer", 100)
	if h, g := host.Received()-hostBefore, guest.Received()-guestBefore; h != 0 || g != 0 {
		t.Errorf("after the removal, the clinician received %d packets and the guest %d", h, g)
	}
	if code := s.call("POST", "/api/call/join", token, nil, &e); code != http.StatusForbidden {
		t.Errorf("a removed guest's join: %d %+v", code, e)
	}
	// The end deletes the room: the clinician is disconnected too.
	if err = s.env.App.Sessions.HostAction(context.Background(), s.clinician.UserID.String(), sess.ID, "end", "", ""); err != nil {
		t.Fatal(err)
	}
	bridgetest.Eventually(t, wait, "the clinician to be disconnected at the end", host.Gone)
}

// Element Call's token endpoints: a Matrix participant let in through the lobby gets a token
// for the same LiveKit room as the web guests; someone not booked, someone booked but still
// outside, a forged or mismatched token, another slot and another session's room get none.
func TestLiveKitElementCallTokens(t *testing.T) {
	s, lk := newLiveKitSite(t)
	ctx := context.Background()
	pat := s.env.User(t, "pat")
	mallory := s.env.User(t, "mallory")
	sess, err := s.env.App.Sessions.Schedule(ctx, bridge.ScheduleRequest{
		Clinician: s.clinician.UserID.String(), Start: time.Date(2026, 11, 24, 14, 0, 0, 0, time.UTC),
		End: time.Date(2026, 11, 24, 14, 50, 0, 0, time.UTC), TimeZone: "Europe/Paris",
		Participants: []bridge.ParticipantRequest{{Name: "Pat Quinn", MatrixID: pat.UserID.String()}},
	})
	if err != nil {
		t.Fatal(err)
	}
	// Another session of the same clinician, which Pat is not on.
	other, err := s.env.App.Sessions.Schedule(ctx, bridge.ScheduleRequest{
		Clinician: s.clinician.UserID.String(), Start: time.Date(2026, 11, 24, 15, 0, 0, 0, time.UTC),
		End: time.Date(2026, 11, 24, 15, 50, 0, 0, time.UTC), TimeZone: "Europe/Paris",
		Participants: []bridge.ParticipantRequest{{Name: "Someone", Email: "someone@example.org"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	room := id.RoomID(sess.RoomID)
	if _, err = s.clinician.JoinRoomByID(ctx, room); err != nil {
		t.Fatal(err)
	}
	s.openWindow(sess)

	request := func(who *mautrix.Client, roomID, slot, claimed string) map[string]any {
		openid, err := who.RequestOpenIDToken(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return map[string]any{
			"room_id": roomID, "slot_id": slot,
			"openid_token": map[string]any{"access_token": openid.AccessToken, "token_type": "Bearer", "matrix_server_name": openid.MatrixServerName, "expires_in": 3600},
			"member":       map[string]any{"id": "member-1", "claimed_user_id": claimed, "claimed_device_id": "PHONE"},
		}
	}
	type answer struct {
		web.SFUAccess
		ErrCode string `json:"errcode"`
	}
	getToken := func(body map[string]any) (int, answer) {
		var out answer
		code := s.call("POST", "/livekit/jwt/get_token", "", body, &out)
		return code, out
	}
	patID := pat.UserID.String()

	// Booked but not let in yet: no token.
	if code, out := getToken(request(pat, sess.RoomID, livekit.RoomSlot, patID)); code != http.StatusForbidden || out.ErrCode != "M_FORBIDDEN" || out.JWT != "" {
		t.Errorf("before being let in: %d %s", code, out.ErrCode)
	}
	if _, err = s.clinician.InviteUser(ctx, room, &mautrix.ReqInviteUser{UserID: pat.UserID}); err != nil {
		t.Fatal(err)
	}
	if _, err = pat.JoinRoomByID(ctx, room); err != nil {
		t.Fatal(err)
	}
	bridgetest.Eventually(t, wait, "Pat to be in the session", func() bool {
		_, ps, _ := s.env.App.Sessions.Lobby(ctx, "", sess.ID)
		return len(ps) == 1 && ps[0].State == bridge.StateInSession
	})

	code, out := getToken(request(pat, sess.RoomID, livekit.RoomSlot, patID))
	if code != 200 || out.URL != s.env.Config.Media.LiveKit.URL {
		t.Fatalf("Pat's token: %d %+v", code, out)
	}
	lkRoom := livekit.RoomName(sess.RoomID, livekit.RoomSlot)
	g, ttl := grantsOf(t, lk, out.JWT)
	if g.Video.Room != lkRoom || g.Video.RoomAdmin || g.Identity != livekit.MemberIdentity(patID, "PHONE", "member-1") ||
		g.Attributes[livekit.UserAttribute] != patID || ttl > 10*time.Minute {
		t.Errorf("Pat's grants: %+v %+v", g, g.Video)
	}
	// The older endpoint gives the same room.
	legacy := request(pat, sess.RoomID, "", "")
	legacyBody := map[string]any{"room": sess.RoomID, "openid_token": legacy["openid_token"], "device_id": "PHONE"}
	var legacyOut answer
	if code := s.call("POST", "/livekit/jwt/sfu/get", "", legacyBody, &legacyOut); code != 200 {
		t.Errorf("/sfu/get: %d %+v", code, legacyOut)
	} else if g, _ := grantsOf(t, lk, legacyOut.JWT); g.Video.Room != lkRoom || g.Identity != patID+":PHONE" {
		t.Errorf("/sfu/get grants: %+v", g)
	}
	// Pat connects with it, beside the clinician's own connection.
	patConn, err := lktest.Join(t, out.URL, out.JWT)
	if err != nil || patConn.Room != lkRoom {
		t.Fatalf("Pat on LiveKit: %v %+v", err, patConn)
	}
	// The clinician from Element Call may moderate.
	code, hostOut := getToken(request(s.clinician, sess.RoomID, livekit.RoomSlot, s.clinician.UserID.String()))
	if code != 200 {
		t.Fatalf("the clinician's token: %d", code)
	}
	if g, _ := grantsOf(t, lk, hostOut.JWT); !g.Video.RoomAdmin {
		t.Error("the clinician's Element Call token may not moderate")
	}

	refusals := []struct {
		name string
		body map[string]any
		code int
	}{
		{"someone not booked", request(mallory, sess.RoomID, livekit.RoomSlot, mallory.UserID.String()), http.StatusForbidden},
		{"another session's room", request(pat, other.RoomID, livekit.RoomSlot, patID), http.StatusForbidden},
		{"a room that is no session", request(pat, "!nothing:localhost", livekit.RoomSlot, patID), http.StatusForbidden},
		{"another slot", request(pat, sess.RoomID, "m.call#side", patID), http.StatusForbidden},
		{"claiming to be Pat", request(mallory, sess.RoomID, livekit.RoomSlot, patID), http.StatusUnauthorized},
		{"no OpenID token", map[string]any{"room_id": sess.RoomID, "slot_id": livekit.RoomSlot, "member": map[string]any{"id": "m", "claimed_user_id": patID, "claimed_device_id": "D"}}, http.StatusBadRequest},
	}
	forged := request(pat, sess.RoomID, livekit.RoomSlot, patID)
	forged["openid_token"].(map[string]any)["access_token"] = "made-up"
	refusals = append(refusals, struct {
		name string
		body map[string]any
		code int
	}{"a made-up OpenID token", forged, http.StatusUnauthorized})
	for _, r := range refusals {
		if code, out := getToken(r.body); code != r.code || out.JWT != "" {
			t.Errorf("%s: %d %s (a token: %v)", r.name, code, out.ErrCode, out.JWT != "")
		}
	}

	// Sent back to the waiting room (removal is TestLiveKitCallJoin's): Pat's Element Call
	// connection is closed and no new token comes.
	if err = s.env.App.Sessions.HostAction(ctx, s.clinician.UserID.String(), sess.ID, "send-back", "1", ""); err != nil {
		t.Fatal(err)
	}
	bridgetest.Eventually(t, wait, "Pat's Element Call connection to be closed", patConn.Gone)
	if code, out := getToken(request(pat, sess.RoomID, livekit.RoomSlot, patID)); code != http.StatusForbidden || out.JWT != "" {
		t.Errorf("after being sent back: %d %s", code, out.ErrCode)
	}

	// Pat comes back with the token still valid: LiveKit's participant_joined webhook reaches
	// the bridge, which takes Pat out. (Signed and sent by LiveKit's own notifier: the server
	// sends it once ICE connects, which the signalling-only participant does not do.)
	back, err := lktest.Join(t, out.URL, out.JWT)
	if err != nil {
		t.Fatal(err)
	}
	webhook.InitWebhookStats(nil)
	notifier := webhook.NewURLNotifier(webhook.URLNotifierParams{URL: s.env.Config.Web.PublicURL + "/livekit/webhook", APIKey: lk.Key, APISecret: lk.Secret})
	defer notifier.Stop(true)
	err = notifier.QueueNotify(ctx, &lkproto.WebhookEvent{
		Event: webhook.EventParticipantJoined, Room: &lkproto.Room{Name: lkRoom},
		Participant: &lkproto.ParticipantInfo{Identity: g.Identity, Attributes: g.Attributes},
	})
	if err != nil {
		t.Fatal(err)
	}
	bridgetest.Eventually(t, wait, "Pat, back with the old token, to be taken out", back.Gone)
	// The webhook takes nothing unsigned.
	resp, err := http.Post(s.env.Config.Web.PublicURL+"/livekit/webhook", "application/webhook+json", strings.NewReader(`{"event":"participant_joined"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("an unsigned webhook: HTTP %d", resp.StatusCode)
	}
}

// Element Call runs on its own site: the token endpoints answer CORS preflights for any origin,
// and on the embedded backend they say there is no LiveKit.
func TestElementCallEndpointsCORSAndEmbedded(t *testing.T) {
	s := newSite(t)
	req, _ := http.NewRequest(http.MethodOptions, s.env.Config.Web.PublicURL+"/livekit/jwt/get_token", nil)
	req.Header.Set("Origin", "https://call.element.io")
	req.Header.Set("Access-Control-Request-Method", "POST")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 || resp.Header.Get("Access-Control-Allow-Origin") != "*" || !strings.Contains(resp.Header.Get("Access-Control-Allow-Headers"), "Content-Type") {
		t.Errorf("preflight: %d %v", resp.StatusCode, resp.Header)
	}
	var out struct {
		ErrCode string `json:"errcode"`
	}
	if code := s.call("POST", "/livekit/jwt/get_token", "", map[string]any{}, &out); code != http.StatusNotFound || out.ErrCode != "M_NOT_FOUND" {
		t.Errorf("on the embedded backend: %d %+v", code, out)
	}
	// The answer itself is readable cross-origin (Element Call reads the error too).
	req, _ = http.NewRequest(http.MethodPost, s.env.Config.Web.PublicURL+"/livekit/jwt/sfu/get", strings.NewReader("{}"))
	req.Header.Set("Origin", "https://call.element.io")
	req.Header.Set("Content-Type", "application/json")
	if resp, err = http.DefaultClient.Do(req); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("POST from another origin: %d %v", resp.StatusCode, resp.Header)
	}
	// Element Call probes for delegated delayed leave events (which the bridge does not offer)
	// and needs a 404 it can read to take it as "not supported".
	req, _ = http.NewRequest(http.MethodPost, s.env.Config.Web.PublicURL+"/livekit/jwt/delegate_delayed_leave", nil)
	req.Header.Set("Origin", "https://call.element.io")
	if resp, err = http.DefaultClient.Do(req); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound || resp.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("the delegation probe: %d %v", resp.StatusCode, resp.Header)
	}
}

// The clinician in the call through LiveKit (Element Call) is present in the session, as
// through the call page: LiveKit's webhooks say so, and their leaving says they are away.
func TestLiveKitClinicianPresence(t *testing.T) {
	s, lk := newLiveKitSite(t)
	ctx := context.Background()
	sess, _ := s.guestSession(bridge.ParticipantRequest{Name: "J. Doe", Email: "jd@example.org", Invite: bridge.InviteEmail})
	s.openWindow(sess)
	webhook.InitWebhookStats(nil)
	notifier := webhook.NewURLNotifier(webhook.URLNotifierParams{URL: s.env.Config.Web.PublicURL + "/livekit/webhook", APIKey: lk.Key, APISecret: lk.Secret})
	defer notifier.Stop(true)
	dr := s.clinician.UserID.String()
	event := func(kind string) {
		t.Helper()
		err := notifier.QueueNotify(ctx, &lkproto.WebhookEvent{
			Event: kind, Room: &lkproto.Room{Name: livekit.RoomName(sess.RoomID, livekit.RoomSlot)},
			Participant: &lkproto.ParticipantInfo{Identity: livekit.MemberIdentity(dr, "LAPTOP", "m1"),
				Attributes: map[string]string{livekit.UserAttribute: dr, livekit.RoomAttribute: sess.RoomID}},
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	present := func() bool {
		got, err := s.env.App.Sessions.Session(ctx, sess.ID)
		return err == nil && got.ClinicianPresent
	}
	if present() {
		t.Fatal("present before connecting")
	}
	event(webhook.EventParticipantJoined)
	bridgetest.Eventually(t, wait, "the clinician to be present", present)
	if got, _ := s.env.App.Sessions.Session(ctx, sess.ID); got.Status != bridge.StatusLive {
		t.Errorf("the session is %s once the clinician is in", got.Status)
	}
	event(webhook.EventParticipantLeft)
	bridgetest.Eventually(t, wait, "the clinician to be away", func() bool { return !present() })
}

// A web guest's call page on LiveKit is shown in Element Call: once it is connected (LiveKit's
// participant_joined webhook), the guest's ghost holds a MatrixRTC membership for its device
// WEB naming the bridge's focus, matching the page's LiveKit identity <ghost>:WEB; the
// clinician's removal disconnects the page and ends the membership (empty content). Nothing
// the guest sends chooses the identity; the clinician's stays their user ID, and neither they
// nor a Matrix user connected through Element Call's endpoint as a device WEB get a
// membership from the bridge.
func TestLiveKitWebGuestMembership(t *testing.T) {
	var lk *lkserver.Server
	s := newSiteWith(t, func(cfg map[string]any) {
		if lk == nil { // the config may be written more than once; one server
			lk = lktest.Start(t, fmt.Sprint(cfg["web.public_url"])+"/livekit/webhook")
		}
		cfg["media.backend"] = "livekit"
		cfg["media.livekit.url"] = "ws" + strings.TrimPrefix(lk.URL, "http")
		cfg["media.livekit.api_key"] = lk.Key
		cfg["media.livekit.api_secret"] = lk.Secret
	})
	ctx := context.Background()
	pat := s.env.User(t, "pat")
	sess, err := s.env.App.Sessions.Schedule(ctx, bridge.ScheduleRequest{
		Clinician: s.clinician.UserID.String(), Start: time.Date(2026, 11, 24, 14, 0, 0, 0, time.UTC),
		End: time.Date(2026, 11, 24, 14, 50, 0, 0, time.UTC), TimeZone: "Europe/Paris",
		Participants: []bridge.ParticipantRequest{{Name: "J. Doe", Email: "jd@example.org", Invite: bridge.InviteEmail},
			{Name: "Pat Quinn", MatrixID: pat.UserID.String()}},
	})
	if err != nil {
		t.Fatal(err)
	}
	_, tokens := s.openWithGuests(ctx, sess)
	token := tokens[0]
	ghost := s.admitGuest(sess, token, "Jane")
	member := func(user string) map[string]any {
		var content map[string]any
		if err := s.clinician.StateEvent(ctx, id.RoomID(sess.RoomID), event.Type{Type: livekit.CallMemberType, Class: event.StateEventType},
			"_"+user+"_WEB_m.call", &content); err != nil {
			return nil
		}
		return content
	}
	// Not before the page connects: a token alone announces nobody.
	var access web.CallAccess
	if code := s.call("POST", "/api/call/join", token, map[string]string{"identity": "@someone:else:WEB", "user_id": "@someone:else"}, &access); code != 200 || access.LiveKit == nil {
		t.Fatalf("join: %d %+v", code, access)
	}
	if g, _ := grantsOf(t, lk, access.LiveKit.Token); g.Identity != ghost.String()+":WEB" || g.Attributes[livekit.UserAttribute] != ghost.String() {
		t.Errorf("the guest's identity %q for %q, want their ghost's, device WEB (nothing they send chooses it)", g.Identity, g.Attributes[livekit.UserAttribute])
	}
	if m := member(ghost.String()); len(m) != 0 {
		t.Errorf("a membership before the page connected: %v", m)
	}
	var hostAccess web.CallAccess
	if code := s.call("POST", "/api/call/join", s.callTokenFor(s.clinician.UserID.String(), sess), nil, &hostAccess); code != 200 || hostAccess.LiveKit == nil {
		t.Fatalf("clinician's join: %d", code)
	}
	if g, _ := grantsOf(t, lk, hostAccess.LiveKit.Token); g.Identity != s.clinician.UserID.String() {
		t.Errorf("the clinician's identity %q", g.Identity)
	}
	host, err := lktest.Connect(t, hostAccess.LiveKit.URL, hostAccess.LiveKit.Token)
	if err != nil {
		t.Fatal(err)
	}
	// Pat, a Matrix user let in, connects through Element Call's endpoint with a device named
	// WEB: their identity is <user>:WEB too, but their memberships are their own client's
	// business; the bridge writes none for them.
	if _, err = s.clinician.InviteUser(ctx, id.RoomID(sess.RoomID), &mautrix.ReqInviteUser{UserID: pat.UserID}); err != nil {
		t.Fatal(err)
	}
	if _, err = pat.JoinRoomByID(ctx, id.RoomID(sess.RoomID)); err != nil {
		t.Fatal(err)
	}
	bridgetest.Eventually(t, wait, "Pat to be in the session", func() bool {
		_, ps, _ := s.env.App.Sessions.Lobby(ctx, "", sess.ID)
		return ps[1].State == bridge.StateInSession
	})
	openid, err := pat.RequestOpenIDToken(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var patAccess struct {
		URL string `json:"url"`
		JWT string `json:"jwt"`
	}
	if code := s.call("POST", "/livekit/jwt/sfu/get", "", map[string]any{"room": sess.RoomID, "device_id": "WEB",
		"openid_token": map[string]any{"access_token": openid.AccessToken, "token_type": "Bearer", "matrix_server_name": openid.MatrixServerName, "expires_in": 3600}}, &patAccess); code != 200 {
		t.Fatalf("Pat's token: %d", code)
	}
	if g, _ := grantsOf(t, lk, patAccess.JWT); g.Identity != pat.UserID.String()+":WEB" {
		t.Fatalf("Pat's identity %q", g.Identity)
	}
	if _, err = lktest.Connect(t, patAccess.URL, patAccess.JWT); err != nil {
		t.Fatal(err)
	}
	guest, err := lktest.Connect(t, access.LiveKit.URL, access.LiveKit.Token)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	bridgetest.Eventually(t, wait, "the guest's call membership", func() bool { got = member(ghost.String()); return len(got) > 0 })
	foci, _ := got["foci_preferred"].([]any)
	focus, _ := func() (map[string]any, bool) {
		if len(foci) != 1 {
			return nil, false
		}
		f, ok := foci[0].(map[string]any)
		return f, ok
	}()
	if got["membershipID"] != ghost.String()+":WEB" || got["device_id"] != "WEB" || got["application"] != "m.call" ||
		focus["livekit_service_url"] != s.env.Config.Web.PublicURL+"/livekit/jwt" || focus["livekit_alias"] != sess.RoomID {
		t.Errorf("the guest's membership: %v", got)
	}
	if m := member(s.clinician.UserID.String()); len(m) != 0 {
		t.Errorf("a membership for the clinician: %v", m)
	}
	if m := member(pat.UserID.String()); len(m) != 0 {
		t.Errorf("a membership written for Pat's Matrix account: %v", m)
	}
	// Removal: out of LiveKit, and the membership ends.
	if err = s.env.App.Sessions.HostAction(ctx, s.clinician.UserID.String(), sess.ID, "remove", "1", ""); err != nil {
		t.Fatal(err)
	}
	bridgetest.Eventually(t, wait, "the removed guest to be disconnected from LiveKit", guest.Gone)
	// Read from the room's whole state: Dendrite answers 404 for a single state event whose
	// content is empty.
	bridgetest.Eventually(t, wait, "the removed guest's membership to end", func() bool {
		state, err := s.clinician.State(ctx, id.RoomID(sess.RoomID))
		if err != nil {
			return false
		}
		ev := state[event.Type{Type: livekit.CallMemberType, Class: event.StateEventType}]["_"+ghost.String()+"_WEB_m.call"]
		return ev != nil && len(ev.Content.Raw) == 0
	})
	if host.Gone() {
		t.Error("the guest's removal disconnected the clinician")
	}
}
