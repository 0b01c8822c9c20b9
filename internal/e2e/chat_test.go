package e2e

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"testing"

	"maunium.net/go/mautrix/id"
)

// TestChatInTheBrowser: a guest and the clinician chat on their call pages; a Matrix client's
// message (the clinician's Element, through CHAT_CONTROL_URL's /say and /admit) shows there too; hostile
// text shows as text. Screenshots in English and French.
func TestChatInTheBrowser(t *testing.T) {
	h := newHarness(t)
	// POST /say {session_id, text}: the clinician writes in the session room from their Matrix
	// client, as in Element.
	mux := http.NewServeMux()
	mux.HandleFunc("POST /say", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			SessionID string `json:"session_id"`
			Text      string `json:"text"`
		}
		_ = json.NewDecoder(r.Body).Decode(&req)
		ctx := context.Background()
		s, err := h.env.App.Sessions.Session(ctx, req.SessionID)
		if err == nil {
			_, err = h.clinician.SendText(ctx, id.RoomID(s.RoomID), req.Text)
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		_, _ = w.Write([]byte("{}"))
	})
	// POST /admit {session_id}: the clinician lets everyone waiting in (from Element or !admit-all).
	mux.HandleFunc("POST /admit", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			SessionID string `json:"session_id"`
		}
		_ = json.NewDecoder(r.Body).Decode(&req)
		if err := h.env.App.Sessions.HostAction(context.Background(), h.clinician.UserID.String(), req.SessionID, "admit-all", "", ""); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		_, _ = w.Write([]byte("{}"))
	})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: mux}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	t.Setenv("CHAT_CONTROL_URL", "http://"+l.Addr().String())
	h.run("chat.mjs")
}
