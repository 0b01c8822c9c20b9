package appservice

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix"
)

// A chat message's body never reaches the log, even at debug level, where mautrix logs the body
// of every request, nor when the request fails.
func TestChatBodiesStayOutOfTheLog(t *testing.T) {
	for _, status := range []int{http.StatusOK, http.StatusForbidden} {
		var received string
		hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			data, _ := io.ReadAll(r.Body)
			received = string(data)
			w.WriteHeader(status)
			if status == http.StatusOK {
				_, _ = w.Write([]byte(`{"event_id":"$e"}`))
			} else {
				_, _ = w.Write([]byte(`{"errcode":"M_FORBIDDEN","error":"no"}`))
			}
		}))
		var out bytes.Buffer
		log := zerolog.New(&out).Level(zerolog.TraceLevel)
		cli, err := mautrix.NewClient(hs.URL, "@telehealth_guest_x:localhost", "token")
		if err != nil {
			t.Fatal(err)
		}
		cli.Log = log
		ctx := log.WithContext(context.Background())
		err = sendPrivately(mautrix.WithMaxRetries(ctx, 0), cli, "!room:localhost", map[string]any{"msgtype": "m.text", "body": "chest pain since Monday"})
		hs.Close()
		if (err == nil) != (status == http.StatusOK) {
			t.Errorf("status %d: error %v", status, err)
		}
		if !strings.Contains(received, "chest pain since Monday") {
			t.Errorf("the homeserver got %q", received)
		}
		if strings.Contains(out.String(), "chest pain") || out.Len() == 0 {
			t.Errorf("status %d: the log has the body, or nothing at all:\n%s", status, out.String())
		}
	}
}
