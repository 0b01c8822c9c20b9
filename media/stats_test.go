package media_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/pion/webrtc/v4"
	"github.com/rs/zerolog"

	"github.com/telehealth-bridge/telehealth-bridge/internal/callclient"
	"github.com/telehealth-bridge/telehealth-bridge/media"
)

// Stats, which the metrics read, counts the calls, connections, hosts, published tracks and
// TURN relays there are, and nothing once everyone left.
func TestStatsSnapshot(t *testing.T) {
	clock := clockwork.NewFakeClock()
	srv, err := media.New(media.Config{ListenIP: "127.0.0.1", TURN: media.TURNConfig{
		Enabled: true, ListenIP: "127.0.0.1", Secret: "turn-secret",
	}}, secret, clock, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if st := srv.Stats(); st.Calls != 0 || st.Peers != 0 || st.Tracks != 0 || st.TURNAllocations != 0 || st.PacketsIn != 0 || st.PacketsOut != 0 {
		t.Errorf("an idle SFU: %+v", st)
	}
	web := httptest.NewServer(srv)
	defer web.Close()
	ws := "ws" + strings.TrimPrefix(web.URL, "http")
	api, _ := callclient.NewAPI("127.0.0.1")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	servers := srv.ICEServers("@bob:hs", clock.Now().Add(time.Hour))
	var relay []webrtc.ICEServer
	for _, u := range servers[0].URLs {
		if strings.HasSuffix(u, "udp") {
			relay = append(relay, webrtc.ICEServer{URLs: []string{u}, Username: servers[0].Username, Credential: servers[0].Credential})
		}
	}
	var got callclient.Counter
	host, err := callclient.Dial(ctx, api, ws, "sess-s", srv.Credential("sess-s", "@dr:hs", true), callclient.Options{Publish: true})
	if err != nil {
		t.Fatal(err)
	}
	defer host.Close()
	guest, err := callclient.Dial(ctx, api, ws, "sess-s", srv.Credential("sess-s", "@bob:hs", false),
		callclient.Options{Publish: true, OnPacket: got.Add, ICEServers: relay, RelayOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer guest.Close()
	other, err := callclient.Dial(ctx, api, ws, "sess-t", srv.Credential("sess-t", "@carol:hs", false), callclient.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	stop := make(chan struct{})
	defer close(stop)
	stream(host, stop)
	stream(guest, stop)
	eventually(t, "media through TURN", func() bool { return got.Get("@dr:hs camera") > 10 })
	eventually(t, "both publishers' tracks", func() bool { return srv.Stats().Tracks == 4 })
	st := srv.Stats()
	if st.Calls != 2 || st.Peers != 3 || st.Hosts != 1 || st.TURNAllocations < 1 {
		t.Errorf("two calls, three connections, one host, a relay: %+v", st)
	}
	for _, c := range []*callclient.Client{host, guest, other} {
		c.Close()
	}
	eventually(t, "an empty SFU", func() bool {
		st := srv.Stats()
		return st.Calls == 0 && st.Peers == 0 && st.Hosts == 0 && st.Tracks == 0
	})
}
