package appservice

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"go.mau.fi/util/random"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"
)

// checkConnection checks, in order, each link the bridge needs and names what to fix:
// the homeserver answers; it accepts the bridge's as_token (so it loaded the registration);
// and it can reach the bridge's URL with the right hs_token.
func (c *Connector) checkConnection(ctx context.Context) error {
	hsURL := c.cfg.Homeserver.Address
	var versions *mautrix.RespVersions
	var err error
	for {
		versions, err = c.bot.Versions(noRetries(ctx))
		if err == nil {
			break
		}
		var httpErr mautrix.HTTPError
		if errors.As(err, &httpErr) && httpErr.Response != nil {
			return fmt.Errorf("%s (homeserver.address) answered /_matrix/client/versions with HTTP %d: is it a Matrix homeserver's client API address?",
				hsURL, httpErr.Response.StatusCode)
		}
		c.log.Warn().Err(err).Str("homeserver", hsURL).Msg("Homeserver not reachable yet, retrying")
		select {
		case <-ctx.Done():
			return fmt.Errorf("cannot reach the homeserver at %s (homeserver.address in %s): %v; check that it runs and that the address is right",
				hsURL, c.cfg.Path, err)
		case <-time.After(time.Second):
		}
	}
	c.AS.SpecVersions = versions

	whoami, err := c.bot.Whoami(noRetries(ctx))
	switch {
	case errors.Is(err, mautrix.MUnknownToken):
		if c.RegistrationChecked {
			return fmt.Errorf("the homeserver at %s does not accept the bridge's as_token: it has not loaded the registration. "+
				"Add the registration file to the homeserver (Synapse: app_service_config_files; Dendrite: app_service_api.config_files; "+
				"Conduit family: the admin room's appservices register command) and restart the homeserver", hsURL)
		}
		return fmt.Errorf("the homeserver at %s does not accept appservice.as_token from %s: either the homeserver has not loaded "+
			"the registration file, or the file it loaded has other tokens. Regenerate with `telehealth-bridge -g`, give the file "+
			"to the homeserver and restart it", hsURL, c.cfg.Path)
	case errors.Is(err, mautrix.MForbidden), errors.Is(err, mautrix.MExclusive):
		return fmt.Errorf("the homeserver refuses the bot %s: appservice.bot.username must match sender_localpart in the registration the homeserver loaded (%v)",
			c.bot.UserID, err)
	case err != nil:
		return fmt.Errorf("checking the as_token with the homeserver at %s: %w", hsURL, err)
	case whoami.UserID != c.bot.UserID:
		return fmt.Errorf("the homeserver says the as_token belongs to %s, not %s: check appservice.bot.username and homeserver.domain", whoami.UserID, c.bot.UserID)
	}

	return c.checkReachable(ctx)
}

// checkReachable proves that the homeserver can reach the bridge. The appservice ping
// (Matrix 1.7) does it directly; where it is missing (Dendrite), the bot looks up an alias in
// the bridge's namespace, which the homeserver must ask the bridge about.
func (c *Connector) checkReachable(ctx context.Context) error {
	url := c.cfg.AppService.Address
	_, err := c.bot.AppservicePing(noRetries(ctx), c.cfg.AppService.ID, c.bot.TxnID())
	if err == nil {
		return nil
	}
	var httpErr mautrix.HTTPError
	unsupported := errors.Is(err, mautrix.MUnrecognized) ||
		(errors.As(err, &httpErr) && httpErr.Response != nil &&
			(httpErr.Response.StatusCode == http.StatusNotFound || httpErr.Response.StatusCode == http.StatusMethodNotAllowed))
	if !unsupported {
		if c.probes.sawWrongToken() {
			return c.wrongHSTokenError()
		}
		return fmt.Errorf("the homeserver cannot reach the bridge at %s (appservice.address, the url in the registration): %v. "+
			"Make appservice.address an address the homeserver can open, and appservice.hostname/port where the bridge listens",
			url, err)
	}

	alias := id.NewRoomAlias(c.cfg.AppService.GhostPrefix+"probe_"+strings.ToLower(random.String(12)), c.cfg.Homeserver.Domain)
	seen := c.probes.expect(alias.String())
	_, _ = c.bot.ResolveAlias(noRetries(ctx), alias) // always "not found"; what counts is whether we were asked
	select {
	case <-seen:
		return nil
	case <-time.After(3 * time.Second):
	case <-ctx.Done():
	}
	if c.probes.sawWrongToken() {
		return c.wrongHSTokenError()
	}
	return fmt.Errorf("the homeserver cannot reach the bridge at %s (appservice.address, the url in the registration): "+
		"nothing arrived from it. Make appservice.address an address the homeserver can open, "+
		"and appservice.hostname/port (now %s) where the bridge listens", url, c.AS.Host.Address())
}

func (c *Connector) wrongHSTokenError() error {
	return fmt.Errorf("the homeserver reached the bridge with another hs_token than appservice.hs_token in %s: "+
		"the registration it loaded is stale. Give it the current registration file and restart it", c.cfg.Path)
}

// probeSet tracks the reachability probe and requests refused for a wrong token.
type probeSet struct {
	mu        sync.Mutex
	waiting   map[string]chan struct{}
	badTokens int
}

func (p *probeSet) expect(alias string) <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.waiting == nil {
		p.waiting = make(map[string]chan struct{})
	}
	ch := make(chan struct{})
	p.waiting[alias] = ch
	return ch
}

func (p *probeSet) seen(alias string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if ch, ok := p.waiting[alias]; ok {
		close(ch)
		delete(p.waiting, alias)
	}
}

func (p *probeSet) wrongToken() {
	p.mu.Lock()
	p.badTokens++
	p.mu.Unlock()
}

func (p *probeSet) sawWrongToken() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.badTokens > 0
}
