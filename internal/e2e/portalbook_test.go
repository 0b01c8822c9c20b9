package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"testing"
	"time"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"github.com/telehealth-bridge/telehealth-bridge/database"
)

// TestSelfSchedulingInTheBrowser (e2e/portalbook.mjs): the clinician publishes their
// availability on the panel's Availability page (a refused field first), Jane books a slot in
// her portal in English, and Leo, racing for the same slot in French, is told it is taken.
// The session is booked on Jane's record.
func TestSelfSchedulingInTheBrowser(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	dr := h.clinician.UserID.String()
	ids := map[string]int64{}
	for name, req := range map[string]bridge.ClientRequest{
		"JANE": {DisplayName: "Jane Doe", Emails: []string{"jane@example.org"}, Locale: "en", TimeZone: "America/New_York", Professionals: []string{dr}},
		"LEO":  {DisplayName: "Leo Roux", Emails: []string{"leo@example.org"}, Locale: "fr", TimeZone: "Europe/Paris", Professionals: []string{dr}},
	} {
		c, err := h.env.App.Sessions.CreateClient(ctx, dr, req)
		if err != nil {
			t.Fatal(err)
		}
		ids[name] = c.ID
		// Each is signed in to the portal as a sign-in stores it (the token's SHA-256); the
		// scenario puts the token in the browser's cookie jar, as the sign-in's answer would.
		token := "e2e-portal-" + name
		sum := sha256.Sum256([]byte(token))
		now := h.clock.Now()
		if err = h.env.App.DB.PortalSession.Insert(ctx, &database.PortalSession{TokenHash: hex.EncodeToString(sum[:]), ClientID: c.ID,
			CreatedAt: now, LastSeen: now, IdleExpiresAt: now.Add(12 * time.Hour), ExpiresAt: now.Add(12 * time.Hour)}); err != nil {
			t.Fatal(err)
		}
		t.Setenv("PORTAL_TOKEN_"+name, token)
	}
	h.run("portalbook.mjs")

	sessions, err := h.env.App.Sessions.Sessions(ctx, dr)
	if err != nil || len(sessions) != 1 {
		t.Fatalf("%d sessions booked (%v), want 1", len(sessions), err)
	}
	_, ps, err := h.env.App.Sessions.Lobby(ctx, dr, sessions[0].ID)
	if err != nil || len(ps) != 1 || ps[0].ClientID != ids["JANE"] || ps[0].Name != "Jane Doe" {
		t.Fatalf("the booking's participant: %+v %v", ps, err)
	}
	av, err := h.env.App.Sessions.Availability(ctx, dr, "UTC")
	if err != nil || !av.SelfScheduling || av.TimeZone != "Europe/Paris" || len(av.Types) != 1 || av.Types[0].Duration != time.Hour {
		t.Errorf("the availability saved from the panel: %+v %v", av, err)
	}
}
