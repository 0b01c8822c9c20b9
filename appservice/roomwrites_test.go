package appservice

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
)

func TestWrittenRoom(t *testing.T) {
	for _, c := range []struct{ method, path, room string }{
		{"PUT", "/_matrix/client/v3/rooms/%21a:hs/send/m.room.message/txn1", "%21a:hs"},
		{"PUT", "/_matrix/client/v3/rooms/%21a:hs/state/m.room.name/", "%21a:hs"},
		{"POST", "/_matrix/client/v3/rooms/%21a:hs/invite", "%21a:hs"},
		{"POST", "/_matrix/client/v3/rooms/%21a:hs/kick", "%21a:hs"},
		{"POST", "/_matrix/client/v3/rooms/%21a:hs/join", "%21a:hs"},
		{"POST", "/_matrix/client/v3/join/%21a:hs", "%21a:hs"},
		{"POST", "/_matrix/client/v3/knock/%21a:hs", "%21a:hs"},
		{"PUT", "/_matrix/client/v3/rooms/%21a:hs/redact/%24e/txn", "%21a:hs"},
		// Reads, and writes that add nothing to the room's graph, are not held.
		{"GET", "/_matrix/client/v3/rooms/%21a:hs/state/m.room.member/%40u:hs", ""},
		{"GET", "/_matrix/client/v3/rooms/%21a:hs/messages", ""},
		{"POST", "/_matrix/client/v3/rooms/%21a:hs/read_markers", ""},
		{"PUT", "/_matrix/client/v3/rooms/%21a:hs/typing/%40u:hs", ""},
		{"POST", "/_matrix/client/v3/rooms/%21a:hs/receipt/m.read/%24e", ""},
		{"POST", "/_matrix/client/v3/register", ""},
		{"PUT", "/_matrix/client/v3/profile/%40u:hs/displayname", ""},
		{"POST", "/_matrix/client/v3/createRoom", ""},
	} {
		req := httptest.NewRequest(c.method, "http://hs"+c.path, nil)
		if got := writtenRoom(req); got != c.room {
			t.Errorf("%s %s: %q, want %q", c.method, c.path, got, c.room)
		}
	}
}

// TestRoomWritesOneAtATime: writes into one room reach the server one at a time, while another
// room's write and a read go through beside them.
func TestRoomWritesOneAtATime(t *testing.T) {
	release := make(chan struct{})
	var inA, maxA, others atomic.Int32
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if writtenRoom(r) == "%21a:hs" {
			n := inA.Add(1)
			defer inA.Add(-1)
			for m := maxA.Load(); n > m && !maxA.CompareAndSwap(m, n); m = maxA.Load() {
			}
			<-release
			return
		}
		others.Add(1)
	}))
	defer hs.Close()
	client := &http.Client{Transport: newRoomWrites(nil)}
	var wg sync.WaitGroup
	for i := 0; i < 3; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest("PUT", hs.URL+"/_matrix/client/v3/rooms/%21a:hs/send/m.room.message/t", nil)
			if resp, err := client.Do(req); err == nil {
				resp.Body.Close()
			}
		}()
	}
	// While room A's writes are held: another room's write and a read of A get through.
	for _, r := range []struct{ method, path string }{
		{"PUT", "/_matrix/client/v3/rooms/%21b:hs/send/m.room.message/t"},
		{"GET", "/_matrix/client/v3/rooms/%21a:hs/messages"},
	} {
		req, _ := http.NewRequest(r.method, hs.URL+r.path, nil)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	if others.Load() != 2 {
		t.Errorf("%d of 2 requests beside room A's writes went through", others.Load())
	}
	for i := 0; i < 3; i++ {
		release <- struct{}{}
	}
	wg.Wait()
	if maxA.Load() != 1 {
		t.Errorf("%d writes into one room at once, want 1", maxA.Load())
	}
}
