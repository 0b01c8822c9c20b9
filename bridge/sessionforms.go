package bridge

import (
	"context"
	"fmt"
	"slices"
)

// Forms in a session's package. At booking the clinician may pick forms as well as documents
// ("Show participant documents"): each form is assigned to every participant's client record,
// tied to the session (FormAssignment.SessionID), so that the client's to-do list has it, the
// session page lists it with its status, and the lobby shows who has done it.
//
// Who may: the session's clinician or an admin, for participants whose record they may see
// (mayViewClient: booking the session makes them its booking clinician). A participant without
// a client record gets no form: there is no to-do list to put it in.

// SetSessionForms assigns forms to the session's participants' client records; a form the
// session's package gave a client already is not given again.
func (svc *Service) SetSessionForms(ctx context.Context, actor, sessionID string, formIDs []int64) error {
	store, err := svc.formStore(ctx)
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
	ids := slices.Clone(formIDs)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	for _, id := range ids {
		if _, err = store.LatestForm(ctx, id); err != nil {
			return err
		}
	}
	given, err := store.SessionAssignments(ctx, sessionID)
	if err != nil {
		return fmt.Errorf("reading session %s's forms: %w", sessionID, err)
	}
	ps, err := svc.store.Participants(ctx, sessionID)
	if err != nil {
		return fmt.Errorf("reading session %s's participants: %w", sessionID, err)
	}
	for _, p := range ps {
		if p.ClientID == 0 {
			continue
		}
		for _, id := range ids {
			if slices.ContainsFunc(given, func(a *FormAssignment) bool { return a.ClientID == p.ClientID && a.FormID == id }) {
				continue
			}
			if _, _, err = svc.assignForm(ctx, actor, p.ClientID, id, sessionID); err != nil {
				return fmt.Errorf("giving form %d to session %s's participant %d: %w", id, sessionID, p.Number, err)
			}
		}
	}
	svc.documentsChanged(ctx, s) // the lobby shows the package's forms
	return nil
}

// ParticipantForms are the forms the session's package gave one of its participants, with
// their status (the caller has checked who they are: their link, or the portal's sign-in).
func (svc *Service) ParticipantForms(ctx context.Context, s *Session, p *Participant) ([]AssignedForm, error) {
	if p.ClientID == 0 {
		return nil, nil
	}
	store, err := svc.formStore(ctx)
	if err != nil {
		return nil, err
	}
	list, err := store.SessionAssignments(ctx, s.ID)
	if err != nil {
		return nil, fmt.Errorf("reading session %s's forms: %w", s.ID, err)
	}
	list = slices.DeleteFunc(list, func(a *FormAssignment) bool { return a.ClientID != p.ClientID })
	return svc.assigned(ctx, store, list)
}

// FormStatus is whether one participant has done the forms of the session's package.
type FormStatus struct {
	Participant *Participant
	// Done and Missing are assignment IDs.
	Done, Missing []int64
}

// SessionFormStatus is, for the session's clinician (or an admin), who has and has not done
// the package's forms; nil when the package has none.
func (svc *Service) SessionFormStatus(ctx context.Context, actor, sessionID string) ([]FormStatus, error) {
	if svc.forms.store == nil {
		return nil, nil // no forms: nothing to do
	}
	s, err := svc.store.GetSession(ctx, sessionID)
	if err != nil {
		return nil, err
	}
	if s.Clinician != actor && !svc.isAdmin(actor) && actor != svc.bot {
		return nil, ErrNotYourSession
	}
	list, err := svc.forms.store.SessionAssignments(ctx, sessionID)
	if err != nil {
		return nil, fmt.Errorf("reading session %s's forms: %w", sessionID, err)
	}
	if len(list) == 0 {
		return nil, nil
	}
	ps, err := svc.store.Participants(ctx, sessionID)
	if err != nil {
		return nil, err
	}
	var out []FormStatus
	for _, p := range ps {
		st := FormStatus{Participant: p}
		for _, a := range list {
			if p.ClientID == 0 || a.ClientID != p.ClientID {
				continue
			}
			if a.Status == AssignmentDone {
				st.Done = append(st.Done, a.ID)
			} else {
				st.Missing = append(st.Missing, a.ID)
			}
		}
		if len(st.Done)+len(st.Missing) > 0 {
			out = append(out, st)
		}
	}
	return out, nil
}
