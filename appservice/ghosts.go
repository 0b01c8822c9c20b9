package appservice

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"go.mau.fi/util/random"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
)

// A web-link guest is a ghost user in the bridge's exclusive namespace, opaque (never the
// guest's name), with the name the guest confirmed as display name. To the clinician it is an
// ordinary Matrix user who knocks. A guest whose participant row points at a client record
// without a Matrix account of its own speaks as the client's one ghost,
// @<ghost_prefix>client_<random>:<domain>, in every session and in their Messages room; anyone
// else (a booking without a record) gets a ghost of their own, @<ghost_prefix>guest_<random>.

func (c *Connector) ghostPrefix() string { return "@" + c.cfg.AppService.GhostPrefix + "guest_" }

func (c *Connector) clientGhostPrefix() string { return "@" + c.cfg.AppService.GhostPrefix + "client_" }

// IsGhost reports whether a user is one of the bridge's ghosts: a guest's or a client's.
func (c *Connector) IsGhost(userID string) bool {
	return (strings.HasPrefix(userID, c.ghostPrefix()) || strings.HasPrefix(userID, c.clientGhostPrefix())) &&
		strings.HasSuffix(userID, ":"+c.cfg.Homeserver.Domain)
}

func (c *Connector) newGhostID() id.UserID {
	return id.UserID(c.ghostPrefix() + strings.ToLower(random.String(10)) + ":" + c.cfg.Homeserver.Domain)
}

func (c *Connector) newClientGhostID() id.UserID {
	return id.UserID(c.clientGhostPrefix() + strings.ToLower(random.String(16)) + ":" + c.cfg.Homeserver.Domain)
}

// webIdentity is the ghost a web participant knocks as: their client record's, when the row
// points at a record without a Matrix account; else a new one of their own.
func (c *Connector) webIdentity(ctx context.Context, p *bridge.Participant) (id.UserID, error) {
	if p.ClientID == 0 {
		return c.newGhostID(), nil
	}
	unlock := c.clientLocks.Lock(p.ClientID)
	defer unlock()
	cl, err := c.db.Client.Get(ctx, p.ClientID)
	if errors.Is(err, bridge.ErrClientNotFound) {
		return c.newGhostID(), nil
	} else if err != nil {
		return "", fmt.Errorf("reading the participant's client record: %w", err)
	}
	if cl.MatrixID != "" {
		return c.newGhostID(), nil
	}
	ghost, _, err := c.clientGhost(ctx, cl)
	return ghost, err
}

// PrepareGuest makes the guest's ghost ready ahead of their knock, when their page first
// opens: chosen, registered and named, so that the knock itself is one homeserver
// call. In a morning rush the registration and the profile round trips otherwise come right
// before every knock. It may run any number of times; it does the work once per guest.
func (c *Connector) PrepareGuest(ctx context.Context, s *bridge.Session, p *bridge.Participant) error {
	// The name they confirmed last time, else the booked one: a knock under it makes no
	// profile call.
	_, err := c.readyGhost(ctx, p, p.DisplayName())
	return err
}

// readyGhost is the participant's ghost, registered and named: the one they have, the one
// prepared for them, or a new one. Concurrent callers for one participant share the work.
func (c *Connector) readyGhost(ctx context.Context, p *bridge.Participant, name string) (id.UserID, error) {
	ghost, err := c.guests.once(ctx, p.ID, func() (id.UserID, error) {
		ghost := id.UserID(p.MatrixID)
		if ghost == "" {
			var err error
			if ghost, err = c.webIdentity(ctx, p); err != nil {
				return "", err
			}
		} else if !c.IsGhost(ghost.String()) {
			return "", fmt.Errorf("%s is not a guest of the bridge", ghost)
		}
		if err := c.AS.Intent(ghost).EnsureRegistered(ctx); err != nil {
			return "", fmt.Errorf("registering the guest's ghost: %w", err)
		}
		return ghost, nil
	})
	if err != nil {
		return "", err
	}
	if p.MatrixID != "" && ghost.String() != p.MatrixID {
		ghost = id.UserID(p.MatrixID) // the row moved on (a new identity): it says who knocks
	}
	if !c.guests.named(ghost, name) {
		// One call, not the intent's read-then-write: the bridge remembers what it set.
		if err = c.AS.Intent(ghost).Client.SetDisplayName(ctx, name); err != nil {
			return "", fmt.Errorf("setting the guest's name: %w", err)
		}
		c.guests.setName(ghost, name)
	}
	return ghost, nil
}

// GuestKnock makes a guest's ghost knock on the session room with the confirmed name, creating
// the ghost the first time. A ghost already let in joins instead; one already in does nothing,
// so a guest who reloads the page goes straight back in. Once the homeserver has taken the
// knock the guest is waiting: the lobby records it then, without waiting for the knock's echo
// (which then changes nothing).
func (c *Connector) GuestKnock(ctx context.Context, s *bridge.Session, p *bridge.Participant, name string) error {
	ghost, err := c.readyGhost(ctx, p, name)
	if err != nil {
		return err
	}
	if p.MatrixID == "" {
		if err = c.svc.AttachMatrixID(ctx, s.ID, p.ID, ghost.String()); err != nil {
			return fmt.Errorf("giving the guest a Matrix identity: %w", err)
		}
	}
	intent := c.AS.Intent(ghost)
	room := id.RoomID(s.RoomID)
	// The lobby's state says where the guest is; the homeserver's may still show a membership
	// the bridge has just ended (sending someone back kicks them right before they knock).
	switch p.State {
	case bridge.StateInSession, bridge.StateWaiting:
		return nil
	case bridge.StateAdmitted:
		return c.joinGhost(ctx, s, ghost)
	}
	var evtID id.EventID
	for attempt := 0; attempt < 10; attempt++ {
		if evtID, err = c.knock(ctx, intent.Client, room, name, name); err == nil || !forbidden(err) {
			break
		}
		if c.currentMembership(ctx, s.RoomID, ghost.String()) != event.MembershipJoin {
			break // refused for another reason: the room does not take knocks
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	if err != nil {
		if forbidden(err) {
			return fmt.Errorf("%w: the homeserver refused the request to join", bridge.ErrLobbyClosed)
		}
		return fmt.Errorf("knocking for the guest: %w", err)
	}
	if evtID != "" {
		c.ownKnocks.Store(evtID, struct{}{})
	}
	err = c.svc.OnMembership(ctx, bridge.Membership{RoomID: s.RoomID, Target: ghost.String(), Sender: ghost.String(), Membership: bridge.MemberKnock, Reason: name})
	if err != nil && !errors.Is(err, bridge.ErrNotFound) {
		return err
	}
	return nil
}

// GuestLeave makes the guest's ghost leave the session room (or withdraw its knock).
func (c *Connector) GuestLeave(ctx context.Context, s *bridge.Session, p *bridge.Participant) error {
	if !c.IsGhost(p.MatrixID) {
		return nil
	}
	intent := c.AS.Intent(id.UserID(p.MatrixID))
	_, err := intent.LeaveRoom(ctx, id.RoomID(s.RoomID), &mautrix.ReqLeave{Reason: "Left the session"})
	if err != nil && (forbidden(err) || refusedRequest(err)) {
		// Withdrawing a knock: homeservers without the spec's /leave for knocks (Dendrite
		// answers 400 "not joined to the room (membership is knock)") accept the leave
		// membership event.
		_, err = intent.SendStateEvent(ctx, id.RoomID(s.RoomID), event.StateMember, p.MatrixID,
			&event.MemberEventContent{Membership: event.MembershipLeave, Reason: "Left the session"})
	}
	if err != nil {
		return fmt.Errorf("leaving the session room: %w", err)
	}
	return nil
}

// joinGhost accepts a guest's admission: the ghost joins the room. The join is applied to the
// lobby at once, so the guest's page moves into the call without waiting for the echo. Both
// the bridge's own invite and its echo bring the guest in, and the echo usually arrives before
// the first join returns: one join per admission is made (joins), the others wait for it.
func (c *Connector) joinGhost(ctx context.Context, s *bridge.Session, ghost id.UserID) error {
	return c.joins.do(s.RoomID, ghost.String(), func() error {
		c.joinCount.Add(1)
		if _, err := c.AS.Intent(ghost).JoinRoomByID(ctx, id.RoomID(s.RoomID)); err != nil {
			return fmt.Errorf("joining for the guest: %w", err)
		}
		err := c.svc.OnMembership(ctx, bridge.Membership{RoomID: s.RoomID, Target: ghost.String(), Sender: ghost.String(), Membership: bridge.MemberJoin})
		if err != nil && !errors.Is(err, bridge.ErrNotFound) {
			return err
		}
		return nil
	})
}

// GhostJoins counts the joins the bridge asked of the homeserver for guests' ghosts since it
// started (one per admission).
func (c *Connector) GhostJoins() int64 { return c.joinCount.Load() }

// onGhostInvite: a guest was let in; their ghost joins for them. The bridge usually joins the
// ghost as soon as its own invite succeeds, so the invite's echo then finds it in the session
// and does not ask the homeserver for a second join. Only a guest admitted now joins: an
// invite that arrives after the clinician sent them back (or its echo) lets nobody in.
func (c *Connector) onGhostInvite(ctx context.Context, roomID id.RoomID, ghost id.UserID) error {
	s, err := c.svc.SessionByRoom(ctx, roomID.String())
	if err != nil {
		return err
	}
	_, ps, err := c.svc.Lobby(ctx, "", s.ID)
	if err != nil {
		return err
	}
	for _, p := range ps {
		if p.MatrixID == ghost.String() && p.State == bridge.StateAdmitted {
			return c.joinGhost(ctx, s, ghost)
		}
	}
	return nil
}

// refusedRequest is a 400 answer: the homeserver understood the request and will not do it.
func refusedRequest(err error) bool {
	var httpErr mautrix.HTTPError
	return errors.As(err, &httpErr) && httpErr.Response != nil && httpErr.Response.StatusCode == http.StatusBadRequest
}
