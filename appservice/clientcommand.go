package appservice

import (
	"fmt"
	"strings"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
)

// clientMatches is how many records !client lists: enough to pick from, short enough to read.
const clientMatches = 10

// cmdClient finds client records by the start of a name, an email address or a phone number,
// among those the clinician may see (all of them for an admin). One match shows the record and
// the clinician's sessions with the client; several list them to narrow down. It is a private
// command: the answer, names and contacts, goes only to the sender's control room.
func cmdClient(ce *commandEvent) {
	q := strings.TrimSpace(strings.Join(ce.Args, " "))
	if q == "" {
		reply(ce, (&notice{}).text("Whom? Give the start of a name, an email address or a phone number, e.g. ").code("!client Jane"))
		return
	}
	actor := ce.Sender.String()
	found, err := ce.Meta.svc.FindClients(ce.Ctx, actor, q, clientMatches+1)
	if err != nil {
		replyErr(ce, "find the client", err)
		return
	}
	switch len(found) {
	case 0:
		reply(ce, (&notice{}).text("No client of yours matches ").user(q).text("."))
	case 1:
		c, sessions, err := ce.Meta.svc.ShowClient(ce.Ctx, actor, found[0].ID)
		if err != nil {
			replyErr(ce, "show the client", err)
			return
		}
		n := clientLine(&notice{}, c).line()
		if c.Locale != "" {
			n.text(fmt.Sprintf("Language %s · time zone %s · reminders %s", c.Locale, c.TimeZone, c.Reminders)).line()
		}
		if len(c.Professionals) > 0 {
			n.text("Professionals: " + strings.Join(c.Professionals, ", ")).line()
		}
		// The portal is opened, its enrolment sent and closed on the panel's Clients page.
		switch {
		case c.PortalEnabled:
			n.text("Client portal: open").line()
		case c.PortalClosed:
			n.text("Client portal: disabled (enable it on the panel's Clients page)").line()
		default:
			n.text("Client portal: not open (enable it on the panel's Clients page)").line()
		}
		if len(sessions) == 0 {
			n.text("No sessions with you.")
		} else {
			n.text("Sessions, latest first:").line()
		}
		for i, s := range sessions {
			if i == clientMatches {
				n.text(fmt.Sprintf("… and %d earlier", len(sessions)-i)).line()
				break
			}
			n.code(s.ID).text(fmt.Sprintf(" · %s · %s · %s", bridge.FormatTime(s.Start, s.Location()), s.Kind.Label(), s.Status)).line()
		}
		reply(ce, n)
	default:
		_ = ce.Meta.svc.Audit(ce.Ctx, bridge.AuditEntry{Actor: actor, Action: bridge.AuditParticipantDataViewed, Detail: map[string]string{"view": "clients"}})
		n := (&notice{}).text("Clients matching ").user(q).text(":").line()
		for i, c := range found {
			if i == clientMatches {
				n.text("… and more: give more of the name or a contact.")
				break
			}
			clientLine(n, c).line()
		}
		reply(ce, n)
	}
}

// clientLine writes a record's number, names and contacts.
func clientLine(n *notice, c *bridge.Client) *notice {
	n.text(fmt.Sprintf("#%d · ", c.ID)).user(c.DisplayName)
	if c.PreferredName != "" {
		n.text(" (").user(c.PreferredName).text(")")
	}
	for _, e := range c.Emails {
		n.text(" · ").user(e)
	}
	for _, p := range c.Phones {
		n.text(" · " + bridge.ReadablePhone(p))
	}
	return n
}
