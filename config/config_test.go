package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"maunium.net/go/mautrix/appservice"

	telehealthbridge "github.com/telehealth-bridge/telehealth-bridge"
)

// userConfig is a small but complete config as a user would write it (no comments of ours).
const userConfig = `homeserver:
  address: http://hs.example.org:8008
  domain: example.org
appservice:
  address: http://bridge.internal:29340
  hostname: 0.0.0.0
  port: 29340
  id: telehealth
  bot:
    username: clinicbot
  as_token: aaaa
  hs_token: bbbb
database:
  type: sqlite
  uri: clinic.db
web:
  public_url: https://video.example.org/
permissions:
  "@dr.martin:example.org": clinician
`

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoadKeepsValuesAndAddsNewKeysWithComments(t *testing.T) {
	path := writeFile(t, "config.yaml", userConfig)
	cfg, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Homeserver.Domain != "example.org" || cfg.AppService.Bot.Username != "clinicbot" || cfg.AppService.Port != 29340 {
		t.Errorf("user values lost: %+v", cfg)
	}
	if cfg.Web.PublicURL != "https://video.example.org" {
		t.Errorf("public_url = %q, want the trailing slash removed", cfg.Web.PublicURL)
	}
	if want := filepath.Join(filepath.Dir(path), "clinic.db"); cfg.Database.URI != want {
		t.Errorf("sqlite uri = %q, want it next to the config: %q", cfg.Database.URI, want)
	}
	// Keys the user did not write come from the example, with its defaults.
	if cfg.AppService.GhostPrefix != "telehealth_" || cfg.Database.MaxOpenConns != 5 {
		t.Errorf("defaults missing: ghost_prefix=%q max_open_conns=%d", cfg.AppService.GhostPrefix, cfg.Database.MaxOpenConns)
	}
	if !cfg.IsClinician("@dr.martin:example.org") || cfg.IsClinician("@someone:example.org") {
		t.Errorf("permissions not taken from the user: %v", cfg.Permissions)
	}
	// The file on disk was upgraded: the example's comments arrived, the values stayed.
	data, _ := os.ReadFile(path)
	text := string(data)
	for _, want := range []string{"# The server name", "ghost_prefix: telehealth_", "domain: example.org", "username: clinicbot"} {
		if !strings.Contains(text, want) {
			t.Errorf("upgraded file lacks %q", want)
		}
	}
	// Upgrading again changes nothing.
	again, err := Upgrade(data)
	if err != nil || string(again) != text {
		t.Errorf("second upgrade changed the file (err=%v)", err)
	}
}

func TestLoadNamesUnknownAndMissingKeys(t *testing.T) {
	cases := []struct {
		name, config string
		want         []string
	}{
		{"mistyped key", strings.Replace(userConfig, "  address: http://hs", "  adress: http://hs", 1),
			[]string{"unknown key homeserver.adress (line 2)", "did you mean homeserver.address?", "config.yaml"}},
		{"missing key", strings.Replace(userConfig, "  domain: example.org\n", "", 1),
			[]string{"missing key homeserver.domain", "config.yaml"}},
		{"bad value", strings.Replace(userConfig, "type: sqlite", "type: mysql", 1),
			[]string{"database.type", `"mysql" is not sqlite or pgx`}},
		{"wrong type", strings.Replace(userConfig, "port: 29340", "port: lots", 1),
			[]string{"wrong value type", "config.yaml"}},
		{"not yaml", "homeserver: [", []string{"not valid YAML"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(writeFile(t, "config.yaml", tc.config))
			if err == nil {
				t.Fatal("loaded")
			}
			for _, want := range tc.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not contain %q", err, want)
				}
			}
		})
	}
	_, err := Load(filepath.Join(t.TempDir(), "nope.yaml"))
	if err == nil || !strings.Contains(err.Error(), "does not exist") || !strings.Contains(err.Error(), "-e") {
		t.Errorf("missing file: %v", err)
	}
}

func TestEnvironmentOverrides(t *testing.T) {
	path := writeFile(t, "config.yaml", userConfig)
	t.Setenv("TELEHEALTH_DATABASE__TYPE", "pgx")
	t.Setenv("TELEHEALTH_DATABASE__URI", "postgres://bridge:pw-from-env@db/telehealth")
	t.Setenv("TELEHEALTH_APPSERVICE__PORT", "40000")
	cfg, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Database.Type != "pgx" || cfg.Database.URI != "postgres://bridge:pw-from-env@db/telehealth" || cfg.AppService.Port != 40000 {
		t.Errorf("overrides not applied: %+v %d", cfg.Database, cfg.AppService.Port)
	}
	data, _ := os.ReadFile(path)
	if strings.Contains(string(data), "pw-from-env") {
		t.Error("an environment override was written into the config file")
	}

	t.Setenv("TELEHEALTH_DATABASE__URL", "x")
	if _, err = Load(path); err == nil || !strings.Contains(err.Error(), "TELEHEALTH_DATABASE__URL") {
		t.Errorf("a mistyped variable was accepted: %v", err)
	}
}

func TestEnvironmentSuppliesRequiredKey(t *testing.T) {
	path := writeFile(t, "config.yaml", strings.Replace(userConfig, "  as_token: aaaa\n", "", 1))
	t.Setenv("TELEHEALTH_APPSERVICE__AS_TOKEN", "from-env")
	cfg, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.AppService.ASToken != "from-env" {
		t.Errorf("as_token = %q", cfg.AppService.ASToken)
	}
}

func TestPlaceholdersRefused(t *testing.T) {
	path := writeFile(t, "config.yaml", telehealthbridge.ExampleConfig)
	cfg, err := Load(path)
	if err != nil {
		t.Fatalf("the example config does not load: %v", err)
	}
	if err = cfg.CheckTokens(); err == nil || !strings.Contains(err.Error(), "-g") {
		t.Errorf("placeholder tokens accepted: %v", err)
	}
	// The committed registration template is refused too.
	if err = cfg.CheckRegistration("../registration.yaml"); err == nil || !strings.Contains(err.Error(), "placeholder") {
		t.Errorf("the registration template was accepted: %v", err)
	}
}

func TestGenerateRegistration(t *testing.T) {
	path := writeFile(t, "config.yaml", telehealthbridge.ExampleConfig)
	cfg, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	reg, err := cfg.GenerateRegistration()
	if err != nil {
		t.Fatal(err)
	}
	regPath := filepath.Join(filepath.Dir(path), "registration.yaml")
	if err = reg.Save(regPath); err != nil {
		t.Fatal(err)
	}
	// The tokens went into the config file, its comments intact, and the two files agree.
	reloaded, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if err = reloaded.CheckTokens(); err != nil {
		t.Error(err)
	}
	if err = reloaded.CheckRegistration(regPath); err != nil {
		t.Error(err)
	}
	data, _ := os.ReadFile(path)
	if !strings.Contains(string(data), "# The homeserver the clinic already runs.") {
		t.Error("generating the registration dropped the config's comments")
	}
	saved, err := appservice.LoadRegistration(regPath)
	if err != nil {
		t.Fatal(err)
	}
	if len(saved.AppToken) < 32 || saved.AppToken == saved.ServerToken {
		t.Error("weak or equal tokens")
	}
	if saved.Namespaces.UserIDs[1].Regex != `^@telehealth_.+:example\.com$` || !saved.Namespaces.UserIDs[1].Exclusive {
		t.Errorf("ghost namespace = %+v", saved.Namespaces.UserIDs[1])
	}
	// Another config's tokens do not match this registration.
	reloaded.AppService.HSToken = "other"
	if err = reloaded.CheckRegistration(regPath); err == nil || !strings.Contains(err.Error(), "differ") {
		t.Errorf("mismatched tokens accepted: %v", err)
	}
}

func TestRegistrationTemplateMatchesGenerated(t *testing.T) {
	// The committed template documents the same namespaces the bridge generates for example.com.
	template, err := appservice.LoadRegistration("../registration.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(writeFile(t, "config.yaml", telehealthbridge.ExampleConfig))
	if err != nil {
		t.Fatal(err)
	}
	gen := cfg.Registration()
	if template.ID != gen.ID || template.URL != gen.URL || template.SenderLocalpart != gen.SenderLocalpart {
		t.Errorf("template %+v differs from generated %+v", template, gen)
	}
	for i, ns := range gen.Namespaces.UserIDs {
		if template.Namespaces.UserIDs[i] != ns {
			t.Errorf("user namespace %d: template %+v, generated %+v", i, template.Namespaces.UserIDs[i], ns)
		}
	}
	if template.Namespaces.RoomAliases[0] != gen.Namespaces.RoomAliases[0] {
		t.Errorf("alias namespace: template %+v, generated %+v", template.Namespaces.RoomAliases[0], gen.Namespaces.RoomAliases[0])
	}
}

// Tokens an attacker could guess are refused before the bridge starts, each error naming the
// key; the registration's two tokens must differ, since each proves a different side.
func TestShortOrSharedTokensRefused(t *testing.T) {
	long := strings.Repeat("k", 40)
	withTokens := func(as, hs string) string {
		return strings.Replace(strings.Replace(userConfig, "as_token: aaaa", "as_token: "+as, 1), "hs_token: bbbb", "hs_token: "+hs, 1)
	}
	for _, tc := range []struct {
		name, config string
		want         []string
	}{
		{"short as_token", withTokens("aaaa", long), []string{"appservice.as_token", "at least 32 characters", "-g"}},
		{"short hs_token", withTokens(long, "bbbb"), []string{"appservice.hs_token", "at least 32 characters"}},
		{"shared tokens", withTokens(long, long), []string{"appservice.hs_token", "differ from appservice.as_token"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := Load(writeFile(t, "config.yaml", tc.config))
			if err != nil {
				t.Fatal(err)
			}
			err = cfg.CheckTokens()
			if err == nil {
				t.Fatal("the bridge would start with these tokens")
			}
			for _, want := range tc.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not contain %q", err, want)
				}
			}
		})
	}
	if cfg, err := Load(writeFile(t, "config.yaml", withTokens(long, strings.Repeat("h", 32)))); err != nil || cfg.CheckTokens() != nil {
		t.Errorf("32-character tokens refused: %v", err)
	}

	sms := userConfig + `notifications:
  sms:
    account_sid: AC0123456789abcdef0123456789abcdef
    auth_token: short
    from: "+33123456789"
`
	_, err := Load(writeFile(t, "config.yaml", sms))
	if err == nil || !strings.Contains(err.Error(), "notifications.sms.auth_token") || !strings.Contains(err.Error(), "32 characters") {
		t.Errorf("a short Twilio auth_token: %v", err)
	}
}

// A config that cannot place telephone calls says what is missing; a wrong clinician phone is
// refused at load.
func TestTelephoneConfig(t *testing.T) {
	cfg, err := Load(writeFile(t, "config.yaml", userConfig))
	if err != nil {
		t.Fatal(err)
	}
	problems := strings.Join(cfg.TelephoneProblems(), "\n")
	for _, want := range []string{"notifications.sms.account_sid", "notifications.clinic_phone", "telephone.clinicians"} {
		if !strings.Contains(problems, want) {
			t.Errorf("the startup check does not name %s:\n%s", want, problems)
		}
	}
	if cfg.Telephone.RingTimeout.Seconds() != 30 {
		t.Errorf("ring_timeout default %s", cfg.Telephone.RingTimeout)
	}
	ready := userConfig + `notifications:
  clinic_phone: "+33123456789"
  sms:
    account_sid: AC0123456789abcdef0123456789abcdef
    auth_token: 0123456789abcdef0123456789abcdef
    from: "+33123456789"
telephone:
  clinicians:
    "@dr.martin:example.org": "+33612345678"
`
	if cfg, err = Load(writeFile(t, "config.yaml", ready)); err != nil {
		t.Fatal(err)
	}
	if p := cfg.TelephoneProblems(); len(p) != 0 || cfg.Telephone.Clinicians["@dr.martin:example.org"] != "+33612345678" {
		t.Errorf("a ready config: %v %v", p, cfg.Telephone.Clinicians)
	}
	for bad, want := range map[string]string{
		`"@dr.martin:example.org": "06 12 34 56 78"`: "not an E.164 number",
		`"@someone:elsewhere.org": "+33612345678"`:   "not a clinician",
	} {
		_, err := Load(writeFile(t, "config.yaml", strings.Replace(ready, `"@dr.martin:example.org": "+33612345678"`, bad, 1)))
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "telephone.clinicians") {
			t.Errorf("%s: %v", bad, err)
		}
	}
}

// Clients may cancel and move their sessions from the portal until a day before, unless the
// clinic says otherwise; a notice below zero or beyond 30 days is refused by name.
func TestPortalChangesConfig(t *testing.T) {
	cfg, err := Load(writeFile(t, "config.yaml", userConfig))
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.Portal.ClientCancel || cfg.Portal.CancelNotice.Hours() != 24 {
		t.Errorf("defaults: client_cancel %t, cancel_notice %s", cfg.Portal.ClientCancel, cfg.Portal.CancelNotice)
	}
	off := userConfig + "portal:\n  client_cancel: false\n  cancel_notice: 2h\n"
	if cfg, err = Load(writeFile(t, "config.yaml", off)); err != nil || cfg.Portal.ClientCancel || cfg.Portal.CancelNotice.Hours() != 2 {
		t.Errorf("a clinic's own: %+v %v", cfg.Portal, err)
	}
	for _, bad := range []string{"-1h", "721h"} {
		_, err := Load(writeFile(t, "config.yaml", userConfig+"portal:\n  cancel_notice: "+bad+"\n"))
		if err == nil || !strings.Contains(err.Error(), "portal.cancel_notice") {
			t.Errorf("cancel_notice %s: %v", bad, err)
		}
	}
}

// The embedded SFU stays the default; the LiveKit backend needs its server's address and a key
// pair, each refused by name when missing or wrong, and the secret never appears in an error.
func TestMediaBackendConfig(t *testing.T) {
	cfg, err := Load(writeFile(t, "config.yaml", userConfig))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Media.Backend != MediaEmbedded {
		t.Errorf("default backend %q", cfg.Media.Backend)
	}
	const secret = "s3cret-s3cret-s3cret-s3cret-s3cret-42"
	ready := userConfig + `media:
  backend: livekit
  livekit:
    url: wss://livekit.example.org
    api_key: APIclinic
    api_secret: ` + secret + "\n"
	if cfg, err = Load(writeFile(t, "config.yaml", ready)); err != nil {
		t.Fatal(err)
	}
	if lk := cfg.Media.LiveKit; cfg.Media.Backend != MediaLiveKit || lk.URL != "wss://livekit.example.org" || lk.APIKey != "APIclinic" || lk.APISecret != secret {
		t.Errorf("livekit config read as %q %+v", cfg.Media.Backend, lk)
	}
	for _, c := range []struct{ from, to, key string }{
		{"backend: livekit", "backend: jitsi", "media.backend"},
		{"url: wss://livekit.example.org", "url: https://livekit.example.org", "media.livekit.url"},
		{"url: wss://livekit.example.org", `url: ""`, "media.livekit.url"},
		{"api_key: APIclinic", `api_key: ""`, "media.livekit.api_key"},
		{"api_secret: " + secret, "api_secret: short-" + secret[:20], "media.livekit.api_secret"},
	} {
		_, err := Load(writeFile(t, "config.yaml", strings.Replace(ready, c.from, c.to, 1)))
		if err == nil || !strings.Contains(err.Error(), c.key) {
			t.Errorf("%s: %v", c.to, err)
		} else if strings.Contains(err.Error(), secret[:20]) {
			t.Errorf("the error shows the secret: %v", err)
		}
	}
	// The secret may come from the environment and then stays out of the file.
	t.Setenv("TELEHEALTH_MEDIA__LIVEKIT__API_SECRET", "from-env-"+secret)
	path := writeFile(t, "config.yaml", strings.Replace(ready, "api_secret: "+secret, `api_secret: ""`, 1))
	if cfg, err = Load(path); err != nil || cfg.Media.LiveKit.APISecret != "from-env-"+secret {
		t.Fatalf("secret from the environment: %v", err)
	}
	if data, _ := os.ReadFile(path); strings.Contains(string(data), "from-env-") {
		t.Error("the secret from the environment was written into the file")
	}
}

// TestEachSecretIsCheckedAlone: every token and secret the config checks is refused on its
// own, the others being right, so that no check hides behind another (a placeholder hs_token
// with a real as_token once started the bridge). The error names the key and never shows the
// value.
func TestEachSecretIsCheckedAlone(t *testing.T) {
	secrets := map[string]string{
		"as_token":          "as-0123456789abcdef0123456789abcdef",
		"hs_token":          "hs-0123456789abcdef0123456789abcdef",
		"signing_key":       "web-0123456789abcdef0123456789abcdef",
		"credential_secret": "media-0123456789abcdef0123456789abcdef",
		"turn_secret":       "turn-0123456789abcdef0123456789abcdef",
		"auth_token":        "twilio-0123456789abcdef0123456789abcd",
		"secret_key":        "sk_test_0123456789abcdef0123456789",
		"webhook_secret":    "whsec_0123456789abcdef0123456789",
	}
	good := strings.NewReplacer(
		"as_token: aaaa", "as_token: "+secrets["as_token"],
		"hs_token: bbbb", "hs_token: "+secrets["hs_token"],
		"  public_url: https://video.example.org/\n", "  public_url: https://video.example.org/\n  signing_key: "+secrets["signing_key"]+"\n",
	).Replace(userConfig) + `media:
  credential_secret: ` + secrets["credential_secret"] + `
  turn:
    enabled: true
    listen_ip: 127.0.0.1
    secret: ` + secrets["turn_secret"] + `
notifications:
  sms:
    account_sid: AC0123456789abcdef0123456789abcdef
    auth_token: ` + secrets["auth_token"] + `
    from: "+33123456789"
payments:
  provider: stripe
  stripe:
    secret_key: ` + secrets["secret_key"] + `
    webhook_secret: ` + secrets["webhook_secret"] + "\n"
	cfg, err := Load(writeFile(t, "config.yaml", good))
	if err != nil {
		t.Fatalf("the config with every secret right: %v", err)
	}
	if err = cfg.CheckTokens(); err != nil {
		t.Fatalf("the config with every secret right: %v", err)
	}
	for _, tc := range []struct {
		secret, bad, key string
	}{
		{"as_token", Placeholder, "appservice.as_token"},
		{"hs_token", Placeholder, "appservice.hs_token"},
		{"as_token", `""`, "appservice.as_token"},
		{"hs_token", `""`, "appservice.hs_token"},
		{"as_token", "short-as", "appservice.as_token"},
		{"hs_token", "short-hs", "appservice.hs_token"},
		{"hs_token", secrets["as_token"], "appservice.hs_token"},
		{"signing_key", "short-web", "web.signing_key"},
		{"credential_secret", "short-media", "media.credential_secret"},
		{"turn_secret", "short-turn", "media.turn.secret"},
		{"auth_token", "short-twilio", "notifications.sms.auth_token"},
		{"auth_token", `""`, "notifications.sms.auth_token"},
		{"secret_key", `""`, "payments.stripe.secret_key"},
		{"webhook_secret", `""`, "payments.stripe.webhook_secret"},
	} {
		t.Run(tc.key+"="+tc.bad, func(t *testing.T) {
			text := strings.Replace(good, ": "+secrets[tc.secret]+"\n", ": "+tc.bad+"\n", 1)
			if text == good {
				t.Fatal("the case changed nothing")
			}
			path := writeFile(t, "config.yaml", text)
			cfg, err := Load(path)
			if err == nil {
				err = cfg.CheckTokens()
			}
			if err == nil {
				t.Fatalf("the bridge would start with %s %q and every other secret right", tc.key, tc.bad)
			}
			msg := strings.ReplaceAll(err.Error(), path, "config.yaml") // the test's directory is named after the case
			if !strings.Contains(msg, tc.key) {
				t.Errorf("the error does not name %s: %s", tc.key, msg)
			}
			for _, s := range secrets {
				if strings.Contains(msg, s) {
					t.Errorf("the error shows a secret: %s", msg)
				}
			}
			if tc.bad != `""` && tc.bad != Placeholder && strings.Contains(msg, tc.bad) {
				t.Errorf("the error shows the value: %s", msg)
			}
		})
	}
}
