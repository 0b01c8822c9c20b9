package bridge_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
)

// formJSON is a form of sections sections holding fields text fields each (IDs unique across
// the form), the first field a single choice of options options when options > 0, its label
// label.
func formJSON(t *testing.T, sections, fields, options int, label string) []byte {
	t.Helper()
	type text map[string]string
	var secs []map[string]any
	for s := range sections {
		var fs []map[string]any
		for f := range fields {
			fs = append(fs, map[string]any{"id": fmt.Sprintf("s%d_f%d", s, f), "type": "text", "label": text{"en": "Question"}})
		}
		secs = append(secs, map[string]any{"id": fmt.Sprintf("s%d", s), "fields": fs})
	}
	first := secs[0]["fields"].([]map[string]any)[0]
	first["label"] = text{"en": label}
	if options > 0 {
		var opts []map[string]any
		for o := range options {
			opts = append(opts, map[string]any{"value": fmt.Sprint(o), "label": text{"en": fmt.Sprintf("Option %d", o)}})
		}
		first["type"], first["options"] = "single_choice", opts
	}
	data, err := json.Marshal(map[string]any{"title": text{"en": "Intake"}, "sections": secs})
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestFormDefinitionBounds: a form definition that grows without bound or hides a question
// behind an invisible label is refused, naming the limit; one at the limits is taken
// (docs/security.md, "A form definition that hides a question, spoofs a label or grows without
// bound"). Checked to fail with each bound removed (make mutate: bridge-form-definition-bounds).
func TestFormDefinitionBounds(t *testing.T) {
	for _, tc := range []struct {
		name                      string
		sections, fields, options int
		label                     string
		want                      string // "" = accepted
	}{
		{"30 sections", 30, 1, 0, "Question", ""},
		{"31 sections", 31, 1, 0, "Question", "at most 30 sections"},
		{"200 fields", 4, 50, 0, "Question", ""},
		{"201 fields", 3, 67, 0, "Question", "at most 200 fields"},
		{"50 options", 1, 1, 50, "Question", ""},
		{"51 options", 1, 1, 51, "Question", "2 to 50 options"},
		{"a right-to-left override in a label", 1, 1, 0, "Do you \u202eon\u202c agree?", "sections[0].fields[0].label"},
		{"a zero-width space in a label", 1, 1, 0, "Do you\u200b agree?", "sections[0].fields[0].label"},
		{"a label of 2001 characters", 1, 1, 0, strings.Repeat("a", 2001), "at most 2000 characters"},
	} {
		_, err := bridge.ParseFormDefinition(formJSON(t, tc.sections, tc.fields, tc.options, tc.label))
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: refused: %v", tc.name, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: error %v, want one saying %q", tc.name, err, tc.want)
		}
	}
}
