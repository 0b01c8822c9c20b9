package bridge_test

import (
	"errors"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

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
	// Fail closed: someone whose join is not in the timeline (not served yet, or never) reads
	// nothing; neither does someone whose latest change is a leave.
	if got := texts(bridge.VisibleChat(newestFirst, "@stranger", false)); got != "" {
		t.Errorf("someone without a join reads %q", got)
	}
	notYet := newestFirst[2:] // the guest's latest join not served yet: only their first stay shows
	if got := texts(bridge.VisibleChat(append([]bridge.RoomEvent{msg("new")}, notYet...), "@g", false)); got != "first stay,still in" {
		t.Errorf("before their join is served, the guest reads %q", got)
	}
	left := append([]bridge.RoomEvent{msg("after leaving"), member("@g", "leave", "join")}, newestFirst...)
	if got := texts(bridge.VisibleChat(left, "@g", false)); got != "first stay,still in,back in" {
		t.Errorf("after leaving, the guest reads %q", got)
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

// Whatever is typed, an accepted message is valid text of at most ChatMaxLength characters,
// not blank, and without a character that reorders or hides text.
func FuzzValidateChatText(f *testing.F) {
	for _, seed := range []string{"hello", " \n", "a\u202eb", "👨‍👩‍👧", "\xff", "x\r\ny", strings.Repeat("é", bridge.ChatMaxLength)} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, text string) {
		got, err := bridge.ValidateChatText(text)
		if err != nil {
			return
		}
		if !utf8.ValidString(got) || strings.TrimSpace(got) == "" || utf8.RuneCountInString(got) > bridge.ChatMaxLength {
			t.Fatalf("accepted %q", got)
		}
		for _, r := range got {
			if (unicode.Is(unicode.Bidi_Control, r) && r != '\u200e' && r != '\u200f' && r != '\u061c') ||
				(unicode.Is(unicode.Cc, r) && r != '\n' && r != '\t') {
				t.Fatalf("accepted %q with U+%04X", got, r)
			}
		}
	})
}
