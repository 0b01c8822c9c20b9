package main

import (
	"os"
	"path/filepath"
	"testing"

	telehealthbridge "github.com/telehealth-bridge/telehealth-bridge"
)

// Regenerating the registration over files an operator left world-readable (the committed
// template is 0644) leaves both files with the tokens readable by their owner only.
func TestGenerateWritesTokenFilesPrivately(t *testing.T) {
	dir := t.TempDir()
	configPath, regPath := filepath.Join(dir, "config.yaml"), filepath.Join(dir, "registration.yaml")
	template, err := os.ReadFile("../../registration.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for path, data := range map[string][]byte{configPath: []byte(telehealthbridge.ExampleConfig), regPath: template} {
		if err = os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		if err = os.Chmod(path, 0o644); err != nil { // whatever the umask
			t.Fatal(err)
		}
	}
	if err = run(configPath, regPath, true, false, false, nil); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{regPath, configPath} {
		info, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if perm := info.Mode().Perm(); perm != 0o600 {
			t.Errorf("%s is %04o after -g, want 0600 (it holds the appservice tokens)", filepath.Base(path), perm)
		}
	}
}
