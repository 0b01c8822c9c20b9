package bridge

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"
)

// The forms journey: the clinic keeps forms (its own and the standard instruments), a
// clinician assigns one to a client, the client answers it in their portal (saved as they go,
// read-only once submitted), and the clinician reads the answers in the panel.
//
// Who may do what: every clinician lists the forms and creates forms; a form of the clinic's
// is edited by whoever created it or an admin (a new version each time), a standard one by
// nobody. Assigning a form to a client, and seeing a client's assignments and answers, is for
// those who may see the client's record (mayViewClient: assigned or booking clinicians and
// admins); every view of a response is in the audit trail. A client reaches only their own
// assignments: another's answers ErrAssignmentNotFound, as an unknown one does.

// Form is one version of a form. Editing a form stores a new version under the same ID;
// assignments and responses point at the version they were given.
type Form struct {
	// ID names the form across its versions; VersionID names this version.
	ID        int64
	VersionID int64
	Version   int
	// Standard is the key of a standard instrument the bridge ships ("phq9", "gad7"), or "".
	Standard   string
	Definition *FormDefinition
	CreatedBy  string
	CreatedAt  time.Time
}

// AssignmentStatus is where a client is with an assigned form.
type AssignmentStatus string

const (
	AssignmentToDo       AssignmentStatus = "todo"
	AssignmentInProgress AssignmentStatus = "in_progress"
	AssignmentDone       AssignmentStatus = "done"
)

// FormAssignment is a form given to a client to answer.
type FormAssignment struct {
	ID       int64
	ClientID int64
	FormID   int64
	// FormVersionID is the version the client answers: the latest when it was assigned.
	FormVersionID int64
	AssignedBy    string
	AssignedAt    time.Time
	Status        AssignmentStatus
	UpdatedAt     time.Time
	SubmittedAt   time.Time
	// SummaryPending and EventPending: the submission's summary notice and its
	// org.telehealthbridge.form_response event are still to be posted in the client's room
	// (no FormRoom wired yet, or it failed); SendPendingFormNotices posts them.
	SummaryPending bool
	EventPending   bool
	// SessionID is the session whose package gave the form ("" for a form assigned alone).
	SessionID string
}

// FormResponse is a client's answers to an assignment: a draft until submitted.
type FormResponse struct {
	AssignmentID  int64
	FormVersionID int64
	Answers       Answers
	// Score is computed at submission, for a scored form.
	Score       *FormScore
	SavedAt     time.Time
	SubmittedAt time.Time
}

// Submitted reports whether the answers are final.
func (r *FormResponse) Submitted() bool { return !r.SubmittedAt.IsZero() }

// FormStore keeps forms, assignments and responses.
type FormStore interface {
	// InsertFormVersion stores f as a new version: of a new form when f.ID is 0 (setting it),
	// else of form f.ID with f.Version. It sets f.VersionID.
	InsertFormVersion(ctx context.Context, f *Form) error
	// LatestForm and FormVersion return ErrFormNotFound when there is none.
	LatestForm(ctx context.Context, id int64) (*Form, error)
	FormVersion(ctx context.Context, versionID int64) (*Form, error)
	// LatestForms are the latest version of every form, standard ones first, then by title.
	LatestForms(ctx context.Context) ([]*Form, error)
	// StandardForm is the latest version of a standard instrument, or ErrFormNotFound.
	StandardForm(ctx context.Context, key string) (*Form, error)

	InsertAssignment(ctx context.Context, a *FormAssignment) error
	// GetAssignment returns ErrAssignmentNotFound when there is none.
	GetAssignment(ctx context.Context, id int64) (*FormAssignment, error)
	// ClientAssignments are a client's assignments, latest first.
	ClientAssignments(ctx context.Context, clientID int64) ([]*FormAssignment, error)
	// SessionAssignments are the assignments a session's package gave, oldest first.
	SessionAssignments(ctx context.Context, sessionID string) ([]*FormAssignment, error)
	// SaveResponse stores the response and the assignment's status, times and pending
	// notices together, unless the assignment was submitted already (ErrFormSubmitted).
	SaveResponse(ctx context.Context, a *FormAssignment, r *FormResponse) error
	// GetResponse returns nil and no error when the client has saved nothing yet.
	GetResponse(ctx context.Context, assignmentID int64) (*FormResponse, error)
	// PendingFormNotices are the submitted assignments whose room notices are still to post.
	PendingFormNotices(ctx context.Context) ([]*FormAssignment, error)
	// SetFormNoticesPending records which of an assignment's room notices are still to post.
	SetFormNoticesPending(ctx context.Context, id int64, summary, event bool) error
}

// FormRoom is the client's messages room, as the forms journey needs it: a summary for the
// clinicians (never the answers), and the full response as an event for integrators.
type FormRoom interface {
	// PostFormSummary tells the client's room that a form was submitted: its title and score.
	PostFormSummary(ctx context.Context, client *Client, summary FormSummary) error
	// EmitFormResponse posts the org.telehealthbridge.form_response event (docs/events.md):
	// ev is its content, ready to send.
	EmitFormResponse(ctx context.Context, client *Client, ev FormResponseEvent) error
}

// FormNotifier tells a client that they have something to complete before their next session
// (the outbox: their invitation's channel, quiet hours, opt-outs). It never says what.
type FormNotifier interface {
	QueueFormNotice(ctx context.Context, s *Session, p *Participant) error
}

// FormSummary is what the client's room reads when a form is submitted: no answer. Notice is
// its text.
type FormSummary struct {
	AssignmentID int64
	FormID       int64
	Version      int
	Title        Text
	// Score is nil for a form without scoring.
	Score       *FormScore
	AssignedBy  string
	SubmittedAt time.Time
}

// The audit actions of forms. Subjects: "form:<id>" for a form, the client's record for the
// rest; Detail "assignment" and "form" name them.
const (
	AuditFormCreated        AuditAction = "form_created"
	AuditFormUpdated        AuditAction = "form_updated"
	AuditFormAssigned       AuditAction = "form_assigned"
	AuditFormSubmitted      AuditAction = "form_submitted"
	AuditFormResponseViewed AuditAction = "form_response_viewed"
)

// ErrNoForms: the bridge runs without the forms' storage.
var ErrNoForms = errors.New("forms are not available")

// ErrNotYourForm: a clinician tried to edit a form another clinician made.
var ErrNotYourForm = errors.New("only the clinician who made this form, or an admin, can edit it")

// FormSubject is the audit subject of a form.
func FormSubject(id int64) string { return "form:" + strconv.FormatInt(id, 10) }

//go:embed instruments/*.json
var instruments embed.FS

// StandardForms are the keys of the instruments the bridge ships.
var StandardForms = []string{"phq9", "gad7"}

// StandardDefinition is a shipped instrument's definition.
func StandardDefinition(key string) (*FormDefinition, error) {
	data, err := instruments.ReadFile("instruments/" + key + ".json")
	if err != nil {
		return nil, ErrFormNotFound
	}
	return ParseFormDefinition(data)
}

// formState is the Service's forms part.
type formState struct {
	store FormStore
	room  FormRoom
	// notifier tells clients of new assignments; none if nil.
	notifier FormNotifier
	// standardDone: the shipped instruments are stored (the first use of forms stores them).
	// standardMu guards it.
	standardMu   sync.Mutex
	standardDone bool
}

// UseForms connects the form storage; forms are unavailable without it.
func (svc *Service) UseForms(store FormStore) { svc.forms.store = store }

// UseFormNotifier connects the outbox that tells clients of a new assignment.
func (svc *Service) UseFormNotifier(n FormNotifier) { svc.forms.notifier = n }

// UseFormRoom connects the client's messages room; call it before the service runs. Until a
// room is connected, submissions' room notices wait: SendPendingFormNotices, called once the
// room is there (at start), posts them.
func (svc *Service) UseFormRoom(room FormRoom) { svc.forms.room = room }

func (svc *Service) formStore(ctx context.Context) (FormStore, error) {
	if svc.forms.store == nil {
		return nil, ErrNoForms
	}
	if err := svc.ensureStandardForms(ctx); err != nil {
		return nil, err
	}
	return svc.forms.store, nil
}

// ensureStandardForms stores the shipped instruments that are not stored yet.
func (svc *Service) ensureStandardForms(ctx context.Context) error {
	fs := &svc.forms
	fs.standardMu.Lock()
	defer fs.standardMu.Unlock()
	if fs.standardDone {
		return nil
	}
	for _, key := range StandardForms {
		if _, err := fs.store.StandardForm(ctx, key); err == nil {
			continue
		} else if !errors.Is(err, ErrFormNotFound) {
			return fmt.Errorf("looking up the standard form %s: %w", key, err)
		}
		def, err := StandardDefinition(key)
		if err != nil {
			return fmt.Errorf("reading the standard form %s: %w", key, err)
		}
		f := &Form{Version: 1, Standard: key, Definition: def, CreatedBy: svc.bot, CreatedAt: svc.clock.Now()}
		if err = fs.store.InsertFormVersion(ctx, f); err != nil {
			// Another instance may have stored it first (one row per standard version).
			if _, again := fs.store.StandardForm(ctx, key); again == nil {
				continue
			}
			return fmt.Errorf("storing the standard form %s: %w", key, err)
		}
	}
	fs.standardDone = true
	return nil
}

// Forms are the clinic's forms, latest versions, for a clinician.
func (svc *Service) Forms(ctx context.Context, actor string) ([]*Form, error) {
	store, err := svc.formStore(ctx)
	if err != nil {
		return nil, err
	}
	if actor == "" {
		return nil, ErrFormNotFound
	}
	return store.LatestForms(ctx)
}

// Form is a form's latest version, for a clinician.
func (svc *Service) Form(ctx context.Context, actor string, id int64) (*Form, error) {
	store, err := svc.formStore(ctx)
	if err != nil {
		return nil, err
	}
	if actor == "" {
		return nil, ErrFormNotFound
	}
	return store.LatestForm(ctx, id)
}

// FindForm finds a form by its ID, its standard key ("phq9", "PHQ-9") or the start of its
// title in English or French, when one form alone matches.
func (svc *Service) FindForm(ctx context.Context, actor, ref string) (*Form, error) {
	ref = strings.TrimSpace(strings.TrimPrefix(ref, "#"))
	if id, err := strconv.ParseInt(ref, 10, 64); err == nil {
		return svc.Form(ctx, actor, id)
	}
	all, err := svc.Forms(ctx, actor)
	if err != nil {
		return nil, err
	}
	fold := func(s string) string { return strings.ReplaceAll(strings.ToLower(s), "-", "") }
	want := fold(ref)
	if want == "" {
		return nil, ErrFormNotFound
	}
	var found []*Form
	for _, f := range all {
		if f.Standard != "" && f.Standard == want {
			return f, nil
		}
		for _, title := range f.Definition.Title {
			if strings.HasPrefix(fold(title), want) {
				found = append(found, f)
				break
			}
		}
	}
	switch len(found) {
	case 0:
		return nil, ErrFormNotFound
	case 1:
		return found[0], nil
	}
	return nil, &AmbiguousFormError{Matches: found}
}

// AmbiguousFormError: several forms match a name.
type AmbiguousFormError struct{ Matches []*Form }

func (e *AmbiguousFormError) Error() string {
	return fmt.Sprintf("%d forms match that name", len(e.Matches))
}

// CreateForm stores a new form of the clinic's, written as JSON.
func (svc *Service) CreateForm(ctx context.Context, actor string, data []byte) (*Form, error) {
	store, err := svc.formStore(ctx)
	if err != nil {
		return nil, err
	}
	def, err := ParseFormDefinition(data)
	if err != nil {
		return nil, err
	}
	f := &Form{Version: 1, Definition: def, CreatedBy: actor, CreatedAt: svc.clock.Now()}
	if err = store.InsertFormVersion(ctx, f); err != nil {
		return nil, fmt.Errorf("storing the form: %w", err)
	}
	_ = svc.Audit(ctx, AuditEntry{Actor: actor, Action: AuditFormCreated, Subject: FormSubject(f.ID), Detail: map[string]string{"version": "1"}})
	return f, nil
}

// UpdateForm stores a new version of a form of the clinic's. Assignments already made keep
// the version they were given.
func (svc *Service) UpdateForm(ctx context.Context, actor string, id int64, data []byte) (*Form, error) {
	store, err := svc.formStore(ctx)
	if err != nil {
		return nil, err
	}
	unlock := svc.locks.Lock(FormSubject(id))
	defer unlock()
	old, err := svc.Form(ctx, actor, id)
	if err != nil {
		return nil, err
	}
	if old.Standard != "" {
		return nil, ErrStandardForm
	}
	if !svc.MayEditForm(actor, old) {
		return nil, ErrNotYourForm
	}
	def, err := ParseFormDefinition(data)
	if err != nil {
		return nil, err
	}
	f := &Form{ID: id, Version: old.Version + 1, Definition: def, CreatedBy: old.CreatedBy, CreatedAt: svc.clock.Now()}
	if err = store.InsertFormVersion(ctx, f); err != nil {
		return nil, fmt.Errorf("storing form %d's new version: %w", id, err)
	}
	_ = svc.Audit(ctx, AuditEntry{Actor: actor, Action: AuditFormUpdated, Subject: FormSubject(id), Detail: map[string]string{"version": strconv.Itoa(f.Version)}})
	return f, nil
}

// MayEditForm reports whether actor may store a new version of the form: its author or an
// admin, for a form of the clinic's own.
func (svc *Service) MayEditForm(actor string, f *Form) bool {
	return actor != "" && f.Standard == "" && (f.CreatedBy == actor || svc.isAdmin(actor))
}

// AssignForm gives a form's latest version to a client the actor may see.
func (svc *Service) AssignForm(ctx context.Context, actor string, clientID, formID int64) (*FormAssignment, *Form, error) {
	return svc.assignForm(ctx, actor, clientID, formID, "")
}

// assignForm gives a form to a client, for a session's package when sessionID is set.
func (svc *Service) assignForm(ctx context.Context, actor string, clientID, formID int64, sessionID string) (*FormAssignment, *Form, error) {
	store, err := svc.formStore(ctx)
	if err != nil {
		return nil, nil, err
	}
	if _, err = svc.Client(ctx, actor, clientID); err != nil {
		return nil, nil, err
	}
	f, err := store.LatestForm(ctx, formID)
	if err != nil {
		return nil, nil, err
	}
	now := svc.clock.Now()
	a := &FormAssignment{ClientID: clientID, FormID: f.ID, FormVersionID: f.VersionID, AssignedBy: actor, AssignedAt: now,
		Status: AssignmentToDo, UpdatedAt: now, SessionID: sessionID}
	if err = store.InsertAssignment(ctx, a); err != nil {
		return nil, nil, fmt.Errorf("storing the assignment: %w", err)
	}
	_ = svc.Audit(ctx, AuditEntry{Actor: actor, Action: AuditFormAssigned, Subject: ClientSubject(clientID),
		Detail: map[string]string{"assignment": strconv.FormatInt(a.ID, 10), "form": strconv.FormatInt(f.ID, 10), "version": strconv.Itoa(f.Version)}})
	if err = svc.noticeForm(ctx, clientID); err != nil {
		// The assignment stands: the client finds it in their portal all the same.
		zerolog.Ctx(ctx).Err(err).Int64("assignment_id", a.ID).Msg("Failed to tell the client of a new form")
	}
	return a, f, nil
}

// noticeForm tells the client, through their place in their next session still to come, that
// they have something to complete before it. Without such a session there is no notice: the
// form waits in their portal.
func (svc *Service) noticeForm(ctx context.Context, clientID int64) error {
	if svc.forms.notifier == nil {
		return nil
	}
	sessions, err := svc.clients.ClientSessions(ctx, clientID)
	if err != nil {
		return fmt.Errorf("loading the client's sessions: %w", err)
	}
	now := svc.clock.Now()
	var next *Session
	for _, s := range sessions {
		if (s.Status == StatusScheduled || s.Status == StatusOpen) && s.Start.After(now) && (next == nil || s.Start.Before(next.Start)) {
			next = s
		}
	}
	if next == nil {
		return nil
	}
	ps, err := svc.store.Participants(ctx, next.ID)
	if err != nil {
		return fmt.Errorf("loading session %s's participants: %w", next.ID, err)
	}
	for _, p := range ps {
		if p.ClientID == clientID {
			return svc.forms.notifier.QueueFormNotice(ctx, next, p)
		}
	}
	return nil
}

// AssignedForm is an assignment with the form version it is of, and the score once submitted.
type AssignedForm struct {
	Assignment *FormAssignment
	Form       *Form
	Score      *FormScore
}

// assigned loads the forms (and scores) of assignments.
func (svc *Service) assigned(ctx context.Context, store FormStore, list []*FormAssignment) ([]AssignedForm, error) {
	out := make([]AssignedForm, 0, len(list))
	versions := map[int64]*Form{}
	for _, a := range list {
		f := versions[a.FormVersionID]
		if f == nil {
			var err error
			if f, err = store.FormVersion(ctx, a.FormVersionID); err != nil {
				return nil, fmt.Errorf("loading form version %d: %w", a.FormVersionID, err)
			}
			versions[a.FormVersionID] = f
		}
		item := AssignedForm{Assignment: a, Form: f}
		if a.Status == AssignmentDone {
			r, err := store.GetResponse(ctx, a.ID)
			if err != nil {
				return nil, fmt.Errorf("loading assignment %d's response: %w", a.ID, err)
			}
			if r != nil {
				item.Score = r.Score
			}
		}
		out = append(out, item)
	}
	return out, nil
}

// ClientForms are the forms assigned to a client the actor may see, latest first, with their
// status and, once submitted, score (the answers are ShowFormResponse's).
func (svc *Service) ClientForms(ctx context.Context, actor string, clientID int64) ([]AssignedForm, error) {
	store, err := svc.formStore(ctx)
	if err != nil {
		return nil, err
	}
	if _, err = svc.Client(ctx, actor, clientID); err != nil {
		return nil, err
	}
	list, err := store.ClientAssignments(ctx, clientID)
	if err != nil {
		return nil, fmt.Errorf("loading client %d's forms: %w", clientID, err)
	}
	return svc.assigned(ctx, store, list)
}

// ShowFormResponse is an assignment with its form and, once the client sent them, their
// answers, for a clinician who may see the client; that view is recorded in the audit trail
// (form_response_viewed). A draft is the client's own until they send it: it is not shown.
func (svc *Service) ShowFormResponse(ctx context.Context, actor string, assignmentID int64) (*AssignedForm, *FormResponse, error) {
	store, err := svc.formStore(ctx)
	if err != nil {
		return nil, nil, err
	}
	a, err := store.GetAssignment(ctx, assignmentID)
	if err != nil {
		return nil, nil, err
	}
	if _, err = svc.Client(ctx, actor, a.ClientID); errors.Is(err, ErrClientNotFound) {
		return nil, nil, ErrAssignmentNotFound
	} else if err != nil {
		return nil, nil, err
	}
	items, err := svc.assigned(ctx, store, []*FormAssignment{a})
	if err != nil {
		return nil, nil, err
	}
	r, err := store.GetResponse(ctx, a.ID)
	if err != nil {
		return nil, nil, fmt.Errorf("loading assignment %d's response: %w", a.ID, err)
	}
	if r == nil || !r.Submitted() {
		return &items[0], nil, nil
	}
	_ = svc.Audit(ctx, AuditEntry{Actor: actor, Action: AuditFormResponseViewed, Subject: ClientSubject(a.ClientID),
		Detail: map[string]string{"assignment": strconv.FormatInt(a.ID, 10), "form": strconv.FormatInt(a.FormID, 10)}})
	return &items[0], r, nil
}

// TodoForms are the forms assigned to the client, latest first: their to-do list.
func (svc *Service) TodoForms(ctx context.Context, clientID int64) ([]AssignedForm, error) {
	store, err := svc.formStore(ctx)
	if err != nil {
		return nil, err
	}
	list, err := store.ClientAssignments(ctx, clientID)
	if err != nil {
		return nil, fmt.Errorf("loading client %d's forms: %w", clientID, err)
	}
	return svc.assigned(ctx, store, list)
}

// TodoForm is one of the client's own assignments with its form and saved answers (nil if
// none yet). Another client's answers ErrAssignmentNotFound.
func (svc *Service) TodoForm(ctx context.Context, clientID, assignmentID int64) (*AssignedForm, *FormResponse, error) {
	store, err := svc.formStore(ctx)
	if err != nil {
		return nil, nil, err
	}
	a, err := store.GetAssignment(ctx, assignmentID)
	if err != nil {
		return nil, nil, err
	}
	if a.ClientID != clientID || clientID == 0 {
		return nil, nil, ErrAssignmentNotFound
	}
	items, err := svc.assigned(ctx, store, []*FormAssignment{a})
	if err != nil {
		return nil, nil, err
	}
	r, err := store.GetResponse(ctx, a.ID)
	if err != nil {
		return nil, nil, fmt.Errorf("loading assignment %d's response: %w", a.ID, err)
	}
	return &items[0], r, nil
}

// SaveFormAnswers stores the client's answers to one of their assignments: a draft, or with
// submit the final answers (every required field answered), scored and read-only from then.
// lang is the language of the errors. A draft keeps the answers that are valid and reports
// the others; a submission with any error stores nothing new.
func (svc *Service) SaveFormAnswers(ctx context.Context, clientID, assignmentID int64, answers Answers, lang string, submit bool) (*AssignedForm, *FormResponse, error) {
	store, err := svc.formStore(ctx)
	if err != nil {
		return nil, nil, err
	}
	unlock := svc.locks.Lock("form-assignment:" + strconv.FormatInt(assignmentID, 10))
	defer unlock()
	item, old, err := svc.TodoForm(ctx, clientID, assignmentID)
	if err != nil {
		return nil, nil, err
	}
	a := item.Assignment
	if a.Status == AssignmentDone || old != nil && old.Submitted() {
		return nil, nil, ErrFormSubmitted
	}
	clean, invalid := item.Form.Definition.CheckAnswers(answers, lang, submit)
	if invalid != nil && submit {
		return item, old, invalid
	}
	now := svc.clock.Now()
	r := &FormResponse{AssignmentID: a.ID, FormVersionID: a.FormVersionID, Answers: clean, SavedAt: now}
	a.Status, a.UpdatedAt = AssignmentInProgress, now
	if submit {
		r.SubmittedAt, r.Score = now, item.Form.Definition.Score(clean)
		a.Status, a.SubmittedAt = AssignmentDone, now
		a.SummaryPending, a.EventPending = true, true
		item.Score = r.Score
	}
	if err = store.SaveResponse(ctx, a, r); err != nil {
		if errors.Is(err, ErrFormSubmitted) {
			return nil, nil, err
		}
		return nil, nil, fmt.Errorf("storing assignment %d's answers: %w", a.ID, err)
	}
	if submit {
		_ = svc.Audit(ctx, AuditEntry{Actor: ClientActor(clientID), Action: AuditFormSubmitted, Subject: ClientSubject(clientID),
			Detail: map[string]string{"assignment": strconv.FormatInt(a.ID, 10), "form": strconv.FormatInt(a.FormID, 10)}})
		svc.postFormNotices(context.WithoutCancel(ctx), a, item.Form, r)
		if a.SessionID != "" {
			// The session's lobby shows that its package's form is done.
			if sess, err := svc.store.GetSession(ctx, a.SessionID); err == nil {
				svc.documentsChanged(ctx, sess)
			}
		}
	}
	return item, r, invalid
}

// postFormNotices posts a submission's summary and event in the client's room, and records
// which are still to post. Without a room they wait: nothing is lost.
func (svc *Service) postFormNotices(ctx context.Context, a *FormAssignment, f *Form, r *FormResponse) {
	log := zerolog.Ctx(ctx).With().Int64("assignment_id", a.ID).Int64("client_id", a.ClientID).Logger()
	room := svc.forms.room
	if room == nil || (!a.SummaryPending && !a.EventPending) {
		return
	}
	c, err := svc.clients.GetClient(ctx, a.ClientID)
	if err != nil {
		log.Err(err).Msg("Failed to load the client of a submitted form; its room notices wait")
		return
	}
	summary, event := a.SummaryPending, a.EventPending
	if summary {
		err = room.PostFormSummary(ctx, c, FormSummary{AssignmentID: a.ID, FormID: f.ID, Version: f.Version, Title: f.Definition.Title,
			Score: r.Score, AssignedBy: a.AssignedBy, SubmittedAt: r.SubmittedAt})
		if err != nil {
			log.Err(err).Msg("Failed to post a form's summary in the client's room; it waits")
		} else {
			summary = false
		}
	}
	if event {
		if err = room.EmitFormResponse(ctx, c, NewFormResponseEvent(a, f, r)); err != nil {
			log.Err(err).Msg("Failed to post a form's response event in the client's room; it waits")
		} else {
			event = false
		}
	}
	if summary != a.SummaryPending || event != a.EventPending {
		if err = svc.forms.store.SetFormNoticesPending(ctx, a.ID, summary, event); err != nil {
			log.Err(err).Msg("Failed to record a form's room notices as posted")
			return
		}
		a.SummaryPending, a.EventPending = summary, event
	}
}

// SendPendingFormNotices posts the room notices of submissions that are still waiting (a
// room wired after they were submitted, or one that failed). It returns how many are left.
func (svc *Service) SendPendingFormNotices(ctx context.Context) (int, error) {
	store, err := svc.formStore(ctx)
	if err != nil {
		return 0, err
	}
	pending, err := store.PendingFormNotices(ctx)
	if err != nil {
		return 0, fmt.Errorf("loading the forms' pending notices: %w", err)
	}
	left := 0
	for _, a := range pending {
		f, err := store.FormVersion(ctx, a.FormVersionID)
		if err != nil {
			return left, fmt.Errorf("loading form version %d: %w", a.FormVersionID, err)
		}
		r, err := store.GetResponse(ctx, a.ID)
		if err != nil {
			return left, fmt.Errorf("loading assignment %d's response: %w", a.ID, err)
		} else if r == nil {
			continue // cannot happen: a submission stores its response with it
		}
		svc.postFormNotices(ctx, a, f, r)
		if a.SummaryPending || a.EventPending {
			left++
		}
	}
	return left, nil
}
