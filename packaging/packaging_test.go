// Package packaging holds the systemd unit and the checks of the repository's packaging files
// (the unit, the Dockerfile and the compose example), which run with the other tests.
package packaging

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

const unitPath = "telehealth-bridge.service"

// The unit passes systemd-analyze verify without a word, and its hardening scores as
// systemd-analyze security rates it "OK" or better. verify insists that ExecStart's binary
// exists: the copy it checks runs a stand-in at that one place.
func TestSystemdUnitVerifies(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze is not installed (Debian: apt-get install systemd): the unit is not verified")
	}
	unit, err := os.ReadFile(unitPath)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	stand := filepath.Join(dir, "telehealth-bridge")
	if err = os.WriteFile(stand, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	text := string(unit)
	if !strings.Contains(text, "ExecStart=/usr/local/bin/telehealth-bridge ") {
		t.Fatal("ExecStart does not run /usr/local/bin/telehealth-bridge")
	}
	copyPath := filepath.Join(dir, unitPath)
	if err = os.WriteFile(copyPath, []byte(strings.Replace(text, "ExecStart=/usr/local/bin/telehealth-bridge ", "ExecStart="+stand+" ", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(analyze, "verify", copyPath).CombinedOutput()
	if err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}

	out, err = exec.Command(analyze, "security", "--offline=true", copyPath).CombinedOutput()
	if err != nil {
		t.Fatalf("systemd-analyze security: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`Overall exposure level for \S+: ([0-9.]+) (\S+)`).FindStringSubmatch(string(out))
	if m == nil {
		t.Fatalf("no exposure level in:\n%s", out)
	}
	if level, _ := strconv.ParseFloat(m[1], 64); level > 2.0 {
		t.Errorf("exposure level %s %s, want 2.0 or less:\n%s", m[1], m[2], out)
	}
	t.Logf("systemd-analyze security: exposure %s %s", m[1], m[2])
}

// The unit runs as its own user, writes only its state directory, and keeps the hardening an
// operator expects of a bridge.
func TestSystemdUnitHardening(t *testing.T) {
	unit, err := os.ReadFile(unitPath)
	if err != nil {
		t.Fatal(err)
	}
	lines := map[string]bool{}
	for _, l := range strings.Split(string(unit), "\n") {
		lines[strings.TrimSpace(l)] = true
	}
	for _, want := range []string{
		"User=telehealth-bridge", "StateDirectory=telehealth-bridge", "WorkingDirectory=/var/lib/telehealth-bridge",
		"ProtectSystem=strict", "ProtectHome=yes", "PrivateTmp=yes", "NoNewPrivileges=yes",
		"CapabilityBoundingSet=", "AmbientCapabilities=", "SystemCallFilter=@system-service",
		"RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX AF_NETLINK", "MemoryDenyWriteExecute=yes", "UMask=0077",
	} {
		if !lines[want] {
			t.Errorf("the unit lacks %s", want)
		}
	}
	for _, bad := range []string{"User=root", "DynamicUser=yes", "ReadWritePaths=/"} {
		if lines[bad] {
			t.Errorf("the unit has %s", bad)
		}
	}
}

// hadolint has no Debian package, so the Dockerfile's rules are checked here: several stages,
// every base pinned to a version (or a digest), no ADD (never of a URL), a static build, and
// a final stage that runs as an unprivileged user with the CA certificates.
func TestDockerfile(t *testing.T) {
	data, err := os.ReadFile("../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	var stages [][]string // each stage's instructions, continuation lines joined
	var cur string
	for _, raw := range strings.Split(string(data), "\n") {
		line := strings.TrimSpace(raw)
		if cur == "" && (line == "" || strings.HasPrefix(line, "#")) {
			continue
		}
		if strings.HasSuffix(line, "\\") {
			cur += strings.TrimSuffix(line, "\\") + " "
			continue
		}
		line, cur = cur+line, ""
		if strings.HasPrefix(strings.ToUpper(line), "FROM ") {
			stages = append(stages, nil)
		}
		if len(stages) == 0 {
			t.Fatalf("an instruction before the first FROM: %s", line)
		}
		stages[len(stages)-1] = append(stages[len(stages)-1], line)
	}
	if len(stages) < 2 {
		t.Fatalf("%d stage(s), want a build stage and a runtime stage", len(stages))
	}
	pinned := regexp.MustCompile(`^[a-z0-9./_-]+(:[a-z0-9._-]*[0-9][a-z0-9._-]*)?(@sha256:[0-9a-f]{64})?$`)
	for _, st := range stages {
		base := strings.Fields(st[0])[1]
		if base == "scratch" {
			continue
		}
		if !pinned.MatchString(base) || (!strings.Contains(base, "@sha256:") && !strings.Contains(base, ":")) || strings.Contains(base, ":latest") {
			t.Errorf("base image %s is not pinned to a version or a digest", base)
		}
	}
	for _, st := range stages {
		for _, in := range st {
			if strings.HasPrefix(strings.ToUpper(in), "ADD ") {
				t.Errorf("ADD is used (%s): COPY what the build needs, and never fetch a URL at build time", in)
			}
		}
	}
	if !strings.Contains(string(data), "CGO_ENABLED=0") {
		t.Error("the binary is not built with CGO_ENABLED=0 (static)")
	}
	final := stages[len(stages)-1]
	var user string
	var certs, entry bool
	for _, in := range final {
		f := strings.Fields(in)
		switch strings.ToUpper(f[0]) {
		case "USER":
			user = f[1]
		case "COPY":
			certs = certs || strings.Contains(in, "ca-certificates.crt")
		case "ENTRYPOINT":
			entry = strings.HasPrefix(strings.TrimSpace(strings.TrimPrefix(in, f[0])), "[")
		case "RUN":
			t.Errorf("the runtime stage runs a command (%s): it has no shell", in)
		}
	}
	if name, _, _ := strings.Cut(user, ":"); name == "" || name == "root" || name == "0" {
		t.Errorf("the final stage runs as %q, want an unprivileged user", user)
	}
	if !certs {
		t.Error("the final stage has no CA certificates")
	}
	if !entry {
		t.Error("ENTRYPOINT is not in exec form")
	}
}

// The compose example mounts the registration into the homeserver read-only, builds the
// bridge from this repository, and sets only config keys that exist (with the Dockerfile's).
func TestComposeExample(t *testing.T) {
	data, err := os.ReadFile("../docker-compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var compose struct {
		Services map[string]struct {
			Image       string            `yaml:"image"`
			Build       string            `yaml:"build"`
			Volumes     []string          `yaml:"volumes"`
			Environment map[string]string `yaml:"environment"`
		} `yaml:"services"`
	}
	if err = yaml.Unmarshal(data, &compose); err != nil {
		t.Fatal(err)
	}
	bridge, ok := compose.Services["telehealth-bridge"]
	if !ok || bridge.Build != "." {
		t.Fatalf("no telehealth-bridge service built from the repository: %+v", compose.Services)
	}
	hs, ok := compose.Services["synapse"]
	if !ok || !strings.Contains(strings.Join(hs.Volumes, "\n"), "registration.yaml:/bridge/registration.yaml:ro") {
		t.Errorf("the homeserver does not get the registration read-only: %+v", hs)
	}
	for name, svc := range compose.Services {
		if svc.Build == "" && (svc.Image == "" || !strings.Contains(svc.Image, ":") || strings.HasSuffix(svc.Image, ":latest")) {
			t.Errorf("service %s: image %q is not pinned", name, svc.Image)
		}
	}
	example, err := os.ReadFile("../config.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var tree map[string]any
	if err = yaml.Unmarshal(example, &tree); err != nil {
		t.Fatal(err)
	}
	keys := map[string]string{}
	for k := range bridge.Environment {
		keys[k] = "docker-compose.yaml"
	}
	dockerfile, _ := os.ReadFile("../Dockerfile")
	for _, k := range regexp.MustCompile(`TELEHEALTH_[A-Z0-9_]+`).FindAllString(string(dockerfile), -1) {
		keys[k] = "Dockerfile"
	}
	for env, file := range keys {
		path := strings.Split(strings.ToLower(strings.TrimPrefix(env, "TELEHEALTH_")), "__")
		var node any = tree
		for _, p := range path {
			m, _ := node.(map[string]any)
			node = m[p]
		}
		if node == nil {
			t.Errorf("%s sets %s, which is no config key", file, env)
		}
	}
}
