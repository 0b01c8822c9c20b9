// Command sfu-serve is the SFU process of the load tests (cmd/sfu-loadtest starts it): the
// bridge's SFU alone on loopback, announced by a line READY <ws url> <stats url>.
package main

import (
	"fmt"
	"os"

	"github.com/telehealth-bridge/telehealth-bridge/internal/sfuproc"
)

func main() {
	if err := sfuproc.ServeSFU(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
