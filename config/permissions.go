package config

import "strings"

// Level returns what a user may do: their own entry in permissions, else their server's.
// The bridge's own users (the bot and the guests' ghosts) have no level whatever permissions
// says: they live on the clinic's domain, so a server-wide entry would otherwise make every
// web-link guest a clinician.
func (c *Config) Level(userID string) Level {
	if c.IsBridgeUser(userID) {
		return LevelNone
	}
	if lvl, ok := c.Permissions[userID]; ok {
		return lvl
	}
	if i := strings.IndexByte(userID, ':'); i >= 0 {
		return c.Permissions[userID[i+1:]]
	}
	return LevelNone
}

// IsClinician reports whether the user may schedule and run sessions.
func (c *Config) IsClinician(userID string) bool {
	lvl := c.Level(userID)
	return lvl == LevelClinician || lvl == LevelAdmin
}

// IsAdmin reports whether the user may act on every clinician's sessions.
func (c *Config) IsAdmin(userID string) bool { return c.Level(userID) == LevelAdmin }

// IsBridgeUser reports whether a user ID is in the bridge's registration: the bot, or any ID
// of the ghost namespace (@<ghost_prefix>…:<domain>), which only the bridge can create. It
// matches exactly the namespaces of Registration.
func (c *Config) IsBridgeUser(userID string) bool {
	suffix := ":" + c.Homeserver.Domain
	if userID == "@"+c.AppService.Bot.Username+suffix {
		return true
	}
	prefix := "@" + c.AppService.GhostPrefix
	if !strings.HasPrefix(userID, prefix) || !strings.HasSuffix(userID, suffix) || len(userID) <= len(prefix)+len(suffix) {
		return false
	}
	// The namespace's ".+" matches any character but a newline.
	return !strings.Contains(userID[len(prefix):len(userID)-len(suffix)], "\n")
}
