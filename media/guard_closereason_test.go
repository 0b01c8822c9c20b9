package media_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/coder/websocket"

	"github.com/telehealth-bridge/telehealth-bridge/media"
)

// Guard of "Any signalling input" (docs/security.md, "Denial of service": close reasons fit a
// close frame), for make mutate: a refusal whose reason is long (the bridge's words, in any
// language) still reaches the page as its close code and a readable reason, not as a dropped
// connection.

// TestLongRefusalStillClosesWithItsCode: the bridge refuses a join with a 400-byte reason in
// accented French; the page gets 4403 and the reason's start, cut on a character, within 123
// bytes.
func TestLongRefusalStillClosesWithItsCode(t *testing.T) {
	s := newSFU(t)
	long := strings.Repeat("Vous n'êtes pas attendu à cette séance. ", 10)
	s.srv.SetHooks(media.Hooks{
		Admitted: func(context.Context, string, string, bool) error { return errors.New(long) },
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, s.ws, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	join, _ := json.Marshal(map[string]string{"type": "join", "session": "sess-a", "credential": s.srv.Credential("sess-a", "@bob:hs", false)})
	if err = ws.Write(ctx, websocket.MessageText, join); err != nil {
		t.Fatal(err)
	}
	for {
		if _, _, err = ws.Read(ctx); err != nil {
			break
		}
	}
	var ce websocket.CloseError
	if !errors.As(err, &ce) {
		t.Fatalf("the connection ended without a close frame: %v", err)
	}
	if ce.Code != 4403 || len(ce.Reason) > 123 || !utf8.ValidString(ce.Reason) || !strings.HasPrefix(ce.Reason, "Not allowed in this call: Vous n'êtes pas attendu") {
		t.Errorf("closed with %d %q (%d bytes), want 4403 and the reason's start within 123 bytes", ce.Code, ce.Reason, len(ce.Reason))
	}
}
