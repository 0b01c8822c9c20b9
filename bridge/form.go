package bridge

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// A form is the clinic's questionnaire, written as data (docs/forms.md): sections of fields,
// each field one of a few types, with labels in English and French; an optional scoring sums
// the values of the chosen options and names the band the sum falls in. The standard
// instruments the bridge ships (PHQ-9, GAD-7) are forms like any other.

// FieldType is what kind of answer a field takes.
type FieldType string

const (
	FieldText           FieldType = "text"
	FieldLongText       FieldType = "long_text"
	FieldSingleChoice   FieldType = "single_choice"
	FieldMultipleChoice FieldType = "multiple_choice"
	FieldScale          FieldType = "scale"
	FieldDate           FieldType = "date"
	FieldYesNo          FieldType = "yes_no"
	FieldSignature      FieldType = "signature"
)

var fieldTypes = []FieldType{FieldText, FieldLongText, FieldSingleChoice, FieldMultipleChoice, FieldScale, FieldDate, FieldYesNo, FieldSignature}

// Text is a text in several languages: "en" is required, "fr" falls back to it.
type Text map[string]string

// In is the text in lang, else in English.
func (t Text) In(lang string) string {
	if s := t[lang]; s != "" {
		return s
	}
	return t["en"]
}

// FormDefinition is a form as the clinic writes it (JSON).
type FormDefinition struct {
	// Title is what the client and the clinician see.
	Title       Text          `json:"title"`
	Description Text          `json:"description,omitempty"`
	Sections    []FormSection `json:"sections"`
	Scoring     *FormScoring  `json:"scoring,omitempty"`
}

// FormSection is a group of fields under a title.
type FormSection struct {
	ID     string      `json:"id"`
	Title  Text        `json:"title,omitempty"`
	Intro  Text        `json:"intro,omitempty"`
	Fields []FormField `json:"fields"`
}

// FormField is one question.
type FormField struct {
	ID       string    `json:"id"`
	Type     FieldType `json:"type"`
	Label    Text      `json:"label"`
	Help     Text      `json:"help,omitempty"`
	Required bool      `json:"required,omitempty"`
	// Options are the choices of single_choice and multiple_choice fields.
	Options []FormOption `json:"options,omitempty"`
	// Min, Max, MinLabel and MaxLabel are a scale's ends.
	Min      *int `json:"min,omitempty"`
	Max      *int `json:"max,omitempty"`
	MinLabel Text `json:"min_label,omitempty"`
	MaxLabel Text `json:"max_label,omitempty"`
}

// FormOption is one choice; Score is what it adds to the form's score.
type FormOption struct {
	Value string `json:"value"`
	Label Text   `json:"label"`
	Score int    `json:"score,omitempty"`
}

// FormScoring sums the scores of the chosen options of Fields (every choice field if empty);
// the sum falls in one of Bands.
type FormScoring struct {
	Fields []string   `json:"fields,omitempty"`
	Bands  []FormBand `json:"bands,omitempty"`
}

// FormBand is a range of scores, both ends included, and its name.
type FormBand struct {
	Min   int  `json:"min"`
	Max   int  `json:"max"`
	Label Text `json:"label"`
}

// Limits of a form and of its answers: a form is a questionnaire, not a database.
const (
	maxFormSections  = 30
	maxFormFields    = 200
	maxFieldOptions  = 50
	maxLabelLength   = 2000
	maxTextAnswer    = 500
	maxLongAnswer    = 10000
	maxScaleSpan     = 100
	maxSignatureName = 200
)

var fieldIDPattern = regexp.MustCompile(`^[a-z0-9_]{1,40}$`)

// InvalidFormError is a form definition refused; Path says where ("sections[0].fields[2]").
type InvalidFormError struct {
	Path string
	Msg  string
}

func (e *InvalidFormError) Error() string {
	if e.Path == "" {
		return e.Msg
	}
	return e.Msg + " (at " + e.Path + ")"
}

// ParseFormDefinition reads and checks a form written as JSON: unknown keys are refused, so a
// typo does not silently drop a question.
func ParseFormDefinition(data []byte) (*FormDefinition, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var def FormDefinition
	if err := dec.Decode(&def); err != nil {
		return nil, &InvalidFormError{Msg: "the form is not valid JSON in the form format: " + strings.TrimPrefix(err.Error(), "json: ")}
	}
	if dec.More() {
		return nil, &InvalidFormError{Msg: "the form must be one JSON object"}
	}
	if err := def.Validate(); err != nil {
		return nil, err
	}
	return &def, nil
}

func checkText(path string, t Text, required bool) error {
	if len(t) == 0 && !required {
		return nil
	}
	if strings.TrimSpace(t["en"]) == "" {
		return &InvalidFormError{Path: path, Msg: "needs an English text (\"en\")"}
	}
	for lang, s := range t {
		if lang != "en" && lang != "fr" {
			return &InvalidFormError{Path: path, Msg: fmt.Sprintf("the languages are en and fr, not %q", lang)}
		}
		if utf8.RuneCountInString(s) > maxLabelLength {
			return &InvalidFormError{Path: path, Msg: fmt.Sprintf("at most %d characters", maxLabelLength)}
		}
		if err := visibleText(strings.NewReplacer("\n", " ", "\t", " ").Replace(s)); err != nil {
			return &InvalidFormError{Path: path, Msg: err.Error()}
		}
	}
	return nil
}

// Validate checks the form: titles and labels in English, unique IDs, options for choices, a
// scale's ends, scoring on choice fields and bands that do not overlap.
func (def *FormDefinition) Validate() error {
	if err := checkText("title", def.Title, true); err != nil {
		return err
	}
	if err := checkText("description", def.Description, false); err != nil {
		return err
	}
	if len(def.Sections) == 0 {
		return &InvalidFormError{Path: "sections", Msg: "a form has at least one section"}
	}
	if len(def.Sections) > maxFormSections {
		return &InvalidFormError{Path: "sections", Msg: fmt.Sprintf("at most %d sections", maxFormSections)}
	}
	ids := map[string]bool{}
	count := 0
	for i, sec := range def.Sections {
		at := fmt.Sprintf("sections[%d]", i)
		if !fieldIDPattern.MatchString(sec.ID) {
			return &InvalidFormError{Path: at + ".id", Msg: "an ID is 1 to 40 lower-case letters, digits or _"}
		}
		if ids[sec.ID] {
			return &InvalidFormError{Path: at + ".id", Msg: fmt.Sprintf("the ID %q is used twice", sec.ID)}
		}
		ids[sec.ID] = true
		if err := checkText(at+".title", sec.Title, false); err != nil {
			return err
		}
		if err := checkText(at+".intro", sec.Intro, false); err != nil {
			return err
		}
		if len(sec.Fields) == 0 {
			return &InvalidFormError{Path: at + ".fields", Msg: "a section has at least one field"}
		}
		for j := range sec.Fields {
			count++
			if err := sec.Fields[j].validate(fmt.Sprintf("%s.fields[%d]", at, j), ids); err != nil {
				return err
			}
		}
	}
	if count > maxFormFields {
		return &InvalidFormError{Path: "sections", Msg: fmt.Sprintf("at most %d fields in all", maxFormFields)}
	}
	return def.validateScoring()
}

func (f *FormField) validate(at string, ids map[string]bool) error {
	if !fieldIDPattern.MatchString(f.ID) {
		return &InvalidFormError{Path: at + ".id", Msg: "an ID is 1 to 40 lower-case letters, digits or _"}
	}
	if ids[f.ID] {
		return &InvalidFormError{Path: at + ".id", Msg: fmt.Sprintf("the ID %q is used twice", f.ID)}
	}
	ids[f.ID] = true
	if !slices.Contains(fieldTypes, f.Type) {
		return &InvalidFormError{Path: at + ".type", Msg: fmt.Sprintf("%q is not a field type (text, long_text, single_choice, multiple_choice, scale, date, yes_no, signature)", f.Type)}
	}
	if err := checkText(at+".label", f.Label, true); err != nil {
		return err
	}
	if err := checkText(at+".help", f.Help, false); err != nil {
		return err
	}
	choice := f.Type == FieldSingleChoice || f.Type == FieldMultipleChoice
	if choice {
		if len(f.Options) < 2 || len(f.Options) > maxFieldOptions {
			return &InvalidFormError{Path: at + ".options", Msg: fmt.Sprintf("a choice has 2 to %d options", maxFieldOptions)}
		}
		values := map[string]bool{}
		for k, o := range f.Options {
			oat := fmt.Sprintf("%s.options[%d]", at, k)
			if o.Value == "" || len(o.Value) > 40 || strings.TrimSpace(o.Value) != o.Value {
				return &InvalidFormError{Path: oat + ".value", Msg: "an option's value is 1 to 40 characters, without spaces around"}
			}
			if values[o.Value] {
				return &InvalidFormError{Path: oat + ".value", Msg: fmt.Sprintf("the value %q is used twice", o.Value)}
			}
			values[o.Value] = true
			if err := checkText(oat+".label", o.Label, true); err != nil {
				return err
			}
		}
	} else if len(f.Options) > 0 {
		return &InvalidFormError{Path: at + ".options", Msg: "only choices have options"}
	}
	if f.Type == FieldScale {
		if f.Min == nil || f.Max == nil || *f.Min >= *f.Max || *f.Max-*f.Min > maxScaleSpan {
			return &InvalidFormError{Path: at + ".max", Msg: fmt.Sprintf("a scale has a min below its max, at most %d apart", maxScaleSpan)}
		}
		if err := checkText(at+".min_label", f.MinLabel, false); err != nil {
			return err
		}
		if err := checkText(at+".max_label", f.MaxLabel, false); err != nil {
			return err
		}
	} else if f.Min != nil || f.Max != nil || len(f.MinLabel) > 0 || len(f.MaxLabel) > 0 {
		return &InvalidFormError{Path: at + ".min", Msg: "only scales have min and max"}
	}
	return nil
}

func (def *FormDefinition) validateScoring() error {
	sc := def.Scoring
	if sc == nil {
		return nil
	}
	for i, id := range sc.Fields {
		f := def.Field(id)
		if f == nil {
			return &InvalidFormError{Path: fmt.Sprintf("scoring.fields[%d]", i), Msg: fmt.Sprintf("there is no field %q", id)}
		}
		if f.Type != FieldSingleChoice && f.Type != FieldMultipleChoice {
			return &InvalidFormError{Path: fmt.Sprintf("scoring.fields[%d]", i), Msg: fmt.Sprintf("the field %q is not a choice: only choices score", id)}
		}
	}
	bands := slices.Clone(sc.Bands)
	slices.SortFunc(bands, func(a, b FormBand) int { return a.Min - b.Min })
	for i, b := range bands {
		at := fmt.Sprintf("scoring.bands[%d]", slices.IndexFunc(sc.Bands, func(x FormBand) bool { return x.Min == b.Min && x.Max == b.Max }))
		if b.Min > b.Max {
			return &InvalidFormError{Path: at, Msg: "a band's min is not above its max"}
		}
		if i > 0 && b.Min <= bands[i-1].Max {
			return &InvalidFormError{Path: at, Msg: "bands overlap"}
		}
		if err := checkText(at+".label", b.Label, true); err != nil {
			return err
		}
	}
	return nil
}

// Fields are the form's fields, in order.
func (def *FormDefinition) Fields() []*FormField {
	var out []*FormField
	for i := range def.Sections {
		for j := range def.Sections[i].Fields {
			out = append(out, &def.Sections[i].Fields[j])
		}
	}
	return out
}

// Field is the field with the ID, or nil.
func (def *FormDefinition) Field(id string) *FormField {
	for _, f := range def.Fields() {
		if f.ID == id {
			return f
		}
	}
	return nil
}

// Answers are a client's answers by field ID, each as JSON: a string (text, long_text,
// single_choice's value, date as YYYY-MM-DD), a list of strings (multiple_choice), a number
// (scale), a boolean (yes_no), or {"name": "...", "agreed": true} (signature).
type Answers map[string]json.RawMessage

// Signature is a typed full name and a tick: the client agrees to what the field says.
type Signature struct {
	Name   string `json:"name"`
	Agreed bool   `json:"agreed"`
}

// FieldErrors are what is wrong with answers, by field ID, in the client's language.
type FieldErrors map[string]string

// InvalidAnswersError: answers refused; Fields says which and why, in the client's language.
type InvalidAnswersError struct{ Fields FieldErrors }

func (e *InvalidAnswersError) Error() string {
	ids := make([]string, 0, len(e.Fields))
	for id := range e.Fields {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return "some answers need attention: " + strings.Join(ids, ", ")
}

// answerWords are the validation messages, by language.
var answerWords = map[string]map[string]string{
	"en": {
		"required":    "This question needs an answer.",
		"unknown":     "This form has no such question.",
		"type":        "This answer is not of the right kind.",
		"too_long":    "This answer is too long (at most %d characters).",
		"choice":      "Please choose one of the options.",
		"scale":       "Please choose a number from %d to %d.",
		"date":        "Please give a date (YYYY-MM-DD).",
		"sign_name":   "Please type your full name to sign.",
		"sign_agreed": "Please tick the box to sign.",
		"invisible":   "This answer holds characters that cannot be shown.",
	},
	"fr": {
		"required":    "Cette question demande une réponse.",
		"unknown":     "Ce formulaire n'a pas cette question.",
		"type":        "Cette réponse n'est pas du bon type.",
		"too_long":    "Cette réponse est trop longue (%d caractères au plus).",
		"choice":      "Choisissez l'une des options.",
		"scale":       "Choisissez un nombre de %d à %d.",
		"date":        "Indiquez une date (AAAA-MM-JJ).",
		"sign_name":   "Tapez votre nom complet pour signer.",
		"sign_agreed": "Cochez la case pour signer.",
		"invisible":   "Cette réponse contient des caractères qui ne peuvent pas s'afficher.",
	},
}

func answerWord(lang, key string, args ...any) string {
	words, ok := answerWords[lang]
	if !ok {
		words = answerWords["en"]
	}
	if len(args) > 0 {
		return fmt.Sprintf(words[key], args...)
	}
	return words[key]
}

// CheckAnswers checks answers against the form, with messages in lang. complete also asks
// every required field to be answered (a submission); a draft may leave them empty. Empty
// answers (null, "", [], false for a signature not ticked and not named) count as unanswered
// and are dropped from the returned answers, which are normalised (text trimmed).
func (def *FormDefinition) CheckAnswers(in Answers, lang string, complete bool) (Answers, error) {
	out := Answers{}
	errs := FieldErrors{}
	for id, raw := range in {
		f := def.Field(id)
		if f == nil {
			errs[id] = answerWord(lang, "unknown")
			continue
		}
		norm, key, args := f.checkAnswer(raw)
		switch {
		case key != "":
			errs[id] = answerWord(lang, key, args...)
		case norm != nil:
			out[id] = norm
		}
	}
	if complete {
		for _, f := range def.Fields() {
			if _, answered := out[f.ID]; f.Required && !answered && errs[f.ID] == "" {
				errs[f.ID] = answerWord(lang, "required")
			}
		}
	}
	if len(errs) > 0 {
		return out, &InvalidAnswersError{Fields: errs}
	}
	return out, nil
}

func mustJSON(v any) json.RawMessage {
	data, _ := json.Marshal(v)
	return data
}

// checkAnswer returns the normalised answer (nil when empty), or the key and arguments of
// what is wrong.
func (f *FormField) checkAnswer(raw json.RawMessage) (json.RawMessage, string, []any) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, "", nil
	}
	text := func(limit int) (json.RawMessage, string, []any) {
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return nil, "type", nil
		}
		s = strings.TrimSpace(s)
		if s == "" {
			return nil, "", nil
		}
		if utf8.RuneCountInString(s) > limit {
			return nil, "too_long", []any{limit}
		}
		if visibleText(strings.NewReplacer("\n", " ", "\r", " ", "\t", " ").Replace(s)) != nil {
			return nil, "invisible", nil
		}
		return mustJSON(s), "", nil
	}
	switch f.Type {
	case FieldText:
		return text(maxTextAnswer)
	case FieldLongText:
		return text(maxLongAnswer)
	case FieldSingleChoice:
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return nil, "type", nil
		}
		if s == "" {
			return nil, "", nil
		}
		if f.option(s) == nil {
			return nil, "choice", nil
		}
		return mustJSON(s), "", nil
	case FieldMultipleChoice:
		var list []string
		if json.Unmarshal(raw, &list) != nil {
			return nil, "type", nil
		}
		var chosen []string
		for _, o := range f.Options { // in the form's order, each once
			if slices.Contains(list, o.Value) {
				chosen = append(chosen, o.Value)
			}
		}
		for _, v := range list {
			if f.option(v) == nil {
				return nil, "choice", nil
			}
		}
		if len(chosen) == 0 {
			return nil, "", nil
		}
		return mustJSON(chosen), "", nil
	case FieldScale:
		var n float64
		if json.Unmarshal(raw, &n) != nil {
			return nil, "type", nil
		}
		if n != math.Trunc(n) || n < float64(*f.Min) || n > float64(*f.Max) {
			return nil, "scale", []any{*f.Min, *f.Max}
		}
		return mustJSON(int(n)), "", nil
	case FieldDate:
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return nil, "type", nil
		}
		if s = strings.TrimSpace(s); s == "" {
			return nil, "", nil
		}
		d, err := time.Parse(time.DateOnly, s)
		if err != nil || d.Year() < 1900 || d.Year() > 2200 {
			return nil, "date", nil
		}
		return mustJSON(s), "", nil
	case FieldYesNo:
		var b bool
		if json.Unmarshal(raw, &b) != nil {
			return nil, "type", nil
		}
		return mustJSON(b), "", nil
	case FieldSignature:
		var sig Signature
		if json.Unmarshal(raw, &sig) != nil {
			return nil, "type", nil
		}
		sig.Name = strings.Join(strings.Fields(sig.Name), " ")
		switch {
		case sig.Name == "" && !sig.Agreed:
			return nil, "", nil
		case utf8.RuneCountInString(sig.Name) < 2 || utf8.RuneCountInString(sig.Name) > maxSignatureName:
			return nil, "sign_name", nil
		case visibleText(sig.Name) != nil:
			return nil, "invisible", nil
		case !sig.Agreed:
			return nil, "sign_agreed", nil
		}
		return mustJSON(sig), "", nil
	}
	return nil, "type", nil
}

func (f *FormField) option(value string) *FormOption {
	for i := range f.Options {
		if f.Options[i].Value == value {
			return &f.Options[i]
		}
	}
	return nil
}

// FormScore is a scored form's result.
type FormScore struct {
	Score int `json:"score"`
	// Max is the highest score the form allows.
	Max int `json:"max"`
	// Band is the band the score falls in (nil if none does).
	Band Text `json:"band,omitempty"`
}

// Score sums the scores of the chosen options of the scored fields; nil for a form without
// scoring.
func (def *FormDefinition) Score(answers Answers) *FormScore {
	if def.Scoring == nil {
		return nil
	}
	res := &FormScore{}
	for _, f := range def.Fields() {
		if f.Type != FieldSingleChoice && f.Type != FieldMultipleChoice {
			continue
		}
		if len(def.Scoring.Fields) > 0 && !slices.Contains(def.Scoring.Fields, f.ID) {
			continue
		}
		best := 0
		for _, o := range f.Options {
			if f.Type == FieldSingleChoice {
				best = max(best, o.Score)
			} else if o.Score > 0 {
				best += o.Score
			}
		}
		res.Max += best
		raw, ok := answers[f.ID]
		if !ok {
			continue
		}
		var chosen []string
		if f.Type == FieldSingleChoice {
			var s string
			_ = json.Unmarshal(raw, &s)
			chosen = []string{s}
		} else {
			_ = json.Unmarshal(raw, &chosen)
		}
		for _, v := range chosen {
			if o := f.option(v); o != nil {
				res.Score += o.Score
			}
		}
	}
	for _, b := range def.Scoring.Bands {
		if res.Score >= b.Min && res.Score <= b.Max {
			res.Band = b.Label
		}
	}
	return res
}

// The forms journey's refusals.
var (
	// ErrFormNotFound: no such form.
	ErrFormNotFound = errors.New("no such form")
	// ErrAssignmentNotFound: no such assignment, or not one the asker may see (one answer).
	ErrAssignmentNotFound = errors.New("no such form assignment")
	// ErrFormSubmitted: the answers were submitted already and are read-only.
	ErrFormSubmitted = errors.New("this form was submitted already: its answers can no longer change")
	// ErrStandardForm: a standard instrument cannot be edited (make a form of your own).
	ErrStandardForm = errors.New("a standard instrument cannot be edited; create a form of your own instead")
)
