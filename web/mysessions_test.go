package web_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"github.com/telehealth-bridge/telehealth-bridge/web"
)

// bookOn books a session at 14:00 UTC on a day of December 2026 for one participant and
// returns it with the participant's link token.
func (s *site) bookOn(day int, p bridge.ParticipantRequest) (*bridge.Session, string) {
	s.t.Helper()
	ctx := context.Background()
	at := time.Date(2026, 12, day, 14, 0, 0, 0, time.UTC)
	sess, err := s.env.App.Sessions.Schedule(ctx, bridge.ScheduleRequest{
		Clinician: s.clinician.UserID.String(), Start: at, End: at.Add(50 * time.Minute), TimeZone: "Europe/Paris",
		Participants: []bridge.ParticipantRequest{p},
	})
	if err != nil {
		s.t.Fatal(err)
	}
	_, ps, _ := s.env.App.Sessions.Lobby(ctx, "", sess.ID)
	link, err := s.env.App.Web.ParticipantLink(ctx, sess, ps[0])
	if err != nil {
		s.t.Fatal(err)
	}
	return sess, link[strings.LastIndex(link, "/")+1:]
}

// Two siblings booked with their parent's email address: each one's link lists only their own
// sessions, and never hands over a link that joins as the other.
func TestMySessionsSiblings(t *testing.T) {
	s := newSite(t)
	alice1, aliceToken := s.bookOn(1, bridge.ParticipantRequest{Name: "Alice Martin", Email: "parent@example.org", Phone: "+33612345678", Invite: bridge.InviteEmail})
	bob, bobToken := s.bookOn(2, bridge.ParticipantRequest{Name: "Bob Martin", Email: "parent@example.org", Invite: bridge.InviteEmail})
	alice2, _ := s.bookOn(3, bridge.ParticipantRequest{Name: "alice  MARTIN", Email: "Parent@example.org", Invite: bridge.InviteEmail})
	// Same name and email, but another phone number than hers: not known to be her.
	other, _ := s.bookOn(4, bridge.ParticipantRequest{Name: "Alice Martin", Email: "parent@example.org", Phone: "+33698765432", Invite: bridge.InviteEmail})

	list := func(token string) []web.SessionListItem {
		t.Helper()
		var mine struct {
			Sessions []web.SessionListItem `json:"sessions"`
		}
		if code := s.call("GET", "/api/call/sessions", token, nil, &mine); code != 200 {
			t.Fatalf("my sessions: %d", code)
		}
		return mine.Sessions
	}
	ids := func(items []web.SessionListItem) []string {
		var out []string
		for _, it := range items {
			out = append(out, it.Session.ID)
		}
		return out
	}
	got := list(aliceToken)
	if want := []string{alice1.ID, alice2.ID}; strings.Join(ids(got), ",") != strings.Join(want, ",") {
		t.Errorf("Alice's list shows sessions %v, want only hers %v (Bob's is %s, the other Alice's %s)", ids(got), want, bob.ID, other.ID)
	}
	for _, it := range got {
		var st web.CallState
		token := it.Link[strings.LastIndex(it.Link, "/")+1:]
		if code := s.call("GET", "/api/call/state", token, nil, &st); code != 200 || !strings.EqualFold(st.Me.Name, "Alice Martin") {
			t.Errorf("the link to %s in Alice's list joins as %q (%d)", it.Session.ID, st.Me.Name, code)
		}
	}
	if got := list(bobToken); strings.Join(ids(got), ",") != bob.ID {
		t.Errorf("Bob's list shows sessions %v, want only %s", ids(got), bob.ID)
	}
}
