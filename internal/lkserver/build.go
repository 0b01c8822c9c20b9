// Package lkserver builds and runs a real LiveKit server on loopback, for the tests of the
// LiveKit media backend. LiveKit comes from the Go module proxy, is built once into a cache
// directory outside the source tree, and runs in development mode with a generated API key.
package lkserver

import (
	"context"
	"io"
	"path/filepath"

	"github.com/telehealth-bridge/telehealth-bridge/internal/gobuild"
)

// Version is the LiveKit server release the harness builds. Later 1.13 releases need a
// golang.org/x/exp version the module proxy here refuses.
const Version = "v1.13.5"

const binName = "livekit-server"

var livekit = gobuild.Program{
	Name: "livekit", Version: Version, Module: "github.com/livekit/livekit-server",
	Commands: []string{"cmd/server"}, Binary: binName, Takes: "about 3 minutes on 2 cores",
}

// CacheDir is where the binary is built: $XDG_CACHE_HOME/telehealth-bridge/livekit-<version>.
func CacheDir() (string, error) { return livekit.Dir() }

// Ensure builds the LiveKit server into the cache unless it is there already, and returns the
// path of the binary. Build output goes to progress.
func Ensure(ctx context.Context, progress io.Writer) (string, error) {
	dir, err := gobuild.Ensure(ctx, livekit, progress)
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, binName), nil
}
