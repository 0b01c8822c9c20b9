// Package database stores the bridge's sessions, participants, lobby and bookkeeping in SQLite
// (embedded, the default) or PostgreSQL, through go.mau.fi/util/dbutil. Each table has its own
// query file; the schema and its upgrades are in upgrades/.
package database

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"strings"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	"github.com/rs/zerolog"
	"go.mau.fi/util/dbutil"
	_ "modernc.org/sqlite" // registers the "sqlite" driver, pure Go

	"github.com/telehealth-bridge/telehealth-bridge/database/upgrades"
)

// VersionTable records which schema upgrade the database is at.
const VersionTable = "telehealth_version"

// Database is the bridge's storage: one query helper per table.
type Database struct {
	*dbutil.Database

	HandledEvent *HandledEventQuery
	ControlRoom  *ControlRoomQuery
	Session      *SessionQuery
	Participant  *ParticipantQuery
	LobbyLog     *LobbyLogQuery
	GuestLink    *GuestLinkQuery
	WebSession   *WebSessionQuery
	Outbox       *OutboxQuery
	OptOut       *OptOutQuery
	Audit        *AuditQuery
	Client       *ClientQuery
	// Self-scheduling.
	Availability *AvailabilityQuery
	SessionType  *SessionTypeQuery
	DayOff       *DayOffQuery
	SlotClaim    *SlotClaimQuery
	// Clients' requests to move their sessions.
	MoveRequest *MoveRequestQuery

	PortalCredential *PortalCredentialQuery
	PortalPassword   *PortalPasswordQuery
	PortalCode       *PortalCodeQuery
	PortalSession    *PortalSessionQuery
	// MessageThread is the bookkeeping of the clients' Messages threads.
	MessageThread *MessageThreadQuery
	Prospect      *ProspectQuery

	// Forms (telehealth_form: one row per version), their assignments and responses.
	Form           *FormQuery
	FormAssignment *FormAssignmentQuery
	FormResponse   *FormResponseQuery

	// Payment before the session: the price list, payments, Stripe customers and events,
	// clients' insurance details.
	PricedService   *PricedServiceQuery
	Payment         *PaymentQuery
	PaymentCustomer *PaymentCustomerQuery
	StripeEvent     *StripeEventQuery
	Insurance       *InsuranceQuery
	// Documents shared with clients (an index of their Messages rooms' files), the clinic's
	// templates, sessions' packages of them and participants' acknowledgements.
	Document         *DocumentQuery
	DocumentTemplate *DocumentTemplateQuery
	SessionDocument  *SessionDocumentQuery
	DocumentAck      *DocumentAckQuery

	lock *instanceLock
}

// Config says which database to open.
type Config struct {
	// Type is "sqlite" or "pgx".
	Type string
	// URI is a file path or SQLite URI, or a PostgreSQL URL.
	URI          string
	MaxOpenConns int
	MaxIdleConns int
	// Beside opens a SQLite database next to a running bridge, without the instance lock: for
	// the audit commands, which only read, and append nothing.
	Beside bool
}

// Open connects, checks that the database answers and upgrades the schema.
func Open(ctx context.Context, cfg Config, log zerolog.Logger) (*Database, error) {
	uri := cfg.URI
	var lock *instanceLock
	if cfg.Type == "sqlite" {
		if err := restrictSQLite(sqlitePath(uri)); err != nil {
			return nil, err
		}
		var err error
		if !cfg.Beside {
			if lock, err = lockSQLite(uri); err != nil {
				return nil, err
			}
		}
		uri = sqliteURI(uri)
	}
	raw, err := dbutil.NewFromConfig("telehealth-bridge", dbutil.Config{PoolConfig: dbutil.PoolConfig{
		Type:         cfg.Type,
		URI:          uri,
		MaxOpenConns: max(cfg.MaxOpenConns, 1),
		MaxIdleConns: max(cfg.MaxIdleConns, 1),
	}}, dbutil.ZeroLogger(log.With().Str("db_section", "main").Logger()))
	if err != nil {
		lock.release()
		return nil, fmt.Errorf("opening %s database %s: %w", cfg.Type, Redact(cfg.URI), err)
	}
	if err = raw.RawDB.PingContext(ctx); err != nil {
		_ = raw.Close()
		lock.release()
		return nil, fmt.Errorf("database %s is unreachable: %w", Redact(cfg.URI), err)
	}
	if cfg.Type == "sqlite" {
		// The -wal and -shm files exist now; one left from an older version may be 0644.
		if err = restrictSQLite(sqlitePath(cfg.URI)); err != nil {
			_ = raw.Close()
			lock.release()
			return nil, err
		}
	}
	db := New(raw)
	db.lock = lock
	if err = db.Upgrade(ctx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("upgrading database %s: %w", Redact(cfg.URI), err)
	}
	return db, nil
}

// Close closes the database and lets another instance use it.
func (db *Database) Close() error {
	err := db.Database.Close()
	db.lock.release()
	db.lock = nil
	return err
}

// New wraps an open dbutil database with the bridge's schema and queries.
func New(db *dbutil.Database) *Database {
	db.UpgradeTable = upgrades.Table
	db.VersionTable = VersionTable
	return &Database{
		Database:     db,
		HandledEvent: &HandledEventQuery{db: db},
		ControlRoom:  &ControlRoomQuery{db: db},
		Session:      &SessionQuery{db: db},
		Participant:  &ParticipantQuery{db: db},
		LobbyLog:     &LobbyLogQuery{db: db},
		GuestLink:    &GuestLinkQuery{db: db},
		WebSession:   &WebSessionQuery{db: db},
		Outbox:       &OutboxQuery{db: db},
		OptOut:       &OptOutQuery{db: db},
		Audit:        &AuditQuery{db: db},
		Client:       &ClientQuery{db: db},
		Availability: &AvailabilityQuery{db: db},
		SessionType:  &SessionTypeQuery{db: db},
		DayOff:       &DayOffQuery{db: db},
		SlotClaim:    &SlotClaimQuery{db: db},
		MoveRequest:  &MoveRequestQuery{db: db},

		PortalCredential: &PortalCredentialQuery{db: db},
		PortalPassword:   &PortalPasswordQuery{db: db},
		PortalCode:       &PortalCodeQuery{db: db},
		PortalSession:    &PortalSessionQuery{db: db},
		MessageThread:    &MessageThreadQuery{db: db},
		Prospect:         &ProspectQuery{db: db},

		Form:           &FormQuery{db: db},
		FormAssignment: &FormAssignmentQuery{db: db},
		FormResponse:   &FormResponseQuery{db: db},

		PricedService:    &PricedServiceQuery{db: db},
		Payment:          &PaymentQuery{db: db},
		PaymentCustomer:  &PaymentCustomerQuery{db: db},
		StripeEvent:      &StripeEventQuery{db: db},
		Insurance:        &InsuranceQuery{db: db},
		Document:         &DocumentQuery{db: db},
		DocumentTemplate: &DocumentTemplateQuery{db: db},
		SessionDocument:  &SessionDocumentQuery{db: db},
		DocumentAck:      &DocumentAckQuery{db: db},
	}
}

// sqliteURI turns a file path into a modernc SQLite URI with the settings the bridge relies on:
// foreign keys, WAL so readers do not block the writer, a busy timeout instead of immediate
// "database is locked" errors, and write transactions that take the lock when they begin.
func sqliteURI(uri string) string {
	if !strings.HasPrefix(uri, "file:") {
		uri = "file:" + uri
	}
	sep := "?"
	if strings.Contains(uri, "?") {
		sep = "&"
	}
	for _, p := range []string{"_pragma=foreign_keys(1)", "_pragma=journal_mode(WAL)", "_pragma=synchronous(NORMAL)", "_pragma=busy_timeout(10000)", "_txlock=immediate"} {
		name, _, _ := strings.Cut(p, "(")
		if !strings.Contains(uri, name) {
			uri += sep + p
			sep = "&"
		}
	}
	return uri
}

var dsnPassword = regexp.MustCompile(`(password=)\S+`)

// Redact hides the password of a database URL or DSN, for messages and logs.
func Redact(uri string) string {
	if u, err := url.Parse(uri); err == nil && u.User != nil {
		return u.Redacted()
	}
	return dsnPassword.ReplaceAllString(uri, "${1}xxxxx")
}
