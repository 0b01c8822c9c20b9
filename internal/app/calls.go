package app

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/rs/zerolog"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"github.com/telehealth-bridge/telehealth-bridge/media"
	"github.com/telehealth-bridge/telehealth-bridge/media/livekit"
	"github.com/telehealth-bridge/telehealth-bridge/web"
)

// calls connects the SFU to the session domain and the web pages.
type calls struct {
	sfu    *media.Server
	svc    *bridge.Service
	window bridge.Window
	log    zerolog.Logger
	// isGhost tells a web-link guest's Matrix user (the bridge's ghost) from a person's account.
	isGhost func(userID string) bool
}

var (
	_ web.Calls      = calls{}
	_ media.Host     = calls{}
	_ bridge.Watcher = calls{}
	_ bridge.Calls   = (*media.Server)(nil)
	_ bridge.Calls   = (*livekit.Backend)(nil)
	_ bridge.Calls   = allCalls{}
	_ web.LiveKit    = (*livekit.Backend)(nil)
)

// allCalls ends calls on every media backend in use.
type allCalls []bridge.Calls

func (a allCalls) Hangup(sessionID, userID string) {
	for _, c := range a {
		c.Hangup(sessionID, userID)
	}
}

func (a allCalls) EndCalls(sessionID string) {
	for _, c := range a {
		c.EndCalls(sessionID)
	}
}

func (a allCalls) LetIn(sessionID, userID string) {
	for _, c := range a {
		c.LetIn(sessionID, userID)
	}
}

// sessionRooms finds a session's Matrix room for the LiveKit backend, which names its
// LiveKit room after it.
type sessionRooms struct{ svc *bridge.Service }

func (r sessionRooms) SessionRoom(ctx context.Context, sessionID string) (string, error) {
	s, err := r.svc.Session(ctx, sessionID)
	if err != nil {
		return "", fmt.Errorf("finding the session's room: %w", err)
	}
	return s.RoomID, nil
}

// Credential: the web page asks for one once the participant is let in.
func (c calls) Credential(sessionID, userID string, host bool) (string, error) {
	return c.sfu.Credential(sessionID, userID, host), nil
}

// WaitingCredential: the web page asks for one while the participant waits.
func (c calls) WaitingCredential(sessionID, userID string) (string, error) {
	return c.sfu.WaitingCredential(sessionID, userID), nil
}

// ICEServers: TURN credentials for a member of a session, ending with the session's lobby.
func (c calls) ICEServers(s *bridge.Session, userID string) []web.ICEServer {
	var out []web.ICEServer
	for _, s := range c.sfu.ICEServers(userID, s.Closes(c.window)) {
		out = append(out, web.ICEServer{URLs: s.URLs, Username: s.Username, Credential: s.Credential})
	}
	return out
}

// HostCommand runs the clinician's commands from the call.
func (c calls) HostCommand(ctx context.Context, sessionID, actor string, cmd media.HostCommand) error {
	return c.svc.HostAction(bridge.WithAuditVia(ctx, "call"), actor, sessionID, cmd.Command, cmd.Participant, cmd.Text)
}

// admitted checks, when someone connects to a call, that they are still let in: the
// clinician, or a participant in the session. A credential alone is not enough once they
// were removed. A web-link guest is in from their admission: the bridge joins their ghost to
// the room itself, and their connection made while waiting need not wait for that join.
func (c calls) admitted(ctx context.Context, sessionID, userID string, host bool) error {
	if strings.HasPrefix(sessionID, web.CheckSessionPrefix) {
		// A connection check ("Test my setup"): its credential came from POST /api/call/check,
		// for a call of its own that nobody else can be in, and no host in it.
		if host {
			return fmt.Errorf("a connection check has no host")
		}
		return nil
	}
	s, ps, err := c.svc.Lobby(ctx, "", sessionID)
	if err != nil {
		return err
	}
	if s.Over() {
		return fmt.Errorf("the session is %s", s.Status)
	}
	if host {
		if userID != s.Clinician {
			return fmt.Errorf("%s is not the clinician", userID)
		}
		return nil
	}
	for _, p := range ps {
		if p.MatrixID == userID && (p.State == bridge.StateInSession || (p.State == bridge.StateAdmitted && c.isGhost != nil && c.isGhost(userID))) {
			return nil
		}
	}
	return fmt.Errorf("%s is not in the session", userID)
}

// admittedInRoom is admitted for the call of a session's Matrix room (LiveKit's webhooks name
// the room, not the session).
func (c calls) admittedInRoom(ctx context.Context, roomID, userID string) error {
	s, err := c.svc.SessionByRoom(ctx, roomID)
	if err != nil {
		return fmt.Errorf("finding the session of the room: %w", err)
	}
	return c.admitted(ctx, s.ID, userID, userID == s.Clinician)
}

// waiting checks, when a waiting connection opens, that its holder knocked on the session and
// waits (or was just let in): a withdrawn, denied or removed knock cannot connect.
func (c calls) waiting(ctx context.Context, sessionID, userID string) error {
	if strings.HasPrefix(sessionID, web.CheckSessionPrefix) {
		return errors.New("a connection check does not wait")
	}
	s, ps, err := c.svc.Lobby(ctx, "", sessionID)
	if err != nil {
		return err
	}
	if s.Over() {
		return fmt.Errorf("the session is %s", s.Status)
	}
	for _, p := range ps {
		if p.MatrixID == userID && (p.State == bridge.StateWaiting || p.State == bridge.StateAdmitted || p.State == bridge.StateInSession) {
			return nil
		}
	}
	return fmt.Errorf("%s is not waiting in the session", userID)
}

// presence: the clinician's connection to the call is their being in the session.
func (c calls) presence(sessionID, userID string, host, present bool) {
	if strings.HasPrefix(sessionID, web.CheckSessionPrefix) {
		return // a connection check is nobody's presence in a session
	}
	ctx := context.Background()
	if present {
		role := "participant"
		if host {
			role = "host"
		}
		_ = c.svc.Audit(bridge.WithAuditVia(ctx, "call"), bridge.AuditEntry{Actor: userID, Action: bridge.AuditCallJoined, SessionID: sessionID, Detail: map[string]string{"role": role}})
	}
	if !host {
		return
	}
	log := c.log.With().Str("session_id", sessionID).Logger()
	if present {
		err := c.svc.ClinicianConnected(ctx, userID, sessionID)
		switch {
		case errors.Is(err, bridge.ErrBeforeWindow):
			// Trying the call out before the window: the page says so; the session goes
			// live when the window opens if they are still in.
			log.Info().Msg("The clinician is in the call before the waiting room opens")
		case err != nil:
			log.Err(err).Msg("Failed to start the session as the clinician connected")
		}
	} else if err := c.svc.ClinicianAway(ctx, sessionID); err != nil {
		log.Err(err).Msg("Failed to record that the clinician left the call")
	}
}

func (c calls) lobby(ctx context.Context, sessionID string) (media.LobbyView, error) {
	s, ps, err := c.svc.Lobby(ctx, "", sessionID)
	if err != nil {
		return media.LobbyView{}, err
	}
	return lobbyView(s, ps), nil
}

// LobbyChanged sends the lobby to the clinician's call page.
func (c calls) LobbyChanged(s *bridge.Session, ps []*bridge.Participant) {
	c.sfu.PublishLobby(s.ID, lobbyView(s, ps))
}

func lobbyView(s *bridge.Session, ps []*bridge.Participant) media.LobbyView {
	view := media.LobbyView{LobbyMessage: s.LobbyMessage}
	for _, p := range ps {
		view.Participants = append(view.Participants, media.LobbyParticipant{Number: p.Number, Name: p.DisplayName(), State: string(p.State)})
	}
	return view
}
