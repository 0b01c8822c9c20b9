package logging

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/rs/zerolog"
)

func TestSecretsNeverReachTheWriter(t *testing.T) {
	var out bytes.Buffer
	log := zerolog.New(Redact(zerolog.MultiLevelWriter(&out)))
	// What mautrix logs for a failed request: the request's body, with a message in it.
	log.Error().RawJSON("req_body", []byte(`{"msgtype":"m.text","body":"running late, chest pain"}`)).
		Str("url", "http://hs/_matrix/client/v3/rooms/!r/send").Msg("Request failed")
	log.Info().Str("access_token", "syt_secret").Str("user_id", "@a:hs").Msg("Login")
	log.Info().Str("room_id", "!r:hs").Msg("Nothing to hide")

	text := out.String()
	for _, secret := range []string{"chest pain", "syt_secret"} {
		if strings.Contains(text, secret) {
			t.Errorf("log contains %q:\n%s", secret, text)
		}
	}
	lines := strings.Split(strings.TrimSpace(text), "\n")
	if len(lines) != 3 {
		t.Fatalf("want 3 lines, got %d", len(lines))
	}
	var first map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &first); err != nil {
		t.Fatal(err)
	}
	if first["url"] == nil || first["message"] != "Request failed" || first["req_body"] != "[redacted]" {
		t.Errorf("redaction lost the rest of the line: %v", first)
	}
	if !strings.Contains(lines[2], `"room_id":"!r:hs"`) {
		t.Errorf("an innocent line was changed: %s", lines[2])
	}
}
