package config

import (
	up "go.mau.fi/util/configupgrade"
)

// upgradeConfig copies every key a user may have set into the example. A key that is renamed
// in a later version is copied from its old name here, so that nobody's value is lost.
func upgradeConfig(helper up.Helper) {
	helper.Copy(up.Str, "homeserver", "address")
	helper.Copy(up.Str, "homeserver", "domain")

	helper.Copy(up.Str, "appservice", "address")
	helper.Copy(up.Str, "appservice", "hostname")
	helper.Copy(up.Int, "appservice", "port")
	helper.Copy(up.Str, "appservice", "id")
	helper.Copy(up.Str, "appservice", "bot", "username")
	helper.Copy(up.Str, "appservice", "bot", "displayname")
	helper.Copy(up.Str, "appservice", "bot", "avatar")
	helper.Copy(up.Str, "appservice", "ghost_prefix")
	helper.Copy(up.Str, "appservice", "as_token")
	helper.Copy(up.Str, "appservice", "hs_token")

	helper.Copy(up.Str, "database", "type")
	helper.Copy(up.Str, "database", "uri")
	helper.Copy(up.Int, "database", "max_open_conns")
	helper.Copy(up.Int, "database", "max_idle_conns")

	helper.Copy(up.Str, "web", "public_url")
	helper.Copy(up.Str, "web", "hostname")
	helper.Copy(up.Int, "web", "port")
	helper.Copy(up.Str, "web", "signing_key")
	helper.Copy(up.Str, "web", "link_grace")
	helper.Copy(up.Str, "web", "panel_idle")
	helper.Copy(up.List, "web", "trusted_proxies")
	helper.Copy(up.List, "web", "element_origins")

	helper.Copy(up.Str, "media", "backend")
	helper.Copy(up.Str, "media", "livekit", "url")
	helper.Copy(up.Str, "media", "livekit", "api_key")
	helper.Copy(up.Str, "media", "livekit", "api_secret")
	helper.Copy(up.Str, "media", "listen_ip")
	helper.Copy(up.Int, "media", "udp_port")
	helper.Copy(up.Str, "media", "public_ip")
	helper.Copy(up.Str, "media", "credential_ttl")
	helper.Copy(up.Str, "media", "credential_secret")
	helper.Copy(up.Str, "media", "signalling", "answer_timeout")
	helper.Copy(up.Int, "media", "signalling", "message_rate")
	helper.Copy(up.Bool, "media", "turn", "enabled")
	helper.Copy(up.Str, "media", "turn", "listen_ip")
	helper.Copy(up.Str, "media", "turn", "public_ip")
	helper.Copy(up.Int, "media", "turn", "udp_port")
	helper.Copy(up.Int, "media", "turn", "tcp_port")
	helper.Copy(up.Str, "media", "turn", "realm")
	helper.Copy(up.Str, "media", "turn", "secret")
	helper.Copy(up.Str, "media", "turn", "ttl")
	helper.Copy(up.Str, "media", "turn", "session_grace")

	helper.Copy(up.Str, "lobby", "opens_before")
	helper.Copy(up.Str, "lobby", "closes_after")

	helper.Copy(up.Str, "notifications", "clinic_name")
	helper.Copy(up.Str, "notifications", "clinic_phone")
	helper.Copy(up.Str, "notifications", "clinic_time_zone")
	helper.Copy(up.Bool, "notifications", "confirmation")
	helper.Copy(up.Str, "notifications", "reminder_before")
	helper.Copy(up.Str, "notifications", "phone_intro_before")
	helper.Copy(up.Str, "notifications", "poll")
	helper.Copy(up.Str, "notifications", "sms", "account_sid")
	helper.Copy(up.Str, "notifications", "sms", "auth_token")
	helper.Copy(up.Str, "notifications", "sms", "from")
	helper.Copy(up.Str, "notifications", "sms", "messaging_service_sid")
	helper.Copy(up.Str, "notifications", "sms", "api_url")
	helper.Copy(up.Float, "notifications", "sms", "per_second")
	helper.Copy(up.Bool, "notifications", "sms", "status_callback")
	helper.Copy(up.Str, "notifications", "email", "host")
	helper.Copy(up.Int, "notifications", "email", "port")
	helper.Copy(up.Str, "notifications", "email", "username")
	helper.Copy(up.Str, "notifications", "email", "password")
	helper.Copy(up.Str, "notifications", "email", "from")
	helper.Copy(up.Str, "notifications", "email", "tls")

	helper.Copy(up.Map, "telephone", "clinicians")
	helper.Copy(up.Str, "telephone", "ring_timeout")
	helper.Copy(up.Str, "telephone", "language")

	helper.Copy(up.Str, "portal", "idle")
	helper.Copy(up.Str, "portal", "max_age")
	helper.Copy(up.Bool, "portal", "enrol_on_first_booking")
	helper.Copy(up.Bool, "portal", "client_cancel")
	helper.Copy(up.Str, "portal", "cancel_notice")
	helper.Copy(up.Str, "portal", "message_notice_after")
	helper.Copy(up.Bool, "portal", "signup")
	helper.Copy(up.Str, "payments", "provider")
	helper.Copy(up.Str, "payments", "stripe", "secret_key")
	helper.Copy(up.Str, "payments", "stripe", "webhook_secret")
	helper.Copy(up.Str, "payments", "stripe", "api_url")
	helper.Copy(up.Bool, "payments", "block_admission")
	helper.Copy(up.Str, "payments", "refund")

	helper.Copy(up.Int, "documents", "max_size")

	helper.Copy(up.Bool, "metrics", "enabled")
	helper.Copy(up.Str, "metrics", "listen")

	helper.Copy(up.Map, "permissions")

	helper.Copy(up.Map, "logging")
}
