package appservice

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
)

// member is what the bridge reads from a member event, taken from the event's own JSON:
// the state store may rewrite an earlier parsed content after a later event for the same user.
type member struct {
	target     id.UserID
	membership event.Membership
	prev       event.Membership
	reason     string
	isDirect   bool
}

func parseMember(evt *event.Event) member {
	var content event.MemberEventContent
	_ = json.Unmarshal(evt.Content.VeryRaw, &content)
	m := member{
		target:     id.UserID(evt.GetStateKey()),
		membership: content.Membership,
		reason:     content.Reason,
		isDirect:   content.IsDirect,
	}
	if evt.Unsigned.PrevContent != nil {
		var prev event.MemberEventContent
		_ = json.Unmarshal(evt.Unsigned.PrevContent.VeryRaw, &prev)
		m.prev = prev.Membership
	}
	return m
}

func (c *Connector) handleMember(ctx context.Context, evt *event.Event) {
	m := parseMember(evt)
	log := zerolog.Ctx(ctx)
	if m.target == c.bot.UserID {
		switch m.membership {
		case event.MembershipInvite:
			c.acceptInvite(ctx, evt, m)
		case event.MembershipLeave, event.MembershipBan:
			if err := c.db.ControlRoom.Delete(ctx, evt.RoomID.String()); err != nil {
				log.Err(err).Msg("Failed to forget a control room")
			}
		}
		return
	}
	if m.membership == event.MembershipKnock {
		if _, mine := c.ownKnocks.LoadAndDelete(evt.ID); mine {
			return // a guest's knock the bridge recorded as soon as the homeserver took it
		}
	}
	err := c.svc.OnMembership(ctx, bridge.Membership{
		RoomID: evt.RoomID.String(), Target: m.target.String(), Sender: evt.Sender.String(),
		Membership: string(m.membership), Prev: string(m.prev), Reason: m.reason,
	})
	if err != nil && !errors.Is(err, bridge.ErrNotFound) {
		log.Err(err).Str("membership", string(m.membership)).Msg("Failed to apply a membership change")
	}
	if err == nil && m.membership == event.MembershipKnock && c.KnockTimer != nil && !evt.Mautrix.ReceivedAt.IsZero() {
		c.KnockTimer("matrix_stored", time.Since(evt.Mautrix.ReceivedAt))
	}
	if err == nil && m.membership == event.MembershipInvite && c.IsGhost(m.target.String()) {
		if err = c.onGhostInvite(ctx, evt.RoomID, m.target); err != nil {
			log.Err(err).Msg("Failed to bring a guest in")
		}
	}
}

// acceptInvite decides on an invite for the bot: a clinician's to any room (their direct room
// becomes their control room); a direct chat from someone booked on a session that is not over
// (it becomes their control room, for their links); nobody else's. A refused invite is rejected,
// so that strangers of any server cannot make the bot join and answer in their rooms.
func (c *Connector) acceptInvite(ctx context.Context, evt *event.Event, m member) {
	log := zerolog.Ctx(ctx)
	inviter := evt.Sender.String()
	allowed := c.cfg.IsClinician(inviter)
	if !allowed && m.isDirect && !c.cfg.IsBridgeUser(inviter) {
		booked, err := c.db.Participant.IsBooked(ctx, inviter)
		if err != nil {
			log.Err(err).Msg("Failed to check whether an inviter is booked; refusing the invite")
		}
		allowed = booked
	}
	if !allowed {
		if _, err := c.bot.LeaveRoom(ctx, evt.RoomID, &mautrix.ReqLeave{Reason: "The bot takes invites from the clinic's clinicians and their participants only"}); err != nil {
			log.Err(err).Msg("Failed to reject an invite")
		}
		log.Info().Stringer("inviter", evt.Sender).Bool("direct", m.isDirect).Msg("Refused an invite")
		return
	}
	if _, err := c.bot.JoinRoomByID(ctx, evt.RoomID); err != nil {
		log.Err(err).Msg("Failed to accept an invite")
		return
	}
	if m.isDirect {
		c.adoptControlRoom(ctx, evt.Sender, evt.RoomID)
	}
	log.Info().Stringer("inviter", evt.Sender).Bool("direct", m.isDirect).Msg("Joined a room on invite")
}

// handleSessionState guards the session state event (the hookshot pattern): the bot writes it;
// a change by the session's clinician is a request to reschedule or cancel; anyone else's is
// rolled back to the bridge's version.
func (c *Connector) handleSessionState(ctx context.Context, evt *event.Event) {
	log := zerolog.Ctx(ctx)
	s, err := c.svc.SessionByRoom(ctx, evt.RoomID.String())
	if err != nil {
		return
	}
	var wanted SessionContent
	parseErr := rawContent(evt, &wanted)
	level, _ := c.AS.StateStore.GetPowerLevel(ctx, evt.RoomID, evt.Sender)
	if parseErr == nil && level >= 100 && evt.Sender.String() == s.Clinician && !c.cfg.IsBridgeUser(s.Clinician) {
		current := sessionContent(s, c.window)
		err = c.applySessionChange(ctx, evt.Sender.String(), s, current, &wanted)
		if err == nil {
			c.republish(ctx, s.ID) // the bridge's canonical version, with the derived fields
			return
		}
		log.Info().Err(err).Msg("Refused a change to the session state")
		c.sendResult(ctx, evt, ResultContent{SessionID: s.ID, Error: err.Error()})
	} else {
		log.Warn().Stringer("sender", evt.Sender).Int("power_level", level).Msg("Rolling back a change to the session state")
	}
	c.published.forget(evt.RoomID)
	c.republish(ctx, s.ID)
}

// sessionEdit is what a clinician's edit of the session state asks for.
type sessionEdit int

const (
	editNone sessionEdit = iota
	editCancel
	editEnd
	editReschedule
)

// classifySessionEdit compares the session state a clinician sent with the bridge's version:
// only the start, end and time zone may change, or the status to cancelled or ended.
func classifySessionEdit(current, wanted *SessionContent) (sessionEdit, error) {
	switch {
	case wanted.Status == string(bridge.StatusCancelled) && current.Status != wanted.Status:
		return editCancel, nil
	case wanted.Status == string(bridge.StatusEnded) && current.Status != wanted.Status:
		return editEnd, nil
	case wanted.Start != current.Start || wanted.End != current.End || (wanted.TimeZone != "" && wanted.TimeZone != current.TimeZone):
		return editReschedule, nil
	case *wanted == *current:
		return editNone, nil
	}
	return editNone, errors.New("only the start, end, time zone and a cancelled or ended status can be changed")
}

// applySessionChange turns a clinician's edit of the session state into the matching action.
func (c *Connector) applySessionChange(ctx context.Context, actor string, s *bridge.Session, current, wanted *SessionContent) error {
	edit, err := classifySessionEdit(current, wanted)
	if err != nil {
		return err
	}
	switch edit {
	case editCancel:
		_, err = c.svc.Cancel(ctx, actor, s.ID)
	case editEnd:
		_, err = c.svc.End(ctx, actor, s.ID)
	case editReschedule:
		zone := wanted.TimeZone
		if zone == "" {
			zone = current.TimeZone
		}
		_, err = c.svc.Reschedule(ctx, actor, s.ID, time.UnixMilli(wanted.Start), time.UnixMilli(wanted.End), zone)
	}
	return err
}

func (c *Connector) republish(ctx context.Context, sessionID string) {
	s, err := c.svc.Session(ctx, sessionID)
	if err != nil {
		return
	}
	if err = c.PublishSession(ctx, s); err != nil {
		zerolog.Ctx(ctx).Err(err).Msg("Failed to restore the session state")
	}
}

// handleCommandEvent runs an integrator's command event, answering with a result event.
func (c *Connector) handleCommandEvent(ctx context.Context, evt *event.Event) {
	actor := evt.Sender.String()
	var cmd CommandContent
	if err := rawContent(evt, &cmd); err != nil {
		if c.cfg.IsClinician(actor) {
			c.sendResult(ctx, evt, ResultContent{Error: "the content is not a command: " + err.Error()})
		}
		return
	}
	if !c.cfg.IsClinician(actor) {
		// Outside their control room a non-clinician gets no answer at all (see runBotCommand).
		if c.isControlRoomOf(ctx, evt.RoomID, evt.Sender) {
			c.sendResult(ctx, evt, ResultContent{Error: "only the clinic's clinicians can send commands"})
		}
		return
	}
	if cmd.Session == "" {
		if s, err := c.svc.SessionByRoom(ctx, evt.RoomID.String()); err == nil {
			cmd.Session = s.ID
		}
	}
	result := ResultContent{SessionID: cmd.Session}
	err := c.runCommand(ctx, actor, &cmd, &result)
	if err != nil {
		result.Error = errText(err)
	}
	c.sendResult(ctx, evt, result)
}

// commandRequest is a command event's content, checked: its action in lower case and, for
// schedule and reschedule, its times.
type commandRequest struct {
	action     string
	start, end time.Time
}

// checkCommand reads a command event's content without acting on it.
func checkCommand(cmd *CommandContent) (commandRequest, error) {
	req := commandRequest{action: strings.ToLower(cmd.Action)}
	if req.action != "schedule" && cmd.Session == "" {
		return req, errors.New("say which session")
	}
	if req.action == "schedule" || req.action == "reschedule" {
		var err1, err2 error
		req.start, err1 = time.Parse(time.RFC3339, cmd.Start)
		req.end, err2 = time.Parse(time.RFC3339, cmd.End)
		if err := errors.Join(err1, err2); err != nil {
			return req, fmt.Errorf("start and end must be RFC 3339 times: %w", err)
		}
	}
	return req, nil
}

func (c *Connector) runCommand(ctx context.Context, actor string, cmd *CommandContent, result *ResultContent) error {
	svc := c.svc
	req, err := checkCommand(cmd)
	if err != nil {
		return err
	}
	switch req.action {
	case "reschedule":
		_, err = svc.Reschedule(ctx, actor, cmd.Session, req.start, req.end, cmd.TimeZone)
		return err
	case "schedule":
		sreq := bridge.ScheduleRequest{Clinician: actor, Start: req.start, End: req.end, TimeZone: cmd.TimeZone,
			Kind: bridge.Kind(cmd.Kind), Policy: bridge.Policy(cmd.Policy)}
		for _, p := range cmd.Participants {
			sreq.Participants = append(sreq.Participants, bridge.ParticipantRequest{
				Name: p.Name, MatrixID: p.UserID, Email: p.Email, Phone: p.Phone, Locale: p.Locale,
				TimeZone: p.TimeZone, Invite: bridge.InviteMode(p.Invite),
			})
		}
		if cmd.PaymentServiceID != 0 {
			sreq.Payment = &bridge.RequirePayment{ServiceID: cmd.PaymentServiceID, Amount: cmd.PaymentAmount}
		}
		s, err := svc.Schedule(ctx, sreq)
		if s != nil {
			result.SessionID, result.RoomID = s.ID, s.RoomID
		}
		return err
	}
	if req.action == "mark_paid" {
		// The clinic's own billing: the session's clinician or an admin, as for admit.
		_, err = svc.MarkPaid(ctx, actor, cmd.Session, cmd.Participant, cmd.Reference)
		return err
	}
	return svc.HostAction(ctx, actor, cmd.Session, req.action, cmd.Participant, cmd.Text)
}

func (c *Connector) sendResult(ctx context.Context, evt *event.Event, result ResultContent) {
	result.Command, result.OK = evt.ID.String(), result.Error == ""
	if !c.replies.allow(evt.RoomID.String(), time.Now()) {
		zerolog.Ctx(ctx).Debug().Msg("Too many answers in the room; this result is dropped")
		return
	}
	if _, err := c.bot.SendMessageEvent(ctx, evt.RoomID, ResultEventType, &result); err != nil {
		zerolog.Ctx(ctx).Err(err).Msg("Failed to send a command result")
	}
}

// Reconcile brings every open session in line with its room, for what happened while the
// bridge was down: knocks, joins, leaves.
func (c *Connector) Reconcile(ctx context.Context) error {
	sessions, err := c.svc.ActiveSessions(ctx)
	if err != nil {
		return fmt.Errorf("listing sessions to reconcile: %w", err)
	}
	for _, s := range sessions {
		log := c.log.With().Str("session_id", s.ID).Logger()
		if s.RoomID == "" {
			if err = c.svc.EnsureRoom(ctx, s.ID); err != nil {
				log.Err(err).Msg("Failed to create a missing session room")
			}
			continue
		}
		c.upgradeHistoryVisibility(log.WithContext(ctx), id.RoomID(s.RoomID))
		resp, err := c.bot.Members(ctx, id.RoomID(s.RoomID))
		if err != nil {
			log.Err(err).Msg("Failed to read a session room's members")
			continue
		}
		members := make(map[string]bridge.Membership, len(resp.Chunk))
		for _, evt := range resp.Chunk {
			m := parseMember(evt)
			members[m.target.String()] = bridge.Membership{
				RoomID: s.RoomID, Target: m.target.String(), Sender: evt.Sender.String(),
				Membership: string(m.membership), Prev: string(m.prev), Reason: m.reason,
			}
		}
		if err = c.svc.Reconcile(log.WithContext(ctx), s.ID, members); err != nil {
			log.Err(err).Msg("Failed to reconcile a session")
		}
		// Guests let in while the bridge was down: their ghosts join now.
		for user, m := range members {
			if m.Membership == bridge.MemberInvite && c.IsGhost(user) {
				if err = c.joinGhost(ctx, s, id.UserID(user)); err != nil {
					log.Err(err).Msg("Failed to bring a guest in")
				}
			}
		}
	}
	return nil
}

// upgradeHistoryVisibility moves a session room that earlier versions created with history
// visible from the join to history visible from the invite (CreateRoom says why). Only the
// bot's own setting is changed: one the clinician chose stays. Events already sent keep the
// visibility they were sent under.
func (c *Connector) upgradeHistoryVisibility(ctx context.Context, room id.RoomID) {
	evt, err := c.bot.FullStateEvent(ctx, room, event.StateHistoryVisibility, "")
	if err != nil {
		zerolog.Ctx(ctx).Err(err).Msg("Failed to read a session room's history visibility")
		return
	}
	var hv event.HistoryVisibilityEventContent
	if rawContent(evt, &hv) != nil || hv.HistoryVisibility != event.HistoryVisibilityJoined || evt.Sender != c.bot.UserID {
		return
	}
	if _, err = c.bot.SendStateEvent(ctx, room, event.StateHistoryVisibility, "",
		&event.HistoryVisibilityEventContent{HistoryVisibility: event.HistoryVisibilityInvited}); err != nil {
		zerolog.Ctx(ctx).Err(err).Msg("Failed to make a session room's history visible from the invite")
		return
	}
	zerolog.Ctx(ctx).Info().Msg("Session room's history now visible from the invite")
}
