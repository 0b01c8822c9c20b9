// Package homeserver builds and runs a real Dendrite homeserver on loopback, for the tests and
// the local demo. Dendrite comes from the Go module proxy, is built once into a cache directory
// outside the source tree (internal/gobuild), and runs with SQLite in a temporary directory.
package homeserver

import (
	"context"
	"io"

	"github.com/telehealth-bridge/telehealth-bridge/internal/gobuild"
)

// DendriteVersion is the Dendrite release the harness builds.
const DendriteVersion = "v0.15.2"

var dendrite = gobuild.Program{
	Name: "dendrite", Version: DendriteVersion, Module: "github.com/element-hq/dendrite",
	Commands: []string{"cmd/dendrite", "cmd/generate-keys", "cmd/create-account"},
	Takes:    "about 2 minutes on 2 cores",
}

// CacheDir is where the Dendrite binaries are built: $XDG_CACHE_HOME/telehealth-bridge/dendrite-<version>.
func CacheDir() (string, error) { return dendrite.Dir() }

// EnsureDendrite builds Dendrite into the cache unless it is there already, and returns the
// directory holding the binaries. Build output goes to progress.
func EnsureDendrite(ctx context.Context, progress io.Writer) (string, error) {
	return gobuild.Ensure(ctx, dendrite, progress)
}
