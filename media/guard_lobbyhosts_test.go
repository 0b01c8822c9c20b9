package media_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/telehealth-bridge/telehealth-bridge/media"
)

// TestLobbyGoesToHostsOnly: the lobby (who waits, by name) reaches the clinician's connection
// and never a participant's in the same session (docs/security.md, "what the SFU sends": lobby,
// hosts only). The participant's own refused host command, answered after the lobby went out,
// marks the point by which a lobby sent to them would have arrived. Checked to fail with the
// hosts-only filter removed (make mutate: media-lobby-to-hosts-only).
func TestLobbyGoesToHostsOnly(t *testing.T) {
	s := newSFU(t)
	host, err := s.dial("sess-a", s.srv.Credential("sess-a", "@dr:hs", true), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(host.Close)
	guest := s.join("sess-a", "@alice:hs", nil)
	s.srv.PublishLobby("sess-a", media.LobbyView{Participants: []media.LobbyParticipant{{Number: 2, Name: "Mallory Waiting"}}})
	eventually(t, "the lobby on the clinician's connection", func() bool {
		for _, m := range host.Messages() {
			if m["type"] == "lobby" {
				return true
			}
		}
		return false
	})
	guest.Send(map[string]any{"type": "host", "command": "end"})
	eventually(t, "the participant's refusal", func() bool {
		for _, m := range guest.Messages() {
			if m["type"] == "error" {
				return true
			}
		}
		return false
	})
	for _, m := range guest.Messages() {
		if m["type"] == "lobby" || strings.Contains(jsonOf(m), "Mallory") {
			t.Errorf("a participant got the lobby: %v", m)
		}
	}
}

func jsonOf(m map[string]any) string {
	data, _ := json.Marshal(m)
	return string(data)
}
