package web_test

import (
	"bytes"
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/rs/zerolog"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"github.com/telehealth-bridge/telehealth-bridge/internal/dbtest"
	"github.com/telehealth-bridge/telehealth-bridge/web"
)

// TestClosedLongPollIsNoError: a page that goes away during its long poll (a reload, a closed
// tab) is normal: the server answers nothing and logs it at debug level, not as a failure
// ("context canceled", 500) that an operator would chase.
func TestClosedLongPollIsNoError(t *testing.T) {
	ctx := context.Background()
	db := dbtest.Open(t, "sqlite")
	clock := clockwork.NewFakeClockAt(time.Date(2026, 11, 24, 13, 40, 0, 0, time.UTC))
	svc := bridge.New(bridge.Options{Store: db.Store(), Clock: clock, Bot: "@bot:hs"})
	svc.Use(noRooms{}, noRooms{}, nil, nil)
	var logs bytes.Buffer
	srv := web.New(web.Config{PublicURL: "http://localhost:8080", SigningKey: []byte("0123456789abcdef0123456789abcdef")},
		db, svc, clock, zerolog.New(&logs).Level(zerolog.DebugLevel))
	s, err := svc.Schedule(ctx, bridge.ScheduleRequest{Clinician: "@dr:hs", Start: clock.Now().Add(20 * time.Minute),
		End: clock.Now().Add(70 * time.Minute), TimeZone: "Europe/Paris", Participants: []bridge.ParticipantRequest{{Name: "Jane"}}})
	if err != nil {
		t.Fatal(err)
	}
	_, ps, _ := svc.Lobby(ctx, "", s.ID)
	link, err := srv.ParticipantLink(ctx, s, ps[0])
	if err != nil {
		t.Fatal(err)
	}
	token := link[strings.LastIndex(link, "/")+1:]
	h := srv.Handler()

	// The page's first state, then its long poll, which it closes.
	req := httptest.NewRequest("GET", "http://localhost:8080/api/call/state", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != 200 {
		t.Fatalf("state: %d %s", rec.Code, rec.Body)
	}
	closed, cancel := context.WithCancel(ctx)
	cancel()
	req = httptest.NewRequest("GET", "http://localhost:8080/api/call/state?after=1", nil).WithContext(closed)
	req.Header.Set("Authorization", "Bearer "+token)
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Body.Len() != 0 {
		t.Errorf("a closed long poll was answered %d %s", rec.Code, rec.Body)
	}
	if strings.Contains(logs.String(), `"level":"error"`) {
		t.Errorf("a closed long poll was logged as an error: %s", logs.String())
	}
	if !strings.Contains(logs.String(), "The request ended before its answer") {
		t.Errorf("a closed long poll left no debug line: %s", logs.String())
	}
}
