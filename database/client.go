package database

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"

	"go.mau.fi/util/dbutil"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
)

// ClientQuery stores the clinic's client records: telehealth_client with its contacts
// (telehealth_client_contact) and assigned professionals (telehealth_client_professional),
// which are parts of the record and only ever written with it.
type ClientQuery struct {
	db *dbutil.Database
}

const (
	clientColumns = `id, display_name, preferred_name, matrix_id, locale, time_zone, reminders, portal_enabled,
		ghost_id, messages_room, created_at, updated_at, portal_closed`
	insertClientQuery = `INSERT INTO telehealth_client (display_name, preferred_name, name_key, matrix_id, locale,
		time_zone, reminders, portal_enabled, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id`
	updateClientQuery = `UPDATE telehealth_client SET display_name=$2, preferred_name=$3, name_key=$4, matrix_id=$5,
		locale=$6, time_zone=$7, reminders=$8, portal_enabled=$9, updated_at=$10 WHERE id=$1`
	// The portal's state changes only here: a record's edit leaves it as it is.
	setClientPortalQuery    = `UPDATE telehealth_client SET portal_enabled=$2, portal_closed=$3, updated_at=$4 WHERE id=$1`
	portalClosedQuery       = `SELECT portal_closed FROM telehealth_client WHERE id=$1`
	getClientQuery          = `SELECT ` + clientColumns + ` FROM telehealth_client WHERE id=$1`
	clientContactsQuery     = `SELECT kind, value FROM telehealth_client_contact WHERE client_id=$1 ORDER BY position`
	deleteContactsQuery     = `DELETE FROM telehealth_client_contact WHERE client_id=$1`
	insertContactQuery      = `INSERT INTO telehealth_client_contact (client_id, kind, value, position) VALUES ($1, $2, $3, $4)`
	clientProsQuery         = `SELECT professional FROM telehealth_client_professional WHERE client_id=$1 ORDER BY professional`
	deleteProsQuery         = `DELETE FROM telehealth_client_professional WHERE client_id=$1`
	insertProQuery          = `INSERT INTO telehealth_client_professional (client_id, professional) VALUES ($1, $2)`
	linkParticipantQuery    = `UPDATE telehealth_participant SET client_id=$2 WHERE id=$1`
	unkeyedClientsQuery     = `SELECT id, display_name, preferred_name FROM telehealth_client WHERE name_key=''`
	setNameKeyQuery         = `UPDATE telehealth_client SET name_key=$2 WHERE id=$1`
	clinicianSeesClientCond = `(EXISTS (SELECT 1 FROM telehealth_client_professional cp
			WHERE cp.client_id = c.id AND cp.professional = $1)
		OR EXISTS (SELECT 1 FROM telehealth_participant p JOIN telehealth_session s ON s.id = p.session_id
			WHERE p.client_id = c.id AND s.clinician = $1))`
	clientVisibleQuery = `SELECT EXISTS (SELECT 1 FROM telehealth_client c WHERE c.id = $2 AND ` + clinicianSeesClientCond + `)`
	searchClientsQuery = `SELECT ` + clientColumns + ` FROM telehealth_client c
		WHERE ($1 = '' OR ` + clinicianSeesClientCond + `)
		AND ($2 = '' OR c.name_key LIKE $3 ESCAPE '\' OR EXISTS (SELECT 1 FROM telehealth_client_contact cc
			WHERE cc.client_id = c.id AND (cc.value LIKE $4 ESCAPE '\' OR cc.value LIKE $5 ESCAPE '\')))
		ORDER BY c.display_name, c.id LIMIT $6`
	// The Matrix identity and the Messages room are set once: the first writer wins.
	setGhostQuery        = `UPDATE telehealth_client SET ghost_id=$2 WHERE id=$1 AND ghost_id=''`
	getGhostQuery        = `SELECT ghost_id FROM telehealth_client WHERE id=$1`
	setMessagesRoomQuery = `UPDATE telehealth_client SET messages_room=$2 WHERE id=$1 AND messages_room=''`
	getMessagesRoomQuery = `SELECT messages_room FROM telehealth_client WHERE id=$1`
	clientByMessagesRoom = `SELECT id FROM telehealth_client WHERE messages_room=$1 AND messages_room<>''`
	clientSessionsQuery  = `SELECT ` + sessionColumns + ` FROM telehealth_session WHERE id IN
		(SELECT session_id FROM telehealth_participant WHERE client_id=$1) ORDER BY start_ts DESC`
)

// nameKey is what a name search matches: every word of both names starts after a space.
func nameKey(c *bridge.Client) string {
	return " " + strings.ToLower(c.DisplayName) + " " + strings.ToLower(c.PreferredName) + " "
}

func clientArgs(c *bridge.Client) []any {
	return []any{c.DisplayName, c.PreferredName, nameKey(c), c.MatrixID, c.Locale, c.TimeZone, string(c.Reminders),
		c.PortalEnabled, c.CreatedAt.UnixMilli(), c.UpdatedAt.UnixMilli()}
}

func scanClient(row dbutil.Scannable) (*bridge.Client, error) {
	var c bridge.Client
	var created, updated int64
	var reminders string
	err := row.Scan(&c.ID, &c.DisplayName, &c.PreferredName, &c.MatrixID, &c.Locale, &c.TimeZone, &reminders,
		&c.PortalEnabled, &c.Ghost, &c.MessagesRoom, &created, &updated, &c.PortalClosed)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, bridge.ErrClientNotFound
	} else if err != nil {
		return nil, err
	}
	c.Reminders = bridge.ReminderPreference(reminders)
	c.CreatedAt, c.UpdatedAt = time.UnixMilli(created).UTC(), time.UnixMilli(updated).UTC()
	return &c, nil
}

var clientRows = dbutil.ConvertRowFn[*bridge.Client](scanClient)

// Upgrade brings the schema up to date, then writes the search keys of the client records that
// have none: the upgrade that turns participants into records leaves them to the bridge, which
// folds case as it folds a search.
func (db *Database) Upgrade(ctx context.Context) error {
	if err := db.Database.Upgrade(ctx); err != nil {
		return err
	}
	if err := db.Client.writeNameKeys(ctx); err != nil {
		return fmt.Errorf("writing the client records' search keys: %w", err)
	}
	return nil
}

func (q *ClientQuery) writeNameKeys(ctx context.Context) error {
	unkeyed, err := dbutil.ConvertRowFn[*bridge.Client](func(row dbutil.Scannable) (*bridge.Client, error) {
		var c bridge.Client
		return &c, row.Scan(&c.ID, &c.DisplayName, &c.PreferredName)
	}).NewRowIter(q.db.Query(ctx, unkeyedClientsQuery)).AsList()
	if err != nil {
		return err
	}
	return q.db.DoTxn(ctx, nil, func(ctx context.Context) error {
		for _, c := range unkeyed {
			if _, err := q.db.Exec(ctx, setNameKeyQuery, c.ID, nameKey(c)); err != nil {
				return err
			}
		}
		return nil
	})
}

// Insert stores a new client with its contacts and professionals, and sets its ID.
func (q *ClientQuery) Insert(ctx context.Context, c *bridge.Client) error {
	return q.db.DoTxn(ctx, nil, func(ctx context.Context) error {
		if err := q.db.QueryRow(ctx, insertClientQuery, clientArgs(c)...).Scan(&c.ID); err != nil {
			return err
		}
		return q.writeParts(ctx, c)
	})
}

// Update stores a client's fields, and replaces its contacts and professionals.
func (q *ClientQuery) Update(ctx context.Context, c *bridge.Client) error {
	return q.db.DoTxn(ctx, nil, func(ctx context.Context) error {
		res, err := q.db.Exec(ctx, updateClientQuery, c.ID, c.DisplayName, c.PreferredName, nameKey(c), c.MatrixID,
			c.Locale, c.TimeZone, string(c.Reminders), c.PortalEnabled, c.UpdatedAt.UnixMilli())
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return bridge.ErrClientNotFound
		}
		if _, err = q.db.Exec(ctx, deleteContactsQuery, c.ID); err != nil {
			return err
		}
		if _, err = q.db.Exec(ctx, deleteProsQuery, c.ID); err != nil {
			return err
		}
		return q.writeParts(ctx, c)
	})
}

func (q *ClientQuery) writeParts(ctx context.Context, c *bridge.Client) error {
	position := 0
	for _, list := range []struct {
		kind   string
		values []string
	}{{"email", c.Emails}, {"phone", c.Phones}} {
		for _, v := range list.values {
			position++
			if _, err := q.db.Exec(ctx, insertContactQuery, c.ID, list.kind, v, position); err != nil {
				return err
			}
		}
	}
	for _, pro := range c.Professionals {
		if _, err := q.db.Exec(ctx, insertProQuery, c.ID, pro); err != nil {
			return err
		}
	}
	return nil
}

// readParts loads a client's contacts and professionals.
func (q *ClientQuery) readParts(ctx context.Context, c *bridge.Client) error {
	rows, err := q.db.Query(ctx, clientContactsQuery, c.ID)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var kind, value string
		if err = rows.Scan(&kind, &value); err != nil {
			return err
		}
		if kind == "email" {
			c.Emails = append(c.Emails, value)
		} else {
			c.Phones = append(c.Phones, value)
		}
	}
	if err = rows.Err(); err != nil {
		return err
	}
	c.Professionals, err = dbutil.ConvertRowFn[string](func(row dbutil.Scannable) (string, error) {
		var pro string
		return pro, row.Scan(&pro)
	}).NewRowIter(q.db.Query(ctx, clientProsQuery, c.ID)).AsList()
	return err
}

// Get returns a client with its contacts and professionals, or bridge.ErrClientNotFound.
func (q *ClientQuery) Get(ctx context.Context, id int64) (*bridge.Client, error) {
	c, err := scanClient(q.db.QueryRow(ctx, getClientQuery, id))
	if err != nil {
		return nil, err
	}
	return c, q.readParts(ctx, c)
}

// VisibleTo reports whether the clinician is assigned to the client or has booked them.
func (q *ClientQuery) VisibleTo(ctx context.Context, id int64, clinician string) (bool, error) {
	var ok bool
	err := q.db.QueryRow(ctx, clientVisibleQuery, clinician, id).Scan(&ok)
	return ok, err
}

// Search returns the clients matching the query, by name.
func (q *ClientQuery) Search(ctx context.Context, cq bridge.ClientQuery) ([]*bridge.Client, error) {
	limit := cq.Limit
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	prefix := strings.ToLower(strings.Join(strings.Fields(cq.Prefix), " "))
	like := strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(prefix)
	// A phone number is stored in E.164: "+33 6 12" and "33612" both find +33612...
	digits := strings.Map(func(r rune) rune {
		if unicode.IsDigit(r) {
			return r
		}
		if r == ' ' || r == '.' || r == '-' || r == '(' || r == ')' || r == '+' {
			return -1
		}
		return 'x' // not a phone number: matches no phone
	}, prefix)
	clients, err := clientRows.NewRowIter(q.db.Query(ctx, searchClientsQuery, cq.Clinician, prefix,
		"% "+like+"%", like+"%", "+"+digits+"%", limit)).AsList()
	if err != nil {
		return nil, err
	}
	for _, c := range clients {
		if err = q.readParts(ctx, c); err != nil {
			return nil, err
		}
	}
	return clients, nil
}

// Sessions are the sessions the client was booked on, latest first.
func (q *ClientQuery) Sessions(ctx context.Context, id int64) ([]*bridge.Session, error) {
	return dbutil.ConvertRowFn[*bridge.Session](scanSession).NewRowIter(q.db.Query(ctx, clientSessionsQuery, id)).AsList()
}

// SetPortal opens or closes a client's portal.
func (q *ClientQuery) SetPortal(ctx context.Context, id int64, enabled, closed bool, at time.Time) error {
	res, err := q.db.Exec(ctx, setClientPortalQuery, id, enabled, closed, at.UnixMilli())
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return bridge.ErrClientNotFound
	}
	return nil
}

// PortalClosed reports whether the clinic closed the client's portal (false for no record).
func (q *ClientQuery) PortalClosed(ctx context.Context, id int64) (bool, error) {
	var closed bool
	err := q.db.QueryRow(ctx, portalClosedQuery, id).Scan(&closed)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return closed, err
}

// LinkParticipant points a participant at a client record.
func (q *ClientQuery) LinkParticipant(ctx context.Context, participantID, clientID int64) error {
	_, err := q.db.Exec(ctx, linkParticipantQuery, participantID, clientID)
	return err
}

// The bridge's client records port.
var _ bridge.ClientStore = (*Store)(nil)

func (s *Store) InsertClient(ctx context.Context, c *bridge.Client) error {
	return s.db.Client.Insert(ctx, c)
}

func (s *Store) UpdateClient(ctx context.Context, c *bridge.Client) error {
	return s.db.Client.Update(ctx, c)
}

func (s *Store) GetClient(ctx context.Context, id int64) (*bridge.Client, error) {
	return s.db.Client.Get(ctx, id)
}

func (s *Store) SearchClients(ctx context.Context, q bridge.ClientQuery) ([]*bridge.Client, error) {
	return s.db.Client.Search(ctx, q)
}

func (s *Store) ClientVisibleTo(ctx context.Context, id int64, clinician string) (bool, error) {
	return s.db.Client.VisibleTo(ctx, id, clinician)
}

func (s *Store) ClientSessions(ctx context.Context, id int64) ([]*bridge.Session, error) {
	return s.db.Client.Sessions(ctx, id)
}

func (s *Store) SetClientPortal(ctx context.Context, id int64, enabled, closed bool, at time.Time) error {
	return s.db.Client.SetPortal(ctx, id, enabled, closed, at)
}

func (s *Store) LinkParticipant(ctx context.Context, participantID, clientID int64) error {
	return s.db.Client.LinkParticipant(ctx, participantID, clientID)
}

// ByContact is the IDs of the clients whose record holds the contact (an email in lower case, a
// phone in E.164), at most two: more than one means people share it (a parent's email).
func (q *ClientQuery) ByContact(ctx context.Context, contact string) ([]int64, error) {
	rows, err := q.db.Query(ctx, `SELECT DISTINCT client_id FROM telehealth_client_contact WHERE value = $1 ORDER BY client_id LIMIT 2`, contact)
	if err != nil {
		return nil, fmt.Errorf("finding the clients of a contact: %w", err)
	}
	ids, err := dbutil.NewRowIterWithError(rows, dbutil.ScanSingleColumn[int64], nil).AsList()
	if err != nil {
		return nil, fmt.Errorf("finding the clients of a contact: %w", err)
	}
	return ids, nil
}

// ClientByContact is the portal's sign-in by contact: the one client who holds it. A contact
// several clients share (siblings with a parent's email) is answered as unknown, so that a code
// sent there can never open another person's portal; they sign in with a passkey or password.
func (q *ClientQuery) ClientByContact(ctx context.Context, contact string) (int64, bool, error) {
	ids, err := q.ByContact(ctx, contact)
	if err != nil || len(ids) != 1 {
		return 0, false, err
	}
	return ids[0], true, nil
}

// ClientName is what the portal calls the client.
func (q *ClientQuery) ClientName(ctx context.Context, id int64) (string, error) {
	c, err := q.Get(ctx, id)
	if err != nil {
		return "", err
	}
	return c.Name(), nil
}

// SetGhost gives the client their ghost unless they have one already, and returns the one they
// have now: of two racing requests, both end up with the first one's.
func (q *ClientQuery) SetGhost(ctx context.Context, id int64, ghost string) (string, error) {
	return q.setOnce(ctx, setGhostQuery, getGhostQuery, id, ghost)
}

// SetMessagesRoom records the client's Messages room unless they have one already, and returns
// the one they have now.
func (q *ClientQuery) SetMessagesRoom(ctx context.Context, id int64, roomID string) (string, error) {
	return q.setOnce(ctx, setMessagesRoomQuery, getMessagesRoomQuery, id, roomID)
}

func (q *ClientQuery) setOnce(ctx context.Context, set, get string, id int64, value string) (string, error) {
	if _, err := q.db.Exec(ctx, set, id, value); err != nil {
		return "", err
	}
	var now string
	err := q.db.QueryRow(ctx, get, id).Scan(&now)
	if errors.Is(err, sql.ErrNoRows) {
		return "", bridge.ErrClientNotFound
	}
	return now, err
}

// ByMessagesRoom is the client whose Messages room this is; ok is false for any other room.
func (q *ClientQuery) ByMessagesRoom(ctx context.Context, roomID string) (id int64, ok bool, err error) {
	err = q.db.QueryRow(ctx, clientByMessagesRoom, roomID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	return id, err == nil, err
}
