package metrics

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
)

// UDPDrops counts the datagrams the kernel dropped because the receive buffer of a UDP socket
// on a port was full (the last column of /proc/net/udp and udp6): the SFU's shared socket and
// its connections' own sockets on the same port. It reads the sockets from outside: the SFU's
// packet path is untouched. A socket's drops leave /proc with the socket, so the counter
// keeps those of the sockets gone (by inode) and never goes down.
type UDPDrops struct {
	Port int

	mu      sync.Mutex
	last    map[string]uint64 // drops by socket inode, at the last read
	retired uint64            // drops of sockets gone since
}

// Read returns the drops so far; ok is false where there is no /proc (not Linux) or no socket
// on the port.
func (u *UDPDrops) Read() (drops uint64, ok bool) {
	var files []io.Reader
	for _, path := range []string{"/proc/net/udp", "/proc/net/udp6"} {
		f, err := os.Open(path)
		if err != nil {
			continue
		}
		defer f.Close()
		files = append(files, f)
	}
	return u.read(files...)
}

func (u *UDPDrops) read(tables ...io.Reader) (uint64, bool) {
	want := fmt.Sprintf(":%04X", u.Port)
	now := map[string]uint64{}
	for _, table := range tables {
		sc := bufio.NewScanner(table)
		sc.Scan() // the header
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			// sl local_address rem_address st tx:rx tr:tm retrnsmt uid timeout inode ref pointer drops
			if len(fields) < 13 || !strings.HasSuffix(fields[1], want) {
				continue
			}
			if n, err := strconv.ParseUint(fields[len(fields)-1], 10, 64); err == nil {
				now[fields[9]] = n
			}
		}
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	for inode, n := range u.last {
		if _, open := now[inode]; !open {
			u.retired += n
		}
	}
	u.last = now
	total := u.retired
	for _, n := range now {
		total += n
	}
	return total, len(now) > 0 || u.retired > 0
}
