package web

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"github.com/telehealth-bridge/telehealth-bridge/database"
)

// A guest link is <public URL>/g/<session ID>.<secret>.<signature>:
//   - the secret is derived from the signing key, the participant and the link's generation,
//     so the bridge can write the link into any later message without storing it, and a new
//     generation makes the old link useless;
//   - the signature binds the secret to the session, so a forged or altered link is refused
//     before any database lookup, and a link is useless for any other session;
//   - the database keeps only the SHA-256 of the whole token.

var b64 = base64.RawURLEncoding

func (srv *Server) mac(parts ...string) []byte {
	h := hmac.New(sha256.New, srv.cfg.SigningKey)
	h.Write([]byte(strings.Join(parts, "\x00")))
	return h.Sum(nil)[:16]
}

// guestToken computes a participant's link token for a generation.
func (srv *Server) guestToken(sessionID string, participantID int64, generation int) string {
	secret := b64.EncodeToString(srv.mac("guest-secret", sessionID, fmt.Sprint(participantID), fmt.Sprint(generation)))
	return sessionID + "." + secret + "." + b64.EncodeToString(srv.mac("guest-sig", sessionID, secret))
}

// verifyGuestToken checks a token's form and signature and returns its session ID.
func (srv *Server) verifyGuestToken(token string) (string, bool) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 || len(parts[0]) == 0 || len(parts[0]) > 32 {
		return "", false
	}
	sig, err := b64.DecodeString(parts[2])
	if err != nil {
		return "", false
	}
	return parts[0], hmac.Equal(sig, srv.mac("guest-sig", parts[0], parts[1]))
}

func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// ParticipantLink returns the participant's link, creating it the first time. Notifications
// and the panel call it whenever they need the link.
func (srv *Server) ParticipantLink(ctx context.Context, s *bridge.Session, p *bridge.Participant) (string, error) {
	return srv.participantLink(ctx, s, p, false)
}

// PortalLink is the client portal's address in the client's language: it carries no token
// (the portal asks them to sign in), so it may go by SMS or email.
func (srv *Server) PortalLink(locale string) string {
	if locale != "fr" {
		locale = "en"
	}
	return srv.cfg.PublicURL + "/portal?lang=" + locale + "#todo"
}

// GuestLink is the participant's link if they join as a web-link guest, and "" for someone
// booked with their own Matrix account, who joins from their Matrix client. The panel shows it
// and notifications carry it.
func (srv *Server) GuestLink(ctx context.Context, s *bridge.Session, p *bridge.Participant) (string, error) {
	if p.MatrixID != "" && srv.guests != nil && !srv.guests.IsGhost(p.MatrixID) {
		return "", nil
	}
	return srv.ParticipantLink(ctx, s, p)
}

// NewParticipantLink replaces the participant's link with a new one: the old one stops working.
func (srv *Server) NewParticipantLink(ctx context.Context, s *bridge.Session, p *bridge.Participant) (string, error) {
	return srv.participantLink(ctx, s, p, true)
}

func (srv *Server) participantLink(ctx context.Context, s *bridge.Session, p *bridge.Participant, renew bool) (string, error) {
	link, err := srv.db.GuestLink.ByParticipant(ctx, p.ID)
	if err != nil {
		return "", fmt.Errorf("loading the guest link: %w", err)
	}
	first := link == nil
	switch {
	case first:
		link = &database.GuestLink{SessionID: s.ID, ParticipantID: p.ID}
		renew = true
	case renew:
		link.Generation++
	}
	if renew {
		if err = srv.putLink(ctx, s, link); err != nil {
			return "", err
		}
	}
	if first { // by the bridge, for the notifications or the panel; replacements are the clinician's
		_ = srv.svc.Audit(ctx, bridge.AuditEntry{Action: bridge.AuditLinkIssued, SessionID: s.ID, Subject: bridge.ParticipantSubject(p), Detail: map[string]string{"kind": "guest"}})
	}
	return srv.cfg.PublicURL + "/g/" + srv.guestToken(s.ID, p.ID, link.Generation), nil
}

// RevokeParticipantLink makes the participant's link useless until a new one is made.
func (srv *Server) RevokeParticipantLink(ctx context.Context, p *bridge.Participant) error {
	if err := srv.db.GuestLink.Revoke(ctx, p.ID, srv.clock.Now()); err != nil {
		return err
	}
	srv.hub.bump(p.SessionID) // the panels show the session without its link
	return nil
}

func (srv *Server) putLink(ctx context.Context, s *bridge.Session, link *database.GuestLink) error {
	link.TokenHash = hashToken(srv.guestToken(s.ID, link.ParticipantID, link.Generation))
	link.CreatedAt = srv.clock.Now()
	link.ExpiresAt = s.End.Add(srv.cfg.LinkGrace)
	if err := srv.db.GuestLink.Put(ctx, link); err != nil {
		return fmt.Errorf("storing the guest link: %w", err)
	}
	srv.hub.bump(s.ID) // the panels show the session with its new link
	return nil
}

// linkStatus says why a well-formed link does not work.
type linkStatus string

const (
	linkOK      linkStatus = ""
	linkRevoked linkStatus = "revoked"
	linkExpired linkStatus = "expired"
)

// guestFromToken resolves a guest token: a forged one is a 403 (counted against the
// visitor's rate limit); a replaced, revoked or expired one says so. A token that carries our
// signature is never throttled: only we can make one, so it is not a guess, and the guest
// must not be locked out by someone else's failures behind the same address.
func (srv *Server) guestFromToken(r *http.Request, token string) (*bridge.Session, *bridge.Participant, linkStatus, error) {
	sessionID, ok := srv.verifyGuestToken(token)
	if !ok {
		key := srv.limiter.key(r)
		if !srv.limiter.allow(key) {
			return nil, nil, linkOK, errorf(http.StatusTooManyRequests, "rate_limited", "Too many attempts. Please wait a minute and try again.")
		}
		srv.limiter.fail(key)
		return nil, nil, linkOK, errorf(http.StatusForbidden, "forged_link", "This link is not valid.")
	}
	link, err := srv.db.GuestLink.ByHash(r.Context(), hashToken(token))
	if err != nil {
		return nil, nil, linkOK, err
	}
	if link == nil || link.SessionID != sessionID {
		// Signed by us but replaced by a newer link.
		return nil, nil, linkRevoked, errorf(http.StatusGone, "link_revoked", "This link was replaced or withdrawn by your clinic.")
	}
	s, ps, err := srv.svc.Lobby(r.Context(), "", sessionID)
	if err != nil {
		return nil, nil, linkOK, err
	}
	var p *bridge.Participant
	for _, candidate := range ps {
		if candidate.ID == link.ParticipantID {
			p = candidate
		}
	}
	switch {
	case p == nil:
		return nil, nil, linkRevoked, errorf(http.StatusGone, "link_revoked", "This link was replaced or withdrawn by your clinic.")
	case !link.RevokedAt.IsZero():
		return s, p, linkRevoked, errorf(http.StatusGone, "link_revoked", "This link was withdrawn by your clinic.")
	case srv.clock.Now().After(s.End.Add(srv.cfg.LinkGrace)): // follows the session if it moved
		return s, p, linkExpired, errorf(http.StatusGone, "link_expired", "This link has expired: the session is over.")
	}
	return s, p, linkOK, nil
}
