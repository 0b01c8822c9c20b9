package config

import (
	"os"
	"strings"
	"testing"
)

// Metrics are off unless asked for, and on loopback by default when on; a listen address
// that is not an address and a port is refused with the key named; a config written before
// the key existed gets it, off, on upgrade.
func TestMetricsConfig(t *testing.T) {
	path := writeFile(t, "config.yaml", userConfig)
	cfg, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Metrics.Enabled || cfg.Metrics.Listen != "127.0.0.1:29343" {
		t.Errorf("metrics default: %+v", cfg.Metrics)
	}
	data, _ := os.ReadFile(path)
	if !strings.Contains(string(data), "metrics:\n    # Off by default.\n    enabled: false") {
		t.Errorf("the upgraded file lacks the metrics section:\n%s", data)
	}
	on := userConfig + "metrics:\n  enabled: true\n  listen: 127.0.0.1:9464\n"
	if cfg, err = Load(writeFile(t, "config.yaml", on)); err != nil || !cfg.Metrics.Enabled || cfg.Metrics.Listen != "127.0.0.1:9464" {
		t.Errorf("metrics on: %+v %v", cfg.Metrics, err)
	}
	for _, bad := range []string{"9464", "localhost:9464", "127.0.0.1:0", "127.0.0.1:99999", ":9464"} {
		_, err := Load(writeFile(t, "config.yaml", strings.Replace(on, "127.0.0.1:9464", bad, 1)))
		if err == nil || !strings.Contains(err.Error(), "metrics.listen") {
			t.Errorf("metrics.listen %q: %v", bad, err)
		}
	}
	// Off, a bad address does not matter.
	if _, err = Load(writeFile(t, "config.yaml", userConfig+"metrics:\n  listen: nowhere\n")); err != nil {
		t.Errorf("metrics off with a bad listen: %v", err)
	}
}
