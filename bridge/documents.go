package bridge

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// The documents journey. A professional shares a file with a client by posting it in the
// client's Messages room (an m.file or m.image event, from Element or from the panel, where
// the bot posts it under the professional's name); the bridge indexes those events
// (Document), never the files, which stay in the homeserver's media repository. The clinic
// also keeps document templates (consent, privacy notice, what to expect); a booking may
// attach a package of them to a session, which its participants see before joining and, where
// a template asks for it, acknowledge (typed full name and a tick: DocumentAck).
//
// Who may do what: a client reaches only their own documents (another's ID is
// ErrDocumentNotFound, as an unknown one); a clinician reaches a client's documents when they
// may see the record (mayViewClient), and every such access is in the audit trail. Templates
// are the clinic's: every clinician lists and adds them. A session's package is set by its
// clinician (or an admin); its acknowledgements are read by them in the lobby. Names of files
// and templates never go into logs, notifications or the audit trail: IDs only.

// Document is a file shared with a client: one m.file or m.image event of their Messages room.
type Document struct {
	ID       int64
	EventID  string
	RoomID   string
	ClientID int64
	// SharedBy is the professional who shared it (for the bot's relay of a panel upload, the
	// professional who uploaded it).
	SharedBy string
	FileName string
	// MXC is the file's mxc:// URI in the homeserver's media repository.
	MXC  string
	Size int64
	// ContentType is the sniffed type, never the sender's.
	ContentType string
	SharedAt    time.Time
	// Kind is "" for a file a professional shared, DocumentInsuranceCard for a picture of an
	// insurance card the client uploaded (SharedBy is then ClientActor).
	Kind string
}

// DocumentInsuranceCard is the kind of a picture of the client's insurance card, uploaded from
// their portal: it is theirs, never listed as shared by a professional.
const DocumentInsuranceCard = "insurance_card"

// DocumentTemplate is one of the clinic's documents given to sessions' participants.
type DocumentTemplate struct {
	ID          int64
	Title       Text
	FileName    string
	MXC         string
	Size        int64
	ContentType string
	// SHA256 is the file's digest, hex: an acknowledgement names the very file that was shown.
	SHA256 string
	// NeedsAck: participants acknowledge it (typed full name and a tick) before joining.
	NeedsAck  bool
	CreatedBy string
	CreatedAt time.Time
}

// DocumentAck is a participant's acknowledgement of a template of their session's package.
type DocumentAck struct {
	SessionID     string
	ParticipantID int64
	TemplateID    int64
	// ClientID is the participant's client record (0: none).
	ClientID  int64
	TypedName string
	SHA256    string
	At        time.Time
}

// DocumentStore keeps the documents' index, the templates, the packages and acknowledgements.
type DocumentStore interface {
	// InsertDocument indexes d unless its event is indexed already; it sets d.ID (the stored
	// row's) and reports whether d was new.
	InsertDocument(ctx context.Context, d *Document) (bool, error)
	// GetDocument returns ErrDocumentNotFound when there is none.
	GetDocument(ctx context.Context, id int64) (*Document, error)
	// ClientDocuments are a client's documents, newest first.
	ClientDocuments(ctx context.Context, clientID int64) ([]*Document, error)

	InsertTemplate(ctx context.Context, t *DocumentTemplate) error
	// GetTemplate returns ErrDocumentNotFound when there is none.
	GetTemplate(ctx context.Context, id int64) (*DocumentTemplate, error)
	// Templates are the clinic's templates, oldest first.
	Templates(ctx context.Context) ([]*DocumentTemplate, error)
	// SetSessionPackage replaces a session's package.
	SetSessionPackage(ctx context.Context, sessionID string, templateIDs []int64) error
	// SessionPackage is a session's package, in the templates' order.
	SessionPackage(ctx context.Context, sessionID string) ([]*DocumentTemplate, error)
	// PutAck stores an acknowledgement; a second one of the same template by the same
	// participant keeps the first.
	PutAck(ctx context.Context, a *DocumentAck) error
	// SessionAcks are a session's acknowledgements.
	SessionAcks(ctx context.Context, sessionID string) ([]*DocumentAck, error)
}

// ErrDocumentNotFound: no such document or template, or not the asker's.
var ErrDocumentNotFound = errors.New("there is no such document")

// ErrNoDocuments: the bridge runs without the documents' storage.
var ErrNoDocuments = errors.New("documents are not available")

// The audit actions of documents. Subject: the client's record ("client:<id>") for a shared
// document, "document_template:<id>" for a template; Detail "document" names the document.
const (
	AuditDocumentShared          AuditAction = "document_shared"
	AuditDocumentViewed          AuditAction = "document_viewed"
	AuditDocumentTemplateCreated AuditAction = "document_template_created"
	AuditDocumentAcknowledged    AuditAction = "document_acknowledged"
)

// TemplateSubject is the audit subject of a document template.
func TemplateSubject(id int64) string { return "document_template:" + strconv.FormatInt(id, 10) }

// UseDocuments connects the documents' storage; documents are unavailable without it.
func (svc *Service) UseDocuments(store DocumentStore) { svc.documents = store }

func (svc *Service) documentStore() (DocumentStore, error) {
	if svc.documents == nil {
		return nil, ErrNoDocuments
	}
	return svc.documents, nil
}

// IndexDocument records a file posted in a client's Messages room (the Matrix side calls it
// for each m.file or m.image event, and the panel's upload once posted). It reports whether
// the event was new; a delivery again of the same event changes nothing.
func (svc *Service) IndexDocument(ctx context.Context, d *Document) (bool, error) {
	store, err := svc.documentStore()
	if err != nil {
		return false, err
	}
	if d.SharedAt.IsZero() {
		d.SharedAt = svc.clock.Now()
	}
	created, err := store.InsertDocument(ctx, d)
	if err != nil {
		return false, fmt.Errorf("indexing document event %s: %w", d.EventID, err)
	}
	if created {
		_ = svc.Audit(ctx, AuditEntry{Actor: d.SharedBy, Action: AuditDocumentShared, Subject: ClientSubject(d.ClientID),
			Detail: map[string]string{"document": strconv.FormatInt(d.ID, 10)}})
	}
	return created, nil
}

// ClientDocuments are the documents shared with a client, newest first: the portal's list,
// for the client signed in (the caller has checked the sign-in).
func (svc *Service) ClientDocuments(ctx context.Context, clientID int64) ([]*Document, error) {
	return svc.clientDocuments(ctx, clientID, "")
}

// InsuranceCards are the pictures of the client's insurance card they uploaded, newest first.
func (svc *Service) InsuranceCards(ctx context.Context, clientID int64) ([]*Document, error) {
	return svc.clientDocuments(ctx, clientID, DocumentInsuranceCard)
}

func (svc *Service) clientDocuments(ctx context.Context, clientID int64, kind string) ([]*Document, error) {
	store, err := svc.documentStore()
	if err != nil {
		return nil, err
	}
	all, err := store.ClientDocuments(ctx, clientID)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(all, func(d *Document) bool { return d.Kind != kind }), nil
}

// AddInsuranceCard indexes a picture of an insurance card the client uploaded from their
// portal (the caller checked the sign-in, the size and that it is a PNG, JPEG or WebP picture,
// and posted it in the client's Messages room).
func (svc *Service) AddInsuranceCard(ctx context.Context, clientID int64, d *Document) error {
	d.ClientID, d.Kind, d.SharedBy = clientID, DocumentInsuranceCard, ClientActor(clientID)
	_, err := svc.IndexDocument(ctx, d)
	return err
}

// ClientDocument is one of the client's own documents; another client's is ErrDocumentNotFound.
func (svc *Service) ClientDocument(ctx context.Context, clientID, id int64) (*Document, error) {
	store, err := svc.documentStore()
	if err != nil {
		return nil, err
	}
	d, err := store.GetDocument(ctx, id)
	if err != nil {
		return nil, err
	}
	if d.ClientID != clientID {
		return nil, ErrDocumentNotFound
	}
	return d, nil
}

// RecordDocuments is a record's documents for a clinician who may see it (ErrClientNotFound
// otherwise); the listing is audited as participant_data_viewed, view "documents".
func (svc *Service) RecordDocuments(ctx context.Context, actor string, clientID int64) ([]*Document, error) {
	store, err := svc.documentStore()
	if err != nil {
		return nil, err
	}
	if _, err = svc.Client(ctx, actor, clientID); err != nil {
		return nil, err
	}
	_ = svc.Audit(ctx, AuditEntry{Actor: actor, Action: AuditParticipantDataViewed, Subject: ClientSubject(clientID),
		Detail: map[string]string{"view": "documents"}})
	return store.ClientDocuments(ctx, clientID)
}

// RecordDocument is one document of a record, for a clinician who may see the record, about
// to open it: the access is audited (document_viewed).
func (svc *Service) RecordDocument(ctx context.Context, actor string, clientID, id int64) (*Document, error) {
	if _, err := svc.Client(ctx, actor, clientID); err != nil {
		return nil, err
	}
	d, err := svc.ClientDocument(ctx, clientID, id)
	if err != nil {
		return nil, err
	}
	_ = svc.Audit(ctx, AuditEntry{Actor: actor, Action: AuditDocumentViewed, Subject: ClientSubject(clientID),
		Detail: map[string]string{"document": strconv.FormatInt(id, 10)}})
	return d, nil
}

// MayShareDocument checks that a clinician may share a document with a record (they may see
// it): ErrClientNotFound otherwise.
func (svc *Service) MayShareDocument(ctx context.Context, actor string, clientID int64) (*Client, error) {
	if _, err := svc.documentStore(); err != nil {
		return nil, err
	}
	return svc.Client(ctx, actor, clientID)
}

// Template titles are short: a line in a list.
const maxTemplateTitle = 200

// ErrBadTemplate: a template's title or file is missing or too long.
var ErrBadTemplate = errors.New("a template needs a title (in English at least, up to 200 characters) and a file")

// CreateTemplate stores a clinic template whose file the caller has uploaded (MXC, SHA256,
// size and sniffed type set). Every clinician may.
func (svc *Service) CreateTemplate(ctx context.Context, actor string, t *DocumentTemplate) error {
	store, err := svc.documentStore()
	if err != nil {
		return err
	}
	if actor == "" {
		return ErrDocumentNotFound
	}
	title := Text{}
	for lang, s := range t.Title {
		if s = strings.TrimSpace(s); s != "" && (lang == "en" || lang == "fr") {
			title[lang] = s
		}
	}
	if title["en"] == "" || utf8.RuneCountInString(title["en"]) > maxTemplateTitle || utf8.RuneCountInString(title["fr"]) > maxTemplateTitle ||
		t.MXC == "" || t.SHA256 == "" {
		return ErrBadTemplate
	}
	t.Title, t.CreatedBy, t.CreatedAt = title, actor, svc.clock.Now()
	if err = store.InsertTemplate(ctx, t); err != nil {
		return fmt.Errorf("storing a document template: %w", err)
	}
	_ = svc.Audit(ctx, AuditEntry{Actor: actor, Action: AuditDocumentTemplateCreated, Subject: TemplateSubject(t.ID)})
	return nil
}

// Templates are the clinic's templates, for a clinician.
func (svc *Service) Templates(ctx context.Context, actor string) ([]*DocumentTemplate, error) {
	store, err := svc.documentStore()
	if err != nil {
		return nil, err
	}
	if actor == "" {
		return nil, ErrDocumentNotFound
	}
	return store.Templates(ctx)
}

// Template is one of the clinic's templates, for a clinician.
func (svc *Service) Template(ctx context.Context, actor string, id int64) (*DocumentTemplate, error) {
	store, err := svc.documentStore()
	if err != nil {
		return nil, err
	}
	if actor == "" {
		return nil, ErrDocumentNotFound
	}
	return store.GetTemplate(ctx, id)
}

// SetSessionPackage attaches templates to a session ("Show participant documents"): its
// clinician or an admin may; the templates must exist.
func (svc *Service) SetSessionPackage(ctx context.Context, actor, sessionID string, templateIDs []int64) error {
	store, err := svc.documentStore()
	if err != nil {
		return err
	}
	s, err := svc.store.GetSession(ctx, sessionID)
	if err != nil {
		return err
	}
	if s.Clinician != actor && !svc.isAdmin(actor) {
		return ErrNotYourSession
	}
	ids := slices.Clone(templateIDs)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	for _, id := range ids {
		if _, err = store.GetTemplate(ctx, id); err != nil {
			return err
		}
	}
	if err = store.SetSessionPackage(ctx, sessionID, ids); err != nil {
		return fmt.Errorf("storing session %s's documents: %w", sessionID, err)
	}
	// The pages that drew the session from its booking draw it again with its documents.
	svc.documentsChanged(ctx, s)
	return nil
}

// documentsChanged tells the watchers (the lobby's pages) that a session's documents or
// acknowledgements changed.
func (svc *Service) documentsChanged(ctx context.Context, s *Session) {
	var ps []*Participant
	for _, w := range svc.watchers {
		if pw, ok := w.(DetailsWatcher); ok {
			pw.DetailsChanged(s)
			continue
		}
		if ps == nil {
			var err error
			if ps, err = svc.store.Participants(ctx, s.ID); err != nil {
				return
			}
		}
		w.LobbyChanged(s, ps)
	}
}

// PackageItem is a template of a session's package as one participant sees it.
type PackageItem struct {
	Template *DocumentTemplate
	// Ack is the participant's acknowledgement, nil if none (yet).
	Ack *DocumentAck
}

// ParticipantPackage is a session's package for one of its participants (the caller has
// checked who they are: their link, or the portal's sign-in owning the participant).
func (svc *Service) ParticipantPackage(ctx context.Context, s *Session, p *Participant) ([]PackageItem, error) {
	store, err := svc.documentStore()
	if err != nil {
		return nil, err
	}
	pkg, err := store.SessionPackage(ctx, s.ID)
	if err != nil {
		return nil, fmt.Errorf("reading session %s's documents: %w", s.ID, err)
	}
	acks, err := store.SessionAcks(ctx, s.ID)
	if err != nil {
		return nil, fmt.Errorf("reading session %s's acknowledgements: %w", s.ID, err)
	}
	items := make([]PackageItem, 0, len(pkg))
	for _, t := range pkg {
		item := PackageItem{Template: t}
		for _, a := range acks {
			if a.ParticipantID == p.ID && a.TemplateID == t.ID {
				item.Ack = a
			}
		}
		items = append(items, item)
	}
	return items, nil
}

// PackageTemplate is a template of the session's package (ErrDocumentNotFound if it is not
// in it): what a participant may open.
func (svc *Service) PackageTemplate(ctx context.Context, s *Session, templateID int64) (*DocumentTemplate, error) {
	store, err := svc.documentStore()
	if err != nil {
		return nil, err
	}
	pkg, err := store.SessionPackage(ctx, s.ID)
	if err != nil {
		return nil, fmt.Errorf("reading session %s's documents: %w", s.ID, err)
	}
	for _, t := range pkg {
		if t.ID == templateID {
			return t, nil
		}
	}
	return nil, ErrDocumentNotFound
}

// ErrBadAcknowledgement: an acknowledgement without the participant's full name or the tick.
var ErrBadAcknowledgement = errors.New("type your full name and tick the box to acknowledge this document")

// ErrNoAckNeeded: the template asks for no acknowledgement.
var ErrNoAckNeeded = errors.New("this document needs no acknowledgement")

// Acknowledge records that a participant read a template of their session's package: the
// name they typed, the file's SHA-256, their client record and the time. Acknowledging again
// keeps the first.
func (svc *Service) Acknowledge(ctx context.Context, s *Session, p *Participant, templateID int64, typedName string, ticked bool) (*DocumentAck, error) {
	store, err := svc.documentStore()
	if err != nil {
		return nil, err
	}
	t, err := svc.PackageTemplate(ctx, s, templateID)
	if err != nil {
		return nil, err
	}
	if !t.NeedsAck {
		return nil, ErrNoAckNeeded
	}
	name := strings.Join(strings.Fields(typedName), " ")
	if !ticked || utf8.RuneCountInString(name) < 2 || utf8.RuneCountInString(name) > 200 {
		return nil, ErrBadAcknowledgement
	}
	a := &DocumentAck{SessionID: s.ID, ParticipantID: p.ID, TemplateID: t.ID, ClientID: p.ClientID, TypedName: name, SHA256: t.SHA256, At: svc.clock.Now()}
	if err = store.PutAck(ctx, a); err != nil {
		return nil, fmt.Errorf("storing an acknowledgement: %w", err)
	}
	_ = svc.Audit(ctx, AuditEntry{Actor: p.MatrixID, Action: AuditDocumentAcknowledged, SessionID: s.ID, Subject: ParticipantSubject(p),
		Detail: map[string]string{"template": strconv.FormatInt(t.ID, 10), "sha256": t.SHA256}})
	svc.documentsChanged(ctx, s) // the lobby's pages show who has acknowledged
	return a, nil
}

// AckStatus is whether one participant acknowledged the templates of the package that need it.
type AckStatus struct {
	Participant *Participant
	// Acked and Missing are the IDs of the templates needing acknowledgement.
	Acked, Missing []int64
}

// SessionAckStatus is, for the session's clinician (or an admin), who has and has not
// acknowledged the package's documents; nil when no template of its package needs it.
func (svc *Service) SessionAckStatus(ctx context.Context, actor, sessionID string) ([]*DocumentTemplate, []AckStatus, error) {
	store, err := svc.documentStore()
	if err != nil {
		return nil, nil, nil // no documents: nothing to acknowledge
	}
	s, err := svc.store.GetSession(ctx, sessionID)
	if err != nil {
		return nil, nil, err
	}
	if s.Clinician != actor && !svc.isAdmin(actor) && actor != svc.bot {
		return nil, nil, ErrNotYourSession
	}
	pkg, err := store.SessionPackage(ctx, sessionID)
	if err != nil {
		return nil, nil, fmt.Errorf("reading session %s's documents: %w", sessionID, err)
	}
	var needed []*DocumentTemplate
	for _, t := range pkg {
		if t.NeedsAck {
			needed = append(needed, t)
		}
	}
	if len(needed) == 0 {
		return pkg, nil, nil
	}
	acks, err := store.SessionAcks(ctx, sessionID)
	if err != nil {
		return nil, nil, fmt.Errorf("reading session %s's acknowledgements: %w", sessionID, err)
	}
	ps, err := svc.store.Participants(ctx, sessionID)
	if err != nil {
		return nil, nil, err
	}
	out := make([]AckStatus, 0, len(ps))
	for _, p := range ps {
		st := AckStatus{Participant: p}
		for _, t := range needed {
			if slices.ContainsFunc(acks, func(a *DocumentAck) bool { return a.ParticipantID == p.ID && a.TemplateID == t.ID }) {
				st.Acked = append(st.Acked, t.ID)
			} else {
				st.Missing = append(st.Missing, t.ID)
			}
		}
		out = append(out, st)
	}
	return pkg, out, nil
}
