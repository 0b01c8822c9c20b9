package bridge_test

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/rs/zerolog"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"github.com/telehealth-bridge/telehealth-bridge/database"
)

// auditLog keeps the entries the service records, for tests.
type auditLog struct {
	mu      sync.Mutex
	entries []bridge.AuditEntry
}

func (a *auditLog) Record(_ context.Context, e bridge.AuditEntry) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.entries = append(a.entries, e)
	return nil
}

func (a *auditLog) find(action bridge.AuditAction, subject string) []bridge.AuditEntry {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []bridge.AuditEntry
	for _, e := range a.entries {
		if e.Action == action && e.Subject == subject {
			out = append(out, e)
		}
	}
	return out
}

func TestNewClientChecksLikeABooking(t *testing.T) {
	c, err := bridge.NewClient(bridge.ClientRequest{
		DisplayName: "  Anna   Martin ", Emails: []string{"Anna@Example.org", "anna@example.org", ""}, Phones: []string{"06 12 34 56 78"},
		PhoneRegion: "FR", Professionals: []string{"@dr:hs", "@dr:hs"},
	}, "Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	if c.DisplayName != "Anna Martin" || !slices.Equal(c.Emails, []string{"anna@example.org"}) || !slices.Equal(c.Phones, []string{"+33612345678"}) ||
		!slices.Equal(c.Professionals, []string{"@dr:hs"}) || c.TimeZone != "Europe/Paris" || c.Locale != "en" || c.Reminders != bridge.RemindEmail {
		t.Errorf("normalised: %+v", c)
	}
	for _, bad := range []bridge.ClientRequest{
		{DisplayName: "A"},
		{DisplayName: "Anna\u202e"},
		{DisplayName: "Anna", PreferredName: "\u200bAnna"},
		{DisplayName: "Anna", Emails: []string{"not-an-email"}},
		{DisplayName: "Anna", Phones: []string{"12"}},
		{DisplayName: "Anna", Locale: "de"},
		{DisplayName: "Anna", TimeZone: "Mars/Olympus"},
		{DisplayName: "Anna", Reminders: bridge.RemindSMS},
		{DisplayName: "Anna", Reminders: "pigeon"},
		{DisplayName: "Anna", MatrixID: "anna"},
		{DisplayName: "Anna", Professionals: []string{"dr"}},
		{DisplayName: "Anna", Emails: []string{"a@x.org", "b@x.org", "c@x.org", "d@x.org", "e@x.org", "f@x.org"}},
	} {
		if _, err := bridge.NewClient(bad, "UTC"); err == nil {
			t.Errorf("accepted %+v", bad)
		}
	}
}

type clientFixture struct {
	ctx   context.Context
	svc   *bridge.Service
	clock *clockwork.FakeClock
	audit *auditLog
}

func newClientFixture(t *testing.T) *clientFixture {
	t.Helper()
	ctx := context.Background()
	db, err := database.Open(ctx, database.Config{Type: "sqlite", URI: filepath.Join(t.TempDir(), "clients.db"), MaxOpenConns: 5, MaxIdleConns: 2}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	f := &clientFixture{ctx: ctx, clock: clockwork.NewFakeClockAt(time.Date(2026, 11, 24, 13, 0, 0, 0, time.UTC)), audit: &auditLog{}}
	f.svc = bridge.New(bridge.Options{Store: db.Store(), Clock: f.clock, Bot: "@bot:hs", Audit: f.audit, Clients: db.Store(),
		IsAdmin: func(u string) bool { return u == "@admin:hs" }})
	f.svc.Use(&numberedRooms{}, quietRooms{}, nil, nil)
	return f
}

func (f *clientFixture) book(t *testing.T, clinician string, p bridge.ParticipantRequest) (*bridge.Session, *bridge.Participant, error) {
	t.Helper()
	s, err := f.svc.Schedule(f.ctx, bridge.ScheduleRequest{
		Clinician: clinician, Start: f.clock.Now().Add(24 * time.Hour), End: f.clock.Now().Add(25 * time.Hour), TimeZone: "Europe/Paris",
		Participants: []bridge.ParticipantRequest{p},
	})
	if err != nil {
		return nil, nil, err
	}
	_, ps, err := f.svc.Lobby(f.ctx, clinician, s.ID)
	if err != nil {
		t.Fatal(err)
	}
	return s, ps[0], nil
}

// TestBookingMakesAndReusesClientRecords: booking someone new makes a record the clinician is
// assigned to; booking them again (same name, a contact in common) reuses it; a sibling with
// the same email is another record; a chosen record fills the booking's blanks.
func TestBookingMakesAndReusesClientRecords(t *testing.T) {
	f := newClientFixture(t)
	const dr = "@dr:hs"
	_, anna, err := f.book(t, dr, bridge.ParticipantRequest{Name: "Anna Martin", Email: "anna@example.org", Invite: bridge.InviteEmail, Locale: "fr"})
	if err != nil {
		t.Fatal(err)
	}
	if anna.ClientID == 0 {
		t.Fatal("booking someone new made no record")
	}
	c, err := f.svc.Client(f.ctx, dr, anna.ClientID)
	if err != nil {
		t.Fatal(err)
	}
	if c.DisplayName != "Anna Martin" || !slices.Equal(c.Emails, []string{"anna@example.org"}) || !slices.Equal(c.Professionals, []string{dr}) ||
		c.Reminders != bridge.RemindEmail || c.Locale != "fr" || c.TimeZone != "Europe/Paris" {
		t.Errorf("the record: %+v", c)
	}
	if got := f.audit.find(bridge.AuditClientCreated, bridge.ClientSubject(c.ID)); len(got) != 1 || got[0].Actor != dr {
		t.Errorf("creation audit: %+v", got)
	}
	_, again, err := f.book(t, dr, bridge.ParticipantRequest{Name: "anna martin", Email: "ANNA@example.org"})
	if err != nil {
		t.Fatal(err)
	}
	if again.ClientID != c.ID {
		t.Errorf("booking Anna again made record %d, want %d", again.ClientID, c.ID)
	}
	_, leo, _ := f.book(t, dr, bridge.ParticipantRequest{Name: "Léo Martin", Email: "anna@example.org"})
	if leo.ClientID == c.ID || leo.ClientID == 0 {
		t.Errorf("Anna's brother, with her email, got record %d (hers is %d)", leo.ClientID, c.ID)
	}

	// Choosing the record: the booking's blanks come from it.
	_, chosen, err := f.book(t, dr, bridge.ParticipantRequest{ClientID: c.ID})
	if err != nil {
		t.Fatal(err)
	}
	if chosen.ClientID != c.ID || chosen.Name != "Anna Martin" || chosen.Email != "anna@example.org" || chosen.Invite != bridge.InviteEmail || chosen.Locale != "fr" {
		t.Errorf("booking the chosen record: %+v", chosen)
	}

	// Another clinician cannot book, see or edit Dr's client, nor tell her from no client.
	const other = "@other:hs"
	for _, id := range []int64{c.ID, 999999} {
		if _, _, err = f.book(t, other, bridge.ParticipantRequest{ClientID: id}); !errors.Is(err, bridge.ErrClientNotFound) {
			t.Errorf("%s booking client %d: %v", other, id, err)
		}
		if _, err = f.svc.Client(f.ctx, other, id); !errors.Is(err, bridge.ErrClientNotFound) {
			t.Errorf("%s reading client %d: %v", other, id, err)
		}
		if _, _, err = f.svc.ShowClient(f.ctx, other, id); !errors.Is(err, bridge.ErrClientNotFound) {
			t.Errorf("%s showing client %d: %v", other, id, err)
		}
		if _, err = f.svc.UpdateClient(f.ctx, other, id, bridge.ClientRequest{DisplayName: "Mine Now"}); !errors.Is(err, bridge.ErrClientNotFound) {
			t.Errorf("%s editing client %d: %v", other, id, err)
		}
	}
	if found, _ := f.svc.FindClients(f.ctx, other, "anna", 0); len(found) != 0 {
		t.Errorf("%s finds %d clients", other, len(found))
	}
	// The same Anna booked by the other clinician (name and email) is their own record: a
	// clinician's booking never lands on a record they may not see.
	_, theirs, _ := f.book(t, other, bridge.ParticipantRequest{Name: "Anna Martin", Email: "anna@example.org"})
	if theirs.ClientID == c.ID {
		t.Error("another clinician's booking reused a record they may not see")
	}
	// An admin sees every record, and may book any.
	if found, _ := f.svc.FindClients(f.ctx, "@admin:hs", "anna m", 0); len(found) != 2 {
		t.Errorf("the admin finds %d Annas, want 2", len(found))
	}
	if _, _, err = f.book(t, "@admin:hs", bridge.ParticipantRequest{ClientID: c.ID}); err != nil {
		t.Errorf("the admin booking Dr's client: %v", err)
	}
	// A patient (no assignment, no booking) finds nothing, whatever they type.
	for _, q := range []string{"", "a", "anna@", "+33"} {
		if found, _ := f.svc.FindClients(f.ctx, "@anna:hs", q, 0); len(found) != 0 {
			t.Errorf("a patient searching %q finds %d clients", q, len(found))
		}
	}
}

// TestShowClientIsAudited: showing a record records participant_data_viewed with view
// "client", and lists only the viewer's own sessions with the client (all for an admin).
func TestShowClientIsAudited(t *testing.T) {
	f := newClientFixture(t)
	s1, p, _ := f.book(t, "@dr:hs", bridge.ParticipantRequest{Name: "Anna Martin", Email: "anna@example.org"})
	c, err := f.svc.UpdateClient(f.ctx, "@dr:hs", p.ClientID, bridge.ClientRequest{DisplayName: "Anna Martin", Emails: []string{"anna@example.org"},
		Professionals: []string{"@dr:hs", "@other:hs"}, Reminders: bridge.RemindNone})
	if err != nil {
		t.Fatal(err)
	}
	s2, _, err := f.book(t, "@other:hs", bridge.ParticipantRequest{ClientID: c.ID})
	if err != nil {
		t.Fatalf("an assigned professional booking the client: %v", err)
	}
	for who, want := range map[string][]string{"@dr:hs": {s1.ID}, "@other:hs": {s2.ID}, "@admin:hs": {s1.ID, s2.ID}} {
		got, sessions, err := f.svc.ShowClient(f.ctx, who, c.ID)
		if err != nil {
			t.Fatalf("%s: %v", who, err)
		}
		var ids []string
		for _, s := range sessions {
			ids = append(ids, s.ID)
		}
		slices.Sort(ids)
		slices.Sort(want)
		if got.ID != c.ID || !slices.Equal(ids, want) {
			t.Errorf("%s sees sessions %v, want %v", who, ids, want)
		}
	}
	viewed := f.audit.find(bridge.AuditParticipantDataViewed, bridge.ClientSubject(c.ID))
	if len(viewed) != 3 {
		t.Errorf("views audited: %+v", viewed)
	}
	for _, e := range viewed {
		if e.Detail["view"] != "client" || e.SessionID != "" {
			t.Errorf("a view audited as %+v", e)
		}
		for _, v := range e.Detail {
			if strings.Contains(v, "Anna") || strings.Contains(v, "@example") {
				t.Errorf("the audit entry holds the client's name or contact: %+v", e)
			}
		}
	}
	// Linking a participant needs the session and the record.
	if _, err = f.svc.LinkParticipant(f.ctx, "@dr:hs", s2.ID, "1", c.ID); !errors.Is(err, bridge.ErrNotYourSession) {
		t.Errorf("linking in another's session: %v", err)
	}
	s3, p3, _ := f.book(t, "@third:hs", bridge.ParticipantRequest{Name: "Someone Else", Email: "else@example.org"})
	if _, err = f.svc.LinkParticipant(f.ctx, "@third:hs", s3.ID, "1", c.ID); !errors.Is(err, bridge.ErrClientNotFound) {
		t.Errorf("linking to a record one may not see: %v", err)
	}
	if _, err = f.svc.LinkParticipant(f.ctx, "@dr:hs", s1.ID, "1", p3.ClientID); !errors.Is(err, bridge.ErrClientNotFound) {
		t.Errorf("linking to another clinician's record: %v", err)
	}
	linked, err := f.svc.LinkParticipant(f.ctx, "@admin:hs", s3.ID, "1", c.ID)
	if err != nil || linked.ClientID != c.ID {
		t.Errorf("the admin linking: %+v, %v", linked, err)
	}
}
