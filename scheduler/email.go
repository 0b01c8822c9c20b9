package scheduler

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/textproto"
	"strings"
	"time"
	"unicode"

	"github.com/rs/zerolog"
	gomail "github.com/wneessen/go-mail"
)

// SMTPConfig configures sending email through an SMTP relay.
type SMTPConfig struct {
	Host string
	// Port is 587 for starttls, 465 for tls and 25 for none when 0.
	Port     int
	Username string
	Password string
	// From is the sender: "Clinique du Parc <rdv@clinique.example>".
	From string
	// Name is the sender's display name: the clinic's name (notifications.clinic_name), which
	// participants know it by. Empty keeps the name in From, if any.
	Name string
	// TLS is "starttls" (the default, required), "tls" (implicit TLS) or "none" (a relay on
	// the loopback interface only: nothing else may see the messages in clear).
	TLS string
}

// Mailer sends notification emails.
type Mailer struct {
	client *gomail.Client
	from   *mail.Address
	domain string
	log    zerolog.Logger
}

// NewMailer checks the configuration and returns the sender.
func NewMailer(cfg SMTPConfig, log zerolog.Logger) (*Mailer, error) {
	if cfg.Host == "" {
		return nil, errors.New("configuring email: the SMTP host is required")
	}
	from, err := mail.ParseAddress(cfg.From)
	if err != nil {
		return nil, fmt.Errorf("configuring email: the sender %q is not an address such as \"Clinique du Parc <rdv@clinique.example>\"", cfg.From)
	}
	opts := []gomail.Option{gomail.WithTimeout(30 * time.Second)}
	port := cfg.Port
	switch cfg.TLS {
	case "", "starttls":
		opts, port = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory)), orDefault(port, 587)
	case "tls":
		opts, port = append(opts, gomail.WithSSL()), orDefault(port, 465)
	case "none":
		if !isLoopback(cfg.Host) {
			return nil, fmt.Errorf("configuring email: SMTP without TLS is only for a relay on this machine, not %q", cfg.Host)
		}
		opts, port = append(opts, gomail.WithTLSPolicy(gomail.NoTLS)), orDefault(port, 25)
	default:
		return nil, fmt.Errorf("configuring email: tls must be starttls, tls or none, not %q", cfg.TLS)
	}
	opts = append(opts, gomail.WithPort(port))
	if cfg.Username != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(cfg.Username), gomail.WithPassword(cfg.Password))
	}
	c, err := gomail.NewClient(cfg.Host, opts...)
	if err != nil {
		return nil, fmt.Errorf("configuring email: %w", err)
	}
	if name := strings.Join(strings.FieldsFunc(cfg.Name, isSpaceOrControl), " "); name != "" {
		// One line of printable text: net/mail quotes or RFC 2047-encodes it as it needs.
		from.Name = name
	}
	domain := from.Address[strings.LastIndexByte(from.Address, '@')+1:]
	return &Mailer{client: c, from: from, domain: domain, log: log.With().Str("component", "email").Logger()}, nil
}

// isSpaceOrControl: what a one-line display name cannot hold (a line break above all).
func isSpaceOrControl(r rune) bool {
	return unicode.IsSpace(r) || unicode.IsControl(r)
}

func orDefault(port, fallback int) int {
	if port == 0 {
		return fallback
	}
	return port
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Send sends one email: text and HTML alternatives and, when there is one, the calendar invite
// both as a text/calendar alternative (what mail clients turn into accept/decline buttons) and
// as an invite.ics attachment (for the others). It returns the Message-ID. Errors are
// *SendError: temporary for a relay that cannot be reached or answers 4xx, permanent for 5xx
// (a recipient refused).
func (m *Mailer) Send(ctx context.Context, to string, e Email) (string, error) {
	msg := gomail.NewMsg()
	msg.FromMailAddress(m.from)
	if err := msg.To(to); err != nil {
		return "", &SendError{Permanent: true, Reason: "the recipient address is invalid", err: err}
	}
	msg.Subject(e.Subject)
	msg.SetDate()
	id := make([]byte, 16)
	_, _ = rand.Read(id)
	msg.SetMessageIDWithValue(hex.EncodeToString(id) + "@" + m.domain)
	msg.SetBodyString(gomail.TypeTextPlain, e.Text)
	if e.HTML != "" {
		msg.AddAlternativeString(gomail.TypeTextHTML, e.HTML)
	}
	if len(e.Invite) > 0 {
		method := e.InviteMethod
		if method == "" {
			method = "REQUEST"
		}
		msg.AddAlternativeString(gomail.ContentType("text/calendar; method="+method), string(e.Invite))
		if err := msg.AttachReader("invite.ics", strings.NewReader(string(e.Invite)),
			gomail.WithFileContentType(gomail.ContentType("application/ics"))); err != nil {
			return "", fmt.Errorf("attaching the calendar invite: %w", err)
		}
	}
	messageID := msg.GetMessageID()
	if err := m.client.DialAndSendWithContext(ctx, msg); err != nil {
		se := classifySMTP(err)
		m.log.Warn().Str("message_id", messageID).Int("status", se.Status).Bool("permanent", se.Permanent).Msg("Email not accepted")
		return "", se
	}
	m.log.Info().Str("message_id", messageID).Msg("Email accepted")
	return messageID, nil
}

// classifySMTP says whether a failed send may succeed later: an SMTP 5xx answer is permanent;
// 4xx answers, timeouts and a relay that cannot be reached are temporary.
func classifySMTP(err error) *SendError {
	se := &SendError{err: err, Reason: err.Error()}
	var sendErr *gomail.SendError
	var protoErr *textproto.Error
	switch {
	case errors.As(err, &sendErr):
		se.Status = sendErr.ErrorCode()
		switch {
		case se.Status >= 500:
			se.Permanent = true
		case se.Status == 0 && (sendErr.Reason == gomail.ErrGetSender || sendErr.Reason == gomail.ErrGetRcpts ||
			sendErr.Reason == gomail.ErrNoUnencoded):
			se.Permanent = true // the message itself is wrong: sending it again changes nothing
		}
	case errors.As(err, &protoErr):
		// Refused at the greeting or the authentication: 5xx is the relay's configuration.
		se.Status, se.Permanent = protoErr.Code, protoErr.Code >= 500
	}
	if se.Status != 0 {
		se.Reason = fmt.Sprintf("the mail server answered %d: %s", se.Status, err.Error())
	} else {
		se.Reason = "the mail server could not take the message: " + err.Error()
	}
	return se
}
