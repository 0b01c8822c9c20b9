package database_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"go.mau.fi/util/dbutil"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"github.com/telehealth-bridge/telehealth-bridge/database"
	"github.com/telehealth-bridge/telehealth-bridge/database/upgrades"
	"github.com/telehealth-bridge/telehealth-bridge/internal/dbtest"
)

func names(cs []*bridge.Client) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.DisplayName)
	}
	return out
}

func TestClientStorage(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.Database) {
		ctx := context.Background()
		store := db.Store()
		now := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
		anna := &bridge.Client{DisplayName: "Anna Martin", PreferredName: "Élise", Emails: []string{"anna@example.org", "a.m@example.org"},
			Phones: []string{"+33612345678"}, Locale: "fr", TimeZone: "Europe/Paris", Professionals: []string{"@dr:hs"},
			Reminders: bridge.RemindSMS, CreatedAt: now, UpdatedAt: now}
		// Léo shares Anna's first email (a parent's): another person, another record.
		leo := &bridge.Client{DisplayName: "Léo Martin", Emails: []string{"anna@example.org"}, Locale: "fr", TimeZone: "Europe/Paris",
			Reminders: bridge.RemindEmail, CreatedAt: now, UpdatedAt: now}
		for _, c := range []*bridge.Client{anna, leo} {
			if err := store.InsertClient(ctx, c); err != nil {
				t.Fatal(err)
			}
		}
		got, err := store.GetClient(ctx, anna.ID)
		if err != nil {
			t.Fatal(err)
		}
		// The portal signs in by contact only the one person who holds it: the shared email
		// gives both records (and the sign-in treats it as unknown), Anna's own only hers.
		for contact, want := range map[string]string{"anna@example.org": fmt.Sprint([]int64{anna.ID, leo.ID}),
			"a.m@example.org": fmt.Sprint([]int64{anna.ID}), "+33612345678": fmt.Sprint([]int64{anna.ID}), "nobody@example.org": "[]"} {
			ids, err := db.Client.ByContact(ctx, contact)
			if err != nil || fmt.Sprint(ids) != want {
				t.Errorf("ByContact(%s) = %v %v, want %s", contact, ids, err, want)
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(anna) {
			t.Errorf("read back\n%+v\nwant\n%+v", got, anna)
		}
		if _, err = store.GetClient(ctx, 999999); !errors.Is(err, bridge.ErrClientNotFound) {
			t.Errorf("unknown client: %v", err)
		}

		search := func(clinician, prefix string) []string {
			t.Helper()
			cs, err := store.SearchClients(ctx, bridge.ClientQuery{Clinician: clinician, Prefix: prefix})
			if err != nil {
				t.Fatal(err)
			}
			return names(cs)
		}
		for _, c := range []struct {
			clinician, prefix string
			want              []string
		}{
			{"", "", []string{"Anna Martin", "Léo Martin"}},
			{"", "mart", []string{"Anna Martin", "Léo Martin"}},  // any word of the name
			{"", "élise", []string{"Anna Martin"}},               // the preferred name, Unicode case
			{"", "ÉLI", []string{"Anna Martin"}},                 // the query's case
			{"", "anna@", []string{"Anna Martin", "Léo Martin"}}, // an email prefix: both share it
			{"", "a.m@", []string{"Anna Martin"}},                // the second email
			{"", "+33 6 12", []string{"Anna Martin"}},            // a phone prefix, as people write it
			{"", "33612", []string{"Anna Martin"}},               // without the +
			{"", "nna", nil},                                     // not the start of a word
			{"", "%", nil},                                       // LIKE characters are literal
			{"@dr:hs", "", []string{"Anna Martin"}},              // assigned
			{"@other:hs", "", nil},                               // neither assigned nor booked
			{"@other:hs", "anna", nil},
		} {
			if got := search(c.clinician, c.prefix); !slices.Equal(got, c.want) {
				t.Errorf("search %q as %q: %q, want %q", c.prefix, c.clinician, got, c.want)
			}
		}

		// Booking Léo makes him visible to the booking clinician, and the session is his.
		s, ps := sampleSession("cli234", now.Add(48*time.Hour))
		s.Clinician = "@other:hs"
		ps[0].ClientID = leo.ID
		if err = store.InsertSession(ctx, s, ps[:1]); err != nil {
			t.Fatal(err)
		}
		if got := search("@other:hs", ""); !slices.Equal(got, []string{"Léo Martin"}) {
			t.Errorf("after booking Léo, @other:hs sees %q", got)
		}
		for _, c := range []struct {
			id        int64
			clinician string
			want      bool
		}{{leo.ID, "@other:hs", true}, {anna.ID, "@other:hs", false}, {anna.ID, "@dr:hs", true}, {leo.ID, "@dr:hs", false}} {
			if ok, err := store.ClientVisibleTo(ctx, c.id, c.clinician); err != nil || ok != c.want {
				t.Errorf("client %d visible to %s: %v (%v), want %v", c.id, c.clinician, ok, err, c.want)
			}
		}
		sessions, err := store.ClientSessions(ctx, leo.ID)
		if err != nil || len(sessions) != 1 || sessions[0].ID != "cli234" {
			t.Errorf("Léo's sessions: %v, %v", sessions, err)
		}
		back, _ := store.Participants(ctx, "cli234")
		if len(back) != 1 || back[0].ClientID != leo.ID {
			t.Errorf("participant's client: %+v", back)
		}
		if err = store.LinkParticipant(ctx, back[0].ID, anna.ID); err != nil {
			t.Fatal(err)
		}
		if back, _ = store.Participants(ctx, "cli234"); back[0].ClientID != anna.ID {
			t.Errorf("linked participant's client: %d", back[0].ClientID)
		}

		// An update replaces the contacts and the professionals.
		anna.Emails, anna.Phones, anna.Professionals = []string{"anna.new@example.org"}, nil, []string{"@a:hs", "@b:hs"}
		anna.PreferredName, anna.PortalEnabled, anna.UpdatedAt = "", true, now.Add(time.Hour)
		if err = store.UpdateClient(ctx, anna); err != nil {
			t.Fatal(err)
		}
		got, _ = store.GetClient(ctx, anna.ID)
		if fmt.Sprint(got) != fmt.Sprint(anna) {
			t.Errorf("after the update\n%+v\nwant\n%+v", got, anna)
		}
		if got := search("", "élise"); got != nil {
			t.Errorf("the old preferred name still finds %q", got)
		}
		if got := search("", "+336"); got != nil {
			t.Errorf("the old phone still finds %q", got)
		}
		if err = store.UpdateClient(ctx, &bridge.Client{ID: 999999, DisplayName: "No One"}); !errors.Is(err, bridge.ErrClientNotFound) {
			t.Errorf("updating an unknown client: %v", err)
		}
	})
}

// TestMigrationTurnsParticipantsIntoClients upgrades a v7 database holding bookings and checks
// the records it makes: one per person as each clinician booked them, never one for two
// people who share a contact.
func TestMigrationTurnsParticipantsIntoClients(t *testing.T) {
	for _, kind := range dbtest.Kinds {
		t.Run(kind, func(t *testing.T) {
			ctx := context.Background()
			cfg := dbtest.Config(t, kind)
			uri := cfg.URI
			if kind == "sqlite" {
				uri = "file:" + uri + "?_pragma=foreign_keys(1)"
			}
			raw, err := dbutil.NewFromConfig("test", dbutil.Config{PoolConfig: dbutil.PoolConfig{Type: cfg.Type, URI: uri, MaxOpenConns: 1, MaxIdleConns: 1}}, dbutil.ZeroLogger(zerolog.Nop()))
			if err != nil {
				t.Fatal(err)
			}
			db := database.New(raw)
			defer db.Close()
			const before = 7 // the schema this migration starts from
			db.UpgradeTable = upgrades.Table[:before]
			if err = db.Database.Upgrade(ctx); err != nil {
				t.Fatal(err)
			}
			created := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
			sessions := 0
			book := func(clinician, name, email, phone string, matrixID any, invite string) int64 {
				t.Helper()
				sessions++
				s := &bridge.Session{ID: fmt.Sprintf("mig%03d", sessions), Clinician: clinician, Start: created.Add(time.Duration(sessions) * 24 * time.Hour),
					TimeZone: "Europe/Paris", Kind: bridge.KindVideo, Status: bridge.StatusEnded, Policy: bridge.PolicyManual,
					CreatedAt: created.Add(time.Duration(sessions) * time.Hour), UpdatedAt: created}
				s.End = s.Start.Add(time.Hour)
				if err := db.Session.Insert(ctx, s); err != nil {
					t.Fatal(err)
				}
				var id int64
				err := db.QueryRow(ctx, `INSERT INTO telehealth_participant (session_id, number, name, matrix_id, email, phone,
					locale, time_zone, invite, state, updated_at) VALUES ($1, 1, $2, $3, $4, $5, 'fr', 'Europe/Paris', $6, 'left', $7) RETURNING id`,
					s.ID, name, matrixID, email, phone, invite, created.Add(time.Duration(sessions)*time.Minute).UnixMilli()).Scan(&id)
				if err != nil {
					t.Fatal(err)
				}
				return id
			}
			const dr, other = "@dr:hs", "@other:hs"
			// Anna, three times with Dr: email, then email and phone (case differs), then phone only: one person.
			anna1 := book(dr, "Anna Martin", "anna@example.org", "", nil, "email")
			anna2 := book(dr, "anna martin", "anna@example.org", "+33612345678", nil, "email")
			anna3 := book(dr, "Anna Martin", "", "+33612345678", nil, "sms")
			// Élodie, with an accented capital: found by her name in lower case.
			elodie := book(dr, "Élodie Roux", "elodie@example.org", "", nil, "email")
			// Her brother and sister with their parent's email and phone: two more people.
			leo := book(dr, "Léo Martin", "anna@example.org", "+33612345678", nil, "email")
			emma := book(dr, "Emma Martin", "anna@example.org", "", nil, "email")
			// Another Anna Martin, with another contact: someone else.
			annaB := book(dr, "Anna Martin", "other.anna@example.org", "", nil, "email")
			// The same Anna booked by another clinician: that clinician's own record.
			annaOther := book(other, "Anna Martin", "anna@example.org", "", nil, "none")
			// Twice with no contact at all: nothing says it is one person.
			tom1 := book(dr, "Tom", "", "", nil, "none")
			tom2 := book(dr, "Tom", "", "", nil, "none")
			// A Matrix user booked twice: the account is the contact.
			mx1 := book(dr, "Max", "", "", "@max:hs", "none")
			mx2 := book(dr, "Max", "", "", "@max:hs", "none")

			db.UpgradeTable = upgrades.Table
			if err = db.Upgrade(ctx); err != nil {
				t.Fatalf("upgrading from v%d: %v", before, err)
			}
			clientOf := map[int64]int64{}
			rows, err := db.Query(ctx, `SELECT id, client_id FROM telehealth_participant`)
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var id, client int64
				if err = rows.Scan(&id, &client); err != nil {
					t.Fatal(err)
				}
				clientOf[id] = client
			}
			_ = rows.Close()
			same := func(what string, a, b int64, want bool) {
				t.Helper()
				if (clientOf[a] == clientOf[b]) != want || clientOf[a] == 0 {
					t.Errorf("%s: participants %d and %d have clients %d and %d", what, a, b, clientOf[a], clientOf[b])
				}
			}
			same("Anna's bookings", anna1, anna2, true)
			same("Anna's bookings", anna2, anna3, true)
			same("Anna and her brother", anna2, leo, false)
			same("Anna and her sister", anna1, emma, false)
			same("the siblings", leo, emma, false)
			same("two Annas", anna1, annaB, false)
			same("Anna with another clinician", anna1, annaOther, false)
			same("Tom's bookings without contacts", tom1, tom2, false)
			same("a Matrix user's bookings", mx1, mx2, true)
			if n := len(slices.Compact(slices.Sorted(func(yield func(int64) bool) {
				for _, c := range clientOf {
					if !yield(c) {
						return
					}
				}
			}))); n != 9 {
				t.Errorf("%d records, want 9", n)
			}

			store := db.Store()
			if found, _ := store.SearchClients(ctx, bridge.ClientQuery{Clinician: dr, Prefix: "élo"}); len(found) != 1 || found[0].ID != clientOf[elodie] {
				t.Errorf("searching élo finds %q", names(found))
			}
			c, err := store.GetClient(ctx, clientOf[anna1])
			if err != nil {
				t.Fatal(err)
			}
			// The record takes the latest booking's details, every contact, and the clinician.
			if c.DisplayName != "Anna Martin" || !slices.Equal(c.Emails, []string{"anna@example.org"}) ||
				!slices.Equal(c.Phones, []string{"+33612345678"}) || !slices.Equal(c.Professionals, []string{dr}) ||
				c.Reminders != bridge.RemindSMS || c.Locale != "fr" || !c.CreatedAt.Equal(created.Add(time.Hour)) {
				t.Errorf("Anna's record: %+v", c)
			}
			if found, _ := store.SearchClients(ctx, bridge.ClientQuery{Clinician: other, Prefix: "anna"}); len(found) != 1 || found[0].ID != clientOf[annaOther] {
				t.Errorf("%s finds %q", other, names(found))
			}
			// A record made after the migration does not collide with the migrated IDs.
			fresh := &bridge.Client{DisplayName: "New Person", Locale: "en", TimeZone: "UTC", Reminders: bridge.RemindNone, CreatedAt: created, UpdatedAt: created}
			if err = store.InsertClient(ctx, fresh); err != nil {
				t.Fatalf("a new record after the migration: %v", err)
			}
		})
	}
}

// TestClientPortalState: the portal opens and closes only through SetPortal; an edit of the
// record leaves both flags as they are; PortalClosed is false for a record never closed, and
// for no record.
func TestClientPortalState(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.Database) {
		ctx := context.Background()
		store := db.Store()
		now := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
		c := &bridge.Client{DisplayName: "Anna Martin", Emails: []string{"anna@example.org"}, Locale: "fr", TimeZone: "Europe/Paris",
			Reminders: bridge.RemindEmail, CreatedAt: now, UpdatedAt: now}
		if err := store.InsertClient(ctx, c); err != nil {
			t.Fatal(err)
		}
		state := func() string {
			t.Helper()
			got, err := store.GetClient(ctx, c.ID)
			if err != nil {
				t.Fatal(err)
			}
			closed, err := db.Client.PortalClosed(ctx, c.ID)
			if err != nil || closed != got.PortalClosed {
				t.Fatalf("PortalClosed %v %v, the record says %v", closed, err, got.PortalClosed)
			}
			return fmt.Sprintf("enabled=%v closed=%v", got.PortalEnabled, got.PortalClosed)
		}
		if s := state(); s != "enabled=false closed=false" {
			t.Errorf("a new record: %s", s)
		}
		if err := store.SetClientPortal(ctx, c.ID, false, true, now.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		c.PreferredName, c.UpdatedAt = "Élise", now.Add(2*time.Hour)
		if err := store.UpdateClient(ctx, c); err != nil {
			t.Fatal(err)
		}
		if s := state(); s != "enabled=false closed=true" {
			t.Errorf("a closed record after an edit: %s", s)
		}
		if err := store.SetClientPortal(ctx, c.ID, true, false, now.Add(3*time.Hour)); err != nil {
			t.Fatal(err)
		}
		if s := state(); s != "enabled=true closed=false" {
			t.Errorf("an opened record: %s", s)
		}
		if closed, err := db.Client.PortalClosed(ctx, 999999); err != nil || closed {
			t.Errorf("PortalClosed of no record: %v %v", closed, err)
		}
		if err := store.SetClientPortal(ctx, 999999, true, false, now); !errors.Is(err, bridge.ErrClientNotFound) {
			t.Errorf("SetClientPortal of no record: %v", err)
		}
	})
}
