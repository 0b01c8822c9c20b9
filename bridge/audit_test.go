package bridge_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/rs/zerolog"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"github.com/telehealth-bridge/telehealth-bridge/database"
)

// Every admission decision the service makes, and the session's life, is in the audit trail,
// with who made it and through which door; the chain holds.
func TestAdmissionDecisionsAreAudited(t *testing.T) {
	ctx := context.Background()
	db, err := database.Open(ctx, database.Config{Type: "sqlite", URI: filepath.Join(t.TempDir(), "bridge.db"), MaxOpenConns: 5, MaxIdleConns: 2}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	clock := clockwork.NewFakeClockAt(time.Date(2026, 11, 24, 13, 40, 0, 0, time.UTC))
	svc := bridge.New(bridge.Options{Store: db.Store(), Clock: clock, Bot: "@bot:hs", Audit: db.Audit})
	svc.Use(quietRooms{}, quietRooms{}, nil, nil)
	s, err := svc.Schedule(ctx, bridge.ScheduleRequest{
		Clinician: "@dr:hs", Start: clock.Now().Add(20 * time.Minute), End: clock.Now().Add(70 * time.Minute),
		TimeZone: "Europe/Paris", Participants: []bridge.ParticipantRequest{{Name: "Jane", MatrixID: "@jane:hs"}, {Name: "Mallory", MatrixID: "@mallory:hs"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	member := func(who, sender string, m string) {
		t.Helper()
		if err := svc.OnMembership(ctx, bridge.Membership{RoomID: s.RoomID, Target: who, Sender: sender, Membership: m, Reason: "J"}); err != nil {
			t.Fatalf("%s %s: %v", who, m, err)
		}
	}
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	panel := bridge.WithAuditVia(ctx, "panel")
	must(svc.Start(panel, "@dr:hs", s.ID))
	member("@jane:hs", "@jane:hs", bridge.MemberKnock)
	must(svc.Admit(panel, "@dr:hs", s.ID, "1"))
	member("@jane:hs", "@jane:hs", bridge.MemberJoin)
	must(svc.SendBack(panel, "@dr:hs", s.ID, "1"))
	member("@jane:hs", "@jane:hs", bridge.MemberKnock)
	must(svc.Deny(panel, "@dr:hs", s.ID, "1"))
	member("@jane:hs", "@jane:hs", bridge.MemberKnock)
	member("@jane:hs", "@dr:hs", bridge.MemberInvite) // admitted from Element
	member("@jane:hs", "@jane:hs", bridge.MemberJoin)
	must(svc.Remove(panel, "@dr:hs", s.ID, "1"))
	member("@mallory:hs", "@mallory:hs", bridge.MemberKnock)
	must(svc.Ban(panel, "@dr:hs", s.ID, "2"))
	must(svc.End(panel, "@dr:hs", s.ID))

	var got []string
	if _, err = db.Audit.Export(ctx, time.Time{}, clock.Now().Add(time.Hour), writerFunc(func(line []byte) {
		got = append(got, string(line))
	})); err != nil {
		t.Fatal(err)
	}
	want := []struct{ action, actor, subject, via string }{
		{"schedule", "@dr:hs", "", ""},
		{"start", "@dr:hs", "", "panel"},
		{"admit", "@dr:hs", "participant:1", "panel"},
		{"send_back", "@dr:hs", "participant:1", "panel"},
		{"deny", "@dr:hs", "participant:1", "panel"},
		{"admit", "@dr:hs", "participant:1", ""},
		{"remove", "@dr:hs", "participant:1", "panel"},
		{"ban", "@dr:hs", "participant:2", "panel"},
		{"end", "@dr:hs", "", "panel"},
	}
	if len(got) != len(want) {
		t.Fatalf("audit trail has %d rows, want %d:\n%s", len(got), len(want), strings.Join(got, ""))
	}
	for i, w := range want {
		line := got[i]
		for _, part := range []string{`"action":"` + w.action + `"`, `"actor":"` + w.actor + `"`, `"session_id":"` + s.ID + `"`} {
			if !strings.Contains(line, part) {
				t.Errorf("row %d: %s lacks %s", i+1, strings.TrimSpace(line), part)
			}
		}
		if w.subject != "" && !strings.Contains(line, `"subject":"`+w.subject+`"`) {
			t.Errorf("row %d: %s is not about %s", i+1, strings.TrimSpace(line), w.subject)
		}
		if w.via != "" && !strings.Contains(line, `"via":"`+w.via+`"`) {
			t.Errorf("row %d: %s does not say it came through the %s", i+1, strings.TrimSpace(line), w.via)
		}
		if strings.Contains(line, "Jane") || strings.Contains(line, "Mallory") {
			t.Errorf("row %d names a participant: %s", i+1, line)
		}
	}
	if n, broken, err := db.Audit.Verify(ctx); err != nil || broken != nil || n != int64(len(want)) {
		t.Errorf("verify: %d rows, break %v, err %v", n, broken, err)
	}
}

type writerFunc func([]byte)

func (f writerFunc) Write(p []byte) (int, error) {
	f(append([]byte(nil), p...))
	return len(p), nil
}
