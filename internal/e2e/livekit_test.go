package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/telehealth-bridge/telehealth-bridge/internal/lkserver"
	"github.com/telehealth-bridge/telehealth-bridge/internal/lktest"
	"github.com/telehealth-bridge/telehealth-bridge/media/livekit"
)

// newLiveKitHarness is newHarness with calls through a real LiveKit server (media.backend:
// livekit) whose webhooks reach the bridge, as in production. Its scenarios' stats() fail on
// a call page that goes through anything else (CALL_BACKEND).
func newLiveKitHarness(t testing.TB) (*harness, *lkserver.Server) {
	var lk *lkserver.Server
	h := newHarnessWith(t, func(cfg map[string]any, _ string) {
		if lk == nil { // the config is written twice; one server
			lk = lktest.Start(t, fmt.Sprint(cfg["web.public_url"])+"/livekit/webhook")
		}
		cfg["media.backend"] = "livekit"
		cfg["media.livekit.url"] = "ws" + strings.TrimPrefix(lk.URL, "http")
		cfg["media.livekit.api_key"] = lk.Key
		cfg["media.livekit.api_secret"] = lk.Secret
	})
	t.Setenv("CALL_BACKEND", "livekit")
	return h, lk
}

// noEmbeddedMedia fails the test if the embedded SFU carried any media: on the LiveKit backend
// the pages' calls go through LiveKit only.
func (h *harness) noEmbeddedMedia() {
	h.t.Helper()
	if st := h.env.App.Calls.Stats(); st.PacketsIn != 0 || st.PacketsOut != 0 {
		h.t.Errorf("the embedded SFU carried media on the LiveKit backend: %d packets in, %d out", st.PacketsIn, st.PacketsOut)
	}
}

// withLiveKitControl is the harness's control server plus GET /livekit?session_id=: the Matrix
// users connected to the session's LiveKit room, as LiveKit's RoomService lists them.
func (h *harness) withLiveKitControl() string {
	mux := http.NewServeMux()
	mux.Handle("/", h.routes())
	mux.HandleFunc("GET /livekit", func(w http.ResponseWriter, r *http.Request) {
		ctx := context.Background()
		s, err := h.env.App.Sessions.Session(ctx, r.URL.Query().Get("session_id"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		ps, err := h.env.App.LiveKit.Participants(ctx, livekit.RoomName(s.RoomID, livekit.RoomSlot))
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		users := []string{}
		for _, p := range ps {
			users = append(users, p.UserID())
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"users": users})
	})
	return serveControl(h.t, mux)
}

// TestGuestInTheBrowserLiveKit is TestGuestInTheBrowser on the LiveKit backend: the same
// journey (booking, the early link, pre-join, waiting room, admitted from the panel, both
// decode video, a reload straight back in), every call through LiveKit.
func TestGuestInTheBrowserLiveKit(t *testing.T) {
	h, _ := newLiveKitHarness(t)
	h.run("guest.mjs")
	h.noEmbeddedMedia()
}

// TestCallInTheBrowserLiveKit is TestCallInTheBrowser on the LiveKit backend: admitted from
// the call's panel, both decode video, mute stops the audio packets, a shared screen
// arrives, End meeting for all closes both calls.
func TestCallInTheBrowserLiveKit(t *testing.T) {
	h, _ := newLiveKitHarness(t)
	h.run("call.mjs")
	h.noEmbeddedMedia()
}

// TestControlsInTheBrowserLiveKit is TestControlsInTheBrowser on the LiveKit backend: every
// in-call control with two clients (English, French) and the clinician.
func TestControlsInTheBrowserLiveKit(t *testing.T) {
	h, _ := newLiveKitHarness(t)
	h.run("controls.mjs")
	h.noEmbeddedMedia()
}

// TestLiveKitInTheBrowser: e2e/livekit.mjs, what only the LiveKit backend needs shown: the
// LiveKit server has whom the lobby let in and nobody waiting; removal ends the removed
// one's media and leaves the others' call; End meeting for all empties the room.
func TestLiveKitInTheBrowser(t *testing.T) {
	h, _ := newLiveKitHarness(t)
	runNode(t, "livekit.mjs", h.env.Config.Web.PublicURL, h.withLiveKitControl(), "")
	h.noEmbeddedMedia()
}

// BenchmarkAdmitToFirstFrameLiveKit is BenchmarkAdmitToFirstFrame on the LiveKit backend
// (make bench); it prints a line of its own beside the embedded SFU's figures.
func BenchmarkAdmitToFirstFrameLiveKit(b *testing.B) {
	h, _ := newLiveKitHarness(b)
	p50, p95 := admitToFirstFrame(b, h.run("admit.mjs"))
	fmt.Printf("BENCH admit_first_frame backend=livekit p50_ms=%g p95_ms=%g\n", p50, p95)
}
