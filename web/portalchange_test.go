package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"github.com/telehealth-bridge/telehealth-bridge/internal/dbtest"
	"github.com/telehealth-bridge/telehealth-bridge/web"
)

// noRooms is a Matrix side that creates rooms and says nothing, for tests that book sessions
// without a homeserver.
type noRooms struct{}

func (noRooms) CreateRoom(context.Context, *bridge.Session) (string, error)                    { return "!room:hs", nil }
func (noRooms) SetLobbyOpen(context.Context, *bridge.Session, bool) error                      { return nil }
func (noRooms) Invite(context.Context, string, string) error                                   { return nil }
func (noRooms) Kick(context.Context, string, string, string) error                             { return nil }
func (noRooms) Ban(context.Context, string, string, string) error                              { return nil }
func (noRooms) PublishSession(context.Context, *bridge.Session) error                          { return nil }
func (noRooms) Emit(context.Context, *bridge.Session, bridge.Lifecycle) error                  { return nil }
func (noRooms) Waiting(context.Context, *bridge.Session, []*bridge.Participant)                {}
func (noRooms) Unreached(context.Context, *bridge.Session, *bridge.Participant, string, error) {}

// addPlace books one more participant of a client into a session of the portal site's.
func (s *portalSite) addPlace(id string, clientID int64, number int) {
	s.t.Helper()
	p := &bridge.Participant{SessionID: id, Number: number, Name: fmt.Sprint("Client ", clientID), Email: fmt.Sprintf("c%d@example.org", clientID),
		Locale: "en", TimeZone: "UTC", Invite: bridge.InviteEmail, State: bridge.StateBooked, UpdatedAt: s.clock.Now(), ClientID: clientID}
	if err := s.db.Participant.Insert(context.Background(), p); err != nil {
		s.t.Fatal(err)
	}
}

func upcomingItem(t *testing.T, home web.PortalHome, id string) web.PortalSession {
	t.Helper()
	for _, it := range home.Upcoming {
		if it.Session.ID == id {
			return it
		}
	}
	t.Fatalf("session %s is not among the upcoming ones: %s", id, sessionIDs(home.Upcoming))
	return web.PortalSession{}
}

type apiAnswer struct {
	Error string `json:"error"`
	Code  string `json:"code"`
}

func answer(data []byte) apiAnswer {
	var a apiAnswer
	_ = json.Unmarshal(data, &a)
	return a
}

// Who may cancel or move a session from the portal: only a signed-in client, only their own
// session (another client's is not found, as one that does not exist), only upcoming ones not
// started, and only before the clinic's notice; a session shared with someone else may be
// asked to move, not cancelled.
func TestPortalChangeSecurity(t *testing.T) {
	s := newPortalSite(t, "sqlite") // 09:00 UTC on 3 December 2026; the default notice: 24 h
	homeRecords(t, s)
	now := s.clock.Now()
	s.book("alices", 1, now.Add(72*time.Hour), bridge.KindVideo, bridge.StatusScheduled)
	s.book("alicephone", 1, now.Add(96*time.Hour), bridge.KindPhone, bridge.StatusScheduled)
	s.book("bobs", 2, now.Add(72*time.Hour), bridge.KindVideo, bridge.StatusScheduled)
	s.book("soon", 1, now.Add(5*time.Hour), bridge.KindVideo, bridge.StatusScheduled)
	s.book("held", 1, now.Add(-48*time.Hour), bridge.KindVideo, bridge.StatusEnded)
	s.book("live", 1, now.Add(-10*time.Minute), bridge.KindVideo, bridge.StatusLive)
	s.book("gone", 1, now.Add(72*time.Hour), bridge.KindVideo, bridge.StatusCancelled)
	s.book("shared", 1, now.Add(120*time.Hour), bridge.KindVideo, bridge.StatusScheduled)
	s.addPlace("shared", 2, 2)
	alice, bob, carol, anonymous := s.browser(), s.browser(), s.browser(), s.browser()
	alice.signInWithCode(aliceEmail)
	bob.signInWithCode(bobEmail)
	carol.signInWithCode(carolEmail) // signed in, no record

	later := now.Add(200 * time.Hour).UnixMilli()
	cancel := func(id string) (string, any) {
		return "/api/portal/sessions/" + url.PathEscape(id) + "/cancel", struct{}{}
	}
	move := func(id string) (string, any) {
		return "/api/portal/sessions/" + url.PathEscape(id) + "/move", map[string]any{"times": []int64{later}}
	}
	for _, tc := range []struct {
		name   string
		b      *browser
		door   func(string) (string, any)
		id     string
		status int
		code   string
	}{
		{"anonymous cancel", anonymous, cancel, "alices", 401, "signed_out"},
		{"anonymous move", anonymous, move, "alices", 401, "signed_out"},
		{"Bob cancelling Alice's", bob, cancel, "alices", 404, "not_found"},
		{"Bob moving Alice's", bob, move, "alices", 404, "not_found"},
		{"Carol, without a record, cancelling Alice's", carol, cancel, "alices", 404, "not_found"},
		{"Alice cancelling a session that does not exist", alice, cancel, "nosuch", 404, "not_found"},
		{"Alice moving a session that does not exist", alice, move, "nosuch", 404, "not_found"},
		{"Alice cancelling a held session", alice, cancel, "held", 409, "started"},
		{"Alice cancelling a live session", alice, cancel, "live", 409, "started"},
		{"Alice moving a live session", alice, move, "live", 409, "started"},
		{"Alice cancelling a cancelled session", alice, cancel, "gone", 409, "started"},
		{"Alice cancelling within the notice", alice, cancel, "soon", 409, "too_late"},
		{"Alice moving within the notice", alice, move, "soon", 409, "too_late"},
		{"Alice cancelling a session Bob is booked in too", alice, cancel, "shared", 409, "shared"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path, body := tc.door(tc.id)
			code, data, _ := tc.b.do("POST", path, body, nil)
			if a := answer(data); code != tc.status || a.Code != tc.code || a.Error == "" {
				t.Errorf("%d %s, want %d %s", code, data, tc.status, tc.code)
			}
			if strings.Contains(string(data), "Martin") || strings.Contains(string(data), "/g/") {
				t.Errorf("a refusal tells about the session: %s", data)
			}
		})
	}
	// The answer for another client's session is the one for a session that does not exist.
	_, theirs, _ := bob.do("POST", "/api/portal/sessions/alices/cancel", struct{}{}, nil)
	_, none, _ := bob.do("POST", "/api/portal/sessions/nosuch/cancel", struct{}{}, nil)
	if string(theirs) != string(none) {
		t.Errorf("another client's session answers %s, a missing one %s", theirs, none)
	}
	// Without the API's header (a cross-site form), nothing happens.
	if code, data, _ := alice.do("POST", "/api/portal/sessions/alices/cancel", struct{}{}, map[string][]string{"X-Requested-With": {""}}); code != 403 {
		t.Errorf("a cross-site cancel: %d %s", code, data)
	}

	// Nothing above changed anything.
	for _, id := range []string{"alices", "bobs", "shared", "soon"} {
		if got, _ := s.db.Session.Get(context.Background(), id); got.Status != bridge.StatusScheduled {
			t.Errorf("session %s is %s", id, got.Status)
		}
	}

	// The home says what Alice may do: cancel or move hers; ask to move the shared one; call
	// the clinic for the one within the notice.
	_, home := alice.home()
	if it := upcomingItem(t, home, "alices"); !it.CanCancel || !it.CanMove || it.CallClinic {
		t.Errorf("Alice's session: %+v", it)
	}
	if it := upcomingItem(t, home, "alicephone"); !it.CanCancel || !it.CanMove {
		t.Errorf("Alice's telephone session: %+v", it)
	}
	if it := upcomingItem(t, home, "shared"); it.CanCancel || !it.CanMove {
		t.Errorf("the shared session: %+v", it)
	}
	if it := upcomingItem(t, home, "soon"); it.CanCancel || it.CanMove || !it.CallClinic {
		t.Errorf("the session within the notice: %+v", it)
	}
	if it := upcomingItem(t, home, "gone"); it.CanCancel || it.CanMove || it.CallClinic {
		t.Errorf("the cancelled session: %+v", it)
	}

	// Alice cancels hers: it shows cancelled, and Bob's did not move.
	if code, data, _ := alice.do("POST", "/api/portal/sessions/alices/cancel", struct{}{}, nil); code != 200 {
		t.Fatalf("Alice's cancel: %d %s", code, data)
	}
	_, home = alice.home()
	if it := upcomingItem(t, home, "alices"); it.Session.Status != "cancelled" || it.CanCancel || it.Link != "" || it.Next {
		t.Errorf("after the cancel: %+v", it)
	}
	if got, _ := s.db.Session.Get(context.Background(), "bobs"); got.Status != bridge.StatusScheduled {
		t.Errorf("Bob's session is %s", got.Status)
	}
	found := false
	for _, l := range s.audit() {
		if l.action == "cancel" && l.actor == bridge.ClientActor(1) {
			found = !strings.Contains(l.detail, "Alice")
		}
	}
	if !found {
		t.Errorf("no cancel by client:1 in the audit trail: %+v", s.audit())
	}
}

// A client asks to move a session: one to three future times; the home shows the request
// until the session moves.
func TestPortalMoveRequest(t *testing.T) {
	for _, kind := range dbtest.Kinds {
		t.Run(kind, func(t *testing.T) {
			s := newPortalSite(t, kind)
			homeRecords(t, s)
			now := s.clock.Now()
			s.book("alices", 1, now.Add(72*time.Hour), bridge.KindVideo, bridge.StatusScheduled)
			alice := s.browser()
			alice.signInWithCode(aliceEmail)
			h := func(d time.Duration) int64 { return now.Add(d).UnixMilli() }
			for name, times := range map[string][]int64{
				"none":        {},
				"four":        {h(100 * time.Hour), h(101 * time.Hour), h(102 * time.Hour), h(103 * time.Hour)},
				"in the past": {h(-time.Hour)},
			} {
				if code, data, _ := alice.do("POST", "/api/portal/sessions/alices/move", map[string]any{"times": times}, nil); code != 400 || answer(data).Code != "bad_times" {
					t.Errorf("%s: %d %s", name, code, data)
				}
			}
			if code, data, _ := alice.do("POST", "/api/portal/sessions/alices/move", map[string]any{"times": []int64{h(150 * time.Hour), h(100 * time.Hour)}}, nil); code != 200 {
				t.Fatalf("Alice's request: %d %s", code, data)
			}
			_, home := alice.home()
			it := upcomingItem(t, home, "alices")
			if len(it.MoveRequested) != 2 || it.MoveRequested[0].At != h(100*time.Hour) || it.MoveRequested[0].Local.Date == "" || !it.CanMove {
				t.Errorf("the request on the home: %+v", it)
			}
			if got, _ := s.db.Session.Get(context.Background(), "alices"); !got.Start.Equal(now.Add(72 * time.Hour)) {
				t.Errorf("the session moved by itself: %s", got.Start)
			}
			// The clinician's panel shows it on the session, beside Alice.
			panel := s.browser()
			login, err := s.web.LoginLink(context.Background(), homeClinician)
			if err != nil {
				t.Fatal(err)
			}
			if code, data, _ := panel.do("POST", login[strings.Index(login, "/l/"):], nil, nil); code >= 400 {
				t.Fatalf("the clinician's sign-in: %d %s", code, data)
			}
			var lobby web.PanelSession
			if code, data, _ := panel.do("GET", "/api/panel/sessions/alices", nil, nil); code != 200 || json.Unmarshal(data, &lobby) != nil ||
				len(lobby.Participants) != 1 || len(lobby.Participants[0].MoveRequested) != 2 || lobby.Participants[0].MoveRequested[1].At != h(150*time.Hour) {
				t.Errorf("the panel's session: %d %s", code, data)
			}
			// Once the clinician moved the session, the request is answered.
			if _, err := s.svc.Reschedule(context.Background(), homeClinician, "alices", now.Add(100*time.Hour), now.Add(101*time.Hour), "Europe/Paris"); err != nil {
				t.Fatal(err)
			}
			_, home = alice.home()
			if it = upcomingItem(t, home, "alices"); len(it.MoveRequested) != 0 {
				t.Errorf("an answered request still shows: %+v", it.MoveRequested)
			}
		})
	}
}

// A client whose professional takes bookings online moves their session into a free slot:
// booked as a self-booking, the old one cancelled; a slot of another professional's is not
// theirs to take.
func TestPortalMoveToSlot(t *testing.T) {
	s := newPortalSite(t, "sqlite") // Thursday 3 December 2026, 09:00 UTC
	homeRecords(t, s)
	s.svc.Use(noRooms{}, noRooms{}, nil, nil)
	t.Cleanup(s.svc.Close)
	ctx := context.Background()
	av := &bridge.Availability{TimeZone: "Europe/Paris", SelfScheduling: true, MinNotice: 24 * time.Hour, Horizon: 30 * 24 * time.Hour,
		Types: []bridge.SessionType{{Name: "Séance", Duration: 50 * time.Minute, Kind: bridge.KindVideo}}}
	for d := time.Monday; d <= time.Friday; d++ {
		av.Hours = append(av.Hours, bridge.WeeklyHours{Day: d, Start: 9 * 60, End: 12 * 60})
	}
	if err := s.svc.SetAvailability(ctx, homeClinician, av); err != nil {
		t.Fatal(err)
	}
	now := s.clock.Now()
	s.book("alices", 1, now.Add(6*24*time.Hour), bridge.KindVideo, bridge.StatusScheduled)
	alice, bob := s.browser(), s.browser()
	alice.signInWithCode(aliceEmail)
	bob.signInWithCode(bobEmail)
	_, home := alice.home()
	it := upcomingItem(t, home, "alices")
	if it.MoveSlots == nil || it.MoveSlots.Clinician != homeClinician {
		t.Fatalf("no slots to move into: %+v", it)
	}
	var slots web.SlotsView
	code, data, _ := alice.do("GET", fmt.Sprintf("/api/portal/slots?clinician=%s&type=%d", url.QueryEscape(homeClinician), it.MoveSlots.Type), nil, nil)
	if code != 200 || json.Unmarshal(data, &slots) != nil || len(slots.Slots) == 0 {
		t.Fatalf("slots: %d %s", code, data)
	}
	slot := slots.Slots[0]
	body := map[string]any{"type": it.MoveSlots.Type, "start": slot.Start}
	// Bob cannot move Alice's session into the slot.
	if code, data, _ := bob.do("POST", "/api/portal/sessions/alices/move", body, nil); code != 404 {
		t.Errorf("Bob moving Alice's: %d %s", code, data)
	}
	code, data, _ = alice.do("POST", "/api/portal/sessions/alices/move", body, nil)
	var moved struct {
		Moved   bool            `json:"moved"`
		Session web.SessionView `json:"session"`
	}
	if code != 200 || json.Unmarshal(data, &moved) != nil || !moved.Moved || moved.Session.ID == "alices" {
		t.Fatalf("Alice's move: %d %s", code, data)
	}
	if got, _ := s.db.Session.Get(ctx, "alices"); got.Status != bridge.StatusCancelled {
		t.Errorf("the old session is %s", got.Status)
	}
	_, home = alice.home()
	if it = upcomingItem(t, home, moved.Session.ID); it.Session.Status != "scheduled" || it.Link == "" {
		t.Errorf("the new session on the home: %+v", it)
	}
	// The slot is taken now: moving into it again is refused, and nothing else changes.
	s.book("alices2", 1, now.Add(8*24*time.Hour), bridge.KindVideo, bridge.StatusScheduled)
	if code, data, _ := alice.do("POST", "/api/portal/sessions/alices2/move", body, nil); code != 409 {
		t.Errorf("a taken slot: %d %s", code, data)
	}
	if got, _ := s.db.Session.Get(ctx, "alices2"); got.Status != bridge.StatusScheduled {
		t.Errorf("a refused move cancelled the session: %s", got.Status)
	}
}
