package config

import (
	"fmt"
	"os"
	"regexp"

	"go.mau.fi/util/random"
	"gopkg.in/yaml.v3"
	"maunium.net/go/mautrix/appservice"
)

// Registration builds the homeserver's registration from the config: the bot, the guests'
// ghost namespace and the alias namespace used for the start-up reachability check.
func (c *Config) Registration() *appservice.Registration {
	domain := regexp.QuoteMeta(c.Homeserver.Domain)
	reg := &appservice.Registration{
		ID:              c.AppService.ID,
		URL:             c.AppService.Address,
		AppToken:        c.AppService.ASToken,
		ServerToken:     c.AppService.HSToken,
		SenderLocalpart: c.AppService.Bot.Username,
		RateLimited:     new(bool),
	}
	reg.Namespaces.UserIDs = appservice.NamespaceList{
		{Regex: fmt.Sprintf("^@%s:%s$", regexp.QuoteMeta(c.AppService.Bot.Username), domain), Exclusive: true},
		{Regex: fmt.Sprintf("^@%s.+:%s$", regexp.QuoteMeta(c.AppService.GhostPrefix), domain), Exclusive: true},
	}
	reg.Namespaces.RoomAliases = appservice.NamespaceList{
		{Regex: fmt.Sprintf("^#%s.+:%s$", regexp.QuoteMeta(c.AppService.GhostPrefix), domain), Exclusive: true},
	}
	return reg
}

// GenerateRegistration makes fresh tokens, writes them into the config file (keeping its
// comments) and returns the registration to save for the homeserver.
func (c *Config) GenerateRegistration() (*appservice.Registration, error) {
	c.AppService.ASToken = random.String(64)
	c.AppService.HSToken = random.String(64)
	data, err := os.ReadFile(c.Path)
	if err != nil {
		return nil, fmt.Errorf("reading %s to store the tokens: %w", c.Path, err)
	}
	var doc yaml.Node
	if err = yaml.Unmarshal(data, &doc); err != nil || len(doc.Content) == 0 {
		return nil, fmt.Errorf("parsing %s to store the tokens: %w", c.Path, err)
	}
	setScalar(doc.Content[0], []string{"appservice", "as_token"}, c.AppService.ASToken)
	setScalar(doc.Content[0], []string{"appservice", "hs_token"}, c.AppService.HSToken)
	out, err := marshal(&doc)
	if err != nil {
		return nil, err
	}
	if err = writeFileAtomic(c.Path, out, configMode(c.Path)); err != nil {
		return nil, fmt.Errorf("writing the tokens into %s: %w", c.Path, err)
	}
	return c.Registration(), nil
}

// SaveRegistration writes the registration for the homeserver. It holds both tokens, so the file
// is 0600 whatever an older file at path allowed (the committed template is 0644).
func SaveRegistration(reg *appservice.Registration, path string) error {
	data, err := yaml.Marshal(reg)
	if err != nil {
		return fmt.Errorf("encoding the registration: %w", err)
	}
	if err = writeFileAtomic(path, data, 0o600); err != nil {
		return fmt.Errorf("writing the registration to %s: %w", path, err)
	}
	return nil
}

// CheckRegistration compares a registration file with the config, so that a stale file is
// caught before the homeserver refuses the bridge with a less helpful error.
func (c *Config) CheckRegistration(path string) error {
	reg, err := appservice.LoadRegistration(path)
	if os.IsNotExist(err) {
		return nil // the registration may live only on the homeserver's machine
	} else if err != nil {
		return fmt.Errorf("reading registration %s: %w", path, err)
	}
	switch {
	case reg.AppToken == Placeholder || reg.ServerToken == Placeholder:
		return fmt.Errorf("%s is the template with placeholder tokens: run `telehealth-bridge -c %s -g -r %s` "+
			"and load the generated file into the homeserver", path, c.Path, path)
	case reg.AppToken != c.AppService.ASToken || reg.ServerToken != c.AppService.HSToken:
		return fmt.Errorf("the tokens in %s differ from appservice.as_token/hs_token in %s: "+
			"regenerate with -g, load the new registration into the homeserver and restart it", path, c.Path)
	case reg.ID != c.AppService.ID:
		return fmt.Errorf("%s has id %q but appservice.id in %s is %q", path, reg.ID, c.Path, c.AppService.ID)
	case reg.URL != c.AppService.Address:
		return fmt.Errorf("%s has url %q but appservice.address in %s is %q: regenerate with -g", path, reg.URL, c.Path, c.AppService.Address)
	}
	return nil
}
