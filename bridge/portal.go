package bridge

import "strconv"

// Portal sign-in: the kinds of proof a client signs in with, and how the audit trail names a
// client. The client record itself (Client) is owned by the records journey; sign-in keys
// everything by the record's ID.

// PortalSignInKind is how a client proved who they are.
type PortalSignInKind string

const (
	PortalByPasskey  PortalSignInKind = "passkey"
	PortalByPassword PortalSignInKind = "password"
	PortalByCode     PortalSignInKind = "code"
	// PortalByEnrolment is the enrolment link a clinic sent, which opens "Create your access".
	PortalByEnrolment PortalSignInKind = "enrolment"
)

// PortalContact is where a client receives a sign-in code: one of Email (lower case) or Phone
// (E.164).
type PortalContact struct {
	Email, Phone string
}

// String is the contact as the client records look it up.
func (c PortalContact) String() string { return c.Email + c.Phone }

// ClientActor is the audit actor (and subject) of a client signed in to the portal.
func ClientActor(clientID int64) string {
	return "client:" + strconv.FormatInt(clientID, 10)
}

// Audit actions of the portal's access: a client added a passkey, or set their password.
const (
	AuditPasskeyAdded AuditAction = "passkey_added"
	AuditPasswordSet  AuditAction = "password_set"
)
