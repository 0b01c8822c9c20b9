package appservice

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"unicode"

	"maunium.net/go/mautrix/event"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
)

// parseCommandLine runs a message through the bot's parser as Process does, without running
// anything: the command word, or nil when the message is not a command.
func parseCommandLine(ctx context.Context, evt *event.Event) *commandEvent {
	proc := newProcessor(nil)
	ce := proc.ParseEvent(ctx, evt)
	if ce == nil || !proc.PreValidator.Validate(ce) {
		return nil
	}
	return ce
}

func textEvent(body, html string) *event.Event {
	content := &event.MessageEventContent{MsgType: event.MsgText, Body: body}
	if html != "" {
		content.Format, content.FormattedBody = event.FormatHTML, html
	}
	return &event.Event{Type: event.EventMessage, Content: event.Content{Parsed: content}}
}

// A message is a command only when its first word starts with "!", and an SMS relayed into a
// room never is, whatever the participant wrote.
func FuzzCommandLine(f *testing.F) {
	for _, seed := range []string{
		"!help", "!schedule 2026-11-24 15:00 Europe/Paris \"J. D.\" sms +33612345678", "  !join abc", "!", "!!",
		"SMS: !login", "", "\u00a0!help", "!HELP", "!admit\tx 1", "hello !login", "\n!login", "!login\u2028x",
		"<b>!login</b>", "<a href=\"https://matrix.to/#/@bot:example.org\">bot</a> !login",
	} {
		f.Add(seed, false)
		f.Add(seed, true)
	}
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, body string, asHTML bool) {
		html := ""
		if asHTML {
			html = body
		}
		if ce := parseCommandLine(ctx, textEvent(body, html)); ce != nil && !asHTML {
			first := strings.Fields(body)
			if len(first) == 0 || !strings.HasPrefix(first[0], "!") {
				t.Fatalf("%q parsed as command %q", body, ce.Command)
			}
			if ce.Command != strings.ToLower(ce.Command) || strings.IndexFunc(ce.Command, unicode.IsSpace) >= 0 {
				t.Fatalf("command word %q", ce.Command)
			}
		}
		if ce := parseCommandLine(ctx, textEvent(relayedText(body), "")); ce != nil {
			t.Fatalf("the relayed SMS %q parsed as command %q", relayedText(body), ce.Command)
		}
	})
}

func FuzzSplitArgs(f *testing.F) {
	for _, seed := range []string{
		`2026-11-24 15:00 Europe/Paris "J. D." email jd@example.org`, `tomorrow 3:00 pm UTC JD sms +33612345678 duration=1h`,
		`a "b`, `pm`, `x =y`, `=y`, `matrix=@a:b`, `"a b"=c`, `a=b=c`, `'`, `\`, `"" ""`, `am am am`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		args, err := splitArgs(raw)
		if err != nil {
			return
		}
		for key := range args.options {
			if key == "" || key != strings.ToLower(key) || strings.ContainsAny(key, " @") {
				t.Fatalf("option key %q from %q", key, raw)
			}
		}
		for i, p := range args.positional {
			if lp := strings.ToLower(p); i > 0 && (lp == "am" || lp == "pm") {
				t.Fatalf("%q left alone as word %d of %q", p, i, raw)
			}
		}
	})
}

// A session state sent by the clinician is one change or a refusal: never two changes, never
// one that the content does not ask for.
func FuzzSessionStateEdit(f *testing.F) {
	current := SessionContent{
		SessionID: "abc123", Clinician: "@dr.martin:example.org", Start: 1795532400000, End: 1795535400000,
		TimeZone: "Europe/Paris", Kind: "video", Status: "scheduled", Policy: "manual",
		LobbyOpens: 1795530600000, LobbyCloses: 1795535400000, Revision: 2,
	}
	base, _ := json.Marshal(current)
	f.Add(base)
	for _, edit := range []func(*SessionContent){
		func(c *SessionContent) { c.Status = "cancelled" },
		func(c *SessionContent) { c.Status = "ended" },
		func(c *SessionContent) { c.Status = "live" },
		func(c *SessionContent) { c.Start += 3600000; c.End += 3600000 },
		func(c *SessionContent) { c.TimeZone = "America/New_York" },
		func(c *SessionContent) { c.Clinician = "@mallory:example.org" },
		func(c *SessionContent) { c.Start, c.End = c.End, c.Start },
	} {
		c := current
		edit(&c)
		data, _ := json.Marshal(c)
		f.Add(data)
	}
	f.Add([]byte(`{"start":"soon"}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		evt := &event.Event{Content: event.Content{VeryRaw: data}}
		var wanted SessionContent
		if rawContent(evt, &wanted) != nil {
			return
		}
		cur := current
		edit, err := classifySessionEdit(&cur, &wanted)
		if cur != current {
			t.Fatal("classifying changed the bridge's version")
		}
		switch {
		case err != nil:
			if edit != editNone {
				t.Fatalf("refused but still asks for %d", edit)
			}
		case edit == editNone:
			if wanted != current {
				t.Fatalf("a different content %+v taken as no change", wanted)
			}
		case edit == editCancel && wanted.Status != string(bridge.StatusCancelled),
			edit == editEnd && wanted.Status != string(bridge.StatusEnded):
			t.Fatalf("edit %d for status %q", edit, wanted.Status)
		case edit == editReschedule && wanted.Start == current.Start && wanted.End == current.End &&
			(wanted.TimeZone == "" || wanted.TimeZone == current.TimeZone):
			t.Fatalf("a reschedule without new times: %+v", wanted)
		}
	})
}

// A command event's content is read without panicking; one that passes names its session
// (schedule aside) and, to schedule or reschedule, carries both times.
func FuzzCommandEvent(f *testing.F) {
	for _, seed := range []string{
		`{"action":"schedule","start":"2026-11-24T14:00:00Z","end":"2026-11-24T14:50:00Z","time_zone":"Europe/Paris","participants":[{"name":"Jane","user_id":"@jane:example.org"}]}`,
		`{"action":"ADMIT","session":"abc123","participant":"1"}`,
		`{"action":"reschedule","session":"abc123","start":"2026-11-24T14:00:00+01:00","end":"x"}`,
		`{"action":"end"}`, `{"action":1}`, `[]`, `{}`, `{"participants":[null]}`, `{"action":"message","session":"a","text":"\u202e"}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		evt := &event.Event{Content: event.Content{VeryRaw: data}}
		var cmd CommandContent
		if rawContent(evt, &cmd) != nil {
			return
		}
		req, err := checkCommand(&cmd)
		if req.action != strings.ToLower(cmd.Action) {
			t.Fatalf("action %q read as %q", cmd.Action, req.action)
		}
		if err != nil {
			return
		}
		if req.action != "schedule" && cmd.Session == "" {
			t.Fatalf("%q passed without a session", req.action)
		}
		if (req.action == "schedule" || req.action == "reschedule") && (req.start.IsZero() || req.end.IsZero()) {
			t.Fatalf("%q passed without its times: %+v", req.action, req)
		}
	})
}
