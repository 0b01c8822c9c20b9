package app

import (
	"fmt"
	"strings"
	"testing"
)

// The clinician in the call page (SFU) and in Element Call on two devices (LiveKit): present
// once, absent only when the last connection goes.
func TestPresenceMerge(t *testing.T) {
	var got []string
	m := newPresenceMerge(func(sessionID, userID string, host, present bool) {
		got = append(got, fmt.Sprintf("%s %s %v %v", sessionID, userID, host, present))
	})
	m.fromSFU("s1", "@dr:x", true, true)
	m.fromLiveKit("s1", "@dr:x", "phone", true, true)
	m.fromLiveKit("s1", "@dr:x", "laptop", true, true)
	m.fromSFU("s1", "@dr:x", true, false)
	m.fromLiveKit("s1", "@dr:x", "phone", true, false)
	m.fromLiveKit("s2", "@pat:x", "p", false, true) // another session, another person
	m.fromLiveKit("s1", "@dr:x", "laptop", true, false)
	m.fromLiveKit("s1", "@dr:x", "laptop", true, false) // a repeated webhook changes nothing
	want := "s1 @dr:x true true|s2 @pat:x false true|s1 @dr:x true false"
	if strings.Join(got, "|") != want {
		t.Errorf("passed on:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.ReplaceAll(want, "|", "\n"))
	}
	if len(m.sfu) != 0 || len(m.lk) != 1 {
		t.Errorf("left behind: %v %v", m.sfu, m.lk)
	}
}
