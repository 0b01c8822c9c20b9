package metrics

import (
	"strings"
	"testing"
)

// TestUDPDropsNeverGoDown: the kernel's drops are summed over every socket on the SFU's port
// (the shared one and the connections' own), and those of a socket that closed are kept.
func TestUDPDropsNeverGoDown(t *testing.T) {
	const header = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n"
	line := func(local, remote, inode, drops string) string {
		return "  1: " + local + " " + remote + " 07 00000000:00000000 00:00000000 00000000     0        0 " + inode + " 2 0000000000000000 " + drops + "\n"
	}
	shared := func(drops string) string { return line("0100007F:7266", "00000000:0000", "100", drops) }
	own := func(inode, drops string) string { return line("0100007F:7266", "0100007F:A000", inode, drops) }
	other := line("0100007F:1F90", "00000000:0000", "300", "50") // another port
	u := &UDPDrops{Port: 0x7266}
	for _, step := range []struct {
		table string
		want  uint64
	}{
		{shared("5") + own("101", "3") + other, 8},
		{shared("6") + other, 9}, // 101 closed: its 3 are kept
		{shared("6") + own("102", "1") + other, 10},
		{"", 10},
	} {
		got, ok := u.read(strings.NewReader(header + step.table))
		if !ok || got != step.want {
			t.Fatalf("drops %d (%v), want %d, after\n%s", got, ok, step.want, step.table)
		}
	}
	if _, ok := (&UDPDrops{Port: 1}).read(strings.NewReader(header + other)); ok {
		t.Error("drops reported for a port nobody listens on")
	}
}
