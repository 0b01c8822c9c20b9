package bridge_test

import (
	"encoding/json"
	"testing"

	"github.com/telehealth-bridge/telehealth-bridge/bridge"
)

// FuzzParseFormDefinition: any text is a form or a refusal that says where, never a panic; an
// accepted form scores and checks empty answers.
func FuzzParseFormDefinition(f *testing.F) {
	f.Add(everyField)
	f.Add(`{"title": {"en": "T"}, "sections": [{"id": "a", "fields": [{"id": "x", "type": "scale", "label": {"en": "X"}, "min": -5, "max": 5}]}]}`)
	f.Add(`{"title": {"en": "T"}, "sections": [{"id": "a", "fields": [{"id": "x", "type": "single_choice", "label": {"en": "X"}, "options": [{"value": "a", "label": {"en": "A"}, "score": -3}, {"value": "b", "label": {"en": "B"}}]}]}], "scoring": {"bands": [{"min": -9, "max": 0, "label": {"en": "L"}}]}}`)
	f.Fuzz(func(t *testing.T, src string) {
		def, err := bridge.ParseFormDefinition([]byte(src))
		if err != nil {
			if err.Error() == "" {
				t.Fatal("a refusal without a reason")
			}
			return
		}
		if _, err := def.CheckAnswers(bridge.Answers{}, "fr", false); err != nil {
			t.Fatalf("an empty draft refused: %v", err)
		}
		_ = def.Score(bridge.Answers{})
	})
}

// FuzzCheckAnswers: any answers to the form with every field type are checked without a panic;
// what is kept passes the check again unchanged, and scores.
func FuzzCheckAnswers(f *testing.F) {
	def, err := bridge.ParseFormDefinition([]byte(everyField))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(`{"name": "Ana", "pain": 3, "help": ["walk"], "consent": {"name": "Ana Lopez", "agreed": true}}`)
	f.Add(`{"pain": 1e308, "born": "0000-01-01", "mood": null, "smoker": 1}`)
	f.Add(`{"help": [null, 1, "walk"], "consent": {"name": 5}}`)
	f.Fuzz(func(t *testing.T, src string) {
		var in bridge.Answers
		if json.Unmarshal([]byte(src), &in) != nil {
			return
		}
		kept, _ := def.CheckAnswers(in, "en", false)
		again, err := def.CheckAnswers(kept, "en", false)
		if err != nil {
			t.Fatalf("kept answers refused: %v", err)
		}
		for id, v := range kept {
			if string(again[id]) != string(v) {
				t.Fatalf("%s: %s became %s", id, v, again[id])
			}
		}
		if s := def.Score(kept); s == nil || s.Score < 0 || s.Score > s.Max {
			t.Fatalf("score %+v", s)
		}
	})
}
