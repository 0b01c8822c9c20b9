// portaltodo.js: the portal's To-do tab (docs/web-api.md, "Forms"): the forms the client's
// professionals assigned them, with their status; one opens as a form to fill in (phone
// first), saved as the client goes (a debounced PUT), the server's reasons shown next to each
// field, and read-only once sent.
import { request, ApiError } from './api.js';
import { h } from './dom.js';
import { t, locale, addStrings } from './i18n.js';
import { addPortalTab } from './portalhome.js';
import { txt, renderAnswers } from './formview.js';

addStrings({
  en: {
    tabTodo: 'To-do',
    todoIntro: 'Forms your professionals asked you to complete.',
    todoEmpty: 'Nothing to complete for now.',
    todoStatus: { todo: 'To do', in_progress: 'In progress', done: 'Done' },
    todoStart: 'Start',
    todoContinue: 'Continue',
    todoView: 'See my answers',
    todoBack: 'Back to my to-do list',
    todoAssigned: 'Assigned on {date}',
    todoSent: 'Sent on {date}',
    todoRequired: 'required',
    todoSaving: 'Saving…',
    todoSaved: 'Saved',
    todoSaveFailed: 'Your last answers are not saved yet. We will try again when you change something.',
    todoSubmit: 'Send my answers',
    todoFix: 'Some answers need attention: see the messages next to them.',
    todoThanks: 'Thank you: your answers are sent to your professional.',
    todoReadOnly: 'Your answers are sent: they can no longer be changed.',
    todoYes: 'Yes',
    todoNo: 'No',
    todoSignName: 'Your full name',
    todoSignAgree: 'I sign this form',
    todoSignedBy: 'Signed by {name}',
    todoNoAnswer: 'No answer',
    todoError: 'Your forms could not be loaded. Please try again in a moment.',
    todoGone: 'This form is no longer available.',
  },
  fr: {
    tabTodo: 'À faire',
    todoIntro: 'Les formulaires que vos praticiens vous demandent de remplir.',
    todoEmpty: 'Rien à remplir pour le moment.',
    todoStatus: { todo: 'À faire', in_progress: 'En cours', done: 'Terminé' },
    todoStart: 'Commencer',
    todoContinue: 'Continuer',
    todoView: 'Voir mes réponses',
    todoBack: 'Retour à ma liste',
    todoAssigned: 'Demandé le {date}',
    todoSent: 'Envoyé le {date}',
    todoRequired: 'obligatoire',
    todoSaving: 'Enregistrement…',
    todoSaved: 'Enregistré',
    todoSaveFailed: 'Vos dernières réponses ne sont pas encore enregistrées. Nouvel essai à votre prochaine modification.',
    todoSubmit: 'Envoyer mes réponses',
    todoFix: 'Certaines réponses sont à revoir : voyez les messages à côté.',
    todoThanks: 'Merci : vos réponses sont envoyées à votre praticien.',
    todoReadOnly: 'Vos réponses sont envoyées : elles ne peuvent plus être modifiées.',
    todoYes: 'Oui',
    todoNo: 'Non',
    todoSignName: 'Votre nom complet',
    todoSignAgree: 'Je signe ce formulaire',
    todoSignedBy: 'Signé par {name}',
    todoNoAnswer: 'Pas de réponse',
    todoError: 'Vos formulaires n\'ont pas pu être chargés. Réessayez dans un instant.',
    todoGone: 'Ce formulaire n\'est plus disponible.',
  },
});

addPortalTab({ id: 'todo', label: 'tabTodo', order: 15, render: todoTab });

// The answers' errors come in the page's language.
const lang = () => '?lang=' + locale();

function day(ms) {
  return new Intl.DateTimeFormat(locale(), { day: 'numeric', month: 'long', year: 'numeric' }).format(new Date(ms));
}

function words() {
  return { yes: t('todoYes'), no: t('todoNo'), noAnswer: t('todoNoAnswer'), signedBy: t('todoSignedBy') };
}

async function todoTab() {
  const box = h('div', { class: 'todo' });
  await showList(box);
  return box;
}

async function showList(box, notice = '') {
  let data;
  try {
    data = await request('GET', '/api/portal/forms');
  } catch (e) {
    box.replaceChildren(h('p', { class: 'error', role: 'alert' }, t('todoError')));
    return;
  }
  const items = data.assignments.map((a) => h('li', { class: 'session-item todo-item', 'data-assignment': a.id, 'data-status': a.status },
    h('span', { class: 'when' }, txt(a.title, locale())),
    h('p', { class: 'meta' },
      h('span', { class: 'todo-status' }, t('todoStatus')[a.status] || a.status), ' · ',
      a.submitted_at ? t('todoSent', { date: day(a.submitted_at) }) : t('todoAssigned', { date: day(a.assigned_at) })),
    h('button', { type: 'button', class: a.status === 'done' ? '' : 'primary', 'data-open': a.id, onclick: () => openForm(box, a.id) },
      t(a.status === 'done' ? 'todoView' : a.status === 'in_progress' ? 'todoContinue' : 'todoStart'))));
  box.replaceChildren(...[
    notice ? h('p', { id: 'todo-notice', class: 'hint', role: 'status' }, notice) : null,
    h('p', { class: 'hint' }, t('todoIntro')),
    items.length ? h('ol', { class: 'sessions todo-list' }, items) : h('p', { class: 'empty' }, t('todoEmpty'))].filter(Boolean));
}

async function openForm(box, id) {
  let data;
  try {
    data = await request('GET', `/api/portal/forms/${id}`);
  } catch (e) {
    box.replaceChildren(h('p', { class: 'error', role: 'alert' }, e instanceof ApiError && e.status === 404 ? t('todoGone') : t('todoError')),
      h('button', { type: 'button', onclick: () => showList(box) }, t('todoBack')));
    return;
  }
  const back = h('button', { type: 'button', id: 'todo-back', class: 'link', onclick: () => showList(box) }, t('todoBack'));
  const def = data.definition;
  const head = [back, h('h2', { id: 'form-title' }, txt(def.title, locale())), def.description ? h('p', { class: 'hint' }, txt(def.description, locale())) : null]
    .filter(Boolean); // replaceChildren would write a null as the text "null"
  if (data.assignment.status === 'done') {
    box.replaceChildren(...head, h('p', { class: 'hint', id: 'form-read-only' }, t('todoReadOnly')),
      renderAnswers(def, data.response.answers, locale(), words()));
    box.querySelector('h2').scrollIntoView({ block: 'start' });
    return;
  }
  box.replaceChildren(...head, formEditor(box, id, def, data.response.answers));
  box.querySelector('h2').scrollIntoView({ block: 'start' });
}

// formEditor is the form to fill in: each change is saved after a short pause.
function formEditor(box, id, def, answers) {
  const status = h('p', { id: 'form-status', class: 'hint', role: 'status' });
  const formError = h('p', { id: 'form-error', class: 'error', role: 'alert' });
  const form = h('form', { class: 'fill-form', novalidate: true },
    (def.sections || []).map((sec) => h('section', { class: 'form-section' },
      sec.title ? h('h3', {}, txt(sec.title, locale())) : null,
      sec.intro ? h('p', { class: 'hint' }, txt(sec.intro, locale())) : null,
      (sec.fields || []).map((f) => fieldInput(f, answers[f.id])))),
    formError,
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary', id: 'form-submit' }, t('todoSubmit'))),
    status);

  let timer = null;
  let saving = Promise.resolve();
  const save = () => {
    clearTimeout(timer);
    timer = null;
    status.textContent = t('todoSaving');
    saving = saving.then(async () => {
      try {
        const res = await request('PUT', `/api/portal/forms/${id}${lang()}`, { body: { answers: collect(def, form) } });
        showErrors(form, res.errors || {});
        status.textContent = t('todoSaved');
      } catch (e) {
        if (e instanceof ApiError && e.code === 'submitted') return openForm(box, id);
        status.textContent = t('todoSaveFailed');
      }
    });
    return saving;
  };
  const later = () => { clearTimeout(timer); timer = setTimeout(save, 700); };
  form.addEventListener('input', later);
  form.addEventListener('change', later);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const button = form.querySelector('#form-submit');
    button.disabled = true;
    formError.textContent = '';
    try {
      if (timer) await save(); else await saving;
      await request('POST', `/api/portal/forms/${id}/submit${lang()}`, { body: { answers: collect(def, form) } });
      await showList(box, t('todoThanks'));
    } catch (e) {
      if (e instanceof ApiError && e.code === 'invalid_answers') {
        showErrors(form, e.fields || {});
        formError.textContent = t('todoFix');
        const first = form.querySelector('.form-field.invalid');
        if (first) first.scrollIntoView({ block: 'center' });
      } else if (e instanceof ApiError && e.code === 'submitted') {
        await openForm(box, id);
      } else {
        formError.textContent = t('todoError');
      }
    } finally {
      button.disabled = false;
    }
  });
  return form;
}

// fieldInput is one question: its label, its control(s) and its error line.
function fieldInput(f, value) {
  const l = locale();
  const id = 'f-' + f.id;
  const label = [txt(f.label, l), f.required ? h('span', { class: 'required' }, ' (' + t('todoRequired') + ')') : null];
  const help = f.help ? h('p', { class: 'hint' }, txt(f.help, l)) : null;
  const error = h('p', { class: 'error', role: 'alert', id: id + '-error' });
  const radio = (v, text, checked) => h('label', { class: 'choice' },
    h('input', { type: 'radio', name: id, value: v, checked }), ' ', text);
  let control;
  switch (f.type) {
    case 'text':
      control = h('input', { type: 'text', id, maxlength: 500, value: value || '', 'aria-describedby': id + '-error' });
      break;
    case 'long_text':
      control = h('textarea', { id, rows: 5, maxlength: 10000, 'aria-describedby': id + '-error' });
      control.value = value || '';
      break;
    case 'date':
      control = h('input', { type: 'date', id, value: value || '', 'aria-describedby': id + '-error' });
      break;
    case 'single_choice':
      control = (f.options || []).map((o) => radio(o.value, txt(o.label, l), value === o.value));
      break;
    case 'multiple_choice':
      control = (f.options || []).map((o) => h('label', { class: 'choice' },
        h('input', { type: 'checkbox', name: id, value: o.value, checked: (value || []).includes(o.value) }), ' ', txt(o.label, l)));
      break;
    case 'yes_no':
      control = [radio('true', t('todoYes'), value === true), radio('false', t('todoNo'), value === false)];
      break;
    case 'scale': {
      const steps = [];
      for (let n = f.min; n <= f.max; n++) steps.push(n);
      control = h('div', { class: 'scale' },
        f.min_label ? h('span', { class: 'scale-end' }, txt(f.min_label, l)) : null,
        steps.length <= 11
          ? h('div', { class: 'scale-steps' }, steps.map((n) => h('label', { class: 'scale-step' },
            h('input', { type: 'radio', name: id, value: String(n), checked: value === n }), h('span', {}, String(n)))))
          : h('input', { type: 'number', id, min: f.min, max: f.max, step: 1, value: value ?? '' }),
        f.max_label ? h('span', { class: 'scale-end' }, txt(f.max_label, l)) : null);
      break;
    }
    case 'signature':
      control = h('div', { class: 'signature' },
        h('label', { for: id + '-name' }, t('todoSignName')),
        h('input', { type: 'text', id: id + '-name', autocomplete: 'name', maxlength: 200, value: (value && value.name) || '' }),
        h('label', { class: 'choice' }, h('input', { type: 'checkbox', id: id + '-agreed', checked: !!(value && value.agreed) }), ' ', t('todoSignAgree')));
      break;
    default:
      control = null;
  }
  const grouped = ['single_choice', 'multiple_choice', 'yes_no', 'scale', 'signature'].includes(f.type);
  return grouped
    ? h('fieldset', { class: 'form-field field', 'data-field': f.id, 'aria-describedby': id + '-error' },
      h('legend', {}, label), help, control, error)
    : h('div', { class: 'form-field field', 'data-field': f.id },
      h('label', { for: id }, label), help, control, error);
}

// collect reads every answer from the form, as the API takes them.
function collect(def, form) {
  const out = {};
  for (const sec of def.sections || []) {
    for (const f of sec.fields || []) {
      const id = 'f-' + f.id;
      const box = form.querySelector(`[data-field="${CSS.escape(f.id)}"]`);
      const checked = [...box.querySelectorAll(`input[name="${CSS.escape(id)}"]:checked`)].map((i) => i.value);
      let v = null;
      switch (f.type) {
        case 'text': case 'long_text': case 'date':
          v = box.querySelector('#' + CSS.escape(id)).value;
          break;
        case 'single_choice':
          v = checked[0] ?? null;
          break;
        case 'multiple_choice':
          v = checked;
          break;
        case 'yes_no':
          v = checked.length ? checked[0] === 'true' : null;
          break;
        case 'scale': {
          const number = box.querySelector('input[type=number]');
          const raw = number ? number.value : checked[0];
          v = raw === undefined || raw === '' ? null : Number(raw);
          break;
        }
        case 'signature':
          v = { name: box.querySelector('#' + CSS.escape(id + '-name')).value, agreed: box.querySelector('#' + CSS.escape(id + '-agreed')).checked };
          break;
      }
      out[f.id] = v;
    }
  }
  return out;
}

// showErrors puts each field's reason next to it, and clears the others.
function showErrors(form, errors) {
  for (const box of form.querySelectorAll('.form-field')) {
    const msg = errors[box.dataset.field] || '';
    box.querySelector(':scope > .error').textContent = msg;
    box.classList.toggle('invalid', !!msg);
  }
}
