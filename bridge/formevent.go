package bridge

import (
	"encoding/json"
	"fmt"
	"strings"
)

// What a submitted form posts in the client's messages room (docs/events.md, "Forms in the
// client's messages room"), built here so that the Matrix side only sends it.

// FormResponseEventType is the event type of a submitted form's answers, for integrators.
const FormResponseEventType = "org.telehealthbridge.form_response"

// FormResponseEvent is the content of an org.telehealthbridge.form_response event.
type FormResponseEvent struct {
	ClientID     int64             `json:"client_id"`
	AssignmentID int64             `json:"assignment_id"`
	Form         FormEventForm     `json:"form"`
	AssignedBy   string            `json:"assigned_by"`
	SubmittedAt  int64             `json:"submitted_at"`
	Score        *FormScore        `json:"score,omitempty"`
	Answers      []FormEventAnswer `json:"answers"`
}

// FormEventForm names the form version answered.
type FormEventForm struct {
	ID       int64  `json:"id"`
	Version  int    `json:"version"`
	Standard string `json:"standard,omitempty"`
	Title    Text   `json:"title"`
}

// FormEventAnswer is one field and its answer; Text holds the chosen options' labels.
type FormEventAnswer struct {
	Field string          `json:"field"`
	Type  FieldType       `json:"type"`
	Label Text            `json:"label"`
	Value json.RawMessage `json:"value"`
	Text  []Text          `json:"text,omitempty"`
}

// NewFormResponseEvent builds the event of a submission, every field in the form's order.
func NewFormResponseEvent(a *FormAssignment, f *Form, r *FormResponse) FormResponseEvent {
	ev := FormResponseEvent{ClientID: a.ClientID, AssignmentID: a.ID, AssignedBy: a.AssignedBy, SubmittedAt: r.SubmittedAt.UnixMilli(),
		Score: r.Score, Form: FormEventForm{ID: f.ID, Version: f.Version, Standard: f.Standard, Title: f.Definition.Title}}
	for _, field := range f.Definition.Fields() {
		ans := FormEventAnswer{Field: field.ID, Type: field.Type, Label: field.Label, Value: json.RawMessage("null")}
		if raw, ok := r.Answers[field.ID]; ok {
			ans.Value = raw
			var chosen []string
			switch field.Type {
			case FieldSingleChoice:
				var s string
				_ = json.Unmarshal(raw, &s)
				chosen = []string{s}
			case FieldMultipleChoice:
				_ = json.Unmarshal(raw, &chosen)
			}
			for _, v := range chosen {
				if o := field.option(v); o != nil {
					ans.Text = append(ans.Text, o.Label)
				}
			}
		}
		ev.Answers = append(ev.Answers, ans)
	}
	return ev
}

// Notice is the summary's text for the clinicians in the client's room: the title, who
// assigned it and the score, never an answer.
func (s FormSummary) Notice() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Form sent: %s, version %d, assigned by %s.", s.Title.In("en"), s.Version, s.AssignedBy)
	if s.Score != nil {
		fmt.Fprintf(&b, " Score %d/%d", s.Score.Score, s.Score.Max)
		if band := s.Score.Band.In("en"); band != "" {
			b.WriteString(": " + band)
		}
		b.WriteString(".")
	}
	b.WriteString(" Answers in the panel.")
	return b.String()
}
