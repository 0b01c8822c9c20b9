package web

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
)

// Forms in the panel and the portal (docs/web-api.md, "Forms"). Who may use which door:
//   - /api/panel/forms...: a signed-in clinician. Every clinician lists and reads the clinic's
//     forms and creates forms; a form is edited by its author or an admin; standard
//     instruments by nobody.
//   - /api/panel/clients/{id}/forms and /api/panel/assignments/{id}: a clinician who may see
//     the client's record (assigned, booked, admin); anyone else reads 404, as for no client.
//     Each read of a response is audited (form_response_viewed).
//   - /api/portal/forms...: the client signed in to the portal, for their own assignments
//     only; another client's assignment ID reads 404, as an unknown one does.

// FormView is a form as the panel lists it; Definition only when one form is asked for.
type FormView struct {
	ID         int64                  `json:"id"`
	Version    int                    `json:"version"`
	Standard   string                 `json:"standard,omitempty"`
	Title      bridge.Text            `json:"title"`
	CreatedBy  string                 `json:"created_by"`
	CreatedAt  int64                  `json:"created_at"`
	Scored     bool                   `json:"scored"`
	Editable   bool                   `json:"editable"`
	Definition *bridge.FormDefinition `json:"definition,omitempty"`
}

func (srv *Server) formView(f *bridge.Form, actor string, full bool) FormView {
	v := FormView{ID: f.ID, Version: f.Version, Standard: f.Standard, Title: f.Definition.Title, CreatedBy: f.CreatedBy,
		CreatedAt: f.CreatedAt.UnixMilli(), Scored: f.Definition.Scoring != nil,
		Editable: srv.svc.MayEditForm(actor, f)}
	if full {
		v.Definition = f.Definition
	}
	return v
}

// AssignmentView is an assigned form, as the panel and the portal list it. Times are Unix
// milliseconds; SubmittedAt is 0 until then.
type AssignmentView struct {
	ID          int64             `json:"id"`
	ClientID    int64             `json:"client_id,omitempty"`
	FormID      int64             `json:"form_id"`
	Version     int               `json:"version"`
	Title       bridge.Text       `json:"title"`
	Status      string            `json:"status"`
	AssignedBy  string            `json:"assigned_by,omitempty"`
	AssignedAt  int64             `json:"assigned_at"`
	UpdatedAt   int64             `json:"updated_at"`
	SubmittedAt int64             `json:"submitted_at"`
	Score       *bridge.FormScore `json:"score,omitempty"`
}

func assignmentView(item bridge.AssignedForm, forClinician bool) AssignmentView {
	a := item.Assignment
	v := AssignmentView{ID: a.ID, FormID: a.FormID, Version: item.Form.Version, Title: item.Form.Definition.Title, Status: string(a.Status),
		AssignedAt: a.AssignedAt.UnixMilli(), UpdatedAt: a.UpdatedAt.UnixMilli()}
	if !a.SubmittedAt.IsZero() {
		v.SubmittedAt = a.SubmittedAt.UnixMilli()
	}
	if forClinician {
		// The score and who assigned it are for the clinicians: the portal shows the client
		// their answers, and leaves the reading of an instrument to the professional.
		v.ClientID, v.AssignedBy, v.Score = a.ClientID, a.AssignedBy, item.Score
	}
	return v
}

// ResponseView is a client's answers. Times are Unix milliseconds.
type ResponseView struct {
	Answers     bridge.Answers `json:"answers"`
	SavedAt     int64          `json:"saved_at"`
	SubmittedAt int64          `json:"submitted_at"`
}

func responseView(r *bridge.FormResponse) ResponseView {
	if r == nil {
		return ResponseView{Answers: bridge.Answers{}}
	}
	v := ResponseView{Answers: r.Answers, SavedAt: r.SavedAt.UnixMilli()}
	if v.Answers == nil {
		v.Answers = bridge.Answers{}
	}
	if r.Submitted() {
		v.SubmittedAt = r.SubmittedAt.UnixMilli()
	}
	return v
}

// formsError turns the forms journey's refusals into API answers.
func formsError(err error) error {
	var invalidForm *bridge.InvalidFormError
	var invalidAnswers *bridge.InvalidAnswersError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &invalidForm):
		return fieldError("definition", err.Error())
	case errors.As(err, &invalidAnswers):
		return &apiError{status: http.StatusBadRequest, code: "invalid_answers", msg: "Some answers need attention.", fields: invalidAnswers.Fields}
	case errors.Is(err, bridge.ErrFormNotFound):
		return errorf(http.StatusNotFound, "not_found", "There is no such form.")
	case errors.Is(err, bridge.ErrAssignmentNotFound):
		return errorf(http.StatusNotFound, "not_found", "There is no such form to fill in.")
	case errors.Is(err, bridge.ErrFormSubmitted):
		return errorf(http.StatusConflict, "submitted", "%s", capitalize(err.Error()))
	case errors.Is(err, bridge.ErrStandardForm), errors.Is(err, bridge.ErrNotYourForm):
		return errorf(http.StatusForbidden, "forbidden", "%s", capitalize(err.Error()))
	}
	return err
}

func pathID(r *http.Request, notFound error) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, notFound
	}
	return id, nil
}

// --- The panel ---

func (srv *Server) panelForms(r *http.Request, clinician string) (any, error) {
	forms, err := srv.svc.Forms(r.Context(), clinician)
	if err != nil {
		return nil, formsError(err)
	}
	out := make([]FormView, 0, len(forms))
	for _, f := range forms {
		out = append(out, srv.formView(f, clinician, false))
	}
	return map[string]any{"forms": out}, nil
}

func (srv *Server) panelForm(r *http.Request, clinician string) (any, error) {
	id, err := pathID(r, bridge.ErrFormNotFound)
	if err != nil {
		return nil, formsError(err)
	}
	f, err := srv.svc.Form(r.Context(), clinician, id)
	if err != nil {
		return nil, formsError(err)
	}
	return map[string]any{"form": srv.formView(f, clinician, true)}, nil
}

// FormEdit is a form as the panel's editor sends it: the JSON text the clinician wrote, so
// that even a syntax error comes back next to it.
type FormEdit struct {
	Definition string `json:"definition"`
}

func (srv *Server) panelSaveForm(r *http.Request, clinician string) (any, error) {
	var edit FormEdit
	if err := decode(r, &edit); err != nil {
		return nil, err
	}
	var f *bridge.Form
	var err error
	if r.Method == http.MethodPost {
		f, err = srv.svc.CreateForm(r.Context(), clinician, []byte(edit.Definition))
	} else {
		var id int64
		if id, err = pathID(r, bridge.ErrFormNotFound); err == nil {
			f, err = srv.svc.UpdateForm(r.Context(), clinician, id, []byte(edit.Definition))
		}
	}
	if err != nil {
		return nil, formsError(err)
	}
	return map[string]any{"form": srv.formView(f, clinician, true)}, nil
}

func (srv *Server) panelClientForms(r *http.Request, clinician string) (any, error) {
	id, err := clientID(r)
	if err != nil {
		return nil, err
	}
	list, err := srv.svc.ClientForms(r.Context(), clinician, id)
	if err != nil {
		return nil, formsError(err)
	}
	out := make([]AssignmentView, 0, len(list))
	for _, item := range list {
		out = append(out, assignmentView(item, true))
	}
	return map[string]any{"assignments": out}, nil
}

// AssignForm is the panel's request to assign a form.
type AssignForm struct {
	FormID int64 `json:"form_id"`
}

func (srv *Server) panelAssignForm(r *http.Request, clinician string) (any, error) {
	id, err := clientID(r)
	if err != nil {
		return nil, err
	}
	var req AssignForm
	if err = decode(r, &req); err != nil {
		return nil, err
	}
	a, f, err := srv.svc.AssignForm(r.Context(), clinician, id, req.FormID)
	if errors.Is(err, bridge.ErrFormNotFound) {
		return nil, fieldError("form_id", "there is no such form")
	} else if err != nil {
		return nil, formsError(err)
	}
	return map[string]any{"assignment": assignmentView(bridge.AssignedForm{Assignment: a, Form: f}, true)}, nil
}

// panelAssignment shows an assignment's form and answers (audited as form_response_viewed).
func (srv *Server) panelAssignment(r *http.Request, clinician string) (any, error) {
	id, err := pathID(r, bridge.ErrAssignmentNotFound)
	if err != nil {
		return nil, formsError(err)
	}
	item, resp, err := srv.svc.ShowFormResponse(r.Context(), clinician, id)
	if err != nil {
		return nil, formsError(err)
	}
	return map[string]any{"assignment": assignmentView(*item, true), "form": srv.formView(item.Form, clinician, true),
		"response": responseView(resp)}, nil
}

// --- The portal ---

// portalLanguage is the language of the client's errors: the page's, else their record's.
func (srv *Server) portalLanguage(r *http.Request, clientID int64) string {
	record := ""
	if c, err := srv.db.Client.Get(r.Context(), clientID); err == nil {
		record = c.Locale
	}
	if lang := homeLanguage(r, record); lang != "" {
		return lang
	}
	return "en"
}

func (srv *Server) portalForms(_ http.ResponseWriter, r *http.Request, in *portalSignIn) (any, error) {
	list, err := srv.svc.TodoForms(r.Context(), in.clientID)
	if err != nil {
		return nil, formsError(err)
	}
	out := make([]AssignmentView, 0, len(list))
	for _, item := range list {
		out = append(out, assignmentView(item, false))
	}
	return map[string]any{"assignments": out}, nil
}

// PortalForm is one form of the client's to-do list, to answer or to read.
type PortalForm struct {
	Assignment AssignmentView         `json:"assignment"`
	Definition *bridge.FormDefinition `json:"definition"`
	Response   ResponseView           `json:"response"`
	// Errors are what is wrong with the answers just saved, by field, in the client's language.
	Errors bridge.FieldErrors `json:"errors,omitempty"`
}

func (srv *Server) portalForm(_ http.ResponseWriter, r *http.Request, in *portalSignIn) (any, error) {
	id, err := pathID(r, bridge.ErrAssignmentNotFound)
	if err != nil {
		return nil, formsError(err)
	}
	item, resp, err := srv.svc.TodoForm(r.Context(), in.clientID, id)
	if err != nil {
		return nil, formsError(err)
	}
	return PortalForm{Assignment: assignmentView(*item, false), Definition: item.Form.Definition, Response: responseView(resp)}, nil
}

// PortalAnswers is the portal's save or submit: every answer so far.
type PortalAnswers struct {
	Answers map[string]json.RawMessage `json:"answers"`
}

// portalSaveForm saves a draft (PUT): the valid answers are kept, the others come back in
// errors. POST .../submit submits: any error refuses it whole (invalid_answers, with fields).
func (srv *Server) portalSaveForm(_ http.ResponseWriter, r *http.Request, in *portalSignIn) (any, error) {
	id, err := pathID(r, bridge.ErrAssignmentNotFound)
	if err != nil {
		return nil, formsError(err)
	}
	var req PortalAnswers
	if err = decode(r, &req); err != nil {
		return nil, err
	}
	submit := r.Method == http.MethodPost
	ctx := bridge.WithAuditVia(r.Context(), "portal")
	item, resp, err := srv.svc.SaveFormAnswers(ctx, in.clientID, id, req.Answers, srv.portalLanguage(r, in.clientID), submit)
	var invalid *bridge.InvalidAnswersError
	if errors.As(err, &invalid) && !submit {
		return PortalForm{Assignment: assignmentView(*item, false), Definition: item.Form.Definition, Response: responseView(resp), Errors: invalid.Fields}, nil
	} else if err != nil {
		return nil, formsError(err)
	}
	return PortalForm{Assignment: assignmentView(*item, false), Definition: item.Form.Definition, Response: responseView(resp)}, nil
}
