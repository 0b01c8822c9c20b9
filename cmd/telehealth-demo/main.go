// Command telehealth-demo runs the product on this machine: a local Dendrite homeserver, the
// bridge on SQLite, a demo clinician and a demo client, and prints how to use them.
// Everything listens on 127.0.0.1 and lives in ./demo-data, which each run starts afresh.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"go.mau.fi/util/random"
	"gopkg.in/yaml.v3"

	"github.com/telehealth-bridge/telehealth-bridge/config"
	"github.com/telehealth-bridge/telehealth-bridge/internal/app"
	"github.com/telehealth-bridge/telehealth-bridge/internal/homeserver"
	"github.com/telehealth-bridge/telehealth-bridge/internal/logging"
)

const serverName = "localhost"

func main() {
	dir := flag.String("dir", "demo-data", "directory for the demo's homeserver and bridge data (emptied first)")
	hsPort := flag.Int("hs-port", 8008, "homeserver port on 127.0.0.1 (a free one if taken)")
	flag.Parse()
	if err := run(*dir, *hsPort); err != nil {
		fmt.Fprintln(os.Stderr, "telehealth-demo:", err)
		os.Exit(1)
	}
}

func run(dir string, hsPort int) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	dir, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	if err = os.RemoveAll(dir); err != nil {
		return err
	}
	hsDir := filepath.Join(dir, "homeserver")
	if err = os.MkdirAll(hsDir, 0o755); err != nil {
		return err
	}
	if _, err = homeserver.EnsureDendrite(ctx, os.Stdout); err != nil {
		return err
	}

	hsPort = portOrFree(hsPort)
	asPort, webPort := portOrFree(29340), portOrFree(29341)
	configPath := filepath.Join(dir, "config.yaml")
	if err = writeConfig(configPath, hsPort, asPort, webPort); err != nil {
		return err
	}
	cfg, err := config.Load(configPath)
	if err != nil {
		return err
	}
	reg, err := cfg.GenerateRegistration()
	if err != nil {
		return err
	}
	regPath := filepath.Join(dir, "registration.yaml")
	if err = config.SaveRegistration(reg, regPath); err != nil {
		return err
	}

	hs, err := homeserver.Start(ctx, homeserver.Options{
		Dir: hsDir, ServerName: serverName, Registrations: []string{regPath}, Port: hsPort,
	})
	if err != nil {
		return err
	}
	defer hs.Stop()

	log, err := logging.New(cfg.Logging)
	if err != nil {
		return err
	}
	bridge, err := app.New(ctx, cfg, *log, app.Options{})
	if err != nil {
		return err
	}
	bridge.Matrix.RegistrationChecked = true
	if err = bridge.Start(ctx); err != nil {
		return err
	}
	defer func() {
		stopCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		bridge.Stop(stopCtx)
	}()

	clinicianPassword, clientPassword := random.String(12), random.String(12)
	if _, err = hs.RegisterUser(ctx, "clinician", clinicianPassword, false); err != nil {
		return err
	}
	if _, err = hs.RegisterUser(ctx, "client", clientPassword, false); err != nil {
		return err
	}

	fmt.Printf(`
telehealth-bridge demo is running (Ctrl-C stops it; data in %s)

  Homeserver      %s   (server name %q)
  Bridge bot      %s
  Clinician       @clinician:%s   password %s
  Client          @client:%s   password %s
  Clinician panel %s/panel   (sign in with the link the bot sends for !login)
  Bridge log      %s

Log in with any Matrix client (Element: "Edit" the homeserver, enter the URL above) as the
clinician, start a direct chat with the bot and send !help. To try a web-link guest:
  !schedule today 23:00 Europe/Paris "J. D." none
then open the panel (!login) and copy the participant's link.
`, dir, hs.URL, serverName, bridge.Matrix.Bot(), serverName, clinicianPassword,
		serverName, clientPassword, cfg.Web.PublicURL, filepath.Join(dir, "telehealth-bridge.log"))
	fmt.Print(dendriteLimits)

	<-ctx.Done()
	fmt.Println("\nStopping the demo...")
	return nil
}

// writeConfig writes the demo's bridge config: the example's defaults with local addresses.
func writeConfig(path string, hsPort, asPort, webPort int) error {
	tree := map[string]any{
		"homeserver": map[string]any{"address": fmt.Sprintf("http://127.0.0.1:%d", hsPort), "domain": serverName},
		"appservice": map[string]any{
			"address": fmt.Sprintf("http://127.0.0.1:%d", asPort), "hostname": "127.0.0.1", "port": asPort,
			"id": "telehealth", "bot": map[string]any{"username": "telehealthbot"},
			"as_token": config.Placeholder, "hs_token": config.Placeholder,
		},
		"database":    map[string]any{"type": "sqlite", "uri": "telehealth-bridge.db"},
		"web":         map[string]any{"public_url": fmt.Sprintf("http://127.0.0.1:%d", webPort), "hostname": "127.0.0.1", "port": webPort},
		"media":       map[string]any{"listen_ip": "127.0.0.1", "udp_port": 0},
		"permissions": map[string]any{serverName: "clinician"},
		"logging": map[string]any{"min_level": "info", "writers": []any{
			map[string]any{"type": "file", "format": "json", "filename": filepath.Join(filepath.Dir(path), "telehealth-bridge.log")},
		}},
	}
	data, err := yaml.Marshal(tree)
	if err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o600)
}

// portOrFree returns the port if nothing listens on it, else a free one.
func portOrFree(port int) int {
	if homeserver.PortFree(port) {
		return port
	}
	free, err := homeserver.FreePort()
	if err != nil {
		panic(errors.Join(errors.New("no free port"), err))
	}
	return free
}

// dendriteLimits says what the demo's homeserver cannot do for a client with a Matrix account,
// and what works instead (README, "Homeservers and the lobby").
const dendriteLimits = `
This demo's homeserver is Dendrite, which cannot run the lobby for a Matrix account in Element:
it has no /knock (Element's "Ask to join" fails), it never shows a knock or its decline to the
person who knocked, and it refuses the clinician's own Deny of a knock in Element. What works:
  - clients without a Matrix account: their web link (the panel shows it), knocking from the page;
  - a client booked with a Matrix account (like @client here): the clinician lets them in
    directly with !admit <session> <number> (an invite they accept in Element);
  - clinicians: !admit and !deny in the bot's chat, or the panel; Element's Approve works;
  - Element users who want to knock: a Synapse homeserver.
When a decline cannot reach the person, the bot says so in the clinician's chat.
`
