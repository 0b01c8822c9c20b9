package metrics

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// UDPDrops is the number of datagrams the kernel dropped because the receive buffer of the
// UDP socket bound to port was full (the last column of /proc/net/udp and udp6). It reads
// the socket from outside: the SFU's packet path is untouched. ok is false where there is no
// /proc (not Linux) or no socket on that port.
func UDPDrops(port int) (drops uint64, ok bool) {
	want := fmt.Sprintf(":%04X", port)
	for _, path := range []string{"/proc/net/udp", "/proc/net/udp6"} {
		f, err := os.Open(path)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(f)
		sc.Scan() // the header
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			// sl local_address rem_address st tx:rx tr:tm retrnsmt uid timeout inode ref pointer drops
			if len(fields) < 13 || !strings.HasSuffix(fields[1], want) {
				continue
			}
			if n, err := strconv.ParseUint(fields[len(fields)-1], 10, 64); err == nil {
				drops += n
				ok = true
			}
		}
		_ = f.Close()
	}
	return drops, ok
}
