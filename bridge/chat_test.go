package bridge_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
)

func TestVisibleChatFollowsTheViewersMembership(t *testing.T) {
	msg := func(text string) bridge.RoomEvent {
		return bridge.RoomEvent{Message: &bridge.ChatMessage{ID: text, Text: text}}
	}
	member := func(who, membership, prev string) bridge.RoomEvent {
		return bridge.RoomEvent{Member: who, Membership: membership, Prev: prev}
	}
	// Oldest first, then reversed as the homeserver gives it (newest first).
	timeline := []bridge.RoomEvent{
		msg("before"), member("@g", "knock", "leave"), msg("while waiting"), member("@g", "invite", "knock"),
		member("@g", "join", "invite"), msg("first stay"), member("@other", "join", "invite"), msg("still in"),
		member("@g", "leave", "join"), msg("sent back"), member("@g", "invite", "leave"), member("@g", "join", "invite"),
		msg("back in"),
	}
	newestFirst := make([]bridge.RoomEvent, len(timeline))
	for i, e := range timeline {
		newestFirst[len(timeline)-1-i] = e
	}
	texts := func(ms []bridge.ChatMessage) string {
		var out []string
		for _, m := range ms {
			out = append(out, m.Text)
		}
		return strings.Join(out, ",")
	}
	if got := texts(bridge.VisibleChat(newestFirst, "@g", false)); got != "first stay,still in,back in" {
		t.Errorf("the guest reads %q", got)
	}
	if got := texts(bridge.VisibleChat(newestFirst, "@other", false)); got != "still in,sent back,back in" {
		t.Errorf("the other member reads %q", got)
	}
	if got := texts(bridge.VisibleChat(newestFirst, "@dr", true)); got != "before,while waiting,first stay,still in,sent back,back in" {
		t.Errorf("the clinician reads %q", got)
	}
}

func TestValidateChatText(t *testing.T) {
	for text, want := range map[string]string{
		"  hello\r\nthere  ":         "hello\nthere",
		"famille 👨‍👩‍👧 ok":           "famille 👨‍👩‍👧 ok",
		"שלום \u200f(1)":             "שלום \u200f(1)",
		`<b>x</b> & "y" https://a.b`: `<b>x</b> & "y" https://a.b`,
	} {
		if got, err := bridge.ValidateChatText(text); err != nil || got != want {
			t.Errorf("%q: %q %v", text, got, err)
		}
	}
	for _, text := range []string{"", " \n ", strings.Repeat("é", bridge.ChatMaxLength+1), "a\u202eb", "a\u2066b", "a\x1bb", "a\u2028b", "\xff"} {
		if _, err := bridge.ValidateChatText(text); !errors.Is(err, bridge.ErrChatText) {
			t.Errorf("%q was accepted", text)
		}
	}
	if _, err := bridge.ValidateChatText(strings.Repeat("é", bridge.ChatMaxLength)); err != nil {
		t.Errorf("a message of the largest size: %v", err)
	}
}
