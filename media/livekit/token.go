// Package livekit is the LiveKit media backend: the bridge is the token service of a LiveKit
// server (its own or the homeserver's MatrixRTC focus). It signs LiveKit access tokens for the
// people the lobby let in, names a session's LiveKit room the way Element Call's token
// service (lk-jwt-service) does so Element Call users and web guests meet in one call, and
// takes people out of the room through LiveKit's RoomService when the lobby does.
//
// Tokens are signed here (HS256 JWTs with LiveKit's grant claims) and the RoomService is
// called as Twirp over JSON: the LiveKit Go modules would bring gRPC, CEL and zap into the
// bridge for three requests.
package livekit

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// RoomSlot is the MatrixRTC slot of a Matrix room's one call (MSC4143: application "m.call",
// call ID "ROOM"); Element Call's legacy /sfu/get implies it.
const RoomSlot = "m.call#ROOM"

// Participant attributes set in the token: the Matrix user it was issued to (Element Call
// identities are hashes, and removal must find every connection of a user) and the Matrix
// room of the call (the webhook finds the session by it). Participants cannot change their
// attributes (no canUpdateOwnMetadata).
const (
	UserAttribute = "matrix_user_id"
	RoomAttribute = "matrix_room_id"
)

// RoomName is the LiveKit room of a MatrixRTC slot of a Matrix room, as lk-jwt-service names
// it: unpadded base64 of the SHA-256 of the JSON array [room ID, slot ID].
func RoomName(matrixRoomID, slot string) string {
	return hashJSON(matrixRoomID, slot)
}

// MemberIdentity is the LiveKit identity of a MatrixRTC member, as lk-jwt-service derives it:
// unpadded base64 of the SHA-256 of the JSON array [user ID, device ID, member ID].
func MemberIdentity(userID, deviceID, memberID string) string {
	return hashJSON(userID, deviceID, memberID)
}

func hashJSON(parts ...string) string {
	data, _ := json.Marshal(parts) // a []string always encodes
	sum := sha256.Sum256(data)
	return base64.RawStdEncoding.EncodeToString(sum[:])
}

// Grant is what one access token allows.
type Grant struct {
	// Room is the LiveKit room, the only one the token opens.
	Room string
	// Identity is the participant's LiveKit identity.
	Identity string
	// UserID is the Matrix user the token is for.
	UserID string
	// MatrixRoom is the Matrix room of the call.
	MatrixRoom string
	// Host: the clinician, the only one who may moderate the room (roomAdmin).
	Host bool
}

// VideoGrant is LiveKit's "video" claim, the fields the bridge sets.
type VideoGrant struct {
	RoomJoin       bool   `json:"roomJoin,omitempty"`
	RoomAdmin      bool   `json:"roomAdmin,omitempty"`
	RoomCreate     bool   `json:"roomCreate,omitempty"`
	RoomList       bool   `json:"roomList,omitempty"`
	Room           string `json:"room,omitempty"`
	CanPublish     *bool  `json:"canPublish,omitempty"`
	CanSubscribe   *bool  `json:"canSubscribe,omitempty"`
	CanPublishData *bool  `json:"canPublishData,omitempty"`
	// CanUpdateOwnMetadata is always false: the Matrix user attribute must stay as issued.
	CanUpdateOwnMetadata *bool `json:"canUpdateOwnMetadata,omitempty"`
}

// Claims are a LiveKit access token's claims.
type Claims struct {
	jwt.RegisteredClaims
	Video      *VideoGrant       `json:"video,omitempty"`
	Attributes map[string]string `json:"attributes,omitempty"`
}

// signer signs tokens with the API key pair.
type signer struct {
	key, secret string
	now         func() time.Time
}

func (s signer) sign(identity string, ttl time.Duration, video *VideoGrant, attrs map[string]string) (string, error) {
	if s.key == "" || s.secret == "" {
		return "", errors.New("no LiveKit API key")
	}
	now := s.now()
	claims := Claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer: s.key, Subject: identity,
			IssuedAt: jwt.NewNumericDate(now), NotBefore: jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
		},
		Video: video, Attributes: attrs,
	}
	token, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(s.secret))
	if err != nil {
		return "", fmt.Errorf("signing a LiveKit token: %w", err)
	}
	return token, nil
}

// join signs a participant's token: join this room, publish and subscribe; admin only for
// the host.
func (s signer) join(g Grant, ttl time.Duration) (string, error) {
	if g.Room == "" || g.Identity == "" || g.UserID == "" {
		return "", errors.New("a LiveKit token needs a room, an identity and a user")
	}
	yes, no := true, false
	video := &VideoGrant{
		RoomJoin: true, Room: g.Room, RoomAdmin: g.Host,
		CanPublish: &yes, CanSubscribe: &yes, CanPublishData: &yes, CanUpdateOwnMetadata: &no,
	}
	return s.sign(g.Identity, ttl, video, map[string]string{UserAttribute: g.UserID, RoomAttribute: g.MatrixRoom})
}
