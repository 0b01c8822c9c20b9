// Package config loads telehealth-bridge's YAML configuration: it checks the user's file for
// unknown and missing keys (naming the key and the file), upgrades it into the embedded example so
// that new keys and comments arrive, applies environment overrides and validates the values.
package config

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.mau.fi/zeroconfig"
)

// e164 is an international phone number as Twilio takes it.
var e164 = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)

// Placeholder is the token value of the example config and the registration template.
// The bridge refuses to start while a token still has it.
const Placeholder = "This value is generated when generating the registration"

// Config is the whole configuration.
type Config struct {
	Homeserver  HomeserverConfig  `yaml:"homeserver"`
	AppService  AppServiceConfig  `yaml:"appservice"`
	Database    DatabaseConfig    `yaml:"database"`
	Web         WebConfig         `yaml:"web"`
	Lobby       LobbyConfig       `yaml:"lobby"`
	Media       MediaConfig       `yaml:"media"`
	Notify      NotifyConfig      `yaml:"notifications"`
	Telephone   TelephoneConfig   `yaml:"telephone"`
	Portal      PortalConfig      `yaml:"portal"`
	Payments    PaymentsConfig    `yaml:"payments"`
	Documents   DocumentsConfig   `yaml:"documents"`
	Metrics     MetricsConfig     `yaml:"metrics"`
	Permissions Permissions       `yaml:"permissions"`
	Logging     zeroconfig.Config `yaml:"logging"`

	// Path is the file the config was loaded from (not a YAML key).
	Path string `yaml:"-"`
}

// HomeserverConfig says where the clinic's homeserver is.
type HomeserverConfig struct {
	Address string `yaml:"address"`
	Domain  string `yaml:"domain"`
}

// AppServiceConfig says how the homeserver reaches the bridge and who the bridge is on Matrix.
type AppServiceConfig struct {
	Address     string    `yaml:"address"`
	Hostname    string    `yaml:"hostname"`
	Port        uint16    `yaml:"port"`
	ID          string    `yaml:"id"`
	Bot         BotConfig `yaml:"bot"`
	GhostPrefix string    `yaml:"ghost_prefix"`
	ASToken     string    `yaml:"as_token"`
	HSToken     string    `yaml:"hs_token"`
}

// BotConfig is the bot's identity.
type BotConfig struct {
	Username    string `yaml:"username"`
	Displayname string `yaml:"displayname"`
	Avatar      string `yaml:"avatar"`
}

// DatabaseConfig selects and sizes the database.
type DatabaseConfig struct {
	Type         string `yaml:"type"`
	URI          string `yaml:"uri"`
	MaxOpenConns int    `yaml:"max_open_conns"`
	MaxIdleConns int    `yaml:"max_idle_conns"`
}

// WebConfig is the public web server.
type WebConfig struct {
	PublicURL  string        `yaml:"public_url"`
	Hostname   string        `yaml:"hostname"`
	Port       uint16        `yaml:"port"`
	SigningKey string        `yaml:"signing_key"`
	LinkGrace  time.Duration `yaml:"link_grace"`
	PanelIdle  time.Duration `yaml:"panel_idle"`
	// TrustedProxies are the reverse proxies (addresses or CIDR ranges) whose X-Forwarded-For
	// the rate limits believe.
	TrustedProxies []string `yaml:"trusted_proxies"`
	// ElementOrigins are the Matrix clients' origins that may show the call page as a widget.
	ElementOrigins []string `yaml:"element_origins"`
}

// TrustedProxyPrefixes is web.trusted_proxies as address ranges (validated on load).
func (w WebConfig) TrustedProxyPrefixes() []netip.Prefix {
	var out []netip.Prefix
	for _, s := range w.TrustedProxies {
		if p, ok := parseProxy(s); ok {
			out = append(out, p)
		}
	}
	return out
}

// parseProxy reads a CIDR range or a single address.
func parseProxy(s string) (netip.Prefix, bool) {
	if p, err := netip.ParsePrefix(s); err == nil {
		return p.Masked(), true
	}
	if a, err := netip.ParseAddr(s); err == nil {
		return netip.PrefixFrom(a, a.BitLen()), true
	}
	return netip.Prefix{}, false
}

// MediaConfig is the SFU's configuration (see media.Config, which it fills).
type MediaConfig struct {
	// Backend is the SFU calls go through: "embedded" (the bridge's own) or "livekit".
	Backend string `yaml:"backend"`
	// LiveKit is the LiveKit server of the "livekit" backend.
	LiveKit LiveKitConfig `yaml:"livekit"`

	ListenIP         string        `yaml:"listen_ip"`
	UDPPort          int           `yaml:"udp_port"`
	PublicIP         string        `yaml:"public_ip"`
	CredentialTTL    time.Duration `yaml:"credential_ttl"`
	CredentialSecret string        `yaml:"credential_secret"`
	TURN             TURNConfig    `yaml:"turn"`

	// Signalling bounds each call connection (media.SignallingConfig).
	Signalling SignallingConfig `yaml:"signalling"`
}

// Media backends (media.backend).
const (
	MediaEmbedded = "embedded"
	MediaLiveKit  = "livekit"
)

// LiveKitConfig is the LiveKit server the bridge issues access tokens for.
type LiveKitConfig struct {
	// URL is where clients connect (wss://…); the bridge calls its API at the same host.
	URL       string `yaml:"url"`
	APIKey    string `yaml:"api_key"`
	APISecret string `yaml:"api_secret"`
}

// SignallingConfig bounds what one call connection may ask of the SFU.
type SignallingConfig struct {
	AnswerTimeout time.Duration `yaml:"answer_timeout"`
	MessageRate   int           `yaml:"message_rate"`
}

// TURNConfig is the embedded TURN server's configuration.
type TURNConfig struct {
	Enabled  bool          `yaml:"enabled"`
	ListenIP string        `yaml:"listen_ip"`
	PublicIP string        `yaml:"public_ip"`
	UDPPort  int           `yaml:"udp_port"`
	TCPPort  int           `yaml:"tcp_port"`
	Realm    string        `yaml:"realm"`
	Secret   string        `yaml:"secret"`
	TTL      time.Duration `yaml:"ttl"`

	// SessionGrace is how long after a session's lobby closes its TURN credentials still work.
	SessionGrace time.Duration `yaml:"session_grace"`
}

// LobbyConfig sets the sessions' join window.
type LobbyConfig struct {
	OpensBefore time.Duration `yaml:"opens_before"`
	ClosesAfter time.Duration `yaml:"closes_after"`
}

// NotifyConfig is the clinic's notification policy and its SMS and email providers.
type NotifyConfig struct {
	ClinicName       string        `yaml:"clinic_name"`
	ClinicPhone      string        `yaml:"clinic_phone"`
	ClinicTimeZone   string        `yaml:"clinic_time_zone"`
	Confirmation     bool          `yaml:"confirmation"`
	ReminderBefore   time.Duration `yaml:"reminder_before"`
	PhoneIntroBefore time.Duration `yaml:"phone_intro_before"`
	Poll             time.Duration `yaml:"poll"`
	SMS              SMSConfig     `yaml:"sms"`
	Email            EmailConfig   `yaml:"email"`
}

// SMSConfig is the Twilio account that sends SMS.
type SMSConfig struct {
	AccountSID          string  `yaml:"account_sid"`
	AuthToken           string  `yaml:"auth_token"`
	From                string  `yaml:"from"`
	MessagingServiceSID string  `yaml:"messaging_service_sid"`
	APIURL              string  `yaml:"api_url"`
	PerSecond           float64 `yaml:"per_second"`
	StatusCallback      bool    `yaml:"status_callback"`
}

// PortalConfig is the client portal's part of the config: how long a sign-in lasts, and
// whether a first booking opens the portal, what clients may change in their sessions, and
// whether people may sign up by themselves.
type PortalConfig struct {
	Idle   time.Duration `yaml:"idle"`
	MaxAge time.Duration `yaml:"max_age"`
	// EnrolOnFirstBooking: booking a client whose record has an email or phone and no portal
	// yet opens their portal and sends them the enrolment (default false: a clinician does it
	// from the record).
	EnrolOnFirstBooking bool `yaml:"enrol_on_first_booking"`
	// ClientCancel lets clients cancel or ask to move their sessions from the portal, until
	// CancelNotice before the start (then the portal says to call the clinic).
	ClientCancel bool          `yaml:"client_cancel"`
	CancelNotice time.Duration `yaml:"cancel_notice"`
	// MessageNoticeAfter is how long a professional's message may stay unread in the client's
	// Messages thread before the client is told, by their reminder channel, that they have a
	// new message (no content, no names); 0 sends no such notice.
	MessageNoticeAfter time.Duration `yaml:"message_notice_after"`
	// SignUp opens the public sign-up page (/portal/signup): who signs up is a prospect until a
	// clinician links them to a client record.
	SignUp bool `yaml:"signup"`
}

// PaymentsConfig is payment before the session: the provider clients pay through, whether an
// unpaid client may be admitted, and what a cancellation refunds.
type PaymentsConfig struct {
	// Provider is "none" (payments are only marked paid by a command event or the panel) or
	// "stripe" (Stripe Checkout).
	Provider string       `yaml:"provider"`
	Stripe   StripeConfig `yaml:"stripe"`
	// BlockAdmission refuses to admit a participant whose payment is due (default: the
	// clinician is asked to confirm).
	BlockAdmission bool `yaml:"block_admission"`
	// Refund is the policy on cancellation: "full", "none" or "before:<duration>" (a full
	// refund when cancelled at least that long before the start).
	Refund string `yaml:"refund"`
}

// StripeConfig is the clinic's Stripe account. The keys are secrets: never logged.
type StripeConfig struct {
	SecretKey     string `yaml:"secret_key"`
	WebhookSecret string `yaml:"webhook_secret"`
	// APIURL replaces https://api.stripe.com (tests point it at a loopback server).
	APIURL string `yaml:"api_url"`
}

// RefundBefore parses the refund policy: always (full), never (none), or only when cancelled
// at least the returned duration before the start.
func (p PaymentsConfig) RefundBefore() (always, never bool, before time.Duration, err error) {
	switch {
	case p.Refund == "full":
		return true, false, 0, nil
	case p.Refund == "none" || p.Refund == "":
		return false, true, 0, nil
	case strings.HasPrefix(p.Refund, "before:"):
		d, err := time.ParseDuration(strings.TrimPrefix(p.Refund, "before:"))
		if err != nil || d <= 0 {
			return false, false, 0, fmt.Errorf("%q is not full, none or before:<duration> such as before:24h", p.Refund)
		}
		return false, false, d, nil
	}
	return false, false, 0, fmt.Errorf("%q is not full, none or before:<duration> such as before:24h", p.Refund)
}

// DefaultDocumentMaxSize is documents.max_size when the config leaves it out: 20 MB.
const DefaultDocumentMaxSize = 20 << 20

// DocumentsConfig is the documents shared with clients and the clinic's templates.
type DocumentsConfig struct {
	// MaxSize is the largest file, in bytes, that the panel uploads, that the bridge indexes
	// from a Messages room and that the portal serves.
	MaxSize int64 `yaml:"max_size"`
}

// MetricsConfig is the Prometheus metrics listener.
type MetricsConfig struct {
	Enabled bool   `yaml:"enabled"`
	Listen  string `yaml:"listen"`
}

// TelephoneConfig is how the bridge places telephone sessions' calls through Twilio Voice,
// with the Twilio account of notifications.sms and notifications.clinic_phone as caller ID.
type TelephoneConfig struct {
	// Clinicians maps a clinician's user ID to their own phone (E.164), which the bridge rings
	// first; a clinician who is not listed cannot place calls from the bridge.
	Clinicians map[string]string `yaml:"clinicians"`
	// RingTimeout is how long a phone rings before the attempt counts as not answered.
	RingTimeout time.Duration `yaml:"ring_timeout"`
	// Language is what the clinician hears on their phone before the client is called: en or fr.
	Language string `yaml:"language"`
}

// TelephoneProblems says why the bridge cannot place telephone sessions' calls, or nothing
// when it can. It is not an error: a clinic without it dials its clients itself.
func (c *Config) TelephoneProblems() []string {
	var out []string
	if c.Notify.SMS.AccountSID == "" {
		out = append(out, "no Twilio account (notifications.sms.account_sid is empty)")
	}
	if c.Notify.ClinicPhone == "" {
		out = append(out, "no caller ID (notifications.clinic_phone is empty; the introduction SMS goes without a number)")
	}
	if len(c.Telephone.Clinicians) == 0 {
		out = append(out, "no clinician's own phone (telephone.clinicians is empty)")
	}
	return out
}

// EmailConfig is the SMTP server that sends email.
type EmailConfig struct {
	Host     string `yaml:"host"`
	Port     int    `yaml:"port"`
	Username string `yaml:"username"`
	Password string `yaml:"password"`
	From     string `yaml:"from"`
	TLS      string `yaml:"tls"`
}

// Level is what a Matrix user may do with the bridge.
type Level string

const (
	LevelNone      Level = ""
	LevelClinician Level = "clinician"
	LevelAdmin     Level = "admin"
)

// Permissions maps a user ID or a server name to a level.
type Permissions map[string]Level

// validate checks the values once the keys are known to be there. Each error names the key.
func (c *Config) validate() error {
	var errs []string
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Sprintf("%s: %s", key, fmt.Sprintf(format, args...)))
	}
	checkURL := func(key, value string) {
		u, err := url.Parse(value)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad(key, "%q is not an http(s) URL", value)
		}
	}
	checkURL("homeserver.address", c.Homeserver.Address)
	if c.Homeserver.Domain == "" || strings.ContainsAny(c.Homeserver.Domain, "/@ ") {
		bad("homeserver.domain", "%q is not a server name (the part after the colon in user IDs)", c.Homeserver.Domain)
	}
	checkURL("appservice.address", c.AppService.Address)
	if c.AppService.Port == 0 {
		bad("appservice.port", "must be a port number from 1 to 65535")
	}
	if c.AppService.ID == "" {
		bad("appservice.id", "must not be empty")
	}
	if !validLocalpart(c.AppService.Bot.Username) {
		bad("appservice.bot.username", "%q is not a valid user ID localpart (a-z, 0-9, ._=-/)", c.AppService.Bot.Username)
	}
	if !validLocalpart(c.AppService.GhostPrefix) {
		bad("appservice.ghost_prefix", "%q is not a valid user ID localpart prefix", c.AppService.GhostPrefix)
	} else if strings.HasPrefix(c.AppService.Bot.Username, c.AppService.GhostPrefix) {
		bad("appservice.ghost_prefix", "%q must not be a prefix of the bot's username", c.AppService.GhostPrefix)
	}
	switch c.Database.Type {
	case "sqlite", "pgx":
	case "postgres", "postgresql":
		c.Database.Type = "pgx"
	default:
		bad("database.type", "%q is not sqlite or pgx", c.Database.Type)
	}
	if c.Database.URI == "" {
		bad("database.uri", "must not be empty")
	}
	checkURL("web.public_url", c.Web.PublicURL)
	c.Web.PublicURL = strings.TrimRight(c.Web.PublicURL, "/")
	if c.Web.Port == 0 {
		bad("web.port", "must be a port number from 1 to 65535")
	}
	if len(c.Web.SigningKey) < 32 {
		bad("web.signing_key", "must be at least 32 characters (or \"generate\")")
	}
	if c.Web.LinkGrace < 0 || c.Web.LinkGrace > 30*24*time.Hour {
		bad("web.link_grace", "%s is not between 0 and 30 days", c.Web.LinkGrace)
	}
	for _, p := range c.Web.TrustedProxies {
		if _, ok := parseProxy(p); !ok {
			bad("web.trusted_proxies", "%q is not an address or a CIDR range such as 127.0.0.1/32", p)
		}
	}
	for _, o := range c.Web.ElementOrigins {
		if u, err := url.Parse(o); err != nil || u.Scheme == "" || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" ||
			strings.ContainsAny(o, " ;,'*") {
			bad("web.element_origins", "%q is not an origin such as https://app.element.io", o)
		}
	}
	if c.Web.PanelIdle < time.Minute || c.Web.PanelIdle > 24*time.Hour {
		bad("web.panel_idle", "%s is not between 1m and 24h", c.Web.PanelIdle)
	}
	if c.Portal.Idle < time.Minute || c.Portal.Idle > 24*time.Hour {
		bad("portal.idle", "%s is not between 1m and 24h", c.Portal.Idle)
	}
	if c.Portal.MaxAge < c.Portal.Idle || c.Portal.MaxAge > 30*24*time.Hour {
		bad("portal.max_age", "%s is not between portal.idle and 720h", c.Portal.MaxAge)
	}
	if c.Portal.CancelNotice < 0 || c.Portal.CancelNotice > 30*24*time.Hour {
		bad("portal.cancel_notice", "%s is not between 0s and 720h", c.Portal.CancelNotice)
	}
	if c.Documents.MaxSize == 0 {
		c.Documents.MaxSize = DefaultDocumentMaxSize
	}
	if c.Documents.MaxSize < 1<<10 || c.Documents.MaxSize > 1<<30 {
		bad("documents.max_size", "%d is not between 1024 (1 KiB) and 1073741824 (1 GiB)", c.Documents.MaxSize)
	}
	if c.Portal.MessageNoticeAfter < 0 || c.Portal.MessageNoticeAfter > 7*24*time.Hour {
		bad("portal.message_notice_after", "%s is not between 0 (off) and 168h", c.Portal.MessageNoticeAfter)
	}
	if c.Lobby.OpensBefore < 0 || c.Lobby.OpensBefore > 24*time.Hour {
		bad("lobby.opens_before", "%s is not between 0 and 24h", c.Lobby.OpensBefore)
	}
	if c.Lobby.ClosesAfter < 0 || c.Lobby.ClosesAfter > 12*time.Hour {
		bad("lobby.closes_after", "%s is not between 0 and 12h", c.Lobby.ClosesAfter)
	}
	switch c.Media.Backend {
	case MediaEmbedded:
	case MediaLiveKit:
		lk := c.Media.LiveKit
		if u, err := url.Parse(lk.URL); err != nil || u.Host == "" || (u.Scheme != "wss" && u.Scheme != "ws") {
			bad("media.livekit.url", "must be the LiveKit server's ws:// or wss:// address")
		}
		if lk.APIKey == "" {
			bad("media.livekit.api_key", "must be set (a key of the LiveKit server's keys)")
		}
		// LiveKit refuses secrets shorter than 32 characters too.
		if len(lk.APISecret) < 32 {
			bad("media.livekit.api_secret", "must be at least 32 characters (the key's secret on the LiveKit server)")
		}
	default:
		bad("media.backend", "%q is neither %q nor %q", c.Media.Backend, MediaEmbedded, MediaLiveKit)
	}
	if net.ParseIP(c.Media.ListenIP) == nil {
		bad("media.listen_ip", "%q is not an IP address", c.Media.ListenIP)
	}
	if c.Media.PublicIP != "" && net.ParseIP(c.Media.PublicIP) == nil {
		bad("media.public_ip", "%q is not an IP address", c.Media.PublicIP)
	}
	if c.Media.UDPPort < 0 || c.Media.UDPPort > 65535 {
		bad("media.udp_port", "must be a port number (0 for any)")
	}
	if c.Media.CredentialTTL < 10*time.Second || c.Media.CredentialTTL > time.Hour {
		bad("media.credential_ttl", "%s is not between 10s and 1h", c.Media.CredentialTTL)
	}
	if len(c.Media.CredentialSecret) < 32 {
		bad("media.credential_secret", "must be at least 32 characters (or \"generate\")")
	}
	if d := c.Media.Signalling.AnswerTimeout; d < time.Second || d > 5*time.Minute {
		bad("media.signalling.answer_timeout", "%s is not between 1s and 5m", d)
	}
	if r := c.Media.Signalling.MessageRate; r < 5 || r > 1000 {
		bad("media.signalling.message_rate", "%d is not between 5 and 1000 messages a second", r)
	}
	if t := c.Media.TURN; t.Enabled {
		if t.SessionGrace < 0 || t.SessionGrace > 12*time.Hour {
			bad("media.turn.session_grace", "%s is not between 0 and 12h", t.SessionGrace)
		}
		if net.ParseIP(t.ListenIP) == nil {
			bad("media.turn.listen_ip", "%q is not an IP address", t.ListenIP)
		}
		if ip := net.ParseIP(t.ListenIP); ip != nil && ip.IsUnspecified() && net.ParseIP(t.PublicIP) == nil {
			bad("media.turn.public_ip", "must be the address browsers reach when listen_ip is %s", t.ListenIP)
		}
		if len(t.Secret) < 32 {
			bad("media.turn.secret", "must be at least 32 characters (or \"generate\")")
		}
	}
	n := &c.Notify
	if strings.TrimSpace(n.ClinicName) == "" {
		bad("notifications.clinic_name", "must not be empty: every message names the clinic")
	}
	if n.ClinicPhone != "" && !strings.HasPrefix(n.ClinicPhone, "+") {
		bad("notifications.clinic_phone", "%q is not an E.164 number (+33123456789)", n.ClinicPhone)
	}
	if n.ClinicTimeZone != "" {
		if _, err := time.LoadLocation(n.ClinicTimeZone); err != nil || n.ClinicTimeZone == "Local" {
			bad("notifications.clinic_time_zone", "%q is not an IANA time zone such as Europe/Paris", n.ClinicTimeZone)
		}
	}
	if n.ReminderBefore < 0 || n.ReminderBefore > 14*24*time.Hour {
		bad("notifications.reminder_before", "%s is not between 0 and 14 days", n.ReminderBefore)
	}
	if n.PhoneIntroBefore < 0 || n.PhoneIntroBefore > 24*time.Hour {
		bad("notifications.phone_intro_before", "%s is not between 0 and 24h", n.PhoneIntroBefore)
	}
	if n.Poll < 10*time.Millisecond || n.Poll > time.Minute {
		bad("notifications.poll", "%s is not between 10ms and 1m", n.Poll)
	}
	if sms := n.SMS; sms.AccountSID != "" {
		if sms.AuthToken == "" {
			bad("notifications.sms.auth_token", "must be set with account_sid")
		} else if len(sms.AuthToken) < MinTokenLength {
			// Twilio's auth tokens are 32 characters; a shorter one is a typo or a test value,
			// and it is what proves that a webhook comes from Twilio.
			bad("notifications.sms.auth_token", "must be at least %d characters (Twilio's auth token)", MinTokenLength)
		}
		if sms.From == "" && sms.MessagingServiceSID == "" {
			bad("notifications.sms.from", "set a sender number or messaging_service_sid")
		}
		checkURL("notifications.sms.api_url", sms.APIURL)
		if sms.PerSecond <= 0 {
			bad("notifications.sms.per_second", "must be more than 0")
		}
	}
	for user, phone := range c.Telephone.Clinicians {
		if !strings.HasPrefix(user, "@") || !strings.Contains(user, ":") {
			bad("telephone.clinicians", "%q is not a user ID (@name:server)", user)
		} else if !c.IsClinician(user) {
			bad("telephone.clinicians", "%s is not a clinician in permissions", user)
		}
		if !e164.MatchString(phone) {
			bad("telephone.clinicians", "the phone of %s is not an E.164 number (+33612345678)", user)
		}
	}
	if l := c.Telephone.Language; l != "en" && l != "fr" {
		bad("telephone.language", "%q is not en or fr", l)
	}
	if t := c.Telephone.RingTimeout; t < 5*time.Second || t > 2*time.Minute {
		bad("telephone.ring_timeout", "%s is not between 5s and 2m", t)
	}
	if mail := n.Email; mail.Host != "" {
		if mail.Port <= 0 || mail.Port > 65535 {
			bad("notifications.email.port", "must be a port number from 1 to 65535")
		}
		if !strings.Contains(mail.From, "@") {
			bad("notifications.email.from", "%q is not an email address", mail.From)
		}
		switch mail.TLS {
		case "starttls", "tls", "none":
		default:
			bad("notifications.email.tls", "%q is not starttls, tls or none", mail.TLS)
		}
	}
	switch c.Payments.Provider {
	case "none":
	case "stripe":
		if c.Payments.Stripe.SecretKey == "" {
			bad("payments.stripe.secret_key", "is empty while payments.provider is stripe")
		}
		if c.Payments.Stripe.WebhookSecret == "" {
			bad("payments.stripe.webhook_secret", "is empty while payments.provider is stripe")
		}
		if u := c.Payments.Stripe.APIURL; u != "" {
			if pu, err := url.Parse(u); err != nil || (pu.Scheme != "https" && pu.Scheme != "http") || pu.Host == "" {
				bad("payments.stripe.api_url", "%q is not an http(s) URL", u)
			}
		}
	default:
		bad("payments.provider", "%q is not none or stripe", c.Payments.Provider)
	}
	if _, _, _, err := c.Payments.RefundBefore(); err != nil {
		bad("payments.refund", "%s", err)
	}
	if c.Metrics.Enabled {
		if host, port, err := net.SplitHostPort(c.Metrics.Listen); err != nil || net.ParseIP(host) == nil || !validPort(port) {
			bad("metrics.listen", "%q is not an IP address and a port, such as 127.0.0.1:29343", c.Metrics.Listen)
		}
	}
	for key, lvl := range c.Permissions {
		if lvl != LevelClinician && lvl != LevelAdmin {
			bad("permissions."+key, "%q is not clinician or admin", lvl)
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%s: %s", c.Path, strings.Join(errs, "; "))
	}
	return nil
}

// MinTokenLength is the shortest token or shared secret the config accepts: shorter ones can
// be guessed or were typed by hand.
const MinTokenLength = 32

// CheckTokens refuses the placeholder tokens of the example config, tokens short enough to
// guess, and one token used for both directions. It is checked before the bridge starts, not
// on load, so that -g can replace such tokens.
func (c *Config) CheckTokens() error {
	as, hs := c.AppService.ASToken, c.AppService.HSToken
	generate := fmt.Sprintf("run `telehealth-bridge -c %s -g -r registration.yaml` to generate new ones, "+
		"then load registration.yaml into the homeserver", c.Path)
	switch {
	case as == Placeholder || hs == Placeholder || as == "" || hs == "":
		return fmt.Errorf("%s: appservice.as_token and appservice.hs_token are not set: %s", c.Path, generate)
	case len(as) < MinTokenLength:
		return fmt.Errorf("%s: appservice.as_token must be at least %d characters: %s", c.Path, MinTokenLength, generate)
	case len(hs) < MinTokenLength:
		return fmt.Errorf("%s: appservice.hs_token must be at least %d characters: %s", c.Path, MinTokenLength, generate)
	case as == hs:
		// The homeserver would accept the bridge's own token as proof that a request comes
		// from the homeserver, and the other way round.
		return fmt.Errorf("%s: appservice.hs_token must differ from appservice.as_token: %s", c.Path, generate)
	}
	return nil
}

func validPort(s string) bool {
	n, err := strconv.Atoi(s)
	return err == nil && n > 0 && n <= 65535
}

func validLocalpart(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', strings.ContainsRune("._=-/", r):
		default:
			return false
		}
	}
	return true
}
