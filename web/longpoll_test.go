package web_test

import (
	"bytes"
	"context"
	"net/http/httptest"
	"strings"
	"sync"
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

// stuckInvites is a homeserver whose invites do not come back until released.
type stuckInvites struct {
	noRooms
	inviting chan string
	release  chan struct{}
}

func (r stuckInvites) Invite(_ context.Context, _, user string) error {
	r.inviting <- user
	<-r.release
	return nil
}

// PublishSession (the session's state in its room, written under the session's lock when the
// clinician starts it) does not come back either.
func (r stuckInvites) PublishSession(ctx context.Context, s *bridge.Session) error {
	if s.Status == bridge.StatusLive {
		r.inviting <- "state"
		<-r.release
	}
	return nil
}

// TestReadsDoNotWaitOnTheHomeserver: while the homeserver takes its time over a change (an
// admission's invite, the session's state when the clinician starts it: seconds, in a morning
// rush), the clinician's lobby and a guest's page still read the lobby at once: a read never
// waits behind a change in flight.
func TestReadsDoNotWaitOnTheHomeserver(t *testing.T) {
	ctx := context.Background()
	db := dbtest.Open(t, "sqlite")
	clock := clockwork.NewFakeClockAt(time.Date(2026, 11, 24, 13, 40, 0, 0, time.UTC))
	svc := bridge.New(bridge.Options{Store: db.Store(), Clock: clock, Bot: "@bot:hs"})
	rooms := stuckInvites{inviting: make(chan string, 1), release: make(chan struct{})}
	svc.Use(rooms, noRooms{}, nil, nil)
	srv := web.New(web.Config{PublicURL: "http://localhost:8080", SigningKey: []byte("0123456789abcdef0123456789abcdef")},
		db, svc, clock, zerolog.Nop())
	s, err := svc.Schedule(ctx, bridge.ScheduleRequest{Clinician: "@dr:hs", Start: clock.Now().Add(20 * time.Minute),
		End: clock.Now().Add(70 * time.Minute), TimeZone: "Europe/Paris",
		Participants: []bridge.ParticipantRequest{{Name: "Jane", MatrixID: "@jane:hs"}, {Name: "Joe"}}})
	if err != nil {
		t.Fatal(err)
	}
	if err = svc.OnMembership(ctx, bridge.Membership{RoomID: s.RoomID, Target: "@jane:hs", Sender: "@jane:hs", Membership: bridge.MemberKnock}); err != nil {
		t.Fatal(err)
	}
	_, ps, _ := svc.Lobby(ctx, "", s.ID)
	link, err := srv.ParticipantLink(ctx, s, ps[1])
	if err != nil {
		t.Fatal(err)
	}
	token := link[strings.LastIndex(link, "/")+1:]

	admitted := make(chan error, 1)
	go func() {
		_, err := svc.Admit(ctx, "@dr:hs", s.ID, "1")
		if err == nil {
			_, err = svc.Start(ctx, "@dr:hs", s.ID)
		}
		admitted <- err
	}()
	var once sync.Once
	release := func() { once.Do(func() { close(rooms.release) }) }
	defer func() {
		release()
		if err := <-admitted; err != nil {
			t.Errorf("admitting: %v", err)
		}
	}()
	<-rooms.inviting // the admission now waits on the homeserver's invite
	rooms.release <- struct{}{}
	<-rooms.inviting // and the start on its state event, under the session's lock

	read := func(what string, f func()) {
		t.Helper()
		done := make(chan struct{})
		go func() { f(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Errorf("%s waited on the homeserver", what)
			release()
			<-done
		}
	}
	read("the clinician's lobby", func() {
		// The admission is stored before its invite goes out: the lobby shows it already.
		if _, ps, err := svc.Lobby(ctx, "@dr:hs", s.ID); err != nil || ps[0].State != bridge.StateAdmitted {
			t.Errorf("the clinician's lobby: %v %v", ps, err)
		}
	})
	read("the guest's page", func() {
		req := httptest.NewRequest("GET", "http://localhost:8080/api/call/state", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		rec := httptest.NewRecorder()
		srv.Handler().ServeHTTP(rec, req)
		if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"state":"booked"`) {
			t.Errorf("the guest's state: %d %s", rec.Code, rec.Body)
		}
	})
}
