package bridge_test

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/rs/zerolog"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"github.com/telehealth-bridge/telehealth-bridge/database"
)

// prospectNotices records the "new sign-up" notices the service sends.
type prospectNotices struct {
	quietRooms
	seen chan *bridge.Prospect
}

func (n prospectNotices) ProspectWaiting(_ context.Context, p *bridge.Prospect) { n.seen <- p }

type prospectFixture struct {
	ctx     context.Context
	svc     *bridge.Service
	clock   *clockwork.FakeClock
	audit   *auditLog
	notices chan *bridge.Prospect
}

const (
	drA   = "@dr-a:hs"
	drB   = "@dr-b:hs"
	admin = "@admin:hs"
)

func newProspectFixture(t *testing.T) *prospectFixture {
	t.Helper()
	ctx := context.Background()
	db, err := database.Open(ctx, database.Config{Type: "sqlite", URI: filepath.Join(t.TempDir(), "prospects.db"), MaxOpenConns: 5, MaxIdleConns: 2}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	f := &prospectFixture{ctx: ctx, clock: clockwork.NewFakeClockAt(time.Date(2026, 12, 3, 13, 0, 0, 0, time.UTC)), audit: &auditLog{},
		notices: make(chan *bridge.Prospect, 10)}
	f.svc = bridge.New(bridge.Options{Store: db.Store(), Clock: f.clock, Bot: "@bot:hs", Audit: f.audit, Clients: db.Store(),
		IsAdmin: func(u string) bool { return u == admin }})
	f.svc.UseClinicians(func(u string) bool { return u == drA || u == drB || u == admin })
	f.svc.Use(&numberedRooms{}, prospectNotices{seen: f.notices}, nil, nil)
	return f
}

func (f *prospectFixture) signUp(t *testing.T, name string, contact bridge.PortalContact) *bridge.Prospect {
	t.Helper()
	p, err := f.svc.SignUp(f.ctx, bridge.SignUpRequest{Name: name, Contact: contact, Locale: "fr", TimeZone: "Europe/Paris"})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestSignUpMakesOneWaitingProspect: a verified sign-up is a waiting prospect the clinicians
// hear of; signing up again with the same contact is the same prospect; bad fields are refused.
func TestSignUpMakesOneWaitingProspect(t *testing.T) {
	f := newProspectFixture(t)
	p := f.signUp(t, "  Anna   Martin ", bridge.PortalContact{Email: "anna@example.org"})
	if p.ID == 0 || p.Name != "Anna Martin" || p.Status != bridge.ProspectWaiting || p.Locale != "fr" || p.TimeZone != "Europe/Paris" {
		t.Fatalf("prospect: %+v", p)
	}
	select {
	case seen := <-f.notices:
		if seen.ID != p.ID {
			t.Errorf("notice about %+v", seen)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the clinicians were not told of the sign-up")
	}
	again := f.signUp(t, "Anna M.", bridge.PortalContact{Email: "anna@example.org"})
	if again.ID != p.ID || again.Name != "Anna Martin" {
		t.Errorf("second sign-up: %+v", again)
	}
	if len(f.audit.find(bridge.AuditProspectSignedUp, bridge.ProspectSubject(p.ID))) != 1 {
		t.Errorf("sign-up audit: %+v", f.audit.entries)
	}
	for _, bad := range []bridge.SignUpRequest{
		{Name: "A", Contact: bridge.PortalContact{Email: "a@x.org"}, TimeZone: "UTC"},
		{Name: "Anna\u202e", Contact: bridge.PortalContact{Email: "a@x.org"}, TimeZone: "UTC"},
		{Name: "Anna", Contact: bridge.PortalContact{Email: "a@x.org"}, TimeZone: "Mars/Olympus"},
		{Name: "Anna", Contact: bridge.PortalContact{Email: "a@x.org"}, TimeZone: "UTC", Locale: "de"},
		{Name: "Anna", TimeZone: "UTC"},
		{Name: "Anna", Contact: bridge.PortalContact{Email: "a@x.org", Phone: "+33612345678"}, TimeZone: "UTC"},
	} {
		var invalid *bridge.InvalidSignUpError
		if _, err := f.svc.SignUp(f.ctx, bad); !errors.As(err, &invalid) {
			t.Errorf("accepted or wrong error for %+v: %v", bad, err)
		}
	}
}

// TestProspectsAreForClinicians: any clinician and admins list and act on prospects; anyone
// else is refused, and the listing is in the audit trail.
func TestProspectsAreForClinicians(t *testing.T) {
	f := newProspectFixture(t)
	p := f.signUp(t, "Anna Martin", bridge.PortalContact{Email: "anna@example.org"})
	for _, who := range []string{drA, drB, admin} {
		list, err := f.svc.Prospects(f.ctx, who)
		if err != nil || len(list) != 1 || list[0].ID != p.ID {
			t.Errorf("%s: %+v %v", who, list, err)
		}
	}
	if n := len(f.audit.find(bridge.AuditParticipantDataViewed, "prospects")); n != 3 {
		t.Errorf("%d listings audited, want 3", n)
	}
	for _, who := range []string{"", "@someone:hs", "client:1"} {
		if _, err := f.svc.Prospects(f.ctx, who); !errors.Is(err, bridge.ErrNotClinician) {
			t.Errorf("%q listed the prospects: %v", who, err)
		}
		if err := f.svc.DismissProspect(f.ctx, who, p.ID); !errors.Is(err, bridge.ErrNotClinician) {
			t.Errorf("%q dismissed: %v", who, err)
		}
		if _, err := f.svc.ProspectClient(f.ctx, who, p.ID); !errors.Is(err, bridge.ErrNotClinician) {
			t.Errorf("%q made a record: %v", who, err)
		}
	}
	if got, _ := f.svc.ProspectForPortal(f.ctx, p.ID); got.Status != bridge.ProspectWaiting {
		t.Errorf("after refused actions: %+v", got)
	}
}

// TestLinkProspectAddsTheVerifiedContact: linking to a record the clinician may see adds the
// verified contact to it; a record they may not see is refused like an unknown one; a
// contact another record holds is refused; a prospect acts once.
func TestLinkProspectAddsTheVerifiedContact(t *testing.T) {
	f := newProspectFixture(t)
	mine, err := f.svc.CreateClient(f.ctx, drA, bridge.ClientRequest{DisplayName: "Anna Martin", Phones: []string{"+33612345678"}})
	if err != nil {
		t.Fatal(err)
	}
	other, err := f.svc.CreateClient(f.ctx, drB, bridge.ClientRequest{DisplayName: "Ben Ode", Emails: []string{"ben@example.org"}})
	if err != nil {
		t.Fatal(err)
	}
	p := f.signUp(t, "Anna Martin", bridge.PortalContact{Email: "anna@example.org"})
	if _, err = f.svc.LinkProspect(f.ctx, drA, p.ID, other.ID); !errors.Is(err, bridge.ErrClientNotFound) {
		t.Errorf("linked to another clinician's client: %v", err)
	}
	c, err := f.svc.LinkProspect(f.ctx, drA, p.ID, mine.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.Emails, []string{"anna@example.org"}) || !slices.Equal(c.Phones, []string{"+33612345678"}) || !c.PortalEnabled {
		t.Errorf("record after the link: %+v", c)
	}
	stored, _ := f.svc.Client(f.ctx, drA, mine.ID)
	if !slices.Contains(stored.Emails, "anna@example.org") || !stored.PortalEnabled {
		t.Errorf("stored record: %+v", stored)
	}
	got, _ := f.svc.ProspectForPortal(f.ctx, p.ID)
	if got.Status != bridge.ProspectLinked || got.ClientID != mine.ID {
		t.Errorf("prospect after the link: %+v", got)
	}
	if e := f.audit.find(bridge.AuditProspectLinked, bridge.ProspectSubject(p.ID)); len(e) != 1 || e[0].Actor != drA || e[0].Detail["client"] != "1" {
		t.Errorf("link audit: %+v", e)
	}
	if _, err = f.svc.LinkProspect(f.ctx, drB, p.ID, other.ID); !errors.Is(err, bridge.ErrProspectNotFound) {
		t.Errorf("linked twice: %v", err)
	}
	if list, _ := f.svc.Prospects(f.ctx, drA); len(list) != 0 {
		t.Errorf("a linked prospect still listed: %+v", list)
	}

	// Ben's email on a sign-up: neither a link elsewhere nor a new record may share it.
	q := f.signUp(t, "Someone", bridge.PortalContact{Email: "ben@example.org"})
	var invalid *bridge.InvalidClientError
	if _, err = f.svc.LinkProspect(f.ctx, admin, q.ID, mine.ID); !errors.As(err, &invalid) {
		t.Errorf("linked a contact another record holds: %v", err)
	}
	if _, err = f.svc.ProspectClient(f.ctx, admin, q.ID); !errors.As(err, &invalid) {
		t.Errorf("made a record with a contact another record holds: %v", err)
	}
	// Linking to the record that holds it already adds no contact.
	if c, err = f.svc.LinkProspect(f.ctx, admin, q.ID, other.ID); err != nil || !slices.Equal(c.Emails, []string{"ben@example.org"}) {
		t.Errorf("link to the holder: %+v %v", c, err)
	}
}

// TestProspectClientAndDismiss: a record made from a prospect has their details, the portal
// on and the clinician assigned; a dismissed prospect leaves the list.
func TestProspectClientAndDismiss(t *testing.T) {
	f := newProspectFixture(t)
	p := f.signUp(t, "Chloé Durand", bridge.PortalContact{Phone: "+33698765432"})
	c, err := f.svc.ProspectClient(f.ctx, drB, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if c.DisplayName != "Chloé Durand" || !slices.Equal(c.Phones, []string{"+33698765432"}) || c.Locale != "fr" || c.TimeZone != "Europe/Paris" ||
		!c.PortalEnabled || !slices.Equal(c.Professionals, []string{drB}) {
		t.Errorf("record: %+v", c)
	}
	if got, _ := f.svc.ProspectForPortal(f.ctx, p.ID); got.Status != bridge.ProspectLinked || got.ClientID != c.ID {
		t.Errorf("prospect: %+v", got)
	}
	if len(f.audit.find(bridge.AuditClientCreated, bridge.ClientSubject(c.ID))) != 1 {
		t.Error("the record's creation is not audited")
	}

	d := f.signUp(t, "Spam Bot", bridge.PortalContact{Email: "spam@example.org"})
	if err = f.svc.DismissProspect(f.ctx, drA, d.ID); err != nil {
		t.Fatal(err)
	}
	if got, _ := f.svc.ProspectForPortal(f.ctx, d.ID); got.Status != bridge.ProspectDismissed {
		t.Errorf("dismissed: %+v", got)
	}
	if len(f.audit.find(bridge.AuditProspectDismissed, bridge.ProspectSubject(d.ID))) != 1 {
		t.Error("the dismissal is not audited")
	}
	if err = f.svc.DismissProspect(f.ctx, drA, d.ID); !errors.Is(err, bridge.ErrProspectNotFound) {
		t.Errorf("dismissed twice: %v", err)
	}
	// Signing up again after a dismissal is a new prospect for the clinic to judge.
	if again := f.signUp(t, "Spam Bot", bridge.PortalContact{Email: "spam@example.org"}); again.ID == d.ID {
		t.Error("the dismissed prospect came back")
	}
}

// TestTwoCliniciansLinkOneProspect: two clinicians link one prospect at once, each to a record
// of theirs: one wins, and the verified contact is on that record alone.
func TestTwoCliniciansLinkOneProspect(t *testing.T) {
	f := newProspectFixture(t)
	p := f.signUp(t, "Anna Martin", bridge.PortalContact{Email: "anna@example.org"})
	var records [2]*bridge.Client
	for i, dr := range []string{drA, drB} {
		c, err := f.svc.CreateClient(f.ctx, dr, bridge.ClientRequest{DisplayName: "Anna Martin"})
		if err != nil {
			t.Fatal(err)
		}
		records[i] = c
	}
	var errs [2]error
	done := make(chan struct{})
	for i, dr := range []string{drA, drB} {
		go func() {
			defer func() { done <- struct{}{} }()
			_, errs[i] = f.svc.LinkProspect(f.ctx, dr, p.ID, records[i].ID)
		}()
	}
	<-done
	<-done
	if (errs[0] == nil) == (errs[1] == nil) || !errors.Is(errors.Join(errs[:]...), bridge.ErrProspectNotFound) {
		t.Fatalf("two links: %v", errs)
	}
	holders := 0
	for i, dr := range []string{drA, drB} {
		c, _ := f.svc.Client(f.ctx, dr, records[i].ID)
		if slices.Contains(c.Emails, "anna@example.org") {
			holders++
		}
	}
	if holders != 1 {
		t.Errorf("the verified contact is on %d records", holders)
	}
}
