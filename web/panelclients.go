package web

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
)

// The panel's client records. Who may use them: a signed-in clinician, for the records they
// may see (assigned to them or booked by them; every record for an admin). Any other record
// answers 404 as an unknown one does.

// ClientView is a client record as the panel shows it. Times are Unix milliseconds.
type ClientView struct {
	ID            int64    `json:"id"`
	DisplayName   string   `json:"display_name"`
	PreferredName string   `json:"preferred_name,omitempty"`
	Emails        []string `json:"emails"`
	Phones        []string `json:"phones"`
	MatrixID      string   `json:"matrix_id,omitempty"`
	Locale        string   `json:"locale"`
	TimeZone      string   `json:"time_zone"`
	Professionals []string `json:"professionals"`
	Reminders     string   `json:"reminders"`
	PortalEnabled bool     `json:"portal_enabled"`
	// PortalClosed: a clinician disabled the portal; no sign-in opens it until it is enabled.
	PortalClosed bool  `json:"portal_closed"`
	CreatedAt    int64 `json:"created_at"`
	UpdatedAt    int64 `json:"updated_at"`
}

func clientView(c *bridge.Client) ClientView {
	nonNil := func(s []string) []string {
		if s == nil {
			return []string{}
		}
		return s
	}
	return ClientView{
		ID: c.ID, DisplayName: c.DisplayName, PreferredName: c.PreferredName, Emails: nonNil(c.Emails), Phones: nonNil(c.Phones),
		MatrixID: c.MatrixID, Locale: c.Locale, TimeZone: c.TimeZone, Professionals: nonNil(c.Professionals),
		Reminders: string(c.Reminders), PortalEnabled: c.PortalEnabled, PortalClosed: c.PortalClosed, CreatedAt: c.CreatedAt.UnixMilli(), UpdatedAt: c.UpdatedAt.UnixMilli(),
	}
}

// ClientForm is a client record as the panel writes it.
type ClientForm struct {
	DisplayName   string   `json:"display_name"`
	PreferredName string   `json:"preferred_name"`
	Emails        []string `json:"emails"`
	Phones        []string `json:"phones"`
	PhoneRegion   string   `json:"phone_region"`
	MatrixID      string   `json:"matrix_id"`
	Locale        string   `json:"locale"`
	TimeZone      string   `json:"time_zone"`
	Professionals []string `json:"professionals"`
	Reminders     string   `json:"reminders"`
	PortalEnabled bool     `json:"portal_enabled"`
}

func (f *ClientForm) request() bridge.ClientRequest {
	return bridge.ClientRequest{
		DisplayName: f.DisplayName, PreferredName: f.PreferredName, Emails: f.Emails, Phones: f.Phones, PhoneRegion: f.PhoneRegion,
		MatrixID: f.MatrixID, Locale: f.Locale, TimeZone: f.TimeZone, Professionals: f.Professionals,
		Reminders: bridge.ReminderPreference(f.Reminders), PortalEnabled: f.PortalEnabled,
	}
}

// clientField guesses which form field a client record error is about.
func clientField(msg string) string {
	for _, f := range []struct{ word, field string }{
		{"preferred name", "preferred_name"}, {"professional", "professionals"}, {"reminders", "reminders"},
		{"email", "emails"}, {"phone", "phones"}, {"mobile", "phones"}, {"time zone", "time_zone"},
		{"language", "locale"}, {"Matrix", "matrix_id"}, {"name", "display_name"},
	} {
		if strings.Contains(msg, f.word) {
			return f.field
		}
	}
	return "display_name"
}

func clientID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, bridge.ErrClientNotFound
	}
	return id, nil
}

// panelClients lists the records the clinician may see whose name, email or phone starts with
// ?q= (all of them, by name, without q): the booking form's "pick a client or create one" and
// the Clients list.
func (srv *Server) panelClients(r *http.Request, clinician string) (any, error) {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
	if limit <= 0 || limit > 100 {
		limit = 20
	}
	clients, err := srv.svc.FindClients(r.Context(), clinician, q, limit)
	if err != nil {
		return nil, err
	}
	out := make([]ClientView, 0, len(clients))
	for _, c := range clients {
		out = append(out, clientView(c))
	}
	if len(out) > 0 {
		_ = srv.svc.Audit(r.Context(), bridge.AuditEntry{Actor: clinician, Action: bridge.AuditParticipantDataViewed, Detail: map[string]string{"view": "clients"}})
	}
	return map[string]any{"clients": out}, nil
}

// panelClient opens one record, with the clinician's sessions with the client, latest first
// (audited as participant_data_viewed, view "client").
func (srv *Server) panelClient(r *http.Request, clinician string) (any, error) {
	id, err := clientID(r)
	if err != nil {
		return nil, err
	}
	c, sessions, err := srv.svc.ShowClient(r.Context(), clinician, id)
	if err != nil {
		return nil, err
	}
	views := make([]SessionView, 0, len(sessions))
	for _, s := range sessions {
		views = append(views, srv.sessionView(s, s.TimeZone, "en"))
	}
	return map[string]any{"client": clientView(c), "sessions": views}, nil
}

// panelCreateClient makes a record without a booking.
func (srv *Server) panelCreateClient(r *http.Request, clinician string) (any, error) {
	var f ClientForm
	if err := decode(r, &f); err != nil {
		return nil, err
	}
	c, err := srv.svc.CreateClient(r.Context(), clinician, f.request())
	if err != nil {
		return nil, clientError(err)
	}
	return map[string]any{"client": clientView(c)}, nil
}

// panelUpdateClient edits a record: the form replaces every field.
func (srv *Server) panelUpdateClient(r *http.Request, clinician string) (any, error) {
	id, err := clientID(r)
	if err != nil {
		return nil, err
	}
	var f ClientForm
	if err = decode(r, &f); err != nil {
		return nil, err
	}
	c, err := srv.svc.UpdateClient(r.Context(), clinician, id, f.request())
	if err != nil {
		return nil, clientError(err)
	}
	return map[string]any{"client": clientView(c)}, nil
}

// clientError names the form field of a refused record; other errors pass as they are.
func clientError(err error) error {
	var invalid *bridge.InvalidClientError
	if errors.As(err, &invalid) {
		return fieldError(clientField(err.Error()), err.Error())
	}
	return err
}
