package appservice_test

import (
	"context"
	"testing"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

// TestOnlyTheClinicianAdmits: an invite to a session room is an admission, so the room's power
// levels keep invite (and kick, ban) to the bot and the session's clinician (docs/security.md,
// "invite to a session room"). A participant let in who invites someone else is refused by
// the homeserver, and that person is not in the room.
func TestOnlyTheClinicianAdmits(t *testing.T) {
	l := newLobby(t, "sqlite")
	client := l.env.User(t, "jane")
	s := l.clientInSession(client)
	ctx := context.Background()
	room := id.RoomID(s.RoomID)
	friend := l.env.User(t, "mallory")
	if _, err := client.InviteUser(ctx, room, &mautrix.ReqInviteUser{UserID: friend.UserID}); err == nil {
		t.Error("a participant invited someone into the session room")
	}
	var m event.MemberEventContent
	if err := l.clinician.StateEvent(ctx, room, event.StateMember, friend.UserID.String(), &m); err == nil && m.Membership == event.MembershipInvite {
		t.Error("someone the clinician did not admit is invited to the session room")
	}
	if _, err := client.KickUser(ctx, room, &mautrix.ReqKickUser{UserID: l.clinician.UserID, Reason: "mine"}); err == nil {
		t.Error("a participant took the clinician out of the session room")
	}
}
