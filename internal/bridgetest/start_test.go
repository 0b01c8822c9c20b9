package bridgetest_test

import (
	"fmt"
	"net"
	"testing"

	"github.com/telehealth-bridge/telehealth-bridge/internal/bridgetest"
)

// TestStartTakesAnotherWebPort: a web port taken between New and Start (by another test binary
// running beside this one) does not fail the test: the bridge starts on another.
func TestStartTakesAnotherWebPort(t *testing.T) {
	env := bridgetest.New(t, bridgetest.Options{})
	taken, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", env.Config.Web.Port))
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	before := env.Config.Web.Port
	env.Start(t)
	if env.Config.Web.Port == before {
		t.Fatalf("the bridge says it serves on %d, the port someone else holds", before)
	}
	conn, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", env.Config.Web.Port))
	if err != nil {
		t.Fatalf("nothing serves the pages on the new port: %v", err)
	}
	conn.Close()
}
