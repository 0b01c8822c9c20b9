package bridge

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// The in-call chat is the session room's own thread: a web guest's message is their ghost's
// m.text, and the room's messages from its Matrix members show on the call pages. Nothing of it
// is stored by the bridge (message bodies are health data): the room's timeline on the
// homeserver is the record, read back as the history visibility allows.

// ChatMaxLength is the longest chat message, in characters.
const ChatMaxLength = 2000

// ErrChatText is a chat message that cannot be sent as it is.
var ErrChatText = errors.New("the message cannot be sent")

// Chat message kinds, from Matrix's msgtypes.
const (
	ChatText   = "text"
	ChatEmote  = "emote"
	ChatNotice = "notice"
)

// ChatMessage is one message of a session's chat.
type ChatMessage struct {
	ID string
	// Sender is who wrote it: a Matrix user, a guest's ghost, or, for a message the bot
	// relayed from a call page, the person it spoke for.
	Sender string
	// SenderName is the sender's display name in the room, when known.
	SenderName string
	Kind       string
	Text       string
	At         time.Time
}

// RoomEvent is a session room's event as the chat reads it: a message, or a change of someone's
// membership (which decides what they may read).
type RoomEvent struct {
	Message *ChatMessage
	// Member, Membership and Prev describe a membership change when Message is nil.
	Member, Membership, Prev string
}

// VisibleChat applies the room's history visibility ("joined") to its timeline, newest event
// first: the viewer reads the messages sent while they were a joined member, as their Matrix
// client would. It fails closed: messages count only once the viewer's own join is in the
// timeline read (a homeserver may serve a new join from /messages a moment after the bridge
// heard of it, and meanwhile nothing is shown rather than everything), and going back in time,
// each membership change of theirs says what it was before. all skips the rule (the session's
// clinician). The result is oldest first.
func VisibleChat(newestFirst []RoomEvent, viewer string, all bool) []ChatMessage {
	var out, newest []ChatMessage
	// found: the viewer's latest membership change was met; until then messages wait in newest.
	found, joined := false, false
	for _, e := range newestFirst {
		switch {
		case e.Message != nil && all:
			out = append(out, *e.Message)
		case e.Message != nil && !found:
			newest = append(newest, *e.Message)
		case e.Message != nil:
			if joined {
				out = append(out, *e.Message)
			}
		case e.Member == viewer:
			if !found {
				found = true
				if e.Membership == MemberJoin {
					out = append(out, newest...)
				}
				newest = nil
			}
			joined = e.Prev == MemberJoin
		}
	}
	slices.Reverse(out)
	return out
}

// ValidateChatText checks a message a person typed on a call page: not empty, at most
// ChatMaxLength characters, valid text, and without the characters that hide or reorder text
// (controls other than tabs and line breaks, bidi embeddings, overrides and isolates, line separators): in
// Element they could make a message read as someone else's. Joiners and variation selectors,
// which emoji need, are kept.
func ValidateChatText(text string) (string, error) {
	if !utf8.ValidString(text) {
		return "", fmt.Errorf("%w: it is not valid text (UTF-8)", ErrChatText)
	}
	text = strings.TrimSpace(strings.ReplaceAll(text, "\r\n", "\n"))
	if text == "" {
		return "", fmt.Errorf("%w: it is empty", ErrChatText)
	}
	if n := utf8.RuneCountInString(text); n > ChatMaxLength {
		return "", fmt.Errorf("%w: it has %d characters, at most %d are allowed", ErrChatText, n, ChatMaxLength)
	}
	for _, r := range text {
		switch {
		case r == '\n' || r == '\t', r == '\u200e' || r == '\u200f' || r == '\u061c':
			// Line breaks, tabs, and the directional marks right-to-left writing needs (they
			// reorder nothing beyond the punctuation next to them).
		case unicode.Is(unicode.Cc, r), unicode.In(r, unicode.Zl, unicode.Zp), unicode.Is(unicode.Bidi_Control, r):
			return "", fmt.Errorf("%w: it contains the invisible character U+%04X", ErrChatText, r)
		}
	}
	return text, nil
}
