// formview.js: a form (docs/forms.md) and a client's answers shown read-only, the same way in
// the portal (after sending) and in the panel (the clinician reading them). Words are the
// caller's: words.yes, words.no, words.noAnswer, words.signedBy ({name}).
import { h } from './dom.js';

// txt is a form text ({en, fr}) in lang, else in English.
export function txt(text, lang) {
  if (!text) return '';
  return text[lang] || text.en || '';
}

// answerText is an answer written for people.
export function answerText(field, value, lang, words) {
  if (value === undefined || value === null) return words.noAnswer;
  const option = (v) => {
    const o = (field.options || []).find((x) => x.value === v);
    return o ? txt(o.label, lang) : String(v);
  };
  switch (field.type) {
    case 'single_choice': return option(value);
    case 'multiple_choice': return (value || []).map(option).join(', ');
    case 'yes_no': return value ? words.yes : words.no;
    case 'signature': return words.signedBy.replace('{name}', value.name || '');
    default: return String(value);
  }
}

// renderAnswers is the whole form with its answers, section by section.
export function renderAnswers(def, answers, lang, words) {
  return h('div', { class: 'form-answers' },
    (def.sections || []).map((sec) => h('section', { class: 'form-section' },
      sec.title ? h('h3', {}, txt(sec.title, lang)) : null,
      h('dl', {}, (sec.fields || []).flatMap((f) => [
        h('dt', { 'data-field': f.id }, txt(f.label, lang)),
        h('dd', { 'data-answer': f.id, class: answers[f.id] === undefined ? 'unanswered' : '' }, answerText(f, answers[f.id], lang, words)),
      ])))));
}
