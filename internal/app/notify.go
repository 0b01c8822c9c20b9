package app

import (
	"context"
	"fmt"
	"net/url"

	"github.com/jonboulle/clockwork"
	"github.com/rs/zerolog"

	"github.com/telehealth-bridge/telehealth-bridge/appservice"
	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"github.com/telehealth-bridge/telehealth-bridge/config"
	"github.com/telehealth-bridge/telehealth-bridge/database"
	"github.com/telehealth-bridge/telehealth-bridge/scheduler"
	"github.com/telehealth-bridge/telehealth-bridge/web"
)

// newNotifier creates the notification outbox with the SMS and email senders the config sets
// up; a channel left unconfigured skips its rows with the reason, which the clinician sees. The
// SMS sender, nil without one, also serves Twilio's webhooks.
func newNotifier(cfg *config.Config, db *database.Database, outbox scheduler.Outbox, clock clockwork.Clock, window bridge.Window, log zerolog.Logger) (*scheduler.Notifier, *scheduler.SMS, error) {
	n := cfg.Notify
	var sms *scheduler.SMS
	var smsSender scheduler.SMSSender // a nil *SMS must stay a nil interface
	if n.SMS.AccountSID != "" {
		smsCfg := scheduler.SMSConfig{
			AccountSID: n.SMS.AccountSID, AuthToken: n.SMS.AuthToken, From: n.SMS.From,
			MessagingServiceSID: n.SMS.MessagingServiceSID, APIURL: n.SMS.APIURL, ClinicName: n.ClinicName,
		}
		if n.SMS.StatusCallback {
			smsCfg.StatusCallbackURL = cfg.Web.PublicURL + "/sms/status"
		}
		var err error
		if sms, err = scheduler.NewSMS(smsCfg, log); err != nil {
			return nil, nil, fmt.Errorf("setting up SMS (notifications.sms): %w", err)
		}
		smsSender = sms
	}
	var email scheduler.EmailSender
	if n.Email.Host != "" {
		mailer, err := scheduler.NewMailer(scheduler.SMTPConfig{
			Host: n.Email.Host, Port: n.Email.Port, Username: n.Email.Username, Password: n.Email.Password,
			From: n.Email.From, Name: n.ClinicName, TLS: n.Email.TLS,
		}, log)
		if err != nil {
			return nil, nil, fmt.Errorf("setting up email (notifications.email): %w", err)
		}
		email = mailer
	}
	domain := cfg.Homeserver.Domain
	if u, err := url.Parse(cfg.Web.PublicURL); err == nil && u.Hostname() != "" {
		domain = u.Hostname()
	}
	return scheduler.NewNotifier(scheduler.NotifyConfig{
		Clinic:           scheduler.Clinic{Name: n.ClinicName, Phone: n.ClinicPhone, Email: n.Email.From, Domain: domain},
		Window:           window,
		Confirmation:     n.Confirmation,
		ReminderBefore:   n.ReminderBefore,
		PhoneIntroBefore: n.PhoneIntroBefore,
		SMSPerSecond:     n.SMS.PerSecond,
		Poll:             n.Poll,
	}, clock, log, outbox, db.OptOut, db.Store(), smsSender, email), sms, nil
}

// clinicDesk tells the clinician about unsent notifications in both places they look: the
// control room (the Matrix side) and the panel, which re-renders at once.
type clinicDesk struct {
	*appservice.Connector
	panel *web.Server
}

func (d clinicDesk) NotificationProblem(ctx context.Context, s *bridge.Session, p *bridge.Participant, n *bridge.Notification) {
	d.Connector.NotificationProblem(ctx, s, p, n)
	d.panel.NotificationProblem(s)
}

// callDesk tells the clinician where their telephone call is, in the control room and on the
// panel.
type callDesk struct {
	matrix *appservice.Connector
	panel  *web.Server
}

func (d callDesk) CallChanged(ctx context.Context, s *bridge.Session, a *bridge.CallAttempt) {
	d.matrix.CallChanged(ctx, s, a)
	d.panel.CallChanged(ctx, s, a)
}
