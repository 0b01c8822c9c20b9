package e2e

import (
	"context"
	"testing"
)

// TestClientPickerInTheBrowser: the clinician picks a client record in the booking form
// (e2e/clients.mjs); the session is booked on that record, not on a new one.
func TestClientPickerInTheBrowser(t *testing.T) {
	h := newHarness(t)
	h.run("clients.mjs")
	ctx := context.Background()
	dr := h.clinician.UserID.String()
	found, err := h.env.App.Sessions.FindClients(ctx, dr, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(found) != 2 {
		t.Fatalf("%d records after booking Jane again from the picker, want 2 (Jane, Leo)", len(found))
	}
	for _, c := range found {
		_, sessions, err := h.env.App.Sessions.ShowClient(ctx, dr, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]int{"Jane Doe": 2, "Leo Doe": 1}[c.DisplayName]
		if len(sessions) != want {
			t.Errorf("%s has %d sessions, want %d", c.DisplayName, len(sessions), want)
		}
	}
}
