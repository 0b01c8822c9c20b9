package scheduler

import (
	"context"
	"errors"
	"fmt"
	"html"
	"strings"
	"time"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
)

// The unread notice (bridge.NoticeUnreadMessages): a professional's message has stayed unread
// in a client's Messages thread for portal.message_notice_after, and the client is told by
// their reminder channel that they have a new message, with the portal's link. Once per unread
// batch; the notice says nothing else: no content, no names (not the client's, not the
// professional's, not the clinic's), as it may reach a shared inbox or a lock screen. SMS keep
// the outbox's quiet hours. It belongs to a client record, not to a session, so it is kept on
// the thread's row rather than in the outbox (whose rows are a session participant's); the
// same sender job sends it.

// MessageThreads is the Messages threads' bookkeeping, as the unread notice needs it.
type MessageThreads interface {
	// DueNotices are the threads whose unread batch started at unreadBefore or earlier, not
	// noticed, and not held past now.
	DueNotices(ctx context.Context, unreadBefore, now time.Time, limit int) ([]*bridge.MessageThread, error)
	// ClaimNotice marks the batch noticed; false when it was read or claimed meanwhile.
	ClaimNotice(ctx context.Context, t *bridge.MessageThread) (bool, error)
	// ReleaseNotice puts a claimed notice back, to be tried again from notBefore.
	ReleaseNotice(ctx context.Context, t *bridge.MessageThread, notBefore time.Time) error
	// PostponeNotice holds a notice back until notBefore.
	PostponeNotice(ctx context.Context, t *bridge.MessageThread, notBefore time.Time) error
}

// ClientRecords reads client records.
type ClientRecords interface {
	GetClient(ctx context.Context, id int64) (*bridge.Client, error)
}

// UseMessageNotices turns the unread notice on: after is portal.message_notice_after (0: off),
// portalURL the portal's address.
func (nt *Notifier) UseMessageNotices(threads MessageThreads, clients ClientRecords, portalURL string, after time.Duration) {
	nt.threads, nt.threadClients, nt.portalURL, nt.noticeAfter = threads, clients, portalURL, after
}

type messageNoticeWords struct{ subject, email, sms string }

// messageNoticeTexts are the notice's words, by language: the link and nothing else.
var messageNoticeTexts = map[string]messageNoticeWords{
	"en": {
		subject: "You have a new message from your clinic",
		email:   "You have a new message from your clinic.\n\nRead it in your client portal: %s",
		sms:     "You have a new message from your clinic. Read it in your client portal: %s",
	},
	"fr": {
		subject: "Vous avez un nouveau message de votre cabinet",
		email:   "Vous avez un nouveau message de votre cabinet.\n\nLisez-le dans votre espace client : %s",
		sms:     "Vous avez un nouveau message de votre cabinet. Lisez-le dans votre espace client : %s",
	},
}

// RenderMessageNotice writes the unread notice in the language (en or fr) with the link.
func RenderMessageNotice(lang, link string) (Email, string) {
	words, ok := messageNoticeTexts[lang]
	if !ok {
		words = messageNoticeTexts["en"]
	}
	text := fmt.Sprintf(words.email, link)
	var b strings.Builder
	for _, para := range strings.Split(text, "\n\n") {
		b.WriteString("<p>" + html.EscapeString(para) + "</p>")
	}
	return Email{Subject: words.subject, Text: text, HTML: b.String()}, fmt.Sprintf(words.sms, link)
}

// SendMessageNotices sends the unread notices that are due.
func (nt *Notifier) SendMessageNotices(ctx context.Context) error {
	if nt.threads == nil || nt.noticeAfter <= 0 {
		return nil
	}
	now := nt.clock.Now()
	due, err := nt.threads.DueNotices(ctx, now.Add(-nt.noticeAfter), now, claimBatch)
	if err != nil {
		return fmt.Errorf("finding the unread notices due: %w", err)
	}
	for _, t := range due {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		nt.messageNotice(ctx, t, now)
	}
	return nil
}

// messageNotice sends one unread notice, or says in the log why it does not.
func (nt *Notifier) messageNotice(ctx context.Context, t *bridge.MessageThread, now time.Time) {
	log := nt.log.With().Int64("client_id", t.ClientID).Str("kind", string(bridge.NoticeUnreadMessages)).Logger()
	// giveUp settles the batch without a notice.
	giveUp := func(reason string) {
		if _, err := nt.threads.ClaimNotice(ctx, t); err != nil {
			log.Err(err).Msg("Failed to settle an unread notice")
			return
		}
		log.Info().Str("reason", reason).Msg("Unread notice not sent")
	}
	c, err := nt.threadClients.GetClient(ctx, t.ClientID)
	if errors.Is(err, bridge.ErrClientNotFound) {
		giveUp("the client record no longer exists")
		return
	} else if err != nil {
		log.Err(err).Msg("Failed to read the client of an unread notice")
		return
	}
	if c.MatrixID != "" {
		// Their own Matrix app tells them, and the bridge cannot see them read there.
		giveUp("the client reads their messages in their own Matrix app")
		return
	}
	channel, to := bridge.Channel(""), ""
	switch c.Reminders {
	case bridge.RemindEmail:
		channel, to = bridge.ChannelEmail, c.Email()
	case bridge.RemindSMS:
		channel, to = bridge.ChannelSMS, c.Phone()
	}
	log = log.With().Str("channel", string(channel)).Logger()
	switch {
	case channel == "":
		giveUp("the client wants no reminders")
		return
	case to == "":
		giveUp("the client has no " + contactName(channel))
		return
	case channel == bridge.ChannelSMS && nt.sms == nil, channel == bridge.ChannelEmail && nt.email == nil:
		giveUp("the clinic has not configured " + contactName(channel) + " sending")
		return
	}
	if channel == bridge.ChannelSMS {
		out, err := nt.optOuts.OptedOut(ctx, to)
		if err != nil {
			log.Err(err).Msg("Failed to read the SMS opt-outs")
			return
		} else if out {
			giveUp("the client's number opted out of SMS (answered STOP)")
			return
		}
		if next := NextSendTime(now, c.TimeZone, bridge.NoticeUnreadMessages); next.After(now) {
			if err = nt.threads.PostponeNotice(ctx, t, next); err != nil {
				log.Err(err).Msg("Failed to hold an unread notice past quiet hours")
			}
			return
		}
	}
	if ok, err := nt.threads.ClaimNotice(ctx, t); err != nil || !ok {
		if err != nil {
			log.Err(err).Msg("Failed to claim an unread notice")
		}
		return // read meanwhile, or another sender has it
	}
	mail, sms := RenderMessageNotice(c.Locale, nt.portalURL)
	var providerID string
	if channel == bridge.ChannelSMS {
		if err = nt.smsRate.Wait(ctx); err == nil {
			providerID, err = nt.sms.Send(ctx, to, sms)
		}
	} else {
		providerID, err = nt.email.Send(ctx, to, mail)
	}
	var se *SendError
	switch {
	case err == nil:
		log.Info().Str("provider_id", providerID).Msg("Unread notice sent")
	case errors.As(err, &se) && se.Permanent:
		logProvider(log.Warn(), err).Msg("Unread notice refused for good")
	default:
		if relErr := nt.threads.ReleaseNotice(ctx, t, now.Add(Backoff(1))); relErr != nil {
			log.Err(relErr).Msg("Failed to put an unread notice back in line")
		}
		logProvider(log.Warn(), err).Msg("Unread notice will be retried")
	}
}
