package config

import (
	"fmt"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	telehealthbridge "github.com/telehealth-bridge/telehealth-bridge"
)

// A value whose YAML type differs from the example's is kept (as what the bridge reads), never
// silently replaced by the example's default.
func TestUpgradeKeepsValuesOfAnotherYAMLType(t *testing.T) {
	config := userConfig + `notifications:
  clinic_phone: +33123456789
  sms:
    per_second: 10
`
	path := writeFile(t, "config.yaml", config)
	cfg, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Notify.ClinicPhone != "+33123456789" {
		t.Errorf("notifications.clinic_phone = %q after the upgrade, want +33123456789 (the user's unquoted number)", cfg.Notify.ClinicPhone)
	}
	if cfg.Notify.SMS.PerSecond != 10 {
		t.Errorf("notifications.sms.per_second = %v after the upgrade, want 10 (the user's integer)", cfg.Notify.SMS.PerSecond)
	}
	// The file keeps them too, and loads the same way again.
	again, err := Load(path)
	if err != nil || again.Notify.ClinicPhone != "+33123456789" || again.Notify.SMS.PerSecond != 10 {
		t.Errorf("second load: phone %q, per_second %v, err %v", again.Notify.ClinicPhone, again.Notify.SMS.PerSecond, err)
	}
}

// A value the bridge cannot read as what the key needs stops the upgrade with the key and its
// line, instead of being dropped.
func TestUpgradeRefusesValueItCannotKeep(t *testing.T) {
	config := userConfig + `notifications:
  clinic_name:
    fr: Clinique du Parc
`
	for name, upgrade := range map[string]func() error{
		"Upgrade": func() error { _, err := Upgrade([]byte(config)); return err },
		"Load":    func() error { _, err := Load(writeFile(t, "config.yaml", config)); return err },
	} {
		err := upgrade()
		if err == nil {
			t.Errorf("%s accepted a mapping for notifications.clinic_name", name)
			continue
		}
		for _, want := range []string{"notifications.clinic_name", "line 22"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%s: error %q does not name %q", name, err, want)
			}
		}
	}
}

// Every key of the example survives an upgrade of a config that sets it: a key without its
// Copy line in upgrade.go would be reset to the example's value on every start.
func TestEveryExampleKeyIsCarriedOver(t *testing.T) {
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(telehealthbridge.ExampleConfig), &doc); err != nil {
		t.Fatal(err)
	}
	// Give every value in the example a value of the same type that differs from it.
	leaves := map[string]string{}
	var change func(n *yaml.Node, path string)
	change = func(n *yaml.Node, path string) {
		switch n.Kind {
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				change(n.Content[i+1], strings.TrimPrefix(path+"."+n.Content[i].Value, "."))
			}
		case yaml.SequenceNode:
			for i, item := range n.Content {
				change(item, fmt.Sprintf("%s[%d]", path, i))
			}
		case yaml.ScalarNode:
			switch n.ShortTag() {
			case "!!bool":
				n.Value = map[string]string{"true": "false", "false": "true"}[n.Value]
			case "!!int":
				n.Value += "7"
			case "!!float":
				n.Value = "2.5"
			default:
				n.Value += "-changed"
			}
			leaves[path] = n.Value
		}
	}
	change(doc.Content[0], "")
	changed, err := marshal(&doc)
	if err != nil {
		t.Fatal(err)
	}
	upgraded, err := Upgrade(changed)
	if err != nil {
		t.Fatal(err)
	}
	var out yaml.Node
	if err = yaml.Unmarshal(upgraded, &out); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	var walk func(n *yaml.Node, path string)
	walk = func(n *yaml.Node, path string) {
		switch n.Kind {
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				walk(n.Content[i+1], strings.TrimPrefix(path+"."+n.Content[i].Value, "."))
			}
		case yaml.SequenceNode:
			for i, item := range n.Content {
				walk(item, fmt.Sprintf("%s[%d]", path, i))
			}
		case yaml.ScalarNode:
			got[path] = n.Value
		}
	}
	walk(out.Content[0], "")
	for path, want := range leaves {
		if got[path] != want {
			t.Errorf("%s: a user's %q became %q on upgrade: add a Copy line to config/upgrade.go", path, want, got[path])
		}
	}
}
