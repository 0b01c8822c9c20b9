package web

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
	"github.com/telehealth-bridge/telehealth-bridge/config"
	"github.com/telehealth-bridge/telehealth-bridge/internal/doctype"
)

// Documents (docs/web-api.md, "Documents"). Who may use which door:
//   - /api/portal/documents...: the client signed in to the portal, for the documents shared
//     with them only; another client's document ID reads 404, as an unknown one does. The
//     bridge downloads the file with its own token after that check: no file of the media
//     repository is reachable from the pages without it.
//   - /api/panel/clients/{id}/documents...: a clinician who may see the record (assigned,
//     booked, admin); anyone else reads 404, as for no client. Each list and each opening of a
//     file is audited; an upload is posted in the client's Messages room by the bot under the
//     clinician's name, as the panel's messages are.
//   - /api/panel/templates...: every signed-in clinician (the clinic's templates).
//   - /api/call/documents...: a session's participant, by their link (bearer token), for their
//     session's package only.
// Every file is served under the type sniffed from its bytes (internal/doctype), never the
// uploader's, with nosniff; a PDF or a picture inline, anything else as an attachment. File
// names and titles never go in logs: IDs only.

// Documents is the Matrix side of the documents: the homeserver's media repository and the
// clients' Messages rooms, with the bot's token.
type Documents interface {
	// DownloadDocument reads a file of the media repository, up to limit bytes.
	DownloadDocument(ctx context.Context, mxc string, limit int64) ([]byte, error)
	// UploadDocument puts a file in the media repository and returns its mxc:// URI.
	UploadDocument(ctx context.Context, name, contentType string, data []byte) (string, error)
	// ShareDocument uploads a file and posts it in the client's Messages room under the
	// professional's name; it returns the event ID and the file's URI.
	ShareDocument(ctx context.Context, c *bridge.Client, professional, name, contentType string, data []byte) (eventID, mxc string, err error)
	// PostClientFile uploads a file the client sent from the portal and posts it in their
	// Messages room as theirs (their ghost, or the bot naming them), marked with its kind.
	PostClientFile(ctx context.Context, c *bridge.Client, kind, name, contentType string, data []byte) (eventID, mxc string, err error)
}

// UseDocuments connects the documents' Matrix side.
func (srv *Server) UseDocuments(d Documents) { srv.documents = d }

func (srv *Server) documentsReady() error {
	if srv.documents == nil {
		return errorf(http.StatusServiceUnavailable, "no_documents", "Documents are not available on this bridge.")
	}
	return nil
}

// maxDocument is the largest file the bridge uploads or serves (documents.max_size).
func (srv *Server) maxDocument() int64 {
	if srv.cfg.DocumentMaxSize > 0 {
		return srv.cfg.DocumentMaxSize
	}
	return config.DefaultDocumentMaxSize
}

var errNoDocument = errorf(http.StatusNotFound, "not_found", "There is no such document.")

// documentError turns the documents journey's refusals into answers.
func documentError(err error) error {
	switch {
	case errors.Is(err, bridge.ErrDocumentNotFound):
		return errNoDocument
	case errors.Is(err, bridge.ErrNoDocuments):
		return errorf(http.StatusServiceUnavailable, "no_documents", "Documents are not available on this bridge.")
	case errors.Is(err, bridge.ErrBadTemplate):
		return errorf(http.StatusBadRequest, "bad_template", "%s", capitalize(err.Error()))
	case errors.Is(err, bridge.ErrBadAcknowledgement), errors.Is(err, bridge.ErrNoAckNeeded):
		return errorf(http.StatusBadRequest, "bad_acknowledgement", "%s", capitalize(err.Error()))
	}
	return err
}

// fileResponse is an API answer that is a document, not JSON.
type fileResponse struct {
	data        []byte
	contentType string
	name        string
}

func (f fileResponse) write(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Type", f.contentType)
	h.Set("Content-Length", strconv.Itoa(len(f.data)))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "private, no-store")
	disposition := "attachment"
	if doctype.Inline(f.contentType) {
		disposition = "inline"
	}
	h.Set("Content-Disposition", mime.FormatMediaType(disposition, map[string]string{"filename": f.name}))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(f.data)
}

// serveDocument downloads a file the caller may see and serves it under its sniffed type.
// size is what the index says of it (0: unknown): a file over documents.max_size is not
// fetched.
func (srv *Server) serveDocument(ctx context.Context, mxc, name string, size int64) (any, error) {
	if err := srv.documentsReady(); err != nil {
		return nil, err
	}
	if size > srv.maxDocument() {
		return nil, errorf(http.StatusRequestEntityTooLarge, "too_large", "This file is larger than %s, the clinic's limit: ask your professional for it.", humanSize(srv.maxDocument()))
	}
	data, err := srv.documents.DownloadDocument(ctx, mxc, srv.maxDocument())
	if err != nil {
		return nil, fmt.Errorf("fetching a document: %w", err)
	}
	ctype, _ := doctype.Sniff(name, data)
	return fileResponse{data: data, contentType: ctype, name: safeFileName(name)}, nil
}

// safeFileName is a file name fit for a Content-Disposition header and a download: its last
// path element, without control characters, and not too long.
func safeFileName(name string) string {
	name = filepath.Base(strings.ReplaceAll(name, "\\", "/"))
	name = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == '"' {
			return -1
		}
		return r
	}, name)
	for utf8.RuneCountInString(name) > 120 {
		_, size := utf8.DecodeLastRuneInString(name)
		name = name[:len(name)-size]
	}
	if name == "" || name == "." || name == "/" {
		return "document"
	}
	return name
}

// DocumentView is a shared document as the portal and the panel list it. SharedAt is Unix
// milliseconds; SharedBy the professional's name.
type DocumentView struct {
	ID          int64  `json:"id"`
	Name        string `json:"name"`
	SharedBy    string `json:"shared_by"`
	SharedAt    int64  `json:"shared_at"`
	Size        int64  `json:"size"`
	ContentType string `json:"content_type"`
	Inline      bool   `json:"inline"`
	// Kind is "insurance_card" for a picture of an insurance card the client uploaded (no
	// SharedBy then), absent for a file a professional shared.
	Kind string `json:"kind,omitempty"`
}

func (srv *Server) documentViews(ctx context.Context, docs []*bridge.Document) []DocumentView {
	out := make([]DocumentView, 0, len(docs))
	for _, d := range docs {
		name := ""
		if d.Kind == "" {
			if name = srv.clinicianName(ctx, d.SharedBy); name == "" {
				name = localpart(d.SharedBy)
			}
		}
		out = append(out, DocumentView{ID: d.ID, Name: d.FileName, SharedBy: name, SharedAt: d.SharedAt.UnixMilli(), Size: d.Size,
			ContentType: d.ContentType, Inline: doctype.Inline(d.ContentType), Kind: d.Kind})
	}
	return out
}

// portalDocuments answers GET /api/portal/documents: the documents shared with the signed-in
// client, newest first, and their sessions' packages.
func (srv *Server) portalDocuments(_ http.ResponseWriter, r *http.Request, in *portalSignIn) (any, error) {
	docs, err := srv.svc.ClientDocuments(r.Context(), in.clientID)
	if err != nil {
		return nil, documentError(err)
	}
	packages, err := srv.portalPackages(r.Context(), in.clientID)
	if err != nil {
		return nil, err
	}
	return map[string]any{"documents": srv.documentViews(r.Context(), docs), "packages": packages}, nil
}

// portalDocumentFile answers GET /api/portal/documents/{id}/file: one of the signed-in
// client's documents, downloaded by the bridge.
func (srv *Server) portalDocumentFile(_ http.ResponseWriter, r *http.Request, in *portalSignIn) (any, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return nil, errNoDocument
	}
	d, err := srv.svc.ClientDocument(r.Context(), in.clientID, id)
	if err != nil {
		return nil, documentError(err)
	}
	return srv.serveDocument(r.Context(), d.MXC, d.FileName, d.Size)
}

// panelDocuments answers GET /api/panel/clients/{id}/documents (audited).
func (srv *Server) panelDocuments(r *http.Request, clinician string) (any, error) {
	id, err := clientID(r)
	if err != nil {
		return nil, err
	}
	docs, err := srv.svc.RecordDocuments(r.Context(), clinician, id)
	if err != nil {
		return nil, documentError(err)
	}
	return map[string]any{"documents": srv.documentViews(r.Context(), docs), "max_size": srv.maxDocument()}, nil
}

// panelDocumentFile answers GET /api/panel/clients/{id}/documents/{doc}/file (audited).
func (srv *Server) panelDocumentFile(r *http.Request, clinician string) (any, error) {
	id, err := clientID(r)
	if err != nil {
		return nil, err
	}
	doc, err := strconv.ParseInt(r.PathValue("doc"), 10, 64)
	if err != nil {
		return nil, errNoDocument
	}
	d, err := srv.svc.RecordDocument(r.Context(), clinician, id, doc)
	if err != nil {
		return nil, documentError(err)
	}
	return srv.serveDocument(r.Context(), d.MXC, d.FileName, d.Size)
}

// upload is a file sent by the panel (multipart/form-data, field "file"), checked: within
// documents.max_size and of an allowed type, sniffed from its bytes.
type upload struct {
	name        string
	contentType string
	data        []byte
	form        map[string][]string
}

// readUpload reads the panel's upload. A file too large or of a type that is not allowed is
// refused with words the panel shows; nothing is stored.
func (srv *Server) readUpload(w http.ResponseWriter, r *http.Request) (*upload, error) {
	limit := srv.maxDocument()
	r.Body = http.MaxBytesReader(w, r.Body, limit+64<<10)
	tooLarge := errorf(http.StatusRequestEntityTooLarge, "too_large", "The file is larger than %s, the clinic's limit.", humanSize(limit))
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, errorf(http.StatusBadRequest, "bad_request", "Send the file as multipart/form-data.")
	}
	up := &upload{form: map[string][]string{}}
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, tooLarge
		} else if err != nil {
			return nil, errorf(http.StatusBadRequest, "bad_request", "The upload could not be read.")
		}
		if part.FormName() == "file" {
			up.name = safeFileName(part.FileName())
			up.data, err = io.ReadAll(io.LimitReader(part, limit+1))
			if errors.As(err, &mbe) || int64(len(up.data)) > limit {
				return nil, tooLarge
			} else if err != nil {
				return nil, errorf(http.StatusBadRequest, "bad_request", "The upload could not be read.")
			}
			continue
		}
		value, err := io.ReadAll(io.LimitReader(part, 4<<10))
		if errors.As(err, &mbe) {
			return nil, tooLarge
		} else if err != nil {
			return nil, errorf(http.StatusBadRequest, "bad_request", "The upload could not be read.")
		}
		up.form[part.FormName()] = append(up.form[part.FormName()], string(value))
	}
	if up.data == nil {
		return nil, fieldError("file", "choose a file to send")
	}
	if len(up.data) == 0 {
		return nil, fieldError("file", "this file is empty")
	}
	ctype, ok := doctype.Sniff(up.name, up.data)
	if !ok {
		return nil, errorf(http.StatusUnsupportedMediaType, "unsupported_type",
			"This file is not a PDF, a picture (PNG, JPEG, GIF, WebP), a text or a word-processor document, or its content does not match its name.")
	}
	up.contentType = ctype
	return up, nil
}

func (up *upload) value(key string) string {
	if v := up.form[key]; len(v) > 0 {
		return strings.TrimSpace(v[0])
	}
	return ""
}

// humanSize is a size in MB or KB, for messages.
func humanSize(n int64) string {
	if n >= 1<<20 {
		return strconv.FormatInt(n>>20, 10) + " MB"
	}
	return strconv.FormatInt(n>>10, 10) + " KB"
}

// panelShareDocument answers POST /api/panel/clients/{id}/documents (multipart, "file"): the
// bot uploads the file to the homeserver and posts it in the client's Messages room under the
// clinician's name; the document is indexed at once.
func (srv *Server) panelShareDocument(w http.ResponseWriter, r *http.Request, clinician string) (any, error) {
	if err := srv.documentsReady(); err != nil {
		return nil, err
	}
	if err := srv.threadsReady(); err != nil {
		return nil, err
	}
	id, err := clientID(r)
	if err != nil {
		return nil, err
	}
	if _, err = srv.svc.MayShareDocument(r.Context(), clinician, id); err != nil {
		return nil, documentError(err)
	}
	up, err := srv.readUpload(w, r)
	if err != nil {
		return nil, err
	}
	c, err := srv.threads.MessagesRoom(r.Context(), id)
	if err != nil {
		return nil, err
	}
	eventID, mxc, err := srv.documents.ShareDocument(r.Context(), c, clinician, up.name, up.contentType, up.data)
	if err != nil {
		return nil, err
	}
	d := &bridge.Document{EventID: eventID, RoomID: c.MessagesRoom, ClientID: c.ID, SharedBy: clinician, FileName: up.name, MXC: mxc,
		Size: int64(len(up.data)), ContentType: up.contentType}
	if _, err = srv.svc.IndexDocument(r.Context(), d); err != nil {
		return nil, err
	}
	return srv.documentViews(r.Context(), []*bridge.Document{d})[0], nil
}

// TemplateView is a clinic template as the panel and the participants see it.
type TemplateView struct {
	ID          int64       `json:"id"`
	Title       bridge.Text `json:"title"`
	Name        string      `json:"name"`
	Size        int64       `json:"size"`
	ContentType string      `json:"content_type"`
	Inline      bool        `json:"inline"`
	NeedsAck    bool        `json:"needs_ack"`
	SHA256      string      `json:"sha256"`
	// AckedAt is when the viewer acknowledged it (Unix milliseconds), 0 if not (yet).
	AckedAt int64 `json:"acked_at,omitempty"`
}

func templateView(t *bridge.DocumentTemplate) TemplateView {
	return TemplateView{ID: t.ID, Title: t.Title, Name: t.FileName, Size: t.Size, ContentType: t.ContentType,
		Inline: doctype.Inline(t.ContentType), NeedsAck: t.NeedsAck, SHA256: t.SHA256}
}

// panelTemplates answers GET /api/panel/templates: the clinic's templates.
func (srv *Server) panelTemplates(r *http.Request, clinician string) (any, error) {
	all, err := srv.svc.Templates(r.Context(), clinician)
	if err != nil {
		return nil, documentError(err)
	}
	out := make([]TemplateView, 0, len(all))
	for _, t := range all {
		out = append(out, templateView(t))
	}
	return map[string]any{"templates": out, "max_size": srv.maxDocument()}, nil
}

// panelCreateTemplate answers POST /api/panel/templates (multipart: file, title_en, title_fr,
// needs_ack "true"): the bot uploads the file to the homeserver's media repository.
func (srv *Server) panelCreateTemplate(w http.ResponseWriter, r *http.Request, clinician string) (any, error) {
	if err := srv.documentsReady(); err != nil {
		return nil, err
	}
	up, err := srv.readUpload(w, r)
	if err != nil {
		return nil, err
	}
	t := &bridge.DocumentTemplate{Title: bridge.Text{"en": up.value("title_en"), "fr": up.value("title_fr")}, FileName: up.name,
		Size: int64(len(up.data)), ContentType: up.contentType, NeedsAck: up.value("needs_ack") == "true"}
	if t.Title["en"] == "" {
		return nil, fieldError("title_en", "give the template a title")
	}
	sum := sha256.Sum256(up.data)
	t.SHA256 = hex.EncodeToString(sum[:])
	if t.MXC, err = srv.documents.UploadDocument(r.Context(), up.name, up.contentType, up.data); err != nil {
		return nil, err
	}
	if err = srv.svc.CreateTemplate(r.Context(), clinician, t); err != nil {
		return nil, documentError(err)
	}
	return templateView(t), nil
}

// panelTemplateFile answers GET /api/panel/templates/{id}/file.
func (srv *Server) panelTemplateFile(r *http.Request, clinician string) (any, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return nil, errNoDocument
	}
	t, err := srv.svc.Template(r.Context(), clinician, id)
	if err != nil {
		return nil, documentError(err)
	}
	return srv.serveDocument(r.Context(), t.MXC, t.FileName, t.Size)
}

// packageViews is a session's package as one participant sees it.
func (srv *Server) packageViews(ctx context.Context, s *bridge.Session, p *bridge.Participant) ([]TemplateView, error) {
	items, err := srv.svc.ParticipantPackage(ctx, s, p)
	if errors.Is(err, bridge.ErrNoDocuments) {
		return []TemplateView{}, nil
	} else if err != nil {
		return nil, err
	}
	out := make([]TemplateView, 0, len(items))
	for _, it := range items {
		v := templateView(it.Template)
		if it.Ack != nil {
			v.AckedAt = it.Ack.At.UnixMilli()
		}
		out = append(out, v)
	}
	return out, nil
}

// callParticipant is the participant a session page's link names (the guest's own); a viewer
// who is no participant (the clinician, a Matrix user) has no package to read.
func (srv *Server) callParticipant(r *http.Request) (*bridge.Session, *bridge.Participant, error) {
	v, err := srv.viewerFrom(r)
	if err != nil {
		return nil, nil, err
	}
	if v.participant == nil {
		return nil, nil, errNoDocument
	}
	return v.session, v.participant, nil
}

// callDocuments answers GET /api/call/documents: the session's package for the participant
// whose link it is, with what they acknowledged.
func (srv *Server) callDocuments(_ http.ResponseWriter, r *http.Request) (any, error) {
	s, p, err := srv.callParticipant(r)
	if err != nil {
		return nil, err
	}
	views, err := srv.packageViews(r.Context(), s, p)
	if err != nil {
		return nil, err
	}
	forms, portal, err := srv.packageForms(r.Context(), s, p)
	if err != nil {
		return nil, err
	}
	return map[string]any{"documents": views, "forms": forms, "forms_in_portal": portal}, nil
}

// packageForms are the forms the session's package gave the participant, with their status
// (no answers: those are the portal's), and whether the client may complete them in their
// portal (its To-do tab).
func (srv *Server) packageForms(ctx context.Context, s *bridge.Session, p *bridge.Participant) ([]AssignmentView, bool, error) {
	out := []AssignmentView{}
	items, err := srv.svc.ParticipantForms(ctx, s, p)
	if errors.Is(err, bridge.ErrNoForms) {
		return out, false, nil
	} else if err != nil {
		return nil, false, err
	}
	for _, it := range items {
		out = append(out, assignmentView(it, false))
	}
	portal := false
	if len(out) > 0 {
		c, err := srv.db.Client.Get(ctx, p.ClientID)
		if err != nil {
			return nil, false, fmt.Errorf("reading the participant's client record: %w", err)
		}
		portal = c.PortalEnabled && !c.PortalClosed
	}
	return out, portal, nil
}

// callDocumentFile answers GET /api/call/documents/{id}/file: a template of the participant's
// session's package.
func (srv *Server) callDocumentFile(_ http.ResponseWriter, r *http.Request) (any, error) {
	s, _, err := srv.callParticipant(r)
	if err != nil {
		return nil, err
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return nil, errNoDocument
	}
	t, err := srv.svc.PackageTemplate(r.Context(), s, id)
	if err != nil {
		return nil, documentError(err)
	}
	return srv.serveDocument(r.Context(), t.MXC, t.FileName, t.Size)
}

type ackRequest struct {
	Name   string `json:"name"`
	Ticked bool   `json:"ticked"`
}

// callAcknowledge answers POST /api/call/documents/{id}/ack {"name", "ticked"}: the
// participant acknowledges a template of their session's package.
func (srv *Server) callAcknowledge(_ http.ResponseWriter, r *http.Request) (any, error) {
	s, p, err := srv.callParticipant(r)
	if err != nil {
		return nil, err
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return nil, errNoDocument
	}
	var req ackRequest
	if err = decode(r, &req); err != nil {
		return nil, err
	}
	a, err := srv.svc.Acknowledge(r.Context(), s, p, id, req.Name, req.Ticked)
	if err != nil {
		return nil, documentError(err)
	}
	return map[string]any{"acked_at": a.At.UnixMilli()}, nil
}

// PackageView is an upcoming session's package in the portal: the session's link opens it.
type PackageView struct {
	SessionID string `json:"session_id"`
	Start     int64  `json:"start"`
	// TimeZone is the participant's, in which the portal writes the start.
	TimeZone  string         `json:"time_zone"`
	Documents []TemplateView `json:"documents"`
	// Link is the session page, where the client reads and acknowledges them.
	Link string `json:"link"`
}

// portalPackages are the packages of the client's upcoming sessions.
func (srv *Server) portalPackages(ctx context.Context, clientID int64) ([]PackageView, error) {
	out := []PackageView{}
	sessions, err := srv.db.Client.Sessions(ctx, clientID)
	if err != nil {
		return nil, fmt.Errorf("reading the client's sessions: %w", err)
	}
	rows, err := srv.db.Participant.ByClient(ctx, clientID)
	if err != nil {
		return nil, fmt.Errorf("reading the client's places in their sessions: %w", err)
	}
	now := srv.clock.Now()
	for _, s := range sessions {
		var p *bridge.Participant
		for _, row := range rows {
			if row.SessionID == s.ID && row.ClientID == clientID {
				p = row
			}
		}
		// Only the client's own place in a session to come shows its package.
		if p == nil || s.Over() || !now.Before(s.Closes(srv.svc.Window())) {
			continue
		}
		views, err := srv.packageViews(ctx, s, p)
		if err != nil {
			return nil, err
		}
		if len(views) == 0 {
			continue
		}
		link, err := srv.GuestLink(ctx, s, p)
		if err != nil {
			return nil, err
		}
		zone := p.TimeZone
		if zone == "" {
			zone = s.TimeZone
		}
		out = append(out, PackageView{SessionID: s.ID, Start: s.Start.UnixMilli(), TimeZone: zone, Documents: views, Link: link})
	}
	return out, nil
}

// ackWord is the lobby's word for a participant's acknowledgements.
func ackWord(st bridge.AckStatus) string {
	if len(st.Missing) == 0 {
		return "acknowledged"
	}
	return "not_acknowledged"
}

// lobbyDocuments adds the session's package and who has acknowledged it to the panel's view.
func (srv *Server) lobbyDocuments(ctx context.Context, s *bridge.Session, out *PanelSession) error {
	pkg, statuses, err := srv.svc.SessionAckStatus(ctx, s.Clinician, s.ID)
	if err != nil {
		return err
	}
	for _, t := range pkg {
		out.Documents = append(out.Documents, templateView(t))
	}
	for _, st := range statuses {
		for i := range out.Participants {
			if out.Participants[i].Number == st.Participant.Number {
				out.Participants[i].Documents = ackWord(st)
			}
		}
	}
	forms, err := srv.svc.SessionFormStatus(ctx, s.Clinician, s.ID)
	if err != nil {
		return err
	}
	for _, st := range forms {
		for i := range out.Participants {
			if out.Participants[i].Number == st.Participant.Number {
				out.Participants[i].Forms = "forms_done"
				if len(st.Missing) > 0 {
					out.Participants[i].Forms = "forms_not_done"
				}
			}
		}
	}
	return nil
}

// cardTypes are the pictures an insurance card may be: what every browser shows.
var cardTypes = map[string]string{"image/png": ".png", "image/jpeg": ".jpg", "image/webp": ".webp"}

// portalAddInsuranceCard answers POST /api/portal/insurance/cards (multipart: file, side
// "front" or "back"): a picture of the signed-in client's insurance card, within
// documents.max_size and a PNG, JPEG or WebP by its bytes. The bot uploads it; it is posted in
// the client's Messages room as theirs and indexed as their document of kind insurance_card.
func (srv *Server) portalAddInsuranceCard(w http.ResponseWriter, r *http.Request, in *portalSignIn) (any, error) {
	if err := srv.documentsReady(); err != nil {
		return nil, err
	}
	if err := srv.threadsReady(); err != nil {
		return nil, err
	}
	up, err := srv.readUpload(w, r)
	if err != nil {
		return nil, err
	}
	ext, ok := cardTypes[up.contentType]
	if !ok {
		return nil, errorf(http.StatusUnsupportedMediaType, "unsupported_type", "Send a picture of your card: PNG, JPEG or WebP.")
	}
	side := up.value("side")
	if side != "front" && side != "back" {
		return nil, fieldError("side", "say which side of the card this is")
	}
	// The name says what it is, never what the client's file was called.
	name := "insurance-card-" + side + ext
	c, err := srv.threads.MessagesRoom(r.Context(), in.clientID)
	if err != nil {
		return nil, err
	}
	eventID, mxc, err := srv.documents.PostClientFile(r.Context(), c, bridge.DocumentInsuranceCard, name, up.contentType, up.data)
	if err != nil {
		return nil, err
	}
	d := &bridge.Document{EventID: eventID, RoomID: c.MessagesRoom, FileName: name, MXC: mxc, Size: int64(len(up.data)), ContentType: up.contentType}
	if err = srv.svc.AddInsuranceCard(r.Context(), in.clientID, d); err != nil {
		return nil, err
	}
	return srv.documentViews(r.Context(), []*bridge.Document{d})[0], nil
}
