package config

import (
	"os"
	"strings"
	"testing"
	"time"
)

// Payments are off by default (provider none, no blocking, no refund) and a config written
// before the keys existed gets them on upgrade; Stripe without its keys, an unknown provider
// or refund policy are refused with the key named; the refund policy reads as it says.
func TestPaymentsConfig(t *testing.T) {
	path := writeFile(t, "config.yaml", userConfig)
	cfg, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if p := cfg.Payments; p.Provider != "none" || p.BlockAdmission || p.Refund != "none" || p.Stripe.SecretKey != "" {
		t.Errorf("payments default: %+v", p)
	}
	data, _ := os.ReadFile(path)
	if !strings.Contains(string(data), "payments:\n") || !strings.Contains(string(data), "block_admission: false") {
		t.Errorf("the upgraded file lacks the payments section:\n%s", data)
	}
	stripe := userConfig + "payments:\n  provider: stripe\n  stripe:\n    secret_key: sk_live_x\n    webhook_secret: whsec_x\n  refund: before:24h\n  block_admission: true\n"
	cfg, err = Load(writeFile(t, "config.yaml", stripe))
	if err != nil || cfg.Payments.Provider != "stripe" || !cfg.Payments.BlockAdmission {
		t.Fatalf("stripe: %+v %v", cfg.Payments, err)
	}
	if always, never, before, err := cfg.Payments.RefundBefore(); always || never || before != 24*time.Hour || err != nil {
		t.Errorf("before:24h read as %v %v %v %v", always, never, before, err)
	}
	for bad, key := range map[string]string{
		strings.Replace(stripe, "secret_key: sk_live_x", "secret_key: \"\"", 1):       "payments.stripe.secret_key",
		strings.Replace(stripe, "webhook_secret: whsec_x", "webhook_secret: \"\"", 1): "payments.stripe.webhook_secret",
		strings.Replace(stripe, "provider: stripe", "provider: paypal", 1):            "payments.provider",
		strings.Replace(stripe, "before:24h", "sometimes", 1):                         "payments.refund",
		strings.Replace(stripe, "before:24h", "before:-1h", 1):                        "payments.refund",
	} {
		if _, err := Load(writeFile(t, "config.yaml", bad)); err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("%s: %v", key, err)
		}
	}
	// The secrets are never in an error.
	if _, err := Load(writeFile(t, "config.yaml", strings.Replace(stripe, "provider: stripe", "provider: paypal", 1))); err != nil && strings.Contains(err.Error(), "sk_live_x") {
		t.Errorf("the secret key is in the error: %v", err)
	}
}
