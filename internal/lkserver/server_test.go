package lkserver_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/telehealth-bridge/telehealth-bridge/internal/lktest"
)

// The harness's server answers on loopback and refuses the API without a token signed with
// its key.
func TestServerStartsOnLoopback(t *testing.T) {
	srv := lktest.Start(t)
	if !strings.HasPrefix(srv.URL, "http://127.0.0.1:") || len(srv.Secret) < 32 {
		t.Fatalf("server %s, secret of %d characters", srv.URL, len(srv.Secret))
	}
	resp, err := http.Post(srv.URL+"/twirp/livekit.RoomService/ListRooms", "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("ListRooms without a token: HTTP %d %s", resp.StatusCode, body)
	}
}
