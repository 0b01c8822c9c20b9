package web

import (
	"errors"
	"net/http"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
)

// The panel's Prospects: the people who signed up on the portal, waiting for a clinician to
// link them to a client record. Who may use it: any signed-in clinician of the clinic (a
// prospect is assigned to no one yet) and admins; linking needs a record the clinician may see
// (404 for any other, as for an unknown one).

// ProspectView is a prospect as the panel shows them. CreatedAt is Unix milliseconds.
type ProspectView struct {
	ID        int64  `json:"id"`
	Name      string `json:"name"`
	Email     string `json:"email,omitempty"`
	Phone     string `json:"phone,omitempty"`
	Locale    string `json:"locale"`
	TimeZone  string `json:"time_zone"`
	CreatedAt int64  `json:"created_at"`
}

func prospectView(p *bridge.Prospect) ProspectView {
	return ProspectView{ID: p.ID, Name: p.Name, Email: p.Contact.Email, Phone: p.Contact.Phone, Locale: p.Locale,
		TimeZone: p.TimeZone, CreatedAt: p.CreatedAt.UnixMilli()}
}

func prospectID(r *http.Request) (int64, error) {
	id, ok := bridge.ParseProspectID(r.PathValue("id"))
	if !ok {
		return 0, errNoProspect
	}
	return id, nil
}

var errNoProspect = errorf(http.StatusNotFound, "not_found", "This prospect is not waiting any more: another clinician may have linked or dismissed them.")

// prospectError turns the domain's refusals into answers.
func prospectError(err error) error {
	var invalid *bridge.InvalidClientError
	switch {
	case errors.Is(err, bridge.ErrProspectNotFound):
		return errNoProspect
	case errors.Is(err, bridge.ErrNotClinician):
		return errorf(http.StatusForbidden, "forbidden", "Only the clinic's clinicians can see prospects.")
	case errors.As(err, &invalid):
		return errorf(http.StatusConflict, "refused", "%s.", capitalize(err.Error()))
	}
	return err
}

// panelProspects lists the prospects waiting, oldest first (audited).
func (srv *Server) panelProspects(r *http.Request, clinician string) (any, error) {
	ps, err := srv.svc.Prospects(r.Context(), clinician)
	if err != nil {
		return nil, prospectError(err)
	}
	out := make([]ProspectView, 0, len(ps))
	for _, p := range ps {
		out = append(out, prospectView(p))
	}
	return map[string]any{"prospects": out}, nil
}

type prospectLink struct {
	ClientID int64 `json:"client_id"`
}

// panelProspectAction links a prospect to a record ("link", with client_id), makes a record
// from them ("client") or dismisses them ("dismiss").
func (srv *Server) panelProspectAction(r *http.Request, clinician string) (any, error) {
	id, err := prospectID(r)
	if err != nil {
		return nil, err
	}
	var c *bridge.Client
	switch r.PathValue("action") {
	case "link":
		var req prospectLink
		if err = decode(r, &req); err != nil {
			return nil, err
		}
		c, err = srv.svc.LinkProspect(r.Context(), clinician, id, req.ClientID)
	case "client":
		c, err = srv.svc.ProspectClient(r.Context(), clinician, id)
	case "dismiss":
		if err = srv.svc.DismissProspect(r.Context(), clinician, id); err != nil {
			return nil, prospectError(err)
		}
		return map[string]bool{"dismissed": true}, nil
	default:
		return nil, errorf(http.StatusNotFound, "no_endpoint", "There is no such API endpoint.")
	}
	if err != nil {
		return nil, prospectError(err)
	}
	return map[string]any{"client": clientView(c), "prospect_id": id}, nil
}
