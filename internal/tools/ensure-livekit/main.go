// Command ensure-livekit builds the LiveKit server the LiveKit backend's tests run into the
// cache if it is not there yet, so that `make test` shows the one-time build instead of a
// silent pause in the first test.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/telehealth-bridge/telehealth-bridge/internal/lkserver"
)

func main() {
	bin, err := lkserver.Ensure(context.Background(), os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println("LiveKit server", lkserver.Version, "is", bin)
}
