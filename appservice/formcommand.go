package appservice

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
)

// cmdAssignForm assigns a form to a client: `!assign-form <client> <form>`, the client by
// record number (#12) or the start of a name, email or phone that one record of the sender's
// matches, the form by number or the start of its title (PHQ-9, GAD-7 or the clinic's own).
// Either may be several words: each split of the words is tried, and the one split that names
// one client and one form is taken. Who may: the clinicians who may see the client's record
// (and admins). It is a private command: the answer names the client.
func cmdAssignForm(ce *commandEvent) {
	svc := ce.Meta.svc
	actor := ce.Sender.String()
	if len(ce.Args) < 2 {
		reply(ce, (&notice{}).text("Which client and which form? e.g. ").code("!assign-form #12 PHQ-9").text(" or ").code("!assign-form \"Jane Doe\" GAD-7"))
		return
	}
	type match struct {
		client *bridge.Client
		form   *bridge.Form
	}
	var found []match
	var clientErr, formErr error
	for i := 1; i < len(ce.Args); i++ {
		c, err := oneClient(ce.Ctx, svc, actor, strings.Join(ce.Args[:i], " "))
		if err != nil {
			clientErr = err
			continue
		}
		f, err := svc.FindForm(ce.Ctx, actor, strings.Join(ce.Args[i:], " "))
		if err != nil {
			formErr = err
			continue
		}
		found = append(found, match{c, f})
	}
	switch {
	case len(found) > 1:
		reply(ce, (&notice{}).text("That can be read more than one way: put the client's name in quotes, or give their number (").code("!client").text(" shows it)."))
		return
	case len(found) == 0 && formErr != nil:
		var many *bridge.AmbiguousFormError
		if errors.As(formErr, &many) {
			n := (&notice{}).text("Several forms match; give one's number:").line()
			for _, f := range many.Matches {
				n.text(fmt.Sprintf("#%d · ", f.ID)).user(f.Definition.Title.In("en")).line()
			}
			reply(ce, n)
		} else {
			replyErr(ce, "find the form", formErr)
		}
		return
	case len(found) == 0:
		replyErr(ce, "find the client", clientErr)
		return
	}
	m := found[0]
	a, f, err := svc.AssignForm(ce.Ctx, actor, m.client.ID, m.form.ID)
	if err != nil {
		replyErr(ce, "assign the form", err)
		return
	}
	reply(ce, (&notice{}).text("Assigned ").user(f.Definition.Title.In("en")).text(fmt.Sprintf(" (version %d) to #%d · ", f.Version, m.client.ID)).
		user(m.client.DisplayName).text(fmt.Sprintf(": it is on their portal's to-do list (assignment %d).", a.ID)))
}

// errNoOneClient is oneClient's refusal, with what to do.
type errNoOneClient struct{ msg string }

func (e *errNoOneClient) Error() string { return e.msg }

// oneClient is the one record the actor may see that ref names: a number (#12 or 12), or the
// start of a name, email or phone that only one of theirs matches.
func oneClient(ctx context.Context, svc *bridge.Service, actor, ref string) (*bridge.Client, error) {
	ref = strings.TrimSpace(ref)
	if id, err := strconv.ParseInt(strings.TrimPrefix(ref, "#"), 10, 64); err == nil && (strings.HasPrefix(ref, "#") || !strings.HasPrefix(ref, "+")) {
		c, err := svc.Client(ctx, actor, id)
		if errors.Is(err, bridge.ErrClientNotFound) {
			return nil, &errNoOneClient{fmt.Sprintf("no client of yours is number %d", id)}
		}
		return c, err
	}
	list, err := svc.FindClients(ctx, actor, ref, 2)
	if err != nil {
		return nil, err
	}
	switch len(list) {
	case 0:
		return nil, &errNoOneClient{"no client of yours matches " + strconv.Quote(ref)}
	case 1:
		return list[0], nil
	}
	return nil, &errNoOneClient{"several of your clients match " + strconv.Quote(ref) + "; send !client to find their number"}
}
