package livekit

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Admission says whether a Matrix user may be in the call of a Matrix room now: the
// session's clinician, or a participant the lobby let in, while the session is not over.
type Admission func(ctx context.Context, matrixRoomID, userID string) error

// Presence hears that a connection (a LiveKit identity) of a Matrix user let into a room's
// call joined or left it.
type Presence func(matrixRoomID, userID, identity string, present bool)

// WebhookHooks are what the webhooks tell the bridge and ask of it.
type WebhookHooks struct {
	Admitted Admission
	// Presence may be nil.
	Presence Presence
}

// webhookEvent is the part of LiveKit's WebhookEvent (protobuf JSON) the bridge reads.
type webhookEvent struct {
	Event string `json:"event"`
	Room  struct {
		Name string `json:"name"`
	} `json:"room"`
	Participant struct {
		Identity   string            `json:"identity"`
		Attributes map[string]string `json:"attributes"`
	} `json:"participant"`
	Track struct {
		SID string `json:"sid"`
	} `json:"track"`
}

// webhookClaims are the claims of a webhook's Authorization token: the body's hash.
type webhookClaims struct {
	jwt.RegisteredClaims
	Sha256 string `json:"sha256"`
}

// WebhookHandler receives the LiveKit server's webhooks (its config's webhook.urls, signed
// with the bridge's API key). When someone connects whom the lobby has not let in, or no
// longer does (a token issued before their removal is still valid for a few minutes), they
// are taken out at once; those let in are reported present, and absent when they leave.
// Requests not signed with the key are refused.
func (b *Backend) WebhookHandler(hooks WebhookHooks) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.WriteHeader(http.StatusMethodNotAllowed)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		if err != nil {
			w.WriteHeader(http.StatusRequestEntityTooLarge)
			return
		}
		if err = b.verifyWebhook(r.Header.Get("Authorization"), body); err != nil {
			b.log.Info().Str("reason", err.Error()).Msg("Refused a LiveKit webhook")
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var ev webhookEvent
		if err = json.Unmarshal(body, &ev); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusOK)
		if ev.Event == "room_finished" {
			b.presence.roomGone(ev.Room.Name)
			return
		}
		user, room := ev.Participant.Attributes[UserAttribute], ev.Participant.Attributes[RoomAttribute]
		if user == "" || room == "" || RoomName(room, RoomSlot) != ev.Room.Name {
			return // not a token of the bridge's
		}
		switch ev.Event {
		case "participant_joined":
			// Counted at once, in the webhooks' order (a participant_left may follow before
			// the admission check ends); uncounted again if they are taken out.
			b.presence.set(&b.presence.peers, ev.Room.Name, ev.Participant.Identity, true)
		case "track_published", "track_unpublished":
			if ev.Track.SID != "" {
				b.presence.set(&b.presence.tracks, ev.Room.Name, ev.Track.SID, ev.Event == "track_published")
			}
			return
		case "participant_left", "participant_connection_aborted":
			b.presence.set(&b.presence.peers, ev.Room.Name, ev.Participant.Identity, false)
			if hooks.Presence != nil {
				hooks.Presence(room, user, ev.Participant.Identity, false)
			}
			if b.webGuest(user, ev.Participant.Identity) {
				// The guest's call page left: their membership ends (unless LiveKit still has
				// a newer connection of theirs).
				b.wg.Add(1)
				go func() {
					defer b.wg.Done()
					ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
					defer cancel()
					b.syncWebMember(ctx, ev.Room.Name, room, user, false)
				}()
			}
			return
		default:
			return
		}
		b.wg.Add(1)
		go func() {
			defer b.wg.Done()
			ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
			defer cancel()
			if err := hooks.Admitted(ctx, room, user); err == nil {
				if hooks.Presence != nil {
					hooks.Presence(room, user, ev.Participant.Identity, true)
				}
				if b.webGuest(user, ev.Participant.Identity) {
					// A web guest's call page is connected: Element Call shows them once their
					// ghost has a membership naming that connection.
					b.syncWebMember(ctx, ev.Room.Name, room, user, true)
				}
				return
			}
			b.presence.set(&b.presence.peers, ev.Room.Name, ev.Participant.Identity, false)
			b.log.Info().Str("lk_room", ev.Room.Name).Msg("Took someone not let in out of a LiveKit room")
			err := b.call(ctx, "RemoveParticipant", &VideoGrant{RoomAdmin: true, Room: ev.Room.Name},
				map[string]string{"room": ev.Room.Name, "identity": ev.Participant.Identity}, nil)
			if err != nil && !errors.Is(err, errNotFound) {
				b.log.Err(err).Msg("Failed to take someone not let in out of a LiveKit room")
			}
		}()
	})
}

// verifyWebhook checks a webhook's token: signed with the API key's secret, issued by the
// key, still valid, and carrying the body's SHA-256.
func (b *Backend) verifyWebhook(header string, body []byte) error {
	header = strings.TrimPrefix(header, "Bearer ")
	if header == "" {
		return errors.New("no Authorization header")
	}
	var claims webhookClaims
	_, err := jwt.ParseWithClaims(header, &claims, func(*jwt.Token) (any, error) { return []byte(b.cfg.APISecret), nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}), jwt.WithIssuer(b.cfg.APIKey), jwt.WithExpirationRequired())
	if err != nil {
		return errors.New("the token is not the API key's")
	}
	sum := sha256.Sum256(body)
	if subtle.ConstantTimeCompare([]byte(claims.Sha256), []byte(base64.StdEncoding.EncodeToString(sum[:]))) != 1 {
		return errors.New("the body does not match the token")
	}
	return nil
}
