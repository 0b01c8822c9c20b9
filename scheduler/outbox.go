package scheduler

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/rs/zerolog"
	"golang.org/x/time/rate"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
)

// Outbox stores planned notifications (the database).
type Outbox interface {
	Insert(ctx context.Context, ns ...*bridge.Notification) error
	Update(ctx context.Context, n *bridge.Notification) error
	ForSession(ctx context.Context, sessionID string) ([]*bridge.Notification, error)
	// ClaimDue marks up to limit rows due at now as being sent and returns them.
	ClaimDue(ctx context.Context, now time.Time, limit int) ([]*bridge.Notification, error)
	// ReleaseSending puts rows left in flight by a previous sender back in line.
	ReleaseSending(ctx context.Context, now time.Time) (int64, error)
	// ByProviderID returns nil when no notification has that provider message ID.
	ByProviderID(ctx context.Context, providerID string) (*bridge.Notification, error)
}

// OptOuts is the SMS opt-out ledger.
type OptOuts interface {
	OptOut(ctx context.Context, phone string, at time.Time) error
	OptIn(ctx context.Context, phone string) error
	OptedOut(ctx context.Context, phone string) (bool, error)
}

// Bookings reads the sessions and participants that notifications are about.
type Bookings interface {
	GetSession(ctx context.Context, id string) (*bridge.Session, error)
	Participants(ctx context.Context, sessionID string) ([]*bridge.Participant, error)
	// ByContact finds the participants booked with an email address or a phone number.
	ByContact(ctx context.Context, email, phone string) ([]*bridge.Participant, error)
}

// SMSSender sends one text message; errors are *SendError when the provider answered.
type SMSSender interface {
	Send(ctx context.Context, to, body string) (providerID string, err error)
}

// EmailSender sends one email.
type EmailSender interface {
	Send(ctx context.Context, to string, e Email) (messageID string, err error)
}

// Links gives a participant their own page: the guest link, or "" for someone who joins from
// their own Matrix account.
type Links interface {
	GuestLink(ctx context.Context, s *bridge.Session, p *bridge.Participant) (string, error)
}

// Clinicians tells the clinician what the outbox could not do, and names them in telephone
// introductions (the Matrix side).
type Clinicians interface {
	// ClinicianName is the clinician's name as participants know it.
	ClinicianName(ctx context.Context, userID string) (string, error)
	// NotificationProblem says why a notification to a participant was not sent.
	NotificationProblem(ctx context.Context, s *bridge.Session, p *bridge.Participant, n *bridge.Notification)
	// RelaySMS carries a participant's SMS reply into the session's room.
	RelaySMS(ctx context.Context, sessionID string, participantID int64, text string) error
}

// NotifyConfig is the clinic's notification policy.
type NotifyConfig struct {
	Clinic Clinic
	Window bridge.Window
	// Confirmation sends a confirmation when a session is scheduled.
	Confirmation bool
	// ReminderBefore is how long before the start the reminder goes; 0 sends none.
	ReminderBefore time.Duration
	// PhoneIntroBefore is how long before a telephone session the introduction SMS goes.
	PhoneIntroBefore time.Duration
	// SMSPerSecond is the provider's rate limit for this sender.
	SMSPerSecond float64
	// Poll is how often the sender looks for due rows.
	Poll time.Duration
	// Workers is how many notifications are sent at once.
	Workers int
}

// Notifier plans the outbox from sessions and sends what is due. Planning happens whenever a
// session changes; sending is a gocron job that only the elected instance runs.
type Notifier struct {
	cfg        NotifyConfig
	clock      clockwork.Clock
	log        zerolog.Logger
	outbox     Outbox
	optOuts    OptOuts
	bookings   Bookings
	links      Links
	clinicians Clinicians
	sms        SMSSender
	email      EmailSender
	matrix     MatrixSender
	smsRate    *rate.Limiter
	// reminderPrefs are the clients' reminder choices; nil follows the invitation modes.
	reminderPrefs ReminderPreferences
	// The unread notice of the Messages threads (messagenotice.go); off while threads is nil.
	threads       MessageThreads
	threadClients ClientRecords
	portalURL     string
	noticeAfter   time.Duration

	// released is false until the sender has put back what a crashed sender left in flight.
	released atomic.Bool
	// planning serialises plans of one session (the bridge may replan it from two handlers).
	planning sync.Mutex
}

// NewNotifier creates the outbox's planner and sender. sms or email may be nil when the clinic
// has not configured that channel: rows for it are skipped with the reason.
func NewNotifier(cfg NotifyConfig, clock clockwork.Clock, log zerolog.Logger, outbox Outbox, optOuts OptOuts,
	bookings Bookings, sms SMSSender, email EmailSender) *Notifier {
	if cfg.Poll <= 0 {
		cfg.Poll = 250 * time.Millisecond
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 4
	}
	limit := rate.Inf
	if cfg.SMSPerSecond > 0 {
		limit = rate.Limit(cfg.SMSPerSecond)
	}
	return &Notifier{
		cfg: cfg, clock: clock, log: log.With().Str("component", "notifier").Logger(),
		outbox: outbox, optOuts: optOuts, bookings: bookings, sms: sms, email: email,
		smsRate: rate.NewLimiter(limit, max(1, int(cfg.SMSPerSecond))),
	}
}

// Use connects the web links and the Matrix side, which are created after the scheduler.
func (nt *Notifier) Use(links Links, clinicians Clinicians) {
	nt.links, nt.clinicians = links, clinicians
}

// Elected is called when this instance becomes the one that sends: rows a previous sender left
// in flight are sent again before anything else.
func (nt *Notifier) Elected() { nt.released.Store(false) }

// channels are the ways a participant hears from the clinic: their invitation mode, and their
// own Matrix account if they were booked with one (the only way they learn where the session's
// room is, whatever the invitation mode).
func (nt *Notifier) channels(p *bridge.Participant) []bridge.Channel {
	var out []bridge.Channel
	switch {
	case p.Invite == bridge.InviteSMS && p.Phone != "":
		out = append(out, bridge.ChannelSMS)
	case p.Invite == bridge.InviteEmail && p.Email != "":
		out = append(out, bridge.ChannelEmail)
	}
	if nt.ownMatrixAccount(p.MatrixID) {
		out = append(out, bridge.ChannelMatrix)
	}
	return out
}

// timed is a notification sent at an instant of the schedule.
type timed struct {
	kind    bridge.NoticeKind
	channel bridge.Channel
	due     time.Time
}

// ReminderPreferences are the clients' own choices of appointment reminders (the portal's
// Settings), as the planner reads them.
type ReminderPreferences interface {
	// ClientReminders is the client record's preference, or "" when there is no such record.
	ClientReminders(ctx context.Context, clientID int64) (bridge.ReminderPreference, error)
}

// UseReminderPreferences makes the planner honour each client's reminder preference; without
// it, reminders follow the invitation mode.
func (nt *Notifier) UseReminderPreferences(r ReminderPreferences) { nt.reminderPrefs = r }

// reminderChannels are the channels a participant's appointment reminder goes by: the client
// record's preference when it names a channel the participant row has a contact for (or
// none), else their invitation mode.
func (nt *Notifier) reminderChannels(ctx context.Context, p *bridge.Participant) ([]bridge.Channel, error) {
	if nt.reminderPrefs != nil && p.ClientID != 0 {
		pref, err := nt.reminderPrefs.ClientReminders(ctx, p.ClientID)
		if err != nil {
			return nil, fmt.Errorf("reading client %d's reminder preference: %w", p.ClientID, err)
		}
		switch {
		case pref == bridge.RemindNone:
			return nil, nil
		case pref == bridge.RemindSMS && p.Phone != "":
			return []bridge.Channel{bridge.ChannelSMS}, nil
		case pref == bridge.RemindEmail && p.Email != "":
			return []bridge.Channel{bridge.ChannelEmail}, nil
		}
	}
	return nt.channels(p), nil
}

// timedFor lists the reminders a participant gets for the session's current schedule; remind
// are the channels of the appointment reminder.
func (nt *Notifier) timedFor(s *bridge.Session, p *bridge.Participant, remind []bridge.Channel) []timed {
	var out []timed
	if nt.cfg.ReminderBefore > 0 {
		for _, ch := range remind {
			out = append(out, timed{bridge.NoticeReminder, ch, s.Start.Add(-nt.cfg.ReminderBefore)})
		}
	}
	for _, ch := range nt.channels(p) {
		if s.Kind == bridge.KindVideo {
			out = append(out, timed{bridge.NoticeWindowOpen, ch, s.Opens(nt.cfg.Window)})
		}
	}
	// A telephone session's client must recognise the caller, whatever their invitation mode.
	if s.Kind == bridge.KindPhone && p.Phone != "" && nt.cfg.PhoneIntroBefore > 0 {
		out = append(out, timed{bridge.NoticePhoneIntro, bridge.ChannelSMS, s.Start.Add(-nt.cfg.PhoneIntroBefore)})
	}
	return out
}

// Plan brings the session's outbox rows in line with its schedule and status: a confirmation
// once, the timed reminders of the current schedule (the old ones cancelled), a reschedule notice
// to whoever was told the old time, a cancellation notice to whoever was told anything, and
// nothing more once the session is over. Planning twice changes nothing.
func (nt *Notifier) Plan(ctx context.Context, s *bridge.Session) error {
	nt.planning.Lock()
	defer nt.planning.Unlock()
	ps, err := nt.bookings.Participants(ctx, s.ID)
	if err != nil {
		return fmt.Errorf("loading the participants of session %s to plan notifications: %w", s.ID, err)
	}
	rows, err := nt.outbox.ForSession(ctx, s.ID)
	if err != nil {
		return fmt.Errorf("loading the notifications of session %s: %w", s.ID, err)
	}
	now := nt.clock.Now()
	var add []*bridge.Notification
	var change []*bridge.Notification
	cancel := func(n *bridge.Notification, why string) {
		if n.Status == bridge.NotificationPending {
			n.Status, n.LastError, n.UpdatedAt = bridge.NotificationCancelled, why, now
			change = append(change, n)
		}
	}
	newRow := func(p *bridge.Participant, kind bridge.NoticeKind, ch bridge.Channel, due time.Time) {
		add = append(add, &bridge.Notification{SessionID: s.ID, ParticipantID: p.ID, Kind: kind, Channel: ch, Due: due,
			Status: bridge.NotificationPending, Revision: s.Revision, CreatedAt: now, UpdatedAt: now})
	}
	for _, p := range ps {
		mine := slices.DeleteFunc(slices.Clone(rows), func(n *bridge.Notification) bool { return n.ParticipantID != p.ID })
		told := slices.ContainsFunc(mine, func(n *bridge.Notification) bool { return n.Status == bridge.NotificationSent })
		wanted := nt.channels(p)
		for _, n := range mine {
			// Reminders follow the client's preference, not the invitation mode: the timed
			// rows below settle them.
			if n.Kind == bridge.NoticeReminder {
				continue
			}
			if n.Channel == bridge.ChannelEmail && !slices.Contains(wanted, bridge.ChannelEmail) ||
				n.Channel == bridge.ChannelMatrix && !slices.Contains(wanted, bridge.ChannelMatrix) ||
				n.Channel == bridge.ChannelSMS && !slices.Contains(wanted, bridge.ChannelSMS) && n.Kind != bridge.NoticePhoneIntro && n.Kind != bridge.NoticeMessage {
				cancel(n, "the participant's invitation mode changed")
			}
		}
		if s.Over() {
			for _, n := range mine {
				if n.Kind != bridge.NoticeCancellation {
					cancel(n, "the session is "+string(s.Status))
				}
			}
			if s.Status == bridge.StatusCancelled && told {
				for _, ch := range wanted {
					if !has(mine, bridge.NoticeCancellation, ch, -1) {
						newRow(p, bridge.NoticeCancellation, ch, now)
						// A calendar CANCEL must carry a higher SEQUENCE than the last REQUEST.
						add[len(add)-1].Revision = s.Revision + 1
					}
				}
			}
			continue
		}
		for _, ch := range wanted {
			if nt.cfg.Confirmation && !has(mine, bridge.NoticeConfirmation, ch, -1) {
				newRow(p, bridge.NoticeConfirmation, ch, now)
			}
			// Someone told the old time hears of the new one; a confirmation still waiting
			// will say the new time by itself.
			toldOld := slices.ContainsFunc(mine, func(n *bridge.Notification) bool {
				return n.Channel == ch && n.Status == bridge.NotificationSent && n.Revision < s.Revision && n.Kind != bridge.NoticePhoneIntro && n.Kind != bridge.NoticeMessage
			})
			if toldOld && !has(mine, bridge.NoticeReschedule, ch, s.Revision) {
				newRow(p, bridge.NoticeReschedule, ch, now)
			}
		}
		remind, err := nt.reminderChannels(ctx, p)
		if err != nil {
			return err
		}
		want := nt.timedFor(s, p, remind)
		for _, n := range mine {
			if !isTimed(n.Kind) || n.Status != bridge.NotificationPending {
				continue
			}
			i := slices.IndexFunc(want, func(t timed) bool { return t.kind == n.Kind && t.channel == n.Channel })
			if i < 0 {
				cancel(n, "no longer planned")
				continue
			}
			if !n.Due.Equal(want[i].due) || n.Revision != s.Revision {
				n.Due, n.Revision, n.UpdatedAt = want[i].due, s.Revision, now
				change = append(change, n)
			}
		}
		for _, t := range want {
			if has(mine, t.kind, t.channel, s.Revision) || slices.ContainsFunc(mine, func(n *bridge.Notification) bool {
				return n.Kind == t.kind && n.Channel == t.channel && n.Status == bridge.NotificationPending
			}) {
				continue
			}
			// A reminder whose moment passed before it was planned is not sent late, nor one
			// that would follow the confirmation within the hour: the confirmation said it all.
			// The waiting room opening is still worth a message until the session starts.
			late := t.due.Before(now.Add(-time.Minute))
			switch {
			case t.kind == bridge.NoticeWindowOpen:
				late = !now.Before(s.Start)
			case t.kind == bridge.NoticePhoneIntro:
				// Booked less than phone_intro_before ahead: the client still hears who will
				// call, now.
				late = !now.Before(s.Start)
				t.due = maxTime(t.due, now)
			case t.kind == bridge.NoticeReminder && nt.cfg.Confirmation:
				late = t.due.Before(now.Add(time.Hour))
			}
			if !late {
				newRow(p, t.kind, t.channel, t.due)
			}
		}
	}
	for _, n := range change {
		if err = nt.outbox.Update(ctx, n); err != nil {
			return fmt.Errorf("re-planning notification %d: %w", n.ID, err)
		}
	}
	if len(add) > 0 {
		if err = nt.outbox.Insert(ctx, add...); err != nil {
			return fmt.Errorf("planning the notifications of session %s: %w", s.ID, err)
		}
	}
	if len(add)+len(change) > 0 {
		nt.log.Debug().Str("session_id", s.ID).Int("planned", len(add)).Int("changed", len(change)).Msg("Notifications planned")
	}
	return nil
}

// QueueText puts a clinician's own text message to a participant in the outbox, to go by SMS
// now. The outbox's rules apply: an opted-out number gets nothing, a refusal is reported, and
// the row shows in !notifications; the text itself is dropped once the row is settled.
func (nt *Notifier) QueueText(ctx context.Context, s *bridge.Session, p *bridge.Participant, body string) error {
	now := nt.clock.Now()
	n := &bridge.Notification{SessionID: s.ID, ParticipantID: p.ID, Kind: bridge.NoticeMessage, Channel: bridge.ChannelSMS, Due: now,
		Status: bridge.NotificationPending, Revision: s.Revision, CreatedAt: now, UpdatedAt: now, Body: body}
	if err := nt.outbox.Insert(ctx, n); err != nil {
		return fmt.Errorf("queueing a text message for session %s: %w", s.ID, err)
	}
	return nil
}

var _ bridge.Texter = (*Notifier)(nil)

// PortalLinks gives the client portal's address, for notices that send the client there. The
// links the notifier uses (the web server) may have it.
type PortalLinks interface {
	PortalLink(locale string) string
}

// QueueFormNotice tells a participant, by their invitation's channels, that they have something
// to complete before the session (a form assigned to their record): due now, held by quiet
// hours like every text, and only one waiting at a time per participant (two forms assigned
// together make one notice).
func (nt *Notifier) QueueFormNotice(ctx context.Context, s *bridge.Session, p *bridge.Participant) error {
	rows, err := nt.outbox.ForSession(ctx, s.ID)
	if err != nil {
		return fmt.Errorf("reading session %s's outbox: %w", s.ID, err)
	}
	now := nt.clock.Now()
	var add []*bridge.Notification
	for _, ch := range nt.channels(p) {
		waiting := slices.ContainsFunc(rows, func(n *bridge.Notification) bool {
			return n.ParticipantID == p.ID && n.Kind == bridge.NoticeFormToDo && n.Channel == ch &&
				(n.Status == bridge.NotificationPending || n.Status == bridge.NotificationSending)
		})
		if !waiting {
			add = append(add, &bridge.Notification{SessionID: s.ID, ParticipantID: p.ID, Kind: bridge.NoticeFormToDo, Channel: ch, Due: now,
				Status: bridge.NotificationPending, Revision: s.Revision, CreatedAt: now, UpdatedAt: now})
		}
	}
	if len(add) == 0 {
		return nil
	}
	if err = nt.outbox.Insert(ctx, add...); err != nil {
		return fmt.Errorf("queueing a form notice for session %s: %w", s.ID, err)
	}
	return nil
}

var _ bridge.FormNotifier = (*Notifier)(nil)

// QueuePaymentNotice tells a participant, by their invitation's channels, that they have
// something to complete before the session (a payment): due now, held by quiet hours, with
// their session page's link; never the service or the amount.
func (nt *Notifier) QueuePaymentNotice(ctx context.Context, s *bridge.Session, p *bridge.Participant) error {
	now := nt.clock.Now()
	var add []*bridge.Notification
	for _, ch := range nt.channels(p) {
		add = append(add, &bridge.Notification{SessionID: s.ID, ParticipantID: p.ID, Kind: bridge.NoticePaymentDue, Channel: ch, Due: now,
			Status: bridge.NotificationPending, Revision: s.Revision, CreatedAt: now, UpdatedAt: now})
	}
	if len(add) == 0 {
		return nil
	}
	if err := nt.outbox.Insert(ctx, add...); err != nil {
		return fmt.Errorf("queueing a payment notice for session %s: %w", s.ID, err)
	}
	return nil
}

var _ bridge.PaymentNotifier = (*Notifier)(nil)

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func isTimed(k bridge.NoticeKind) bool {
	return k == bridge.NoticeReminder || k == bridge.NoticeWindowOpen || k == bridge.NoticePhoneIntro
}

// has reports whether a row of that kind and channel exists that is not cancelled, for the
// given revision (any revision if rev < 0).
func has(rows []*bridge.Notification, kind bridge.NoticeKind, ch bridge.Channel, rev int) bool {
	return slices.ContainsFunc(rows, func(n *bridge.Notification) bool {
		return n.Kind == kind && n.Channel == ch && n.Status != bridge.NotificationCancelled && (rev < 0 || n.Revision == rev)
	})
}

// claimBatch is how many due rows one claim takes.
const claimBatch = 64

// SendDue sends every notification due now, a batch at a time, until none is left or ctx ends.
// It is the sender job's body.
func (nt *Notifier) SendDue(ctx context.Context) error {
	if !nt.released.Load() {
		n, err := nt.outbox.ReleaseSending(ctx, nt.clock.Now())
		if err != nil {
			return fmt.Errorf("putting back notifications left in flight: %w", err)
		}
		if n > 0 {
			nt.log.Warn().Int64("count", n).Msg("Sending again notifications that were in flight when the previous sender stopped")
		}
		nt.released.Store(true)
	}
	// The workers stay busy across batches: the next batch is claimed while the last
	// notifications of the previous one are still being sent.
	work := make(chan *bridge.Notification)
	var wg sync.WaitGroup
	for range nt.cfg.Workers {
		wg.Go(func() {
			for n := range work {
				nt.deliver(ctx, n)
			}
		})
	}
	defer func() {
		close(work)
		wg.Wait()
	}()
	for ctx.Err() == nil {
		batch, err := nt.outbox.ClaimDue(ctx, nt.clock.Now(), claimBatch)
		if err != nil {
			return fmt.Errorf("claiming due notifications: %w", err)
		}
		if len(batch) == 0 {
			return nil
		}
		for _, n := range batch {
			work <- n
		}
	}
	return ctx.Err()
}

// deliver sends one claimed notification and records the outcome. It never leaves a row in
// "sending" unless the process dies (or ctx ends) in the middle.
func (nt *Notifier) deliver(ctx context.Context, n *bridge.Notification) {
	log := nt.log.With().Int64("notification", n.ID).Str("session_id", n.SessionID).
		Str("kind", string(n.Kind)).Str("channel", string(n.Channel)).Int("attempt", n.Attempts).Logger()
	s, p, err := nt.booking(ctx, n)
	now := nt.clock.Now()
	var cause error // the provider's answer, for the log
	finish := func(status bridge.NotificationStatus, reason string) {
		n.Status, n.LastError, n.UpdatedAt = status, reason, nt.clock.Now()
		n.Body = "" // a clinician's text is kept only until it is sent or given up
		if err := nt.outbox.Update(ctx, n); err != nil {
			log.Err(err).Msg("Failed to record a notification's outcome")
			return
		}
		switch status {
		case bridge.NotificationFailed, bridge.NotificationSkipped:
			// A provider's reason may quote the number or address: the log keeps its code only.
			ev := log.Warn().Str("status", string(status))
			if status == bridge.NotificationSkipped {
				ev = ev.Str("reason", reason)
			}
			logProvider(ev, cause).Msg("Notification not sent")
			if nt.clinicians != nil && s != nil && p != nil {
				nt.clinicians.NotificationProblem(ctx, s, p, n)
			}
		case bridge.NotificationSent:
			log.Info().Str("provider_id", n.ProviderID).Msg("Notification sent")
		}
	}
	switch {
	case errors.Is(err, bridge.ErrNotFound):
		finish(bridge.NotificationCancelled, "the session or participant no longer exists")
		return
	case err != nil:
		nt.retry(ctx, log, n, err, 0)
		return
	}
	if reason := nt.stale(s, n, now); reason != "" {
		status := bridge.NotificationCancelled
		if n.Attempts > 1 {
			status = bridge.NotificationFailed
			reason += " (last error: " + n.LastError + ")"
		}
		finish(status, reason)
		return
	}
	to := p.Phone
	switch n.Channel {
	case bridge.ChannelEmail:
		to = p.Email
	case bridge.ChannelMatrix:
		if to = p.MatrixID; !nt.ownMatrixAccount(to) {
			to = "" // a guest's ghost, or no Matrix side: nobody to write to
		}
	}
	switch {
	case to == "":
		finish(bridge.NotificationSkipped, "the participant has no "+contactName(n.Channel)+" any more")
		return
	case n.Channel == bridge.ChannelSMS && nt.sms == nil, n.Channel == bridge.ChannelEmail && nt.email == nil:
		finish(bridge.NotificationSkipped, "the clinic has not configured "+contactName(n.Channel)+" sending")
		return
	}
	if n.Channel == bridge.ChannelSMS {
		out, err := nt.optOuts.OptedOut(ctx, p.Phone)
		if err != nil {
			nt.retry(ctx, log, n, err, 0)
			return
		} else if out {
			finish(bridge.NotificationSkipped, "the participant's number opted out of SMS (answered STOP)")
			return
		}
		zone := p.TimeZone
		if zone == "" {
			zone = s.TimeZone
		}
		if next := NextSendTime(now, zone, n.Kind); next.After(now) {
			if n.Kind == bridge.NoticeReminder && !next.Before(s.Start) {
				finish(bridge.NotificationSkipped, "quiet hours (no SMS from 21:00 to 08:00) until the session")
				return
			}
			n.Status, n.Due, n.Attempts, n.UpdatedAt = bridge.NotificationPending, next, n.Attempts-1, now
			if err := nt.outbox.Update(ctx, n); err != nil {
				log.Err(err).Msg("Failed to postpone a notification past quiet hours")
			}
			return
		}
	}
	notice := Notice{Kind: n.Kind, Clinic: nt.cfg.Clinic, Session: s, Participant: p, Window: nt.cfg.Window,
		Sequence: n.Revision, Now: now, Body: n.Body}
	if n.Kind == bridge.NoticeFormToDo {
		// The form is in the portal, behind its sign-in: the portal's address, nobody's token.
		if portal, ok := nt.links.(PortalLinks); ok {
			notice.Link = portal.PortalLink(p.Locale)
		}
	} else if nt.links != nil {
		if notice.Link, err = nt.links.GuestLink(ctx, s, p); err != nil {
			nt.retry(ctx, log, n, fmt.Errorf("making the participant's link: %w", err), 0)
			return
		}
	}
	if n.Kind == bridge.NoticePhoneIntro && nt.clinicians != nil {
		if notice.ClinicianName, err = nt.clinicians.ClinicianName(ctx, s.Clinician); err != nil {
			nt.retry(ctx, log, n, fmt.Errorf("looking up the clinician's name: %w", err), 0)
			return
		}
	}
	// A notice that cannot be written now cannot be written later either: the clinician hears
	// it at once, not after the session when its retries run out.
	var body string
	var mail Email
	var msg MatrixMessage
	switch n.Channel {
	case bridge.ChannelMatrix:
		msg, err = RenderMatrix(notice, nt.matrix.RoomLink(s.RoomID))
	case bridge.ChannelSMS:
		body, err = RenderSMS(notice)
	default:
		mail, err = RenderEmail(notice)
	}
	if err != nil {
		cause = err
		finish(bridge.NotificationFailed, reasonOf(err))
		return
	}
	switch n.Channel {
	case bridge.ChannelMatrix:
		n.ProviderID, err = nt.matrix.SendDirect(ctx, to, msg)
	case bridge.ChannelSMS:
		if err = nt.smsRate.Wait(ctx); err != nil {
			return // shutting down: the row is sent again by the next sender
		}
		n.ProviderID, err = nt.sms.Send(ctx, p.Phone, body)
	default:
		n.ProviderID, err = nt.email.Send(ctx, p.Email, mail)
	}
	if err == nil {
		finish(bridge.NotificationSent, "")
		return
	}
	var se *SendError
	if errors.As(err, &se) && se.Permanent {
		cause = err
		finish(bridge.NotificationFailed, se.Reason)
		return
	}
	retryAfter := time.Duration(0)
	if se != nil {
		retryAfter = se.RetryAfter
	}
	nt.retry(ctx, log, n, err, retryAfter)
}

// stale says why a notification is no longer worth sending, or "".
func (nt *Notifier) stale(s *bridge.Session, n *bridge.Notification, now time.Time) string {
	switch {
	case s.Status == bridge.StatusCancelled && n.Kind != bridge.NoticeCancellation:
		return "the session was cancelled"
	case s.Status == bridge.StatusEnded && n.Kind != bridge.NoticeCancellation:
		return "the session has ended"
	case n.Kind == bridge.NoticeCancellation && s.Status != bridge.StatusCancelled:
		return "the session is no longer cancelled"
	case n.Kind != bridge.NoticeCancellation && !now.Before(s.End):
		return "not delivered before the session ended"
	case n.Kind == bridge.NoticeCancellation && now.Sub(n.CreatedAt) > 24*time.Hour:
		return "not delivered within 24 hours"
	}
	return ""
}

func contactName(ch bridge.Channel) string {
	switch ch {
	case bridge.ChannelSMS:
		return "phone number"
	case bridge.ChannelMatrix:
		return "Matrix account"
	}
	return "email address"
}

// booking loads the notification's session and participant.
func (nt *Notifier) booking(ctx context.Context, n *bridge.Notification) (*bridge.Session, *bridge.Participant, error) {
	s, err := nt.bookings.GetSession(ctx, n.SessionID)
	if err != nil {
		return nil, nil, err
	}
	ps, err := nt.bookings.Participants(ctx, n.SessionID)
	if err != nil {
		return s, nil, err
	}
	for _, p := range ps {
		if p.ID == n.ParticipantID {
			return s, p, nil
		}
	}
	return s, nil, bridge.ErrNotFound
}

// Backoff is how long the sender waits before the given attempt's retry: 30 s doubling up to
// 30 minutes.
func Backoff(attempt int) time.Duration {
	d := 30 * time.Second
	for i := 1; i < attempt && d < 30*time.Minute; i++ {
		d *= 2
	}
	return min(d, 30*time.Minute)
}

// retry puts a notification back in line after a temporary failure.
func (nt *Notifier) retry(ctx context.Context, log zerolog.Logger, n *bridge.Notification, cause error, after time.Duration) {
	now := nt.clock.Now()
	if after <= 0 {
		after = Backoff(n.Attempts)
	}
	n.Status, n.Due, n.UpdatedAt = bridge.NotificationPending, now.Add(after), now
	n.LastError = reasonOf(cause)
	if err := nt.outbox.Update(ctx, n); err != nil {
		log.Err(err).Msg("Failed to put a notification back in line")
		return
	}
	logProvider(log.Warn().Dur("retry_in", after), cause).Msg("Notification will be retried")
}

// logProvider adds what a provider said to a log line without its text, which may quote the
// recipient's number or address: the HTTP or SMTP status and the provider's error code.
func logProvider(ev *zerolog.Event, err error) *zerolog.Event {
	var se *SendError
	switch {
	case err == nil:
		return ev
	case errors.As(err, &se):
		return ev.Int("provider_status", se.Status).Int("provider_code", se.Code).Bool("permanent", se.Permanent)
	}
	return ev.Err(err)
}

// reasonOf is the error's text for the clinician: the provider's reason when it gave one.
func reasonOf(err error) string {
	var se *SendError
	if errors.As(err, &se) && se.Reason != "" {
		return se.Reason
	}
	return strings.TrimSpace(err.Error())
}
