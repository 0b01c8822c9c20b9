// panelforms.js: the panel's Forms page (docs/web-api.md, "Forms"): the clinic's forms (the
// standard instruments, read-only, and the clinic's own, written as JSON: docs/forms.md), a
// client's forms (assign one, follow its status, read the submitted answers and score). Every
// reading of a client's answers is recorded in the audit trail by the bridge.
// clientFormsSection is the client part alone, for the client record's page.
import { h, show } from './dom.js';
import { t, locale, addStrings } from './i18n.js';
import { txt, renderAnswers } from './formview.js';

addStrings({
  en: {
    pfOpen: 'Forms',
    pfTitle: 'Forms',
    pfIntro: 'Standard instruments and your clinic\u2019s own forms. Assign one to a client below.',
    pfStandard: 'standard',
    pfVersion: 'version {n}',
    pfScored: 'scored',
    pfNew: 'New form',
    pfEdit: 'Edit',
    pfView: 'View',
    pfSave: 'Save',
    pfSaved: 'Saved: version {n}.',
    pfCancel: 'Close',
    pfCopy: 'Make a copy',
    pfEditorHelp: 'The form as JSON: sections, fields (text, long_text, single_choice, multiple_choice, scale, date, yes_no, signature), labels in "en" and "fr". Saving an edit makes a new version; forms already assigned keep theirs.',
    pfBack: 'Back',
    pfClients: 'A client\u2019s forms',
    pfFindClient: 'Find a client (name, email or phone)',
    pfNoClient: 'No client of yours matches.',
    pfAssign: 'Assign',
    pfAssignForm: 'Form to assign',
    pfAssigned: 'Assigned. The client sees it in their portal\u2019s to-do list.',
    pfNone: 'No form assigned yet.',
    pfStatus: { todo: 'To do', in_progress: 'In progress', done: 'Done' },
    pfScore: 'Score {score}/{max}',
    pfAnswers: 'See the answers',
    pfAssignedOn: 'assigned {date} by {who}',
    pfSubmittedOn: 'submitted {date}',
    pfYes: 'Yes', pfNo: 'No', pfNoAnswer: 'No answer', pfSignedBy: 'Signed by {name}',
    pfError: 'Something went wrong. Please try again.',
  },
  fr: {
    pfOpen: 'Formulaires',
    pfTitle: 'Formulaires',
    pfIntro: 'Les questionnaires standard et les formulaires de votre cabinet. Attribuez-en un à un client ci-dessous.',
    pfStandard: 'standard',
    pfVersion: 'version {n}',
    pfScored: 'avec score',
    pfNew: 'Nouveau formulaire',
    pfEdit: 'Modifier',
    pfView: 'Voir',
    pfSave: 'Enregistrer',
    pfSaved: 'Enregistré : version {n}.',
    pfCancel: 'Fermer',
    pfCopy: 'En faire une copie',
    pfEditorHelp: 'Le formulaire en JSON : sections, champs (text, long_text, single_choice, multiple_choice, scale, date, yes_no, signature), libellés en "en" et "fr". Enregistrer une modification crée une nouvelle version ; les formulaires déjà attribués gardent la leur.',
    pfBack: 'Retour',
    pfClients: 'Les formulaires d\u2019un client',
    pfFindClient: 'Chercher un client (nom, e-mail ou téléphone)',
    pfNoClient: 'Aucun de vos clients ne correspond.',
    pfAssign: 'Attribuer',
    pfAssignForm: 'Formulaire à attribuer',
    pfAssigned: 'Attribué. Le client le voit dans la liste « À faire » de son espace.',
    pfNone: 'Aucun formulaire attribué.',
    pfStatus: { todo: 'À faire', in_progress: 'En cours', done: 'Terminé' },
    pfScore: 'Score {score}/{max}',
    pfAnswers: 'Voir les réponses',
    pfAssignedOn: 'attribué le {date} par {who}',
    pfSubmittedOn: 'envoyé le {date}',
    pfYes: 'Oui', pfNo: 'Non', pfNoAnswer: 'Pas de réponse', pfSignedBy: 'Signé par {name}',
    pfError: 'Une erreur est survenue. Veuillez réessayer.',
  },
});

const template = {
  title: { en: 'New form', fr: 'Nouveau formulaire' },
  sections: [{ id: 'main', fields: [{ id: 'q1', type: 'text', label: { en: 'Question', fr: 'Question' }, required: true }] }],
};

function when(ms) {
  return new Intl.DateTimeFormat(locale(), { day: 'numeric', month: 'short', year: 'numeric', hour: 'numeric', minute: '2-digit' }).format(new Date(ms));
}

function words() {
  return { yes: t('pfYes'), no: t('pfNo'), noAnswer: t('pfNoAnswer'), signedBy: t('pfSignedBy') };
}

// formsPage shows the forms and a client's forms. clientId opens that client's part at once.
export async function formsPage({ api, header, back, clientId = 0 }) {
  const list = h('ul', { class: 'sessions', id: 'forms-list' });
  const editor = h('div', { id: 'form-editor-box' });
  let forms = [];
  async function reload() {
    forms = (await api('GET', '/api/panel/forms')).forms;
    list.replaceChildren(...forms.map((f) => h('li', { class: 'session-card form-card', 'data-form': f.id, 'data-standard': f.standard || '' },
      h('strong', {}, txt(f.title, locale())), ' ',
      h('span', { class: 'hint' }, [f.standard ? t('pfStandard') : null, t('pfVersion', { n: f.version }), f.scored ? t('pfScored') : null].filter(Boolean).join(' · ')),
      ' ',
      h('button', { type: 'button', 'data-edit': f.id, onclick: () => edit(f) }, f.editable ? t('pfEdit') : t('pfView')))));
  }
  async function edit(f) {
    let def = template;
    if (f) def = (await api('GET', `/api/panel/forms/${f.id}`)).form.definition;
    const done = async () => { await reload(); clients.refreshForms(forms); };
    const copy = (d) => editor.replaceChildren(formEditor({ api, form: null, def: d, done, copy }));
    editor.replaceChildren(formEditor({ api, form: f, def, done, copy }));
    editor.scrollIntoView({ block: 'start' });
  }
  await reload();
  const clients = clientFormsSection({ api, forms, clientId });
  show(header(), h('main', { class: 'panel', id: 'forms-page' },
    h('h1', {}, t('pfTitle')),
    h('p', {}, t('pfIntro')),
    list,
    h('div', { class: 'actions' },
      h('button', { type: 'button', id: 'pf-back', onclick: back }, t('pfBack')),
      h('button', { type: 'button', id: 'pf-new', onclick: () => edit(null) }, t('pfNew'))),
    editor,
    h('h2', {}, t('pfClients')),
    clients.el));
}

// formEditor edits a form as JSON; the bridge's refusal shows under the text.
function formEditor({ api, form, def, done, copy }) {
  const text = h('textarea', { id: 'form-json', spellcheck: 'false', 'aria-describedby': 'form-json-error' });
  text.value = JSON.stringify(def, null, 2);
  const error = h('p', { id: 'form-json-error', class: 'error', role: 'alert' });
  const status = h('p', { id: 'form-json-status', class: 'hint', role: 'status' });
  const readOnly = form && !form.editable;
  if (readOnly) text.readOnly = true;
  const box = h('form', { class: 'form-editor', novalidate: true, onsubmit: async (e) => {
    e.preventDefault();
    error.textContent = '';
    status.textContent = '';
    try {
      const saved = form
        ? await api('PUT', `/api/panel/forms/${form.id}`, { definition: text.value })
        : await api('POST', '/api/panel/forms', { definition: text.value });
      form = saved.form;
      status.textContent = t('pfSaved', { n: saved.form.version });
      await done();
    } catch (err) {
      error.textContent = err.message || t('pfError');
    }
  } },
  h('h2', {}, form ? txt(form.title, locale()) : t('pfNew')),
  readOnly ? null : h('p', { class: 'hint' }, t('pfEditorHelp')),
  text, error,
  h('div', { class: 'actions' },
    readOnly ? null : h('button', { type: 'submit', class: 'primary', id: 'form-save' }, t('pfSave')),
    form ? h('button', { type: 'button', id: 'form-copy', onclick: () => copy(def) }, t('pfCopy')) : null,
    h('button', { type: 'button', onclick: () => box.remove() }, t('pfCancel'))),
  status);
  return box;
}

// clientFormsSection finds a client, lists their forms and assigns one. It returns { el,
// refreshForms(forms) }.
export function clientFormsSection({ api, forms, clientId = 0 }) {
  const search = h('input', { type: 'search', id: 'pf-client-search', autocomplete: 'off', placeholder: t('pfFindClient'), 'aria-label': t('pfFindClient') });
  const found = h('ul', { class: 'plain', id: 'pf-client-results' });
  const detail = h('div', { id: 'pf-client' });
  const pick = h('select', { id: 'pf-assign-form', 'aria-label': t('pfAssignForm') });
  const fill = (list) => pick.replaceChildren(...list.map((f) => h('option', { value: f.id }, txt(f.title, locale()))));
  fill(forms);
  let timer = null;
  search.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const q = search.value.trim();
      if (!q) { found.replaceChildren(); return; }
      const res = await api('GET', '/api/panel/clients?limit=10&q=' + encodeURIComponent(q));
      found.replaceChildren(...(res.clients.length ? res.clients.map((c) => h('li', {},
        h('button', { type: 'button', class: 'link', 'data-client': c.id, onclick: () => open(c.id, c.display_name) }, c.display_name))) : [h('li', { class: 'hint' }, t('pfNoClient'))]));
    }, 250);
  });

  async function open(id, name) {
    found.replaceChildren();
    const status = h('p', { id: 'pf-assign-status', class: 'hint', role: 'status' });
    const list = h('ol', { class: 'sessions', id: 'pf-assignments' });
    const answers = h('div', { id: 'pf-answers' });
    async function reload() {
      const res = await api('GET', `/api/panel/clients/${id}/forms`);
      list.replaceChildren(...(res.assignments.length ? res.assignments.map((a) => h('li', { class: 'session-card', 'data-assignment': a.id, 'data-status': a.status },
        h('strong', {}, txt(a.title, locale())), ' · ',
        h('span', { class: 'pf-status' }, t('pfStatus')[a.status] || a.status),
        a.score ? [' · ', h('span', { class: 'score' }, t('pfScore', { score: a.score.score, max: a.score.max }))] : null,
        a.score && a.score.band ? [' · ', h('span', { class: 'band' }, txt(a.score.band, locale()))] : null,
        h('p', { class: 'hint' }, t('pfAssignedOn', { date: when(a.assigned_at), who: a.assigned_by }),
          a.submitted_at ? ' · ' + t('pfSubmittedOn', { date: when(a.submitted_at) }) : ''),
        a.status === 'done' ? h('button', { type: 'button', 'data-answers': a.id, onclick: () => showAnswers(a.id) }, t('pfAnswers')) : null))
        : [h('li', { class: 'hint' }, t('pfNone'))]));
    }
    async function showAnswers(aid) {
      const res = await api('GET', `/api/panel/assignments/${aid}`);
      const a = res.assignment;
      answers.replaceChildren(...[
        h('h3', {}, txt(a.title, locale())),
        a.score ? h('p', { class: 'score', id: 'pf-score' }, t('pfScore', { score: a.score.score, max: a.score.max }),
          a.score.band ? ' · ' + txt(a.score.band, locale()) : '') : null,
        renderAnswers(res.form.definition, res.response.answers, locale(), words())].filter(Boolean));
      answers.scrollIntoView({ block: 'start' });
    }
    const assign = h('button', { type: 'button', class: 'primary', id: 'pf-assign', onclick: async () => {
      status.textContent = '';
      try {
        await api('POST', `/api/panel/clients/${id}/forms`, { form_id: Number(pick.value) });
        status.textContent = t('pfAssigned');
        await reload();
      } catch (err) {
        status.textContent = err.message || t('pfError');
      }
    } }, t('pfAssign'));
    detail.replaceChildren(h('h3', { id: 'pf-client-name' }, name || ''), h('div', { class: 'actions' }, pick, assign), status, list, answers);
    await reload();
  }
  if (clientId) open(clientId, '');
  return {
    el: h('div', { class: 'client-forms' }, search, found, detail),
    refreshForms: fill,
  };
}
