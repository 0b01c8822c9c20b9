package lkserver_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/telehealth-bridge/telehealth-bridge/internal/lkserver"
	"github.com/telehealth-bridge/telehealth-bridge/internal/lktest"
	"github.com/telehealth-bridge/telehealth-bridge/media/livekit"
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

// Two clusters take different Redis databases, each empty; a released one is emptied.
func TestTakeRedisDB(t *testing.T) {
	ctx := context.Background()
	a, err := lkserver.TakeRedisDB(ctx, lktest.RedisAddr())
	if err != nil {
		t.Skipf("no Redis: %v", err)
	}
	defer a.Release()
	b, err := lkserver.TakeRedisDB(ctx, lktest.RedisAddr())
	if err != nil {
		t.Fatal(err)
	}
	if a.DB == b.DB || a.DB == 0 || b.DB == 0 {
		t.Fatalf("databases %d and %d", a.DB, b.DB)
	}
	if _, err = a.Do(ctx, "SET", "k", "v"); err != nil {
		t.Fatal(err)
	}
	if got, _ := b.Do(ctx, "GET", "k"); got != "" {
		t.Errorf("the other cluster's database has its key: %q", got)
	}
	if got, _ := a.Do(ctx, "GET", "k"); got != "v" {
		t.Errorf("GET k = %q", got)
	}
	db := b.DB
	b.Release()
	c, err := lkserver.TakeRedisDB(ctx, lktest.RedisAddr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Release()
	if c.DB != db {
		t.Errorf("took database %d, want the released %d", c.DB, db)
	}
	if n, _ := a.Do(ctx, "DBSIZE"); n != "1" {
		t.Errorf("the first cluster's database holds %s keys, want 1", n)
	}
	a.Release()
	probe := &lkserver.RedisDB{Addr: a.Addr, DB: a.DB}
	if n, _ := probe.Do(ctx, "DBSIZE"); n != "0" {
		t.Errorf("a released database holds %s keys", n)
	}
}

// The server hands joining clients only a STUN server on loopback (its default is Google's
// and Twilio's, which a browser would query).
func TestServerHandsOutLoopbackICEServersOnly(t *testing.T) {
	srv := lktest.Start(t)
	p, err := lktest.Join(t, srv.URL, joinToken(t, srv))
	if err != nil {
		t.Fatal(err)
	}
	urls := p.ICEServerURLs()
	if len(urls) == 0 {
		t.Fatal("no ICE servers in the join")
	}
	for _, u := range urls {
		if !strings.Contains(u, "127.0.0.1:") {
			t.Errorf("the server hands out ICE server %s", u)
		}
	}
}

func joinToken(t *testing.T, srv *lkserver.Server) string {
	t.Helper()
	b, err := livekit.New(livekit.Config{URL: srv.URL, APIKey: srv.Key, APISecret: srv.Secret}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	token, err := b.Token("!room:localhost", "@a:localhost", "@a:localhost", false)
	if err != nil {
		t.Fatal(err)
	}
	return token
}
