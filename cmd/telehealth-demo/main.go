// Command telehealth-demo runs the product on this machine: a local Dendrite homeserver, the
// bridge on SQLite, a demo clinician and a demo client, and a session starting in a few
// minutes; it prints the clinician's panel sign-in link and the client's link, so that both
// sides can be played in two browser windows with nothing else installed.
// Everything listens on 127.0.0.1 and lives in ./demo-data, which each run starts afresh.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"go.mau.fi/util/random"
	"gopkg.in/yaml.v3"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"github.com/telehealth-bridge/telehealth-bridge/config"
	"github.com/telehealth-bridge/telehealth-bridge/internal/app"
	"github.com/telehealth-bridge/telehealth-bridge/internal/homeserver"
	"github.com/telehealth-bridge/telehealth-bridge/internal/logging"
)

const serverName = "localhost"

func main() {
	dir := flag.String("dir", "demo-data", "directory for the demo's homeserver and bridge data (emptied first)")
	hsPort := flag.Int("hs-port", 8008, "homeserver port on 127.0.0.1 (a free one if taken)")
	startIn := flag.Duration("start-in", 5*time.Minute, "how soon the demo session starts")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, options{dir: *dir, hsPort: *hsPort, startIn: *startIn, out: os.Stdout}); err != nil {
		fmt.Fprintln(os.Stderr, "telehealth-demo:", err)
		os.Exit(1)
	}
}

// options are the demo's flags; out is where it tells the person what to do.
type options struct {
	dir     string
	hsPort  int
	startIn time.Duration
	out     io.Writer
}

// run runs the demo until ctx ends.
func run(ctx context.Context, opts options) error {
	dir, hsPort, out := opts.dir, opts.hsPort, opts.out
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
	if _, err = homeserver.EnsureDendrite(ctx, out); err != nil {
		return err
	}

	hsPort = portOrFree(hsPort)
	asPort, webPort := portOrFree(29340), portOrFree(29341)
	configPath := filepath.Join(dir, "config.yaml")
	zone := localZone()
	if err = writeConfig(configPath, hsPort, asPort, webPort, zone); err != nil {
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
	bridgeApp, err := app.New(ctx, cfg, *log, app.Options{})
	if err != nil {
		return err
	}
	bridgeApp.Matrix.RegistrationChecked = true
	if err = bridgeApp.Start(ctx); err != nil {
		return err
	}
	defer func() {
		stopCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		bridgeApp.Stop(stopCtx)
	}()

	clinicianPassword, clientPassword := random.String(12), random.String(12)
	clinician, err := hs.RegisterUser(ctx, "clinician", clinicianPassword, false)
	if err != nil {
		return err
	}
	if _, err = hs.RegisterUser(ctx, "client", clientPassword, false); err != nil {
		return err
	}
	try, err := bookTrySession(ctx, bridgeApp, hs.URL, clinician, zone, opts.startIn)
	if err != nil {
		return fmt.Errorf("booking the demo session: %w", err)
	}

	fmt.Fprintf(out, `
telehealth-bridge demo is running (Ctrl-C stops it; data in %s)

Try both sides now, with only a browser, in two windows (the second one private, or another
browser, so that the two people do not share a sign-in):

  1. The clinician: open this link, press "Sign in" (it works once, within 15 minutes):
       %s
  2. The client, %q, booked for %s (%s): open this link in the other window,
     press Join, allow the camera and microphone, confirm the name, and wait:
       %s
  3. Back as the clinician: the panel shows who waits. Start Session, then Admit them
     (Attendees). Both windows are in the call.

For Matrix as well:
  Homeserver      %s   (server name %q)
  Bridge bot      %s
  Clinician       @clinician:%s   password %s
  Client          @client:%s   password %s
  Clinician panel %s/panel   (a new sign-in link: send !login to the bot)
  Bridge log      %s

Log in with any Matrix client (Element: "Edit" the homeserver, enter the URL above) as the
clinician, start a direct chat with the bot and send !help.
`, dir, try.loginLink, try.clientName, try.start.In(try.zone).Format("15:04"), try.zone, try.guestLink,
		hs.URL, serverName, bridgeApp.Matrix.Bot(), serverName, clinicianPassword,
		serverName, clientPassword, cfg.Web.PublicURL, filepath.Join(dir, "telehealth-bridge.log"))
	fmt.Print(dendriteLimits)

	<-ctx.Done()
	fmt.Fprintln(out, "\nStopping the demo...")
	return nil
}

// trySession is the session the demo books so that both sides can be played at once.
type trySession struct {
	clientName string
	start      time.Time
	zone       *time.Location
	loginLink  string
	guestLink  string
}

// bookTrySession books a session for a web-link guest starting soon (its waiting room is
// open at once), puts the clinician in its room as Element would, and makes the clinician's
// one-time sign-in link and the guest's link.
func bookTrySession(ctx context.Context, a *app.App, hsURL string, clinician *homeserver.Registered, zone string, startIn time.Duration) (*trySession, error) {
	loc, err := time.LoadLocation(zone)
	if err != nil {
		return nil, err
	}
	start := time.Now().Add(startIn).Truncate(time.Minute).Add(time.Minute)
	try := &trySession{clientName: "Alex Demo", start: start, zone: loc}
	s, err := a.Sessions.Schedule(ctx, bridge.ScheduleRequest{
		Clinician: clinician.UserID, Start: start, End: start.Add(50 * time.Minute), TimeZone: zone,
		Participants: []bridge.ParticipantRequest{{Name: try.clientName, Locale: "en", TimeZone: zone, Invite: bridge.InviteNone}},
	})
	if err != nil {
		return nil, err
	}
	client, err := mautrix.NewClient(hsURL, id.UserID(clinician.UserID), clinician.AccessToken)
	if err != nil {
		return nil, err
	}
	client.DeviceID = id.DeviceID(clinician.DeviceID)
	if _, err = client.JoinRoomByID(ctx, id.RoomID(s.RoomID)); err != nil {
		return nil, fmt.Errorf("joining the clinician to the session's room: %w", err)
	}
	_, ps, err := a.Sessions.Lobby(ctx, clinician.UserID, s.ID)
	if err != nil {
		return nil, err
	}
	if try.guestLink, err = a.Web.ParticipantLink(ctx, s, ps[0]); err != nil {
		return nil, err
	}
	if try.loginLink, err = a.Web.LoginLink(ctx, clinician.UserID); err != nil {
		return nil, err
	}
	return try, nil
}

// localZone is this machine's IANA time zone (TZ, else /etc/localtime's target), or UTC.
func localZone() string {
	candidates := []string{strings.TrimPrefix(os.Getenv("TZ"), ":")}
	if target, err := os.Readlink("/etc/localtime"); err == nil {
		if _, after, ok := strings.Cut(target, "zoneinfo/"); ok {
			candidates = append(candidates, after)
		}
	}
	for _, z := range candidates {
		if z == "" || z == "Local" {
			continue
		}
		if _, err := time.LoadLocation(z); err == nil {
			return z
		}
	}
	return "UTC"
}

// writeConfig writes the demo's bridge config: the example's defaults with local addresses.
func writeConfig(path string, hsPort, asPort, webPort int, zone string) error {
	tree := map[string]any{
		"homeserver": map[string]any{"address": fmt.Sprintf("http://127.0.0.1:%d", hsPort), "domain": serverName},
		"appservice": map[string]any{
			"address": fmt.Sprintf("http://127.0.0.1:%d", asPort), "hostname": "127.0.0.1", "port": asPort,
			"id": "telehealth", "bot": map[string]any{"username": "telehealthbot"},
			"as_token": config.Placeholder, "hs_token": config.Placeholder,
		},
		"database":      map[string]any{"type": "sqlite", "uri": "telehealth-bridge.db"},
		"web":           map[string]any{"public_url": fmt.Sprintf("http://127.0.0.1:%d", webPort), "hostname": "127.0.0.1", "port": webPort},
		"media":         map[string]any{"listen_ip": "127.0.0.1", "udp_port": 0},
		"permissions":   map[string]any{serverName: "clinician"},
		"notifications": map[string]any{"clinic_time_zone": zone},
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
