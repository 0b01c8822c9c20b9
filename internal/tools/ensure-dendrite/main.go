// Command ensure-dendrite builds the test homeserver into the cache if it is not there yet, so
// that `make test` shows the one-time build instead of a silent pause in the first test.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/telehealth-bridge/telehealth-bridge/internal/homeserver"
)

func main() {
	dir, err := homeserver.EnsureDendrite(context.Background(), os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println("Dendrite", homeserver.DendriteVersion, "is in", dir)
}
