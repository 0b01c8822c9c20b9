package appservice_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"

	"github.com/telehealth-bridge/telehealth-bridge/appservice"
	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"github.com/telehealth-bridge/telehealth-bridge/internal/bridgetest"
)

// TestNoticeShowsNamesAsText: names people give themselves reach the clinician's control room
// as text. Markup in a name shows as typed, never as bold or as a link; a right-to-left
// override cannot reverse the rest of the notice (the "— !admit …" after the name) or make
// the name read as something else; a line break cannot start a fake line of the notice.
func TestNoticeShowsNamesAsText(t *testing.T) {
	const (
		fsi = "\u2068" // FIRST STRONG ISOLATE
		pdi = "\u2069" // POP DIRECTIONAL ISOLATE
	)
	// Each is booked as "Guest <n>" and knocks with the name. Names with directional controls
	// are refused at the door (bridge.ValidateName), so the booked name shows; the notice's own
	// stripping is a second line, tested on its own in TestNoticeUserDropsDirectionalControls.
	names := []struct{ name, shown string }{
		{"<b>Dr</b> House", "<b>Dr</b> House"},
		{`<a href="https://evil.example/">Open your results</a>`, `<a href="https://evil.example/">Open your results</a>`},
		// Shown as "Janeexe.pdf" with the override: the file-name trick.
		{"Jane\u202Efdp.exe", "Guest 3"},
		{"\u2067Bob\u2069\u202B !deny", "Guest 4"},
		{"Ann\n9 · Dr Who — !admit abc 9", "Ann 9 · Dr Who — !admit abc 9"},
		{"مريم 42", "مريم 42"},
	}
	l := newLobby(t, "sqlite")
	var clients []*mautrix.Client
	req := bridge.ScheduleRequest{
		Clinician: l.clinician.UserID.String(), Start: time.Date(2026, 11, 24, 14, 0, 0, 0, time.UTC),
		End: time.Date(2026, 11, 24, 14, 50, 0, 0, time.UTC), TimeZone: "Europe/Paris", Policy: bridge.PolicyManual,
	}
	for i := range names {
		c := l.env.User(t, fmt.Sprintf("guest%d", i))
		clients = append(clients, c)
		req.Participants = append(req.Participants, bridge.ParticipantRequest{Name: fmt.Sprintf("Guest %d", i+1), MatrixID: c.UserID.String()})
	}
	s, err := l.env.App.Sessions.Schedule(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if _, err = l.clinician.JoinRoomByID(context.Background(), id.RoomID(s.RoomID)); err != nil {
		t.Fatal(err)
	}
	l.openWindow(s)
	for i, c := range clients {
		if err := knock(t, c, s.RoomID, names[i].name); err != nil {
			t.Fatalf("knock as %q: %v", names[i].name, err)
		}
	}
	for i := range clients {
		l.waitState(s, i+1, bridge.StateWaiting)
	}
	// The knocks after the first are gathered into one notice at the end of the interval.
	l.clock.Advance(appservice.NoticeInterval)
	want := fmt.Sprintf("%d people are waiting for session %s", len(names), s.ID)
	msg := bridgetest.WaitMessage(t, l.clinician, l.control, wait, "the notice naming everyone",
		bridgetest.IsNoticeFrom(l.bot(), want)).Content.AsMessage()

	// The plain body, as a client without HTML shows it: one line per person, each name
	// isolated from the text around it, with no directional control of its own.
	lines := strings.Split(msg.Body, "\n")
	if len(lines) != len(names)+3 {
		t.Errorf("the notice has %d lines, want %d (a name started a line of its own):\n%s", len(lines), len(names)+3, msg.Body)
	}
	for i, n := range names {
		line := fmt.Sprintf("%d · %s%s%s — !admit %s %d", i+1, fsi, n.shown, pdi, s.ID, i+1)
		if !strings.Contains(msg.Body, line) {
			t.Errorf("the plain notice has no line %q:\n%q", line, msg.Body)
		}
	}

	// The HTML, as Element shows it: no element but the bridge's own, every name as text.
	doc, err := html.Parse(strings.NewReader(msg.FormattedBody))
	if err != nil {
		t.Fatal(err)
	}
	var bold []string
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			switch n.Data {
			case "html", "head", "body", "br", "code":
			case "b":
				var text strings.Builder
				for c := n.FirstChild; c != nil; c = c.NextSibling {
					if c.Type != html.TextNode {
						t.Errorf("markup inside a name: <%s> in %s", c.Data, msg.FormattedBody)
						continue
					}
					text.WriteString(c.Data)
				}
				bold = append(bold, text.String())
				return
			default:
				t.Errorf("element <%s> in the notice: %s", n.Data, msg.FormattedBody)
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	if len(bold) != len(names) {
		t.Errorf("%d names in bold, want %d: %s", len(bold), len(names), msg.FormattedBody)
	}
	for i, n := range names {
		if i < len(bold) && bold[i] != fsi+n.shown+pdi {
			t.Errorf("name %d shows as %q, want %q", i+1, bold[i], fsi+n.shown+pdi)
		}
	}
	for _, r := range "\u202A\u202B\u202C\u202D\u202E\u2066\u2067" {
		if strings.ContainsRune(msg.Body+msg.FormattedBody, r) {
			t.Errorf("the notice holds the directional control %U", r)
		}
	}
}
