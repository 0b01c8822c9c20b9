package config

import (
	"regexp"
	"testing"
	"unicode/utf8"
)

func permissionsConfig(domain, bot, prefix string) *Config {
	c := &Config{
		Homeserver: HomeserverConfig{Domain: domain},
		AppService: AppServiceConfig{Bot: BotConfig{Username: bot}, GhostPrefix: prefix},
	}
	c.Permissions = Permissions{domain: LevelClinician, "@admin:" + domain: LevelAdmin}
	return c
}

// Item 1 of the security review: the example's server-wide entry must not make the bot or a
// web-link guest's ghost a clinician, nor may an entry naming them.
func TestServerWideEntrySparesBridgeUsers(t *testing.T) {
	c := permissionsConfig("example.com", "telehealthbot", "telehealth_")
	c.Permissions["@telehealth_guest_abc:example.com"] = LevelAdmin
	c.Permissions["@telehealthbot:example.com"] = LevelAdmin
	for _, user := range []string{"@telehealth_guest_abc:example.com", "@telehealth_guest_xyz:example.com", "@telehealthbot:example.com"} {
		if c.IsClinician(user) || c.IsAdmin(user) || c.Level(user) != LevelNone {
			t.Errorf("%s has level %q", user, c.Level(user))
		}
	}
	if !c.IsClinician("@dr.martin:example.com") || c.IsAdmin("@dr.martin:example.com") {
		t.Error("a clinician of the clinic's server lost their level")
	}
	if !c.IsAdmin("@admin:example.com") || !c.IsClinician("@admin:example.com") {
		t.Error("the admin lost their level")
	}
	if c.IsClinician("@telehealth_guest_abc:other.example") || !c.IsBridgeUser("@telehealth_x:example.com") {
		t.Error("the ghost namespace is not the registration's")
	}
}

// IsBridgeUser is exactly the registration's user namespaces, and a bridge user never has a
// level, whatever permissions says about them.
func FuzzBridgeUsersMatchRegistration(f *testing.F) {
	f.Add("@telehealth_guest_abc:example.com", "example.com", "telehealthbot", "telehealth_")
	f.Add("@telehealthbot:example.com", "example.com", "telehealthbot", "telehealth_")
	f.Add("@telehealth_:example.com", "example.com", "telehealthbot", "telehealth_")
	f.Add("@telehealth_a\n:example.com", "example.com", "telehealthbot", "telehealth_")
	f.Add("@telehealth_guest_abc:example.com:8448", "example.com:8448", "bot", "telehealth_")
	f.Add("@a:a", "a", "a", "a")
	f.Add("@TELEHEALTH_x:example.com", "example.com", "bot", "telehealth_")
	f.Fuzz(func(t *testing.T, user, domain, bot, prefix string) {
		if !utf8.ValidString(domain) || !utf8.ValidString(bot) || !utf8.ValidString(prefix) {
			return // the registration's patterns are text
		}
		c := permissionsConfig(domain, bot, prefix)
		want := false
		for _, ns := range c.Registration().Namespaces.UserIDs {
			want = want || regexp.MustCompile(ns.Regex).MatchString(user)
		}
		if got := c.IsBridgeUser(user); got != want {
			t.Fatalf("IsBridgeUser(%q) = %v, the registration says %v", user, got, want)
		}
		c.Permissions[user] = LevelAdmin
		if want && (c.IsClinician(user) || c.IsAdmin(user)) {
			t.Fatalf("bridge user %q has level %q", user, c.Level(user))
		}
	})
}
