package bridge_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
)

// everyField is a form with one field of each type, each required.
const everyField = `{
 "title": {"en": "Intake", "fr": "Accueil"},
 "sections": [{"id": "about", "title": {"en": "About you"}, "fields": [
  {"id": "name", "type": "text", "label": {"en": "Name", "fr": "Nom"}, "required": true},
  {"id": "story", "type": "long_text", "label": {"en": "What brings you"}, "required": true},
  {"id": "mood", "type": "single_choice", "label": {"en": "Mood"}, "required": true,
   "options": [{"value": "good", "label": {"en": "Good"}, "score": 0}, {"value": "bad", "label": {"en": "Bad"}, "score": 2}]},
  {"id": "help", "type": "multiple_choice", "label": {"en": "Helps"}, "required": true,
   "options": [{"value": "walk", "label": {"en": "Walking"}, "score": 1}, {"value": "talk", "label": {"en": "Talking"}, "score": 1}, {"value": "none", "label": {"en": "None"}}]},
  {"id": "pain", "type": "scale", "label": {"en": "Pain"}, "required": true, "min": 0, "max": 10, "min_label": {"en": "None"}, "max_label": {"en": "Worst"}},
  {"id": "born", "type": "date", "label": {"en": "Date of birth"}, "required": true},
  {"id": "smoker", "type": "yes_no", "label": {"en": "Do you smoke?"}, "required": true},
  {"id": "consent", "type": "signature", "label": {"en": "I agree"}, "required": true}
 ]}],
 "scoring": {"fields": ["mood", "help"], "bands": [{"min": 0, "max": 1, "label": {"en": "Low"}}, {"min": 2, "max": 4, "label": {"en": "High", "fr": "Élevé"}}]}
}`

func mustForm(t *testing.T, src string) *bridge.FormDefinition {
	t.Helper()
	def, err := bridge.ParseFormDefinition([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return def
}

func answers(kv ...string) bridge.Answers {
	a := bridge.Answers{}
	for i := 0; i < len(kv); i += 2 {
		a[kv[i]] = json.RawMessage(kv[i+1])
	}
	return a
}

func fieldErrors(t *testing.T, err error) bridge.FieldErrors {
	t.Helper()
	var invalid *bridge.InvalidAnswersError
	if err == nil {
		return nil
	}
	if !errors.As(err, &invalid) {
		t.Fatalf("not an answers error: %v", err)
	}
	return invalid.Fields
}

// TestAnswersOfEveryFieldType: each field type takes its own kind of answer and refuses others,
// with the reason in the client's language; a draft may leave required fields empty, a
// submission may not.
func TestAnswersOfEveryFieldType(t *testing.T) {
	def := mustForm(t, everyField)
	good := answers("name", `"  Ana  "`, "story", `"Line one\nLine two"`, "mood", `"bad"`, "help", `["talk","walk","talk"]`,
		"pain", `7`, "born", `"1990-02-28"`, "smoker", `false`, "consent", `{"name": " Ana   Lopez ", "agreed": true}`)
	clean, err := def.CheckAnswers(good, "en", true)
	if err != nil {
		t.Fatalf("good answers refused: %v", err)
	}
	for id, want := range map[string]string{"name": `"Ana"`, "help": `["walk","talk"]`, "pain": `7`, "smoker": `false`,
		"consent": `{"name":"Ana Lopez","agreed":true}`} {
		if string(clean[id]) != want {
			t.Errorf("%s normalised to %s, want %s", id, clean[id], want)
		}
	}
	if s := def.Score(clean); s == nil || s.Score != 4 || s.Max != 4 || s.Band.In("fr") != "Élevé" {
		t.Errorf("score %+v, want 4 of 4, Élevé", s)
	}

	for _, tc := range []struct {
		field, answer, lang, want string
	}{
		{"name", `42`, "en", "not of the right kind"},
		{"name", `"` + strings.Repeat("a", 501) + `"`, "fr", "trop longue (500"},
		{"name", `"Ana\u202e"`, "en", "cannot be shown"},
		{"story", `["a"]`, "fr", "pas du bon type"},
		{"mood", `"ok"`, "en", "choose one of the options"},
		{"mood", `"ok"`, "fr", "Choisissez l'une des options"},
		{"help", `["walk","fly"]`, "en", "choose one of the options"},
		{"help", `"walk"`, "en", "not of the right kind"},
		{"pain", `11`, "en", "from 0 to 10"},
		{"pain", `2.5`, "fr", "de 0 à 10"},
		{"pain", `"7"`, "en", "not of the right kind"},
		{"born", `"28/02/1990"`, "fr", "AAAA-MM-JJ"},
		{"born", `"1990-02-30"`, "en", "YYYY-MM-DD"},
		{"smoker", `"yes"`, "en", "not of the right kind"},
		{"consent", `{"name": "Ana Lopez", "agreed": false}`, "fr", "Cochez la case"},
		{"consent", `{"name": "A", "agreed": true}`, "en", "type your full name"},
		{"consent", `"Ana"`, "en", "not of the right kind"},
		{"nosuch", `"x"`, "en", "no such question"},
	} {
		bad := bridge.Answers{}
		for k, v := range good {
			bad[k] = v
		}
		bad[tc.field] = json.RawMessage(tc.answer)
		_, err := def.CheckAnswers(bad, tc.lang, false)
		errs := fieldErrors(t, err)
		if !strings.Contains(errs[tc.field], tc.want) || len(errs) != 1 {
			t.Errorf("%s = %s (%s): errors %v, want %q on it alone", tc.field, tc.answer, tc.lang, errs, tc.want)
		}
	}

	// A draft: nothing required yet; empty answers are no answers.
	clean, err = def.CheckAnswers(answers("name", `""`, "help", `[]`, "consent", `{"name": "", "agreed": false}`, "pain", `null`), "en", false)
	if err != nil || len(clean) != 0 {
		t.Errorf("an empty draft: %v %v", clean, err)
	}
	// A submission: each required field unanswered is named, in French for a French client.
	_, err = def.CheckAnswers(answers("name", `"Ana"`), "fr", true)
	errs := fieldErrors(t, err)
	if len(errs) != 7 || errs["story"] != "Cette question demande une réponse." || errs["name"] != "" {
		t.Errorf("missing answers: %v", errs)
	}
}

// TestFormDefinitionChecks: a form the editor would lose a question of, or could not show, is
// refused with where the fault is.
func TestFormDefinitionChecks(t *testing.T) {
	for _, tc := range []struct{ src, where string }{
		{`{"title": {"fr": "Sans anglais"}, "sections": [{"id": "a", "fields": [{"id": "x", "type": "text", "label": {"en": "X"}}]}]}`, "title"},
		{`{"title": {"en": "T"}, "sections": []}`, "sections"},
		{`{"title": {"en": "T"}, "sections": [{"id": "a", "fields": [{"id": "x", "type": "colour", "label": {"en": "X"}}]}]}`, "sections[0].fields[0].type"},
		{`{"title": {"en": "T"}, "sections": [{"id": "a", "fields": [{"id": "x", "type": "text", "label": {"en": "X"}}, {"id": "x", "type": "text", "label": {"en": "Y"}}]}]}`, "sections[0].fields[1].id"},
		{`{"title": {"en": "T"}, "sections": [{"id": "a", "fields": [{"id": "X Y", "type": "text", "label": {"en": "X"}}]}]}`, "sections[0].fields[0].id"},
		{`{"title": {"en": "T"}, "sections": [{"id": "a", "fields": [{"id": "x", "type": "single_choice", "label": {"en": "X"}, "options": [{"value": "a", "label": {"en": "A"}}]}]}]}`, "options"},
		{`{"title": {"en": "T"}, "sections": [{"id": "a", "fields": [{"id": "x", "type": "scale", "label": {"en": "X"}, "min": 5, "max": 5}]}]}`, "max"},
		{`{"title": {"en": "T"}, "sections": [{"id": "a", "fields": [{"id": "x", "type": "text", "label": {"en": "X"}, "min": 1}]}]}`, "min"},
		{`{"title": {"en": "T"}, "sections": [{"id": "a", "fields": [{"id": "x", "type": "text", "label": {"en": "X", "de": "X"}}]}]}`, "label"},
		{`{"title": {"en": "T"}, "sections": [{"id": "a", "fields": [{"id": "x", "type": "text", "lable": {"en": "X"}}]}]}`, "unknown field"},
		{`{"title": {"en": "T"}, "sections": [{"id": "a", "fields": [{"id": "x", "type": "text", "label": {"en": "X"}}]}], "scoring": {"fields": ["x"]}}`, "scoring.fields[0]"},
		{`{"title": {"en": "T"}, "sections": [{"id": "a", "fields": [{"id": "x", "type": "yes_no", "label": {"en": "X"}}]}], "scoring": {"bands": [{"min": 0, "max": 5, "label": {"en": "a"}}, {"min": 5, "max": 9, "label": {"en": "b"}}]}}`, "overlap"},
		{`{"title": {"en": "T"}, "sections": [{"id": "a", "fields": [{"id": "x", "type": "text", "label": {"en": "X"}}]}]} {}`, "one JSON object"},
	} {
		_, err := bridge.ParseFormDefinition([]byte(tc.src))
		if err == nil || !strings.Contains(err.Error(), tc.where) {
			t.Errorf("%s: error %v, want one about %s", tc.src, err, tc.where)
		}
	}
}

// chosen answers every question of a standard instrument with the option of value v[i].
func chosen(def *bridge.FormDefinition, values ...int) bridge.Answers {
	a := bridge.Answers{}
	for i, v := range values {
		a[fmt.Sprintf("q%d", i+1)] = json.RawMessage(fmt.Sprintf(`"%d"`, v))
	}
	return a
}

// TestStandardInstrumentsScoring: PHQ-9 and GAD-7 score as published (0 to 3 per item, item 10
// of the PHQ-9 not scored) and name the published severity bands.
func TestStandardInstrumentsScoring(t *testing.T) {
	phq, err := bridge.StandardDefinition("phq9")
	if err != nil {
		t.Fatal(err)
	}
	gad, err := bridge.StandardDefinition("gad7")
	if err != nil {
		t.Fatal(err)
	}
	if n := len(phq.Fields()); n != 10 {
		t.Errorf("PHQ-9 has %d fields, want 9 items and the difficulty question", n)
	}
	for _, tc := range []struct {
		def    *bridge.FormDefinition
		values []int
		score  int
		max    int
		en, fr string
	}{
		{phq, []int{0, 0, 0, 0, 0, 0, 0, 0, 0, 3}, 0, 27, "Minimal depression", "Dépression minime"},
		{phq, []int{1, 1, 1, 1, 0, 0, 0, 0, 0}, 4, 27, "Minimal depression", "Dépression minime"},
		{phq, []int{1, 1, 1, 1, 1, 0, 0, 0, 0}, 5, 27, "Mild depression", "Dépression légère"},
		{phq, []int{2, 2, 2, 2, 1, 0, 0, 0, 0}, 9, 27, "Mild depression", "Dépression légère"},
		{phq, []int{2, 2, 2, 2, 2, 0, 0, 0, 0}, 10, 27, "Moderate depression", "Dépression modérée"},
		{phq, []int{3, 3, 3, 3, 3, 0, 0, 0, 0}, 15, 27, "Moderately severe depression", "Dépression modérément sévère"},
		{phq, []int{3, 3, 3, 3, 3, 3, 1, 1, 0}, 20, 27, "Severe depression", "Dépression sévère"},
		{phq, []int{3, 3, 3, 3, 3, 3, 3, 3, 3, 3}, 27, 27, "Severe depression", "Dépression sévère"},
		{gad, []int{1, 1, 1, 1, 0, 0, 0}, 4, 21, "Minimal anxiety", "Anxiété minime"},
		{gad, []int{1, 1, 1, 1, 1, 0, 0}, 5, 21, "Mild anxiety", "Anxiété légère"},
		{gad, []int{2, 2, 2, 2, 2, 0, 0}, 10, 21, "Moderate anxiety", "Anxiété modérée"},
		{gad, []int{3, 3, 3, 3, 3, 0, 0}, 15, 21, "Severe anxiety", "Anxiété sévère"},
		{gad, []int{3, 3, 3, 3, 3, 3, 3}, 21, 21, "Severe anxiety", "Anxiété sévère"},
	} {
		a := chosen(tc.def, tc.values...)
		if len(tc.values) == 10 {
			a["q10"] = json.RawMessage(`"3"`)
		}
		clean, err := tc.def.CheckAnswers(a, "en", len(tc.values) >= 7)
		if err != nil {
			t.Fatalf("%s %v: %v", tc.def.Title.In("en"), tc.values, err)
		}
		s := tc.def.Score(clean)
		if s == nil || s.Score != tc.score || s.Max != tc.max || s.Band.In("en") != tc.en || s.Band.In("fr") != tc.fr {
			t.Errorf("%s %v: %+v, want %d/%d %s (%s)", tc.def.Title.In("en"), tc.values, s, tc.score, tc.max, tc.en, tc.fr)
		}
	}
	// The PHQ-9's items are required, its 10th question is not.
	_, err = phq.CheckAnswers(chosen(phq, 0, 0, 0, 0, 0, 0, 0, 0), "fr", true)
	if errs := fieldErrors(t, err); len(errs) != 1 || errs["q9"] == "" {
		t.Errorf("PHQ-9 without item 9: %v", errs)
	}
	// Every label of both has its French.
	for _, def := range []*bridge.FormDefinition{phq, gad} {
		for _, f := range def.Fields() {
			if f.Label["fr"] == "" {
				t.Errorf("%s: %s has no French label", def.Title.In("en"), f.ID)
			}
			for _, o := range f.Options {
				if o.Label["fr"] == "" {
					t.Errorf("%s: %s's option %s has no French label", def.Title.In("en"), f.ID, o.Value)
				}
			}
		}
	}
}
