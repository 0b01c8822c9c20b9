package appservice_test

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/telehealth-bridge/telehealth-bridge/appservice"
	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"github.com/telehealth-bridge/telehealth-bridge/internal/bridgetest"
)

const wait = 15 * time.Second

// lobby is a running bridge with a clinician, their control room and a fake clock.
type lobby struct {
	t         testing.TB
	env       *bridgetest.Env
	clock     *clockwork.FakeClock
	clinician *mautrix.Client
	control   id.RoomID
}

func newLobby(t testing.TB, db string) *lobby {
	return newLobbyWith(t, bridgetest.Options{DB: db})
}

// newLobbyWith starts the bridge with its clock at 09:00 UTC on 24 November 2026.
func newLobbyWith(t testing.TB, opts bridgetest.Options) *lobby {
	clock := clockwork.NewFakeClockAt(time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC))
	opts.Clock = clock
	env := bridgetest.New(t, opts)
	env.Start(t)
	l := &lobby{t: t, env: env, clock: clock, clinician: env.User(t, "dr.martin")}
	l.control = roomWithBot(t, env, l.clinician)
	return l
}

// schedule books a session through the control room's !schedule, as a clinician would, and
// returns it once its room exists and the clinician has joined it.
func (l *lobby) schedule(args string) *bridge.Session {
	l.t.Helper()
	cmd := "!schedule " + args
	resp, err := l.clinician.SendText(context.Background(), l.control, cmd)
	if err != nil {
		l.t.Fatal(err)
	}
	idPattern := regexp.MustCompile(`Scheduled session ([a-z0-9]{6})`)
	evt := bridgetest.WaitMessage(l.t, l.clinician, l.control, wait, "the schedule confirmation", func(evt *event.Event) bool {
		msg := evt.Content.AsMessage()
		return evt.Sender == l.bot() && msg.RelatesTo.GetReplyTo() == resp.EventID && idPattern.MatchString(msg.Body)
	})
	sessionID := idPattern.FindStringSubmatch(evt.Content.AsMessage().Body)[1]
	s, err := l.env.App.Sessions.Session(context.Background(), sessionID)
	if err != nil || s.RoomID == "" {
		l.t.Fatalf("session %s: %+v %v", sessionID, s, err)
	}
	if _, err = l.clinician.JoinRoomByID(context.Background(), id.RoomID(s.RoomID)); err != nil {
		l.t.Fatalf("clinician joining the session room: %v", err)
	}
	return s
}

func (l *lobby) bot() id.UserID { return l.env.App.Matrix.Bot() }

// command sends a command in the control room and waits for the bot's answer containing want.
func (l *lobby) command(cmd, want string) {
	l.t.Helper()
	resp, err := l.clinician.SendText(context.Background(), l.control, cmd)
	if err != nil {
		l.t.Fatal(err)
	}
	bridgetest.WaitMessage(l.t, l.clinician, l.control, wait, fmt.Sprintf("the answer to %q", cmd), func(evt *event.Event) bool {
		msg := evt.Content.AsMessage()
		return evt.Sender == l.bot() && msg.RelatesTo.GetReplyTo() == resp.EventID && strings.Contains(bridgetest.Shown(msg.Body), want)
	})
}

// openWindow moves the clock to the session's window and waits for the knock join rule.
func (l *lobby) openWindow(s *bridge.Session) {
	l.t.Helper()
	l.clock.Advance(s.Opens(bridge.DefaultWindow).Sub(l.clock.Now()))
	l.waitJoinRule(s, event.JoinRuleKnock)
}

func (l *lobby) waitJoinRule(s *bridge.Session, want event.JoinRule) {
	l.t.Helper()
	bridgetest.Eventually(l.t, wait, "join rule "+string(want), func() bool {
		var rules event.JoinRulesEventContent
		err := l.clinician.StateEvent(context.Background(), id.RoomID(s.RoomID), event.StateJoinRules, "", &rules)
		return err == nil && rules.JoinRule == want
	})
}

// membership reads a user's member event in a room, as the clinician sees it.
func (l *lobby) membership(roomID string, user id.UserID) event.MemberEventContent {
	var m event.MemberEventContent
	_ = l.clinician.StateEvent(context.Background(), id.RoomID(roomID), event.StateMember, user.String(), &m)
	return m
}

func (l *lobby) waitMembership(s *bridge.Session, user id.UserID, want event.Membership) event.MemberEventContent {
	l.t.Helper()
	var m event.MemberEventContent
	bridgetest.Eventually(l.t, wait, fmt.Sprintf("%s to be %s", user, want), func() bool {
		m = l.membership(s.RoomID, user)
		return m.Membership == want
	})
	return m
}

// participant returns the session's participant number n as the bridge has it.
func (l *lobby) participant(s *bridge.Session, n int) *bridge.Participant {
	l.t.Helper()
	_, ps, err := l.env.App.Sessions.Lobby(context.Background(), "", s.ID)
	if err != nil {
		l.t.Fatal(err)
	}
	return ps[n-1]
}

func (l *lobby) waitState(s *bridge.Session, n int, want bridge.LobbyState) *bridge.Participant {
	l.t.Helper()
	var p *bridge.Participant
	bridgetest.Eventually(l.t, wait, fmt.Sprintf("participant %d to be %s", n, want), func() bool {
		p = l.participant(s, n)
		return p.State == want
	})
	return p
}

// scheduleTwo books a session for two Matrix users directly (not through a command).
func (l *lobby) scheduleTwo(a, b *mautrix.Client, policy bridge.Policy) *bridge.Session {
	l.t.Helper()
	s, err := l.env.App.Sessions.Schedule(context.Background(), bridge.ScheduleRequest{
		Clinician: l.clinician.UserID.String(), Start: time.Date(2026, 11, 24, 14, 0, 0, 0, time.UTC),
		End: time.Date(2026, 11, 24, 14, 50, 0, 0, time.UTC), TimeZone: "Europe/Paris", Policy: policy,
		Participants: []bridge.ParticipantRequest{{Name: "Jane", MatrixID: a.UserID.String()}, {Name: "John", MatrixID: b.UserID.String()}},
	})
	if err != nil {
		l.t.Fatal(err)
	}
	if _, err = l.clinician.JoinRoomByID(context.Background(), id.RoomID(s.RoomID)); err != nil {
		l.t.Fatal(err)
	}
	return s
}

// waitingClient books a session for the client, opens its lobby and has them knock.
func (l *lobby) waitingClient(client *mautrix.Client) *bridge.Session {
	l.t.Helper()
	s := l.schedule("2026-11-24 15:00 Europe/Paris JD none matrix=" + client.UserID.String())
	l.openWindow(s)
	if err := knock(l.t, client, s.RoomID, "Jane"); err != nil {
		l.t.Fatal(err)
	}
	l.waitState(s, 1, bridge.StateWaiting)
	return s
}

// clientInSession is waitingClient, then the clinician admits them and they join.
func (l *lobby) clientInSession(client *mautrix.Client) *bridge.Session {
	l.t.Helper()
	s := l.waitingClient(client)
	l.command("!admit "+s.ID, "is let in")
	l.waitMembership(s, client.UserID, event.MembershipInvite)
	if _, err := client.JoinRoomByID(context.Background(), id.RoomID(s.RoomID)); err != nil {
		l.t.Fatal(err)
	}
	l.waitState(s, 1, bridge.StateInSession)
	return s
}

func knock(t testing.TB, cli *mautrix.Client, roomID string, name string) error {
	t.Helper()
	return appservice.Knock(context.Background(), cli, id.RoomID(roomID), name, "")
}

// lifecycle returns the actions of the session room's lifecycle events, in order.
func (l *lobby) lifecycle(s *bridge.Session) []string {
	var actions []string
	for _, evt := range bridgetest.Messages(l.t, l.clinician, id.RoomID(s.RoomID)) {
		if evt.Type.Type == appservice.LifecycleEventType.Type && evt.Sender == l.bot() {
			var c appservice.LifecycleContent
			_ = json.Unmarshal(evt.Content.VeryRaw, &c)
			actions = append(actions, c.Action)
		}
	}
	return actions
}

func TestLobbyJourney(t *testing.T) {
	for _, db := range []string{"sqlite", "pgx"} {
		t.Run(db, func(t *testing.T) {
			l := newLobby(t, db)
			client := l.env.User(t, "jane")
			s := l.schedule("2026-11-24 15:00 Europe/Paris \"Jane Doe\" none matrix=" + client.UserID.String())

			// The room is opaque, members see history only from their invite, and it is invite-only.
			var name event.RoomNameEventContent
			_ = l.clinician.StateEvent(context.Background(), id.RoomID(s.RoomID), event.StateRoomName, "", &name)
			if strings.Contains(name.Name, "Jane") || !strings.Contains(name.Name, "15:00") {
				t.Errorf("room name %q is not just a time", name.Name)
			}
			var hv event.HistoryVisibilityEventContent
			_ = l.clinician.StateEvent(context.Background(), id.RoomID(s.RoomID), event.StateHistoryVisibility, "", &hv)
			if hv.HistoryVisibility != event.HistoryVisibilityInvited {
				t.Errorf("history visibility %q", hv.HistoryVisibility)
			}
			var pl event.PowerLevelsEventContent
			_ = l.clinician.StateEvent(context.Background(), id.RoomID(s.RoomID), event.StatePowerLevels, "", &pl)
			if pl.Invite() != 100 || pl.Kick() != 100 || pl.Ban() != 100 || pl.StateDefault() != 100 ||
				pl.GetUserLevel(l.clinician.UserID) != 100 || pl.GetUserLevel(l.bot()) != 100 {
				t.Errorf("power levels: invite %d kick %d ban %d state %d", pl.Invite(), pl.Kick(), pl.Ban(), pl.StateDefault())
			}
			l.waitJoinRule(s, event.JoinRuleInvite)

			l.openWindow(s)
			if err := knock(t, client, s.RoomID, "Jane"); err != nil {
				t.Fatalf("knock in the window: %v", err)
			}
			l.waitState(s, 1, bridge.StateWaiting)
			bridgetest.WaitMessage(t, l.clinician, l.control, wait, "the waiting notice",
				bridgetest.IsNoticeFrom(l.bot(), "Jane is waiting for session "+s.ID))

			// The clinician approves from their own client (Element's approve is an invite).
			if _, err := l.clinician.InviteUser(context.Background(), id.RoomID(s.RoomID), &mautrix.ReqInviteUser{UserID: client.UserID}); err != nil {
				t.Fatal(err)
			}
			p := l.waitState(s, 1, bridge.StateAdmitted)
			if p.AdmittedBy != l.clinician.UserID.String() || p.KnockName != "Jane" {
				t.Errorf("admitted by %q (want the clinician), knock name %q", p.AdmittedBy, p.KnockName)
			}
			if _, err := client.JoinRoomByID(context.Background(), id.RoomID(s.RoomID)); err != nil {
				t.Fatal(err)
			}
			l.waitState(s, 1, bridge.StateInSession)

			// The admission made in Element and the clinician's look at the lobby are in the audit
			// trail, with the door they came through.
			if !l.env.Audited(t, l.clinician.UserID.String(), bridge.AuditAdmit, s.ID, map[string]string{"via": "matrix"}) {
				t.Error("the admission from Element is not in the audit trail")
			}
			l.command("!lobby "+s.ID, "Session "+s.ID)
			if !l.env.Audited(t, l.clinician.UserID.String(), bridge.AuditParticipantDataViewed, s.ID, map[string]string{"view": "lobby", "via": "matrix"}) {
				t.Error("showing the lobby is not in the audit trail")
			}

			l.command("!end "+s.ID, "has ended for all")
			m := l.waitMembership(s, client.UserID, event.MembershipLeave)
			if m.Reason != "The session has ended" {
				t.Errorf("reason %q", m.Reason)
			}
			if l.membership(s.RoomID, l.clinician.UserID).Membership != event.MembershipJoin {
				t.Error("the clinician was taken out too")
			}
			l.waitJoinRule(s, event.JoinRuleInvite)

			log, err := l.env.App.DB.LobbyLog.ForSession(context.Background(), s.ID)
			if err != nil {
				t.Fatal(err)
			}
			var seen []string
			for _, e := range log {
				seen = append(seen, string(e.Action)+" by "+e.Actor)
			}
			want := []string{"knock by " + client.UserID.String(), "admit by " + l.clinician.UserID.String(), "join by " + client.UserID.String()}
			if len(seen) < 3 || strings.Join(seen[:3], ",") != strings.Join(want, ",") {
				t.Errorf("lobby log %v, want it to start with %v", seen, want)
			}
			var got string
			bridgetest.Eventually(t, wait, "the lifecycle events", func() bool {
				got = strings.Join(l.lifecycle(s), ",")
				return strings.Contains(got, "window_opened,participant_waiting,participant_admitted,participant_joined") &&
					strings.HasSuffix(got, "session_ended")
			})

		})
	}
}

func TestEarlyKnockRefusedByHomeserver(t *testing.T) {
	l := newLobby(t, "sqlite")
	client := l.env.User(t, "jane")
	s := l.schedule("2026-11-24 15:00 Europe/Paris JD none matrix=" + client.UserID.String())
	l.clock.Advance(s.Opens(bridge.DefaultWindow).Sub(l.clock.Now()) - time.Minute) // a minute early
	err := knock(t, client, s.RoomID, "JD")
	if err == nil || !strings.Contains(err.Error(), "M_FORBIDDEN") {
		t.Fatalf("an early knock got %v, want the homeserver's refusal", err)
	}
	if p := l.participant(s, 1); p.State != bridge.StateBooked {
		t.Errorf("state %s after an early knock", p.State)
	}
}

func TestDenyAndUnbookedKnocks(t *testing.T) {
	l := newLobby(t, "sqlite")
	client, stranger := l.env.User(t, "jane"), l.env.User(t, "mallory")
	s := l.schedule("2026-11-24 15:00 Europe/Paris JD none matrix=" + client.UserID.String())
	l.openWindow(s)

	if err := knock(t, stranger, s.RoomID, "Jane"); err != nil {
		t.Fatal(err)
	}
	m := l.waitMembership(s, stranger.UserID, event.MembershipLeave)
	if m.Reason != bridge.ReasonNotBooked {
		t.Errorf("an unbooked knock was declined with %q", m.Reason)
	}

	if err := knock(t, client, s.RoomID, "Jane"); err != nil {
		t.Fatal(err)
	}
	l.waitState(s, 1, bridge.StateWaiting)
	l.command("!deny "+s.ID+" 1", "was not admitted")
	m = l.waitMembership(s, client.UserID, event.MembershipLeave)
	if !strings.Contains(m.Reason, "did not admit") {
		t.Errorf("denial reason %q", m.Reason)
	}
	l.waitState(s, 1, bridge.StateDenied)
	// A denied participant may ask again.
	if err := knock(t, client, s.RoomID, "Jane"); err != nil {
		t.Fatal(err)
	}
	l.waitState(s, 1, bridge.StateWaiting)
}

func TestAutoAdmitOnceClinicianIsIn(t *testing.T) {
	l := newLobby(t, "sqlite")
	jane, john := l.env.User(t, "jane"), l.env.User(t, "john")
	s := l.scheduleTwo(jane, john, bridge.PolicyAutoAdmit)
	l.openWindow(s)
	if err := knock(t, jane, s.RoomID, "Jane"); err != nil {
		t.Fatal(err)
	}
	l.waitState(s, 1, bridge.StateWaiting)
	// The member enters only when the provider is already in.
	if m := l.membership(s.RoomID, jane.UserID); m.Membership != event.MembershipKnock {
		t.Fatalf("before the clinician is in, Jane is %s", m.Membership)
	}
	l.command("!start "+s.ID, "is live")
	l.waitMembership(s, jane.UserID, event.MembershipInvite)
	if err := knock(t, john, s.RoomID, "John"); err != nil {
		t.Fatal(err)
	}
	l.waitMembership(s, john.UserID, event.MembershipInvite)
	if p := l.waitState(s, 2, bridge.StateAdmitted); p.AdmittedBy != l.bot().String() {
		t.Errorf("John admitted by %q, want the bridge", p.AdmittedBy)
	}
}

func TestSendBackThenKnockAgain(t *testing.T) {
	l := newLobby(t, "sqlite")
	client := l.env.User(t, "jane")
	s := l.clientInSession(client)

	l.command("!send-back "+s.ID+" 1", "sent back to the waiting room")
	m := l.waitMembership(s, client.UserID, event.MembershipLeave)
	if !strings.Contains(m.Reason, "waiting room") {
		t.Errorf("send-back reason %q", m.Reason)
	}
	l.waitState(s, 1, bridge.StateBooked)
	if err := knock(t, client, s.RoomID, "Jane"); err != nil {
		t.Fatalf("knocking again after being sent back: %v", err)
	}
	l.waitState(s, 1, bridge.StateWaiting)

	// Removed for good this time: a knock is then declined.
	l.command("!admit "+s.ID, "is let in")
	if _, err := client.JoinRoomByID(context.Background(), id.RoomID(s.RoomID)); err != nil {
		t.Fatal(err)
	}
	l.waitState(s, 1, bridge.StateInSession)
	l.command("!remove "+s.ID+" 1", "was removed")
	l.waitState(s, 1, bridge.StateRemoved)
	l.waitMembership(s, client.UserID, event.MembershipLeave)
	if err := knock(t, client, s.RoomID, "Jane"); err != nil {
		t.Fatal(err)
	}
	m = l.waitMembership(s, client.UserID, event.MembershipLeave)
	if m.Reason != bridge.ReasonRemoved {
		t.Errorf("a removed participant's knock was declined with %q", m.Reason)
	}
}

func TestKnockWhileBridgeIsDown(t *testing.T) {
	l := newLobby(t, "sqlite")
	client := l.env.User(t, "jane")
	s := l.schedule("2026-11-24 15:00 Europe/Paris JD none matrix=" + client.UserID.String())
	l.openWindow(s)

	l.env.Stop()
	if err := knock(t, client, s.RoomID, "Jane"); err != nil {
		t.Fatal(err)
	}
	l.env.Start(t)
	p := l.waitState(s, 1, bridge.StateWaiting)
	if p.KnockName != "Jane" {
		t.Errorf("knock name %q", p.KnockName)
	}
	bridgetest.WaitMessage(t, l.clinician, l.control, wait, "the waiting notice after the restart",
		bridgetest.IsNoticeFrom(l.bot(), "is waiting for session "+s.ID))
}

func TestRestartReplansAndCatchesUpMissedSwitch(t *testing.T) {
	l := newLobby(t, "sqlite")
	client := l.env.User(t, "jane")
	s := l.schedule("2026-11-24 15:00 Europe/Paris JD none matrix=" + client.UserID.String())
	l.env.Stop()
	// The window opens while the bridge is down.
	l.clock.Advance(s.Opens(bridge.DefaultWindow).Sub(l.clock.Now()) + time.Minute)
	l.env.Start(t)
	l.waitJoinRule(s, event.JoinRuleKnock)
	// And the close is planned again from the database.
	l.clock.Advance(s.End.Sub(l.clock.Now()))
	l.waitJoinRule(s, event.JoinRuleInvite)
	bridgetest.Eventually(t, wait, "the session to end", func() bool {
		got, _ := l.env.App.Sessions.Session(context.Background(), s.ID)
		return got.Status == bridge.StatusEnded
	})
}

func TestCancelWhileSomeoneWaits(t *testing.T) {
	l := newLobby(t, "sqlite")
	client := l.env.User(t, "jane")
	s := l.waitingClient(client)
	l.command("!cancel "+s.ID, "is cancelled")
	m := l.waitMembership(s, client.UserID, event.MembershipLeave)
	if m.Reason != "The session was cancelled" {
		t.Errorf("reason %q", m.Reason)
	}
	l.waitJoinRule(s, event.JoinRuleInvite)
}

func TestClinicianIsNeverLockedOut(t *testing.T) {
	l := newLobby(t, "sqlite")
	s := l.schedule("2026-11-24 15:00 Europe/Paris JD none")
	l.openWindow(s)
	if _, err := l.clinician.LeaveRoom(context.Background(), id.RoomID(s.RoomID)); err != nil {
		t.Fatal(err)
	}
	bridgetest.Eventually(t, wait, "the clinician to be invited back", func() bool {
		resp, err := l.clinician.JoinRoomByID(context.Background(), id.RoomID(s.RoomID))
		return err == nil && resp.RoomID == id.RoomID(s.RoomID)
	})
}

func TestSessionStateGuardedByTheBot(t *testing.T) {
	l := newLobby(t, "sqlite")
	client := l.env.User(t, "jane")
	s := l.clientInSession(client)
	ctx := context.Background()
	room := id.RoomID(s.RoomID)
	forged := map[string]any{"session_id": s.ID, "status": "ended", "start": 0, "end": 1}
	// The homeserver refuses it outright at the session's power levels.
	if _, err := client.SendStateEvent(ctx, room, appservice.SessionEventType, "", forged); err == nil {
		t.Fatal("a participant could change the session state")
	}
	// In a room whose levels were loosened, the bot rolls the change back.
	var pl event.PowerLevelsEventContent
	if err := l.clinician.StateEvent(ctx, room, event.StatePowerLevels, "", &pl); err != nil {
		t.Fatal(err)
	}
	pl.Events[appservice.SessionEventType.Type] = 0
	if _, err := l.clinician.SendStateEvent(ctx, room, event.StatePowerLevels, "", &pl); err != nil {
		t.Fatal(err)
	}
	if _, err := client.SendStateEvent(ctx, room, appservice.SessionEventType, "", forged); err != nil {
		t.Fatalf("sending the forged state at level 0: %v", err)
	}
	bridgetest.Eventually(t, wait, "the bot to restore the session state", func() bool {
		var content appservice.SessionContent
		if err := l.clinician.StateEvent(ctx, room, appservice.SessionEventType, "", &content); err != nil {
			return false
		}
		return content.Status == string(bridge.StatusOpen) && content.Start == s.Start.UnixMilli()
	})
	if got, _ := l.env.App.Sessions.Session(ctx, s.ID); got.Status != bridge.StatusOpen {
		t.Errorf("the forged change reached the session: %s", got.Status)
	}
}

func TestClinicianReschedulesThroughSessionState(t *testing.T) {
	l := newLobby(t, "sqlite")
	s := l.schedule("2026-11-24 15:00 Europe/Paris JD none")
	ctx := context.Background()
	var content appservice.SessionContent
	if err := l.clinician.StateEvent(ctx, id.RoomID(s.RoomID), appservice.SessionEventType, "", &content); err != nil {
		t.Fatal(err)
	}
	content.Start += time.Hour.Milliseconds()
	content.End += time.Hour.Milliseconds()
	if _, err := l.clinician.SendStateEvent(ctx, id.RoomID(s.RoomID), appservice.SessionEventType, "", &content); err != nil {
		t.Fatal(err)
	}
	bridgetest.Eventually(t, wait, "the session to move", func() bool {
		got, _ := l.env.App.Sessions.Session(ctx, s.ID)
		return got.Start.Equal(s.Start.Add(time.Hour)) && got.Revision == 1
	})
}

func TestIntegratorCommandEvents(t *testing.T) {
	l := newLobby(t, "sqlite")
	client := l.env.User(t, "jane")
	ctx := context.Background()
	resp, err := l.clinician.SendMessageEvent(ctx, l.control, appservice.CommandEventType, &appservice.CommandContent{
		Action: "schedule", Start: "2026-11-24T14:00:00Z", End: "2026-11-24T14:50:00Z", TimeZone: "Europe/Paris",
		Participants: []appservice.CommandParticipant{{Name: "Jane", UserID: client.UserID.String()}},
	})
	if err != nil {
		t.Fatal(err)
	}
	var result appservice.ResultContent
	bridgetest.WaitMessage(t, l.clinician, l.control, wait, "the schedule result", func(evt *event.Event) bool {
		if evt.Type.Type != appservice.ResultEventType.Type {
			return false
		}
		_ = json.Unmarshal(evt.Content.VeryRaw, &result)
		return result.Command == resp.EventID.String()
	})
	if !result.OK || result.SessionID == "" || result.RoomID == "" {
		t.Fatalf("schedule result %+v", result)
	}
	s, _ := l.env.App.Sessions.Session(ctx, result.SessionID)
	if _, err = l.clinician.JoinRoomByID(ctx, id.RoomID(s.RoomID)); err != nil {
		t.Fatal(err)
	}
	l.openWindow(s)
	if err = knock(t, client, s.RoomID, "Jane"); err != nil {
		t.Fatal(err)
	}
	l.waitState(s, 1, bridge.StateWaiting)
	// In the session's room the session is implied; a bad participant gets a clear error.
	bad, _ := l.clinician.SendMessageEvent(ctx, id.RoomID(s.RoomID), appservice.CommandEventType, &appservice.CommandContent{Action: "admit", Participant: "7"})
	bridgetest.WaitMessage(t, l.clinician, id.RoomID(s.RoomID), wait, "the failed admit's result", func(evt *event.Event) bool {
		var r appservice.ResultContent
		_ = json.Unmarshal(evt.Content.VeryRaw, &r)
		return evt.Type.Type == appservice.ResultEventType.Type && r.Command == bad.EventID.String() && !r.OK && strings.Contains(r.Error, "no participant 7")
	})
	if _, err = l.clinician.SendMessageEvent(ctx, id.RoomID(s.RoomID), appservice.CommandEventType, &appservice.CommandContent{Action: "admit", Participant: "1"}); err != nil {
		t.Fatal(err)
	}
	l.waitMembership(s, client.UserID, event.MembershipInvite)
}

func TestCommandErrorsAreClear(t *testing.T) {
	l := newLobby(t, "sqlite")
	l.command("!schedule 2026-11-24 15:00 Europe/Paris J none", "at least 2 characters")
	l.command("!schedule 2026-11-24 15:00 Mars/Base JD none", "not a time zone")
	l.command("!schedule 2026-11-24 15:00 Europe/Paris JD sms 12", "not a valid phone number")
	l.command("!schedule 2026-11-24 15:00 Europe/Paris JD email nobody", "not a valid email")
	l.command("!schedule 2026-11-24 15:00 Europe/Paris JD sms", "mobile number")
	l.command("!schedule 2026-11-23 15:00 Europe/Paris JD none", "over already")
	l.command("!admit zzzzzz", "no session")
	l.command("!deny", "Which session?")
	s := l.schedule("2026-11-24 15:00 Europe/Paris JD none")
	l.command("!deny "+s.ID+" 1", "not waiting")
	l.command("!end "+s.ID, "has ended")
	l.command("!end "+s.ID, "the session is over")

}

// Whoever the clinic does not know gets nothing from the bot; a booked patient gets their own
// direct chat and is refused the clinicians' commands there. On both databases (who is booked).
func TestNonCliniciansAreRefused(t *testing.T) {
	for _, db := range []string{"sqlite", "pgx"} {
		t.Run(db, func(t *testing.T) {
			env := bridgetest.New(t, bridgetest.Options{DB: db, Config: onlyDrMartin})
			env.Start(t)
			ctx := context.Background()
			bot := env.App.Matrix.Bot()

			// Someone the clinic does not know: the bot does not even join their direct chat.
			visitor := env.User(t, "visitor")
			dm, err := visitor.CreateRoom(ctx, &mautrix.ReqCreateRoom{Preset: "private_chat", Invite: []id.UserID{bot}, IsDirect: true})
			if err != nil {
				t.Fatal(err)
			}
			bridgetest.Eventually(t, wait, "the bot to refuse the visitor's invite", func() bool {
				var m event.MemberEventContent
				err := visitor.StateEvent(ctx, dm.RoomID, event.StateMember, bot.String(), &m)
				return err == nil && m.Membership != event.MembershipInvite
			})
			var m event.MemberEventContent
			_ = visitor.StateEvent(ctx, dm.RoomID, event.StateMember, bot.String(), &m)
			if m.Membership == event.MembershipJoin {
				t.Fatal("the bot joined an unknown visitor's direct chat")
			}

			// A booked patient has a direct chat with the bot, and is refused the clinicians' commands.
			env.User(t, "dr.martin")
			patient := env.User(t, "jane")
			booked, err := env.App.Sessions.Schedule(ctx, bridge.ScheduleRequest{
				Clinician: "@dr.martin:localhost", Start: time.Now().Add(48 * time.Hour), End: time.Now().Add(49 * time.Hour),
				TimeZone: "Europe/Paris", Participants: []bridge.ParticipantRequest{{Name: "Jane", MatrixID: patient.UserID.String()}},
			})
			if err != nil {
				t.Fatal(err)
			}
			room := roomWithBot(t, env, patient)
			for _, cmd := range []string{"!sessions", "!schedule 2026-11-25 10:00 Europe/Paris Eve none", "!login"} {
				resp, err := patient.SendText(ctx, room, cmd)
				if err != nil {
					t.Fatal(err)
				}
				bridgetest.WaitMessage(t, patient, room, wait, "the refusal of "+cmd, func(evt *event.Event) bool {
					return evt.Sender == bot && evt.Content.AsMessage().RelatesTo.GetReplyTo() == resp.EventID &&
						strings.Contains(evt.Content.AsMessage().Body, "Only the clinic's clinicians")
				})
			}
			resp, err := patient.SendMessageEvent(ctx, room, appservice.CommandEventType, &appservice.CommandContent{Action: "end", Session: "zzzzzz"})
			if err != nil {
				t.Fatal(err)
			}
			bridgetest.WaitMessage(t, patient, room, wait, "the refused command event", func(evt *event.Event) bool {
				var r appservice.ResultContent
				_ = json.Unmarshal(evt.Content.VeryRaw, &r)
				return evt.Type.Type == appservice.ResultEventType.Type && r.Command == resp.EventID.String() && !r.OK &&
					strings.Contains(r.Error, "only the clinic's clinicians")
			})

			// Once the session is called off, Jane is nobody's participant: a new direct chat is refused.
			if _, err = env.App.Sessions.Cancel(ctx, "@dr.martin:localhost", booked.ID); err != nil {
				t.Fatal(err)
			}
			late, err := patient.CreateRoom(ctx, &mautrix.ReqCreateRoom{Preset: "private_chat", Invite: []id.UserID{bot}, IsDirect: true})
			if err != nil {
				t.Fatal(err)
			}
			bridgetest.Eventually(t, wait, "the bot to refuse the former patient's invite", func() bool {
				var m event.MemberEventContent
				err := patient.StateEvent(ctx, late.RoomID, event.StateMember, bot.String(), &m)
				return err == nil && m.Membership == event.MembershipLeave
			})
		})
	}
}

func TestWaitingNoticesAreThrottled(t *testing.T) {
	l := newLobby(t, "sqlite")
	jane, john := l.env.User(t, "jane"), l.env.User(t, "john")
	s := l.scheduleTwo(jane, john, bridge.PolicyManual)
	l.openWindow(s)
	if err := knock(t, jane, s.RoomID, "Jane"); err != nil {
		t.Fatal(err)
	}
	bridgetest.WaitMessage(t, l.clinician, l.control, wait, "the first notice", bridgetest.IsNoticeFrom(l.bot(), "Jane is waiting"))
	if err := knock(t, john, s.RoomID, "John"); err != nil {
		t.Fatal(err)
	}
	l.waitState(s, 2, bridge.StateWaiting)
	// Within the interval the second knock is held back, then both are named in one notice.
	l.clock.Advance(appservice.NoticeInterval)
	bridgetest.WaitMessage(t, l.clinician, l.control, wait, "the gathered notice", bridgetest.IsNoticeFrom(l.bot(), "2 people are waiting"))
	notices := 0
	for _, evt := range bridgetest.Messages(t, l.clinician, l.control) {
		if evt.Sender == l.bot() && strings.Contains(evt.Content.AsMessage().Body, "waiting for session "+s.ID) {
			notices++
		}
	}
	if notices != 2 {
		t.Errorf("%d notices for two knocks within the interval, want 2", notices)
	}
}

func TestRedeliveredKnockIsHandledOnce(t *testing.T) {
	l := newLobby(t, "sqlite")
	client := l.env.User(t, "jane")
	s := l.waitingClient(client)
	// The homeserver delivers the knock again, twice, in transactions of its own.
	var knockEvt *event.Event
	for _, evt := range bridgetest.Messages(t, l.clinician, id.RoomID(s.RoomID)) {
		if evt.Type.Type == event.StateMember.Type && evt.GetStateKey() == client.UserID.String() {
			knockEvt = evt
		}
	}
	if knockEvt == nil {
		t.Fatal("knock event not found")
	}
	raw, _ := json.Marshal(map[string]any{"events": []any{map[string]any{
		"event_id": knockEvt.ID, "room_id": knockEvt.RoomID, "sender": knockEvt.Sender, "type": "m.room.member",
		"state_key": client.UserID, "origin_server_ts": knockEvt.Timestamp, "content": json.RawMessage(knockEvt.Content.VeryRaw),
	}}})
	for _, txn := range []string{"redeliver-1", "redeliver-2"} {
		putTransaction(t, l.env, l.env.Config.AppService.HSToken, txn, raw)
	}
	// Events of one room are handled in order: once the clinician's later invite is handled,
	// so are the redelivered knocks.
	if _, err := l.clinician.InviteUser(context.Background(), id.RoomID(s.RoomID), &mautrix.ReqInviteUser{UserID: client.UserID}); err != nil {
		t.Fatal(err)
	}
	l.waitState(s, 1, bridge.StateAdmitted)
	log, err := l.env.App.DB.LobbyLog.ForSession(context.Background(), s.ID)
	if err != nil {
		t.Fatal(err)
	}
	knocks := 0
	for _, e := range log {
		if e.Action == bridge.ActKnock {
			knocks++
		}
	}
	if knocks != 1 {
		t.Errorf("%d knocks logged for one knock delivered three times", knocks)
	}
}

func TestRescheduleWhileSomeoneWaits(t *testing.T) {
	l := newLobby(t, "sqlite")
	client := l.env.User(t, "jane")
	s := l.waitingClient(client)
	l.command("!reschedule "+s.ID+" 2026-11-25 10:00", "moved to Wed 25 Nov 2026 10:00 CET")
	m := l.waitMembership(s, client.UserID, event.MembershipLeave)
	if !strings.Contains(m.Reason, "moved to Wed 25 Nov 2026 10:00") {
		t.Errorf("reason %q", m.Reason)
	}
	l.waitState(s, 1, bridge.StateBooked)
	l.waitJoinRule(s, event.JoinRuleInvite)
	// The new window opens at the new time.
	moved, _ := l.env.App.Sessions.Session(context.Background(), s.ID)
	l.openWindow(moved)
	if err := knock(t, client, s.RoomID, "Jane"); err != nil {
		t.Fatalf("knocking in the new window: %v", err)
	}
	l.waitState(s, 1, bridge.StateWaiting)
}

// Element Call can run in a session room: a participant let in may announce their call device
// (org.matrix.msc3401.call.member), as Element Call does; any other state stays the
// clinician's, and someone not in the room can send nothing.
func TestAdmittedMembersMaySendCallMembership(t *testing.T) {
	l := newLobby(t, "sqlite")
	client := l.env.User(t, "jane")
	s := l.clientInSession(client)
	ctx := context.Background()
	room := id.RoomID(s.RoomID)
	callMember := event.Type{Type: appservice.CallMemberEventType, Class: event.StateEventType}
	membership := map[string]any{
		"application": "m.call", "call_id": "", "scope": "m.room", "device_id": "PHONE",
		"focus_active":   map[string]any{"type": "livekit", "focus_selection": "oldest_membership"},
		"foci_preferred": []any{map[string]any{"type": "livekit", "livekit_service_url": "https://video.example.org/livekit/jwt"}},
	}
	key := "_" + client.UserID.String() + "_PHONE_m.call"
	if _, err := client.SendStateEvent(ctx, room, callMember, key, membership); err != nil {
		t.Fatalf("a participant in the session cannot announce their call: %v", err)
	}
	var got map[string]any
	if err := l.clinician.StateEvent(ctx, room, callMember, key, &got); err != nil || got["device_id"] != "PHONE" {
		t.Errorf("the call membership in the room: %v %v", got, err)
	}
	if _, err := client.SendStateEvent(ctx, room, event.StateTopic, "", map[string]any{"topic": "mine"}); err == nil {
		t.Error("a participant changed the room's topic")
	}
	stranger := l.env.User(t, "mallory")
	if _, err := stranger.SendStateEvent(ctx, room, callMember, "_"+stranger.UserID.String()+"_X_m.call", membership); err == nil {
		t.Error("someone not in the room announced a call in it")
	}
}
