package bridge

import "time"

// The notifications a session sends its participants (confirmations, reminders, the waiting
// room's link...) are planned in an outbox and sent by the scheduler; these are their types,
// shared by the pages and the Matrix side, which show them, and by the scheduler, which sends them.

// NoticeKind is what a notification tells the participant.
type NoticeKind string

const (
	// NoticeConfirmation: the session is booked (sent when it is scheduled).
	NoticeConfirmation NoticeKind = "confirmation"
	// NoticeReminder: the session is tomorrow (by default 24 hours before).
	NoticeReminder NoticeKind = "reminder"
	// NoticeWindowOpen: the waiting room opens now; carries the participant's link.
	NoticeWindowOpen NoticeKind = "window_open"
	// NoticeReschedule: the session moved.
	NoticeReschedule NoticeKind = "reschedule"
	// NoticeCancellation: the session was cancelled.
	NoticeCancellation NoticeKind = "cancellation"
	// NoticePhoneIntro: for telephone sessions, who will call and from which number, shortly
	// before the call, so the client recognises the caller.
	NoticePhoneIntro NoticeKind = "phone_intro"
	// NoticeMessage: a text message the clinician wrote (!sms, the panel), by SMS.
	NoticeMessage NoticeKind = "message"
	// NoticeUnreadMessages: a professional's message in the client's Messages thread has not
	// been read in the portal for a while. It says only that there is a message, with the
	// portal's link: no content, no names. It belongs to a client record, not to a session.
	NoticeUnreadMessages NoticeKind = "unread_messages"
	// NoticeFormToDo: a form was assigned to the client: "You have something to complete
	// before your session", with the portal's link; never the form's name.
	NoticeFormToDo NoticeKind = "form_todo"
	// NoticePaymentDue: the session asks for payment before joining: "You have something to
	// complete before your session", with the participant's session page (where Pay is); never
	// the service or the amount.
	NoticePaymentDue NoticeKind = "payment_due"
)

// SomethingToComplete reports whether a notice is one of those that say only "You have
// something to complete before your session".
func (k NoticeKind) SomethingToComplete() bool { return k == NoticeFormToDo || k == NoticePaymentDue }

// Channel is how a notification travels.
type Channel string

const (
	ChannelSMS   Channel = "sms"
	ChannelEmail Channel = "email"
	// ChannelMatrix reaches a participant booked with their own Matrix account, in a direct
	// chat with the bot.
	ChannelMatrix Channel = "matrix"
)

// NotificationStatus is where a planned notification is.
type NotificationStatus string

const (
	// NotificationPending: planned; sent at its due instant.
	NotificationPending NotificationStatus = "pending"
	// NotificationSending: claimed by the sender. A row left here by a crash is sent again.
	NotificationSending NotificationStatus = "sending"
	// NotificationSent: the provider accepted it.
	NotificationSent NotificationStatus = "sent"
	// NotificationFailed: the provider refused it for good (an invalid number), or it could not be
	// delivered in time; LastError says why.
	NotificationFailed NotificationStatus = "failed"
	// NotificationSkipped: not sent on purpose (opted out, no contact any more); LastError says why.
	NotificationSkipped NotificationStatus = "skipped"
	// NotificationCancelled: no longer needed (the session moved, was cancelled or ended).
	NotificationCancelled NotificationStatus = "cancelled"
)

// Notification is one planned message to one participant: a row of the outbox.
type Notification struct {
	ID            int64
	SessionID     string
	ParticipantID int64
	Kind          NoticeKind
	Channel       Channel
	// Due is when it should be sent, UTC.
	Due      time.Time
	Status   NotificationStatus
	Attempts int
	// Revision is the session's revision when the notification was planned.
	Revision   int
	ProviderID string
	LastError  string
	CreatedAt  time.Time
	UpdatedAt  time.Time
	// Body is the clinician's own text of a NoticeMessage, kept until it is sent or given up.
	Body string
}
