package logging_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"go.mau.fi/zeroconfig"

	"github.com/telehealth-bridge/telehealth-bridge/appservice"
	"github.com/telehealth-bridge/telehealth-bridge/internal/logging"
)

// The OpenID token a widget sends reaches the log inside the federation client's error (its
// URL carries ?access_token=): the log file the bridge writes never shows it.
func TestOpenIDFailureNeverLogsTheToken(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bridge.log")
	log, err := logging.New(zeroconfig.Config{Writers: []zeroconfig.WriterConfig{{Type: zeroconfig.WriterTypeFile, Format: zeroconfig.LogFormatJSON, FileConfig: zeroconfig.FileConfig{Filename: path}}}})
	if err != nil {
		t.Fatal(err)
	}
	const token = "Wq8zVtq1mYbSecretOpenIDTokenFromElement"
	verifier := appservice.NewOpenIDVerifier("http://127.0.0.1:1", "clinic.example")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, verifyErr := verifier.VerifyOpenID(ctx, token, "127.0.0.1:1")
	if verifyErr == nil {
		t.Fatal("a token from an unreachable server was accepted")
	}
	// What a careless caller logs: the whole error, wrapped once more.
	log.Info().Err(fmt.Errorf("widget sign-in: %w", verifyErr)).Str("server_name", "127.0.0.1:1").Msg("Refused an OpenID token")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), token) {
		t.Errorf("the OpenID token is in the log:\n%s", data)
	}
	if !strings.Contains(string(data), "Refused an OpenID token") {
		t.Errorf("the line itself was lost:\n%s", data)
	}
}

// Token-like values are scrubbed from every string of a line, in the forms they take in URLs,
// headers, JSON bodies and our own links.
func TestTokenValuesAreScrubbed(t *testing.T) {
	secrets := map[string]string{
		"query":           `GET https://hs.example/_matrix/federation/v1/openid/userinfo?access_token=%s&x=1`,
		"token query":     `https://hs.example/_matrix/client/v3/sync?token=%s`,
		"bearer":          `Authorization: Bearer %s`,
		"json body":       `answer {"access_token":"%s","expires_in":3600}`,
		"spaced json":     `answer {"access_token": "%s"}`,
		"synapse":         `whoami for syt_%s failed`,
		"guest link":      `opening https://video.example/g/ab12cd34.%s`,
		"one-time link":   `https://video.example/l/%s`,
		"auth_token form": `auth_token=%s`,
	}
	for name, format := range secrets {
		t.Run(name, func(t *testing.T) {
			const secret = "c2VjcmV0LXZhbHVlLW5vYm9keS1zaG91bGQtc2Vl"
			var out bytes.Buffer
			log := zerolog.New(logging.Redact(zerolog.MultiLevelWriter(&out)))
			line := fmt.Sprintf(format, secret)
			log.Warn().Err(fmt.Errorf("doing it: %s", line)).Str("detail", line).Msg(line)
			if strings.Contains(out.String(), secret[:20]) {
				t.Errorf("logged:\n%s", out.String())
			}
		})
	}
}

// The scrubbing costs an innocent line (no token-like word) a few checks of its bytes.
func BenchmarkInnocentLine(b *testing.B) {
	log := zerolog.New(logging.Redact(zerolog.MultiLevelWriter(discard{}))).With().Timestamp().Logger()
	for b.Loop() {
		log.Info().Str("room_id", "!abcdefgh:clinic.example").Str("session", "s1x2y3").Int("participants", 3).Msg("Participant admitted to the session")
	}
}

// BenchmarkTokenLine is a line that has to be scrubbed.
func BenchmarkTokenLine(b *testing.B) {
	log := zerolog.New(logging.Redact(zerolog.MultiLevelWriter(discard{}))).With().Timestamp().Logger()
	err := fmt.Errorf(`Get "https://hs.example/_matrix/federation/v1/openid/userinfo?access_token=abcdefabcdef": refused`)
	for b.Loop() {
		log.Info().Err(err).Str("server_name", "hs.example").Msg("Refused an OpenID token")
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
