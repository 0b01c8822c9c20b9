package database_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"github.com/telehealth-bridge/telehealth-bridge/database"
	"github.com/telehealth-bridge/telehealth-bridge/internal/dbtest"
)

func sampleSession(id string, start time.Time) (*bridge.Session, []*bridge.Participant) {
	now := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	s := &bridge.Session{
		ID: id, Clinician: "@dr:hs", Start: start, End: start.Add(50 * time.Minute), TimeZone: "Europe/Paris",
		Kind: bridge.KindVideo, Status: bridge.StatusScheduled, Policy: bridge.PolicyManual, CreatedAt: now, UpdatedAt: now,
	}
	ps := []*bridge.Participant{
		{Number: 1, Name: "Jane Doe", MatrixID: "@jane:hs", Locale: "en", TimeZone: "America/New_York", Invite: bridge.InviteEmail, Email: "jane@example.org", State: bridge.StateBooked, UpdatedAt: now},
		{Number: 2, Name: "JR", Locale: "fr", TimeZone: "Europe/Paris", Invite: bridge.InviteSMS, Phone: "+33612345678", State: bridge.StateBooked, UpdatedAt: now},
	}
	return s, ps
}

func TestSessionStorage(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.Database) {
		ctx := context.Background()
		store := db.Store()
		start := time.Date(2026, 11, 24, 14, 0, 0, 0, time.UTC)
		s, ps := sampleSession("abc234", start)
		if err := store.InsertSession(ctx, s, ps); err != nil {
			t.Fatal(err)
		}
		if ps[0].ID == 0 || ps[1].ID == 0 || ps[0].ID == ps[1].ID {
			t.Fatalf("participant IDs not set: %d %d", ps[0].ID, ps[1].ID)
		}
		got, err := store.GetSession(ctx, "abc234")
		if err != nil {
			t.Fatal(err)
		}
		if !got.Start.Equal(start) || got.TimeZone != "Europe/Paris" || got.RoomID != "" || got.Status != bridge.StatusScheduled {
			t.Errorf("read back %+v", got)
		}
		if _, err = store.GetSession(ctx, "nope"); !errors.Is(err, bridge.ErrNotFound) {
			t.Errorf("missing session: %v", err)
		}

		got.RoomID, got.Status, got.ClinicianPresent, got.Revision, got.LobbyMessage = "!room:hs", bridge.StatusLive, true, 2, "Running 5 minutes late"
		if err = store.UpdateSession(ctx, got); err != nil {
			t.Fatal(err)
		}
		byRoom, err := store.GetSessionByRoom(ctx, "!room:hs")
		if err != nil || byRoom.ID != "abc234" || !byRoom.ClinicianPresent || byRoom.Revision != 2 || byRoom.LobbyMessage != "Running 5 minutes late" {
			t.Fatalf("by room: %+v %v", byRoom, err)
		}

		loaded, err := store.Participants(ctx, "abc234")
		if err != nil || len(loaded) != 2 {
			t.Fatalf("participants: %v %v", loaded, err)
		}
		if loaded[0].MatrixID != "@jane:hs" || loaded[1].MatrixID != "" || loaded[1].Phone != "+33612345678" || loaded[0].Invite != bridge.InviteEmail {
			t.Errorf("participants read back wrong: %+v %+v", loaded[0], loaded[1])
		}
		p := loaded[0]
		p.State, p.KnockName, p.AdmittedBy, p.AdmittedAt = bridge.StateAdmitted, "Jane", "@dr:hs", start
		if err = store.UpdateParticipant(ctx, p); err != nil {
			t.Fatal(err)
		}
		added := &bridge.Participant{SessionID: "abc234", Name: "Guest", Locale: "en", TimeZone: "UTC", Invite: bridge.InviteNone, State: bridge.StateBooked, UpdatedAt: start}
		if err = store.AddParticipant(ctx, added); err != nil || added.Number != 3 {
			t.Fatalf("added participant number %d err %v", added.Number, err)
		}
		loaded, _ = store.Participants(ctx, "abc234")
		if loaded[0].State != bridge.StateAdmitted || !loaded[0].AdmittedAt.Equal(start) || loaded[0].KnockName != "Jane" || len(loaded) != 3 {
			t.Errorf("update lost: %+v", loaded[0])
		}

		if err = store.LogLobby(ctx, bridge.LobbyEntry{SessionID: "abc234", ParticipantID: p.ID, Action: bridge.ActAdmit, Actor: "@dr:hs", At: start}); err != nil {
			t.Fatal(err)
		}
		log, err := db.LobbyLog.ForSession(ctx, "abc234")
		if err != nil || len(log) != 1 || log[0].Actor != "@dr:hs" || log[0].Action != bridge.ActAdmit || !log[0].At.Equal(start) {
			t.Errorf("lobby log: %+v %v", log, err)
		}
	})
}

func TestSessionLists(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.Database) {
		ctx := context.Background()
		store := db.Store()
		base := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
		for i, id := range []string{"late22", "early2", "done22", "mid222"} {
			s, ps := sampleSession(id, base.Add(time.Duration([]int{5, 1, 0, 3}[i])*time.Hour))
			if id == "done22" {
				s.Status = bridge.StatusEnded
			}
			if err := store.InsertSession(ctx, s, ps[:1]); err != nil {
				t.Fatal(err)
			}
		}
		active, err := store.ActiveSessions(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, s := range active {
			ids = append(ids, s.ID)
		}
		if len(ids) != 3 || ids[0] != "early2" || ids[1] != "mid222" || ids[2] != "late22" {
			t.Errorf("active sessions %v, want next first without the ended one", ids)
		}
		upcoming, err := store.ClinicianSessions(ctx, "@dr:hs", base.Add(3*time.Hour+55*time.Minute))
		if err != nil || len(upcoming) != 1 || upcoming[0].ID != "late22" {
			t.Errorf("upcoming after 12:55: %v %v", upcoming, err)
		}
		if other, _ := store.ClinicianSessions(ctx, "@other:hs", base); len(other) != 0 {
			t.Errorf("another clinician sees %d sessions", len(other))
		}
	})
}
