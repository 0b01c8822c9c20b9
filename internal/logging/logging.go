// Package logging builds the bridge's zerolog logger from the config's writers (zeroconfig),
// strips from every line the fields that could carry a token or a message, and scrubs
// token-like values from the rest: the bridge must never log them, mautrix's request logs
// include request bodies, and wrapped errors quote URLs with tokens in them.
package logging

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	"github.com/rs/zerolog"
	"go.mau.fi/zeroconfig"
)

// secretFields are removed from every log line, wherever they come from.
var secretFields = []string{"req_body", "body", "formatted_body", "access_token", "as_token", "hs_token", "password", "token"}

// New compiles the writers and returns the logger.
func New(cfg zeroconfig.Config) (*zerolog.Logger, error) {
	if len(cfg.Writers) == 0 {
		log := zerolog.Nop()
		return &log, nil
	}
	writers := make([]io.Writer, len(cfg.Writers))
	for i, wc := range cfg.Writers {
		w, err := wc.Compile()
		if err != nil {
			return nil, fmt.Errorf("logging.writers[%d]: %w", i, err)
		}
		writers[i] = w
	}
	log := zerolog.New(Redact(zerolog.MultiLevelWriter(writers...))).With().Timestamp().Logger()
	if cfg.MinLevel != nil {
		log = log.Level(*cfg.MinLevel)
	}
	return &log, nil
}

// Redact wraps a writer of zerolog JSON lines so that secret fields never reach it.
func Redact(next zerolog.LevelWriter) zerolog.LevelWriter {
	return redactor{next: next}
}

type redactor struct {
	next zerolog.LevelWriter
}

func (r redactor) Write(p []byte) (int, error) {
	return r.WriteLevel(zerolog.NoLevel, p)
}

func (r redactor) WriteLevel(level zerolog.Level, p []byte) (int, error) {
	clean, stripped := strip(p)
	clean, scrubbed := scrub(clean)
	if stripped || scrubbed {
		if _, err := r.next.WriteLevel(level, clean); err != nil {
			return 0, err
		}
		return len(p), nil
	}
	return r.next.WriteLevel(level, p)
}

// strip removes secret fields from one JSON line. Lines without them (nearly all) are
// passed through untouched, without decoding.
func strip(line []byte) ([]byte, bool) {
	found := false
	for _, f := range secretFields {
		if bytes.Contains(line, []byte(`"`+f+`":`)) {
			found = true
			break
		}
	}
	if !found {
		return line, false
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(line, &fields); err != nil {
		return line, false
	}
	for _, f := range secretFields {
		if _, ok := fields[f]; ok {
			fields[f] = json.RawMessage(`"[redacted]"`)
		}
	}
	out, err := json.Marshal(fields)
	if err != nil {
		return line, false
	}
	return append(out, '\n'), true
}
