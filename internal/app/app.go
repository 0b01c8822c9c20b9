// Package app wires the bridge together from its configuration: database, Matrix side and,
// as they arrive, the scheduler, the SFU and the web pages. cmd/telehealth-bridge and the demo
// both run it.
package app

import (
	"context"
	"fmt"

	"github.com/rs/zerolog"

	"github.com/telehealth-bridge/telehealth-bridge/appservice"
	"github.com/telehealth-bridge/telehealth-bridge/config"
	"github.com/telehealth-bridge/telehealth-bridge/database"
)

// App is a running bridge.
type App struct {
	Config *config.Config
	Log    zerolog.Logger
	DB     *database.Database
	Matrix *appservice.Connector
}

// New opens the database and prepares every part; nothing is served yet.
func New(ctx context.Context, cfg *config.Config, log zerolog.Logger) (*App, error) {
	if err := cfg.CheckTokens(); err != nil {
		return nil, err
	}
	db, err := database.Open(ctx, database.Config{
		Type:         cfg.Database.Type,
		URI:          cfg.Database.URI,
		MaxOpenConns: cfg.Database.MaxOpenConns,
		MaxIdleConns: cfg.Database.MaxIdleConns,
	}, log.With().Str("component", "database").Logger())
	if err != nil {
		return nil, err
	}
	matrix, err := appservice.New(cfg, db, log)
	if err != nil {
		_ = db.Close()
		return nil, err
	}
	return &App{Config: cfg, Log: log, DB: db, Matrix: matrix}, nil
}

// Start connects to the homeserver and starts serving.
func (a *App) Start(ctx context.Context) error {
	if err := a.Matrix.Start(ctx); err != nil {
		return fmt.Errorf("starting the Matrix side: %w", err)
	}
	return nil
}

// Stop stops serving, lets running handlers finish and closes the database.
func (a *App) Stop(ctx context.Context) {
	a.Matrix.Stop(ctx)
	_ = a.DB.Close()
}
