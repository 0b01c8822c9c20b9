// Command telehealth-bridge runs the telehealth Matrix application service.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/signal"
	"syscall"
	"time"

	telehealthbridge "github.com/telehealth-bridge/telehealth-bridge"
	"github.com/telehealth-bridge/telehealth-bridge/config"
	"github.com/telehealth-bridge/telehealth-bridge/internal/app"
	"github.com/telehealth-bridge/telehealth-bridge/internal/auditcmd"
	"github.com/telehealth-bridge/telehealth-bridge/internal/logging"
)

func main() {
	configPath := flag.String("c", "config.yaml", "path to the config file")
	registrationPath := flag.String("r", "registration.yaml", "path to the appservice registration file")
	generate := flag.Bool("g", false, "generate the registration with fresh tokens (also written into the config) and exit")
	writeExample := flag.Bool("e", false, "write the example config to the -c path and exit")
	version := flag.Bool("version", false, "print the version and exit")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: telehealth-bridge [flags] [audit ...]\n")
		flag.PrintDefaults()
		fmt.Fprintln(flag.CommandLine.Output(), auditcmd.Usage)
	}
	flag.Parse()

	if err := run(*configPath, *registrationPath, *generate, *writeExample, *version, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "telehealth-bridge:", err)
		os.Exit(1)
	}
}

func run(configPath, registrationPath string, generate, writeExample, version bool, args []string) error {
	switch {
	case version:
		v, commit := buildVersion()
		fmt.Printf("telehealth-bridge %s (commit %s)\n", v, commit)
		return nil
	case writeExample:
		if _, err := os.Stat(configPath); err == nil {
			return fmt.Errorf("%s exists already; remove it first or pick another path with -c", configPath)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		if err := os.WriteFile(configPath, []byte(telehealthbridge.ExampleConfig), 0o600); err != nil {
			return err
		}
		fmt.Printf("Wrote the example config to %s: edit it, then run with -g to generate the registration.\n", configPath)
		return nil
	}

	cfg, err := config.Load(configPath)
	if err != nil {
		return err
	}
	if len(args) > 0 {
		if args[0] != "audit" {
			return fmt.Errorf("unknown command %q (the one command is audit)\n%s", args[0], auditcmd.Usage)
		}
		return auditcmd.Run(context.Background(), cfg, args[1:], os.Stdout)
	}
	if generate {
		reg, err := cfg.GenerateRegistration()
		if err != nil {
			return err
		}
		if err = config.SaveRegistration(reg, registrationPath); err != nil {
			return err
		}
		fmt.Printf("Wrote %s and the new tokens into %s.\nGive %s to the homeserver and restart it.\n",
			registrationPath, configPath, registrationPath)
		return nil
	}
	if err = cfg.CheckTokens(); err != nil {
		return err
	}
	if err = cfg.CheckRegistration(registrationPath); err != nil {
		return err
	}
	log, err := logging.New(cfg.Logging)
	if err != nil {
		return fmt.Errorf("%s: %w", configPath, err)
	}
	v, commit := buildVersion()
	log.Info().Str("version", v).Str("commit", commit).Msg("Starting telehealth-bridge")

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	bridge, err := app.New(ctx, cfg, *log, app.Options{Version: v, Commit: commit})
	if err != nil {
		return err
	}
	_, statErr := os.Stat(registrationPath)
	bridge.Matrix.RegistrationChecked = statErr == nil
	if err = bridge.Start(ctx); err != nil {
		shutdown(bridge)
		return err
	}
	log.Info().Str("version", v).Str("commit", commit).Msg("telehealth-bridge is running")
	<-ctx.Done()
	log.Info().Msg("Stopping")
	shutdown(bridge)
	return nil
}

func shutdown(bridge *app.App) {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	bridge.Stop(ctx)
}
