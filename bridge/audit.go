package bridge

import (
	"context"
	"strconv"
	"time"

	"github.com/rs/zerolog"
)

// Audit is the tamper-evident audit trail (HIPAA 164.312(b)): an append-only log of who did
// what to which session. The database implements it as a hash chain.
type Audit interface {
	Record(ctx context.Context, e AuditEntry) error
}

// AuditAction names what an audit entry records.
type AuditAction string

// The actions of the audit trail. The Service records the admission decisions and the
// session's life itself; the web pages and the Matrix side record the rest through
// Service.Audit.
const (
	AuditSchedule   AuditAction = "schedule"
	AuditReschedule AuditAction = "reschedule"
	AuditStart      AuditAction = "start"
	AuditAdmit      AuditAction = "admit"
	AuditDeny       AuditAction = "deny"
	AuditRemove     AuditAction = "remove"
	AuditSendBack   AuditAction = "send_back"
	AuditBan        AuditAction = "ban"
	AuditEnd        AuditAction = "end"
	AuditCancel     AuditAction = "cancel"

	// AuditSignIn: a clinician signed in to the panel, a Matrix user to the call page or the
	// widget, a guest opened their link. AuditSignInRefused: a token, link or OpenID token was
	// refused (Detail "reason").
	AuditSignIn        AuditAction = "sign_in"
	AuditSignInRefused AuditAction = "sign_in_refused"
	AuditSignOut       AuditAction = "sign_out"
	// AuditLinkIssued and AuditLinkWithdrawn: a guest link or a one-time link (Detail "kind")
	// was made, or revoked.
	AuditLinkIssued    AuditAction = "link_issued"
	AuditLinkWithdrawn AuditAction = "link_withdrawn"
	// AuditParticipantDataViewed: someone was shown a session's participants (names, contacts).
	AuditParticipantDataViewed AuditAction = "participant_data_viewed"
	// AuditCallJoined: someone's media connection joined a session's call.
	AuditCallJoined AuditAction = "call_joined"
	// AuditPhoneCall: a clinician placed a telephone session's call through the bridge.
	AuditPhoneCall AuditAction = "phone_call"
	// AuditTextSent: a clinician texted a participant a message of their own (never its text).
	AuditTextSent AuditAction = "text_sent"
)

// AuditEntry is one row of the audit trail. It identifies people by Matrix user ID or by
// participant record, never by name, contact or anything they said.
type AuditEntry struct {
	// At is when it happened; the Service's clock if zero.
	At time.Time
	// Actor is who acted: a Matrix user ID, the bridge's bot for what it does by itself,
	// "guest:<session>/<participant number>" for a web-link guest, or "anonymous".
	Actor  string
	Action AuditAction
	// SessionID is the session concerned, if any.
	SessionID string
	// Subject is whom the action concerned: "participant:<id>" or a Matrix user ID.
	Subject string
	// Detail adds context: "via" (panel, matrix, call, widget, link, scheduler), "reason",
	// "kind", "ip"... It is stored as canonical JSON.
	Detail map[string]string
}

// ParticipantSubject is the audit subject of a participant record.
func ParticipantSubject(p *Participant) string {
	return "participant:" + strconv.FormatInt(p.ID, 10)
}

// GuestActor is the audit actor of a web-link guest.
func GuestActor(sessionID string, number int) string {
	return "guest:" + sessionID + "/" + strconv.Itoa(number)
}

type auditViaKey struct{}

// WithAuditVia says through which door the actions done with ctx came ("panel", "matrix",
// "call", "widget", "link"): it becomes the "via" detail of their audit entries.
func WithAuditVia(ctx context.Context, via string) context.Context {
	return context.WithValue(ctx, auditViaKey{}, via)
}

// AuditVia is the door set with WithAuditVia, or "".
func AuditVia(ctx context.Context) string {
	via, _ := ctx.Value(auditViaKey{}).(string)
	return via
}

// Audit appends an entry to the audit trail: At defaults to now and "via" to the context's.
// A failure is logged and returned; the action it records has happened already.
func (svc *Service) Audit(ctx context.Context, e AuditEntry) error {
	if svc.audit == nil {
		return nil
	}
	if e.At.IsZero() {
		e.At = svc.clock.Now()
	}
	if e.Actor == "" {
		e.Actor = svc.bot // what the bridge does by itself
	}
	if via := AuditVia(ctx); via != "" && e.Detail["via"] == "" {
		detail := make(map[string]string, len(e.Detail)+1)
		for k, v := range e.Detail {
			detail[k] = v
		}
		detail["via"] = via
		e.Detail = detail
	}
	if err := svc.audit.Record(context.WithoutCancel(ctx), e); err != nil {
		zerolog.Ctx(ctx).Err(err).Str("action", string(e.Action)).Str("session_id", e.SessionID).Msg("Failed to append to the audit trail")
		return err
	}
	return nil
}

// auditFor maps the lobby actions that are admission decisions to their audit action.
var auditFor = map[Action]AuditAction{
	ActAdmit: AuditAdmit, ActDeny: AuditDeny, ActRemove: AuditRemove, ActSendBack: AuditSendBack, ActBan: AuditBan,
}

// auditParticipant records an admission decision on a participant.
func (svc *Service) auditParticipant(ctx context.Context, s *Session, p *Participant, a Action, actor string) {
	action, ok := auditFor[a]
	if !ok {
		return
	}
	detail := map[string]string{"number": strconv.Itoa(p.Number)}
	if p.MatrixID != "" {
		detail["matrix_id"] = p.MatrixID
	}
	_ = svc.Audit(ctx, AuditEntry{Actor: actor, Action: action, SessionID: s.ID, Subject: ParticipantSubject(p), Detail: detail})
}

// auditSession records a change to a whole session, with its schedule.
func (svc *Service) auditSession(ctx context.Context, s *Session, action AuditAction, actor string, detail map[string]string) {
	if detail == nil {
		detail = map[string]string{}
	}
	if action == AuditSchedule || action == AuditReschedule {
		detail["start"] = s.Start.UTC().Format(time.RFC3339)
		detail["end"] = s.End.UTC().Format(time.RFC3339)
	}
	_ = svc.Audit(ctx, AuditEntry{Actor: actor, Action: action, SessionID: s.ID, Detail: detail})
}

// ShowLobby is Lobby for a person who is about to see the participants (names, contacts,
// states): the viewing is recorded in the audit trail as participant_data_viewed, with what
// showed it ("lobby", "notifications"...). Refreshes of a view already open use Lobby.
func (svc *Service) ShowLobby(ctx context.Context, actor, id, view string) (*Session, []*Participant, error) {
	s, ps, err := svc.Lobby(ctx, actor, id)
	if err != nil {
		return nil, nil, err
	}
	_ = svc.Audit(ctx, AuditEntry{Actor: actor, Action: AuditParticipantDataViewed, SessionID: s.ID, Detail: map[string]string{"view": view}})
	return s, ps, nil
}
