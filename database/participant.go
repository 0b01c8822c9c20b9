package database

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"go.mau.fi/util/dbutil"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
)

// ParticipantQuery stores the people booked on sessions.
type ParticipantQuery struct {
	db *dbutil.Database
}

const (
	participantColumns = `id, session_id, number, name, matrix_id, email, phone, locale, time_zone, invite,
		state, knock_name, admitted_by, admitted_at, updated_at, client_id`
	insertParticipantQuery = `INSERT INTO telehealth_participant (session_id, number, name, matrix_id, email, phone,
		locale, time_zone, invite, state, knock_name, admitted_by, admitted_at, updated_at, client_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) RETURNING id`
	updateParticipantQuery = `UPDATE telehealth_participant SET name=$2, matrix_id=$3, email=$4, phone=$5, locale=$6,
		time_zone=$7, invite=$8, state=$9, knock_name=$10, admitted_by=$11, admitted_at=$12, updated_at=$13
		WHERE id=$1`
	sessionParticipantsQuery = `SELECT ` + participantColumns + ` FROM telehealth_participant
		WHERE session_id=$1 ORDER BY number`
	nextParticipantNumber  = `SELECT COALESCE(MAX(number), 0) + 1 FROM telehealth_participant WHERE session_id=$1`
	clinicianContactsQuery = `SELECT DISTINCT p.name, p.email, p.phone, p.locale, p.time_zone, p.invite
		FROM telehealth_participant p JOIN telehealth_session s ON s.id = p.session_id
		WHERE s.clinician=$1 AND lower(p.name) LIKE $2 ESCAPE '\' ORDER BY p.name LIMIT 10`
	contactParticipantsQuery = `SELECT ` + participantColumns + ` FROM telehealth_participant
		WHERE (email<>'' AND email=$1) OR (phone<>'' AND phone=$2)`
	clientParticipantsQuery = `SELECT ` + participantColumns + ` FROM telehealth_participant WHERE client_id=$1`
	isBookedQuery           = `SELECT EXISTS(SELECT 1 FROM telehealth_participant p JOIN telehealth_session s ON s.id = p.session_id
		WHERE p.matrix_id=$1 AND p.state<>'removed' AND s.status NOT IN ('ended', 'cancelled'))`
)

func scanParticipant(row dbutil.Scannable) (*bridge.Participant, error) {
	var p bridge.Participant
	var matrixID sql.NullString
	var admittedAt, clientID sql.NullInt64
	var updated int64
	var invite, state string
	err := row.Scan(&p.ID, &p.SessionID, &p.Number, &p.Name, &matrixID, &p.Email, &p.Phone, &p.Locale, &p.TimeZone,
		&invite, &state, &p.KnockName, &p.AdmittedBy, &admittedAt, &updated, &clientID)
	if err != nil {
		return nil, err
	}
	p.MatrixID, p.Invite, p.State = matrixID.String, bridge.InviteMode(invite), bridge.LobbyState(state)
	if admittedAt.Valid {
		p.AdmittedAt = time.UnixMilli(admittedAt.Int64).UTC()
	}
	p.UpdatedAt, p.ClientID = time.UnixMilli(updated).UTC(), clientID.Int64
	return &p, nil
}

var participantRows = dbutil.ConvertRowFn[*bridge.Participant](scanParticipant)

func admittedAt(p *bridge.Participant) *int64 {
	if p.AdmittedAt.IsZero() {
		return nil
	}
	return dbutil.UnixMilliPtr(p.AdmittedAt)
}

// Insert stores a new participant and sets its ID. A zero Number takes the next free one.
func (q *ParticipantQuery) Insert(ctx context.Context, p *bridge.Participant) error {
	if p.Number == 0 {
		if err := q.db.QueryRow(ctx, nextParticipantNumber, p.SessionID).Scan(&p.Number); err != nil {
			return err
		}
	}
	return q.db.QueryRow(ctx, insertParticipantQuery, p.SessionID, p.Number, p.Name, dbutil.StrPtr(p.MatrixID),
		p.Email, p.Phone, p.Locale, p.TimeZone, string(p.Invite), string(p.State), p.KnockName, p.AdmittedBy,
		admittedAt(p), p.UpdatedAt.UnixMilli(), dbutil.NumPtr(p.ClientID)).Scan(&p.ID)
}

// Update stores a participant's new state.
func (q *ParticipantQuery) Update(ctx context.Context, p *bridge.Participant) error {
	_, err := q.db.Exec(ctx, updateParticipantQuery, p.ID, p.Name, dbutil.StrPtr(p.MatrixID), p.Email, p.Phone,
		p.Locale, p.TimeZone, string(p.Invite), string(p.State), p.KnockName, p.AdmittedBy, admittedAt(p),
		p.UpdatedAt.UnixMilli())
	return err
}

// ForSession returns a session's participants in booking order.
func (q *ParticipantQuery) ForSession(ctx context.Context, sessionID string) ([]*bridge.Participant, error) {
	return participantRows.NewRowIter(q.db.Query(ctx, sessionParticipantsQuery, sessionID)).AsList()
}

// ByClient returns the participant rows, in every session, that point at the client record:
// the client's own places in their sessions (never another's who shares a contact).
func (q *ParticipantQuery) ByClient(ctx context.Context, clientID int64) ([]*bridge.Participant, error) {
	return participantRows.NewRowIter(q.db.Query(ctx, clientParticipantsQuery, clientID)).AsList()
}

// ByContact returns the participants, in any session, booked with this email address or phone
// number (the same person's other sessions with the clinic).
func (q *ParticipantQuery) ByContact(ctx context.Context, email, phone string) ([]*bridge.Participant, error) {
	if email == "" && phone == "" {
		return nil, nil
	}
	return participantRows.NewRowIter(q.db.Query(ctx, contactParticipantsQuery, email, phone)).AsList()
}

// IsBooked reports whether the Matrix user is booked on a session that is not over and was
// not removed from it: who may open a direct chat with the bot.
func (q *ParticipantQuery) IsBooked(ctx context.Context, matrixID string) (bool, error) {
	var booked bool
	err := q.db.QueryRow(ctx, isBookedQuery, matrixID).Scan(&booked)
	return booked, err
}

// Contact is how a clinician reached a past participant, for auto-filling a new booking.
type Contact struct {
	Name     string `json:"name"`
	Email    string `json:"email,omitempty"`
	Phone    string `json:"phone,omitempty"`
	Locale   string `json:"locale"`
	TimeZone string `json:"time_zone"`
	Invite   string `json:"invite"`
}

// ClinicianContacts returns up to 10 of a clinician's past participants whose name starts with
// prefix (case-insensitive).
func (q *ParticipantQuery) ClinicianContacts(ctx context.Context, clinician, prefix string) ([]Contact, error) {
	pattern := strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(strings.ToLower(prefix)) + "%"
	return dbutil.ConvertRowFn[Contact](func(row dbutil.Scannable) (Contact, error) {
		var c Contact
		err := row.Scan(&c.Name, &c.Email, &c.Phone, &c.Locale, &c.TimeZone, &c.Invite)
		return c, err
	}).NewRowIter(q.db.Query(ctx, clinicianContactsQuery, clinician, pattern)).AsList()
}

const waitingQuery = `SELECT COUNT(*), MIN(p.updated_at) FROM telehealth_participant p
	JOIN telehealth_session s ON s.id = p.session_id
	WHERE p.state='waiting' AND s.status NOT IN ('ended', 'cancelled')`

// Waiting counts the people in waiting rooms of sessions not over and gives when the one
// waiting longest knocked (their last change; zero when nobody waits), for the metrics.
func (q *ParticipantQuery) Waiting(ctx context.Context) (n int, since time.Time, err error) {
	var oldest sql.NullInt64
	if err = q.db.QueryRow(ctx, waitingQuery).Scan(&n, &oldest); err != nil || !oldest.Valid {
		return n, time.Time{}, err
	}
	return n, time.UnixMilli(oldest.Int64).UTC(), nil
}
