package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"testing"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"github.com/telehealth-bridge/telehealth-bridge/database"
	"github.com/telehealth-bridge/telehealth-bridge/internal/bridgetest"
)

// TestPortalMessagesInTheBrowser (e2e/portal-messages.mjs): Jane writes from her portal's
// Messages tab; Dr Martin's Matrix client (a mautrix client logged in to Dendrite, standing for
// Element) receives her message, from her ghost, in their Messages room and answers there; the
// portal shows the answer without a reload. Then Dr Martin answers from the panel
// (panelmessages.js's mountClientMessages), relayed by the bot, and the portal shows that live
// too. Jane having seen them, the thread counts them read.
func TestPortalMessagesInTheBrowser(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	dr := h.clinician.UserID.String()
	c, err := h.env.App.Sessions.CreateClient(ctx, dr, bridge.ClientRequest{DisplayName: "Jane Doe", Emails: []string{"jane@example.org"},
		Locale: "en", TimeZone: "Europe/Paris", Professionals: []string{dr}})
	if err != nil {
		t.Fatal(err)
	}
	token := "e2e-portal-messages-jane"
	sum := sha256.Sum256([]byte(token))
	now := h.clock.Now()
	if err = h.env.App.DB.PortalSession.Insert(ctx, &database.PortalSession{TokenHash: hex.EncodeToString(sum[:]), ClientID: c.ID,
		CreatedAt: now, LastSeen: now, IdleExpiresAt: now.Add(12 * time.Hour), ExpiresAt: now.Add(12 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PORTAL_TOKEN_JANE", token)

	mux := http.NewServeMux()
	// POST /clinician-accept: the clinician accepts the Messages room's invite, as they would in
	// Element when it appears (history is visible from the join).
	mux.HandleFunc("POST /clinician-accept", func(w http.ResponseWriter, r *http.Request) {
		cl, err := h.env.App.DB.Client.Get(ctx, c.ID)
		if err == nil && cl.MessagesRoom == "" {
			err = fmt.Errorf("the client has no Messages room yet")
		}
		if err == nil {
			_, err = h.clinician.JoinRoomByID(ctx, id.RoomID(cl.MessagesRoom))
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		_, _ = w.Write([]byte("{}"))
	})
	// POST /clinician-answer {expect, text}: the clinician's Matrix client joins the Messages
	// room it was invited to, waits for the client's message there, and answers.
	mux.HandleFunc("POST /clinician-answer", func(w http.ResponseWriter, r *http.Request) {
		var req struct{ Expect, Text string }
		_ = json.NewDecoder(r.Body).Decode(&req)
		if err := h.answerAsElement(ctx, c.ID, req.Expect, req.Text); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		_, _ = w.Write([]byte("{}"))
	})
	// GET /panel-link: the clinician's one-time panel sign-in link, and the client's record.
	mux.HandleFunc("GET /panel-link", func(w http.ResponseWriter, r *http.Request) {
		link, err := h.env.App.Web.LoginLink(ctx, dr)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"url": link, "client_id": c.ID})
	})
	runNode(t, "portal-messages.mjs", h.env.Config.Web.PublicURL, serveControl(t, mux), "portal-messages")

	bridgetest.Eventually(t, 10*time.Second, "the answer counted read", func() bool {
		th, err := h.env.App.DB.MessageThread.Get(ctx, c.ID)
		return err == nil && th.Unread == 0 && !th.ReadAt.IsZero()
	})
}

// answerAsElement is the clinician in Element: in the client's Messages room, the client's
// message must arrive from the client's ghost; the clinician answers in the room.
func (h *harness) answerAsElement(ctx context.Context, clientID int64, expect, text string) error {
	cl, err := h.env.App.DB.Client.Get(ctx, clientID)
	if err != nil || cl.MessagesRoom == "" || cl.Ghost == "" {
		return fmt.Errorf("the client's room and ghost: %+v %v", cl, err)
	}
	room := id.RoomID(cl.MessagesRoom)
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := h.clinician.Messages(ctx, room, "", "", mautrix.DirectionBackward, nil, 50)
		if err == nil {
			for _, evt := range resp.Chunk {
				_ = evt.Content.ParseRaw(evt.Type)
				if evt.Type == event.EventMessage && evt.Sender == id.UserID(cl.Ghost) && evt.Content.AsMessage().Body == expect {
					_, err = h.clinician.SendText(ctx, room, text)
					return err
				}
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the client's message never reached the clinician's Matrix client (%v)", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond): // the next look at the room
		}
	}
}
