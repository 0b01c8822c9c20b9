package web_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"github.com/telehealth-bridge/telehealth-bridge/internal/bridgetest"
	"github.com/telehealth-bridge/telehealth-bridge/internal/callclient"
	"github.com/telehealth-bridge/telehealth-bridge/web"
)

// TestSendBackCutsTheMedia: a guest the clinician sends back to the waiting room stops
// receiving the call at once, while another guest goes on receiving it. What is counted is the
// clinician's camera packets reaching each guest: once the sent-back guest's stop (polled with
// a deadline), they get none while the other guest gets 50 more.
func TestSendBackCutsTheMedia(t *testing.T) {
	s := newSite(t)
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	sess := s.scheduleGuests(ctx, "JD", "KL")
	ps, tokens := s.openWithGuests(ctx, sess)

	// The clinician enters from the panel and connects.
	s.login(roomWithBot(t, s))
	var enter struct {
		URL string `json:"url"`
	}
	s.call("POST", "/api/panel/sessions/"+sess.ID+"/enter", "", struct{}{}, &enter)
	var hostAccess web.CallAccess
	if code := s.call("POST", "/api/call/join", enter.URL[strings.Index(enter.URL, "#")+1:], struct{}{}, &hostAccess); code != 200 || !hostAccess.Host {
		t.Fatalf("the clinician's credential: %d %+v", code, hostAccess)
	}
	api, err := callclient.NewAPI("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	host, err := callclient.Dial(ctx, api, hostAccess.WebSocket, sess.ID, hostAccess.Credential, callclient.Options{Publish: true})
	if err != nil {
		t.Fatal(err)
	}
	defer host.Close()

	// Both guests knock, are let in and connect.
	received := make([]*callclient.Counter, len(tokens))
	guests := make([]*callclient.Client, len(tokens))
	for i, token := range tokens {
		var st web.CallState
		s.call("POST", "/api/call/knock", token, map[string]string{"name": ps[i].Name}, &st)
		if _, err = s.env.App.Sessions.Admit(ctx, s.clinician.UserID.String(), sess.ID, strconv.Itoa(ps[i].Number)); err != nil {
			t.Fatal(err)
		}
		var access web.CallAccess
		bridgetest.Eventually(t, wait, "a guest's credential", func() bool {
			return s.call("POST", "/api/call/join", token, struct{}{}, &access) == http.StatusOK
		})
		received[i] = &callclient.Counter{}
		if guests[i], err = callclient.Dial(ctx, api, access.WebSocket, sess.ID, access.Credential, callclient.Options{Publish: true, OnPacket: received[i].Add}); err != nil {
			t.Fatal(err)
		}
		defer guests[i].Close()
	}
	stop := make(chan struct{})
	defer close(stop)
	stream(host, stop)
	for _, g := range guests {
		stream(g, stop)
	}
	camera := s.clinician.UserID.String() + " camera"
	bridgetest.Eventually(t, wait, "the clinician's camera reaching both guests", func() bool {
		return received[0].Get(camera) > 10 && received[1].Get(camera) > 10
	})

	if _, err = s.env.App.Sessions.SendBack(ctx, s.clinician.UserID.String(), sess.ID, strconv.Itoa(ps[0].Number)); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	// The packets already on their way may still arrive: wait (with a deadline) for a stretch
	// in which the other guest gets 25 packets and the sent-back one none.
	bridgetest.Eventually(t, 5*time.Second, "the sent-back guest's media to stop", func() bool {
		sentBack, other := received[0].Get(camera), received[1].Get(camera)
		bridgetest.Eventually(t, wait, "the other guest to go on receiving", func() bool {
			return received[1].Get(camera) >= other+25
		})
		return received[0].Get(camera) == sentBack
	})
	t.Logf("the sent-back guest's media stopped within %s", time.Since(start))
	// And stays stopped: the other guest gets 50 more, the sent-back one none.
	sentBack, other := received[0].Get(camera), received[1].Get(camera)
	bridgetest.Eventually(t, wait, "the other guest to receive 50 more packets", func() bool {
		return received[1].Get(camera) >= other+50
	})
	if got := received[0].Get(camera) - sentBack; got != 0 {
		t.Errorf("the sent-back guest received %d of the clinician's packets after being sent back", got)
	}
	select {
	case <-guests[0].Closed():
	default:
		t.Error("the sent-back guest's call is still open")
	}
	// They are back in the waiting room, not out of the session: they may knock again.
	_, after, _ := s.env.App.Sessions.Lobby(ctx, "", sess.ID)
	if after[0].State != bridge.StateBooked {
		t.Errorf("the sent-back guest is %s, want %s (may knock again)", after[0].State, bridge.StateBooked)
	}
}

// TestSendBackRightAfterAdmitStaysSentBack: a clinician who sends a guest back while the
// admission's invite is still on its way to the homeserver (two clicks in quick succession on
// the panel) has the last word: the guest ends booked, not let in again by the echo of the
// bridge's own invite, their ghost out of the room on the homeserver, and they may knock
// again. Ten rounds, each admission and send-back on their own goroutines as two requests are.
func TestSendBackRightAfterAdmitStaysSentBack(t *testing.T) {
	s := newSite(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	sess := s.scheduleGuests(ctx, "JD")
	ps, tokens := s.openWithGuests(ctx, sess)
	token := tokens[0]
	clinician, number := s.clinician.UserID.String(), strconv.Itoa(ps[0].Number)
	state := func() bridge.LobbyState {
		_, now, _ := s.env.App.Sessions.Lobby(ctx, "", sess.ID)
		return now[0].State
	}
	for round := range 10 {
		var st web.CallState
		bridgetest.Eventually(t, wait, "the guest's knock", func() bool {
			return s.call("POST", "/api/call/knock", token, map[string]string{"name": "JD"}, &st) == http.StatusOK && state() == bridge.StateWaiting
		})
		admitted := make(chan error, 1)
		go func() {
			_, err := s.env.App.Sessions.Admit(ctx, clinician, sess.ID, number)
			admitted <- err
		}()
		bridgetest.Eventually(t, wait, "the admission stored", func() bool { return state() != bridge.StateWaiting })
		if _, err := s.env.App.Sessions.SendBack(ctx, clinician, sess.ID, number); err != nil {
			t.Fatalf("round %d: sending back: %v", round, err)
		}
		if err := <-admitted; err != nil {
			t.Fatalf("round %d: admitting: %v", round, err)
		}
		ghost := id.UserID(ps[0].MatrixID)
		if ghost == "" {
			_, now, _ := s.env.App.Sessions.Lobby(ctx, "", sess.ID)
			ghost = id.UserID(now[0].MatrixID)
		}
		bridgetest.Eventually(t, wait, "the guest's ghost out of the room on the homeserver", func() bool {
			var m event.MemberEventContent
			err := s.clinician.StateEvent(ctx, id.RoomID(sess.RoomID), event.StateMember, ghost.String(), &m)
			return err == nil && m.Membership == event.MembershipLeave
		})
		if got := state(); got != bridge.StateBooked {
			t.Fatalf("round %d: the guest sent back right after being admitted is %s, want %s", round, got, bridge.StateBooked)
		}
	}
}

// scheduleGuests schedules a session of the site's clinician at 14:00 for web-link guests.
func (s *site) scheduleGuests(ctx context.Context, names ...string) *bridge.Session {
	s.t.Helper()
	req := bridge.ScheduleRequest{
		Clinician: s.clinician.UserID.String(), Start: time.Date(2026, 11, 24, 14, 0, 0, 0, time.UTC),
		End: time.Date(2026, 11, 24, 14, 50, 0, 0, time.UTC), TimeZone: "Europe/Paris",
	}
	for _, name := range names {
		req.Participants = append(req.Participants, bridge.ParticipantRequest{Name: name})
	}
	sess, err := s.env.App.Sessions.Schedule(ctx, req)
	if err != nil {
		s.t.Fatal(err)
	}
	return sess
}
