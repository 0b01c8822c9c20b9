// paneldocuments.js: documents on the panel (docs/web-api.md, "Documents"):
//   - the Documents page: the clinic's templates (title in English and French, the file, and
//     whether participants acknowledge it), which a booking attaches to a session;
//   - a record's documents: the files shared with the client in their Messages room (from
//     Element or from here), each opened through the bridge (every opening is audited), and a
//     file to share, which the bot posts in the room under the clinician's name;
//   - the booking form's "Show participant documents" choice.
// An upload refused (too large, a type not allowed) says why; what was chosen stays.
import { request, ApiError } from './api.js';
import { h, show } from './dom.js';
import { t, locale, addStrings } from './i18n.js';

addStrings({
  en: {
    pdOpen: 'Documents',
    pdTitle: 'Document templates',
    pdIntro: 'Your clinic\u2019s documents (consent, privacy notice, what to expect). Attach them to a session when you book it: the participant reads them before joining.',
    pdNone: 'No template yet.',
    pdNew: 'New template',
    pdTitleEn: 'Title (English)',
    pdTitleFr: 'Title (French)',
    pdFile: 'File (PDF, picture, text or word-processor document)',
    pdNeedsAck: 'Participants acknowledge it (full name and a tick)',
    pdSave: 'Add the template',
    pdSaved: 'Template added.',
    pdAck: 'to acknowledge',
    pdBack: 'Back',
    pdRecord: 'Documents',
    pdRecordHint: 'Files shared with the client in their Messages room. They see them in their portal.',
    pdRecordNone: 'Nothing shared yet.',
    pdShare: 'Share a file',
    pdShared: 'Shared: the client sees it in their portal.',
    pdSharedBy: '{name}, {date}',
    pdCard: 'insurance card, added by the client on {date}',
    pdShow: 'Show participant documents',
    pdShowNone: 'No document template yet (Documents page).',
    pdMax: 'Up to {size}.',
    pdWorking: 'Sending…',
    pdError: 'Something went wrong. Please try again.',
    pdAcked: 'documents acknowledged',
    pdNotAcked: 'documents not acknowledged',
    pdForms: 'Forms to complete before the session (added to the client\u2019s to-do list)',
    pdFormsDone: 'forms done',
    pdFormsNotDone: 'forms not done',
  },
  fr: {
    pdOpen: 'Documents',
    pdTitle: 'Modèles de documents',
    pdIntro: 'Les documents de votre cabinet (consentement, politique de confidentialité, déroulement). Joignez-les à une séance en la planifiant : le participant les lit avant de la rejoindre.',
    pdNone: 'Aucun modèle pour le moment.',
    pdNew: 'Nouveau modèle',
    pdTitleEn: 'Titre (anglais)',
    pdTitleFr: 'Titre (français)',
    pdFile: 'Fichier (PDF, image, texte ou document de traitement de texte)',
    pdNeedsAck: 'Les participants l\u2019acceptent (nom complet et case à cocher)',
    pdSave: 'Ajouter le modèle',
    pdSaved: 'Modèle ajouté.',
    pdAck: 'à accepter',
    pdBack: 'Retour',
    pdRecord: 'Documents',
    pdRecordHint: 'Les fichiers partagés avec le client dans sa conversation. Il les voit dans son portail.',
    pdRecordNone: 'Rien de partagé pour le moment.',
    pdShare: 'Partager un fichier',
    pdShared: 'Partagé : le client le voit dans son portail.',
    pdSharedBy: '{name}, {date}',
    pdCard: 'carte d\u2019assurance, ajoutée par le client le {date}',
    pdShow: 'Montrer des documents au participant',
    pdShowNone: 'Aucun modèle de document pour le moment (page Documents).',
    pdMax: 'Jusqu\u2019à {size}.',
    pdWorking: 'Envoi…',
    pdError: 'Une erreur est survenue. Réessayez.',
    pdAcked: 'documents acceptés',
    pdNotAcked: 'documents non acceptés',
    pdForms: 'Questionnaires à remplir avant la séance (ajoutés à la liste de tâches du client)',
    pdFormsDone: 'questionnaires remplis',
    pdFormsNotDone: 'questionnaires non remplis',
  },
});

function title(text) {
  return (text && (text[locale()] || text.en)) || '';
}

function size(n) {
  if (n >= 1 << 20) return Math.round(n / (1 << 20)) + ' MB';
  return Math.round(n / (1 << 10)) + ' KB';
}

function day(ms) {
  return new Intl.DateTimeFormat(locale(), { day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit' }).format(new Date(ms));
}

// upload sends a multipart form; its refusal is an ApiError with the bridge's sentence.
async function upload(path, form) {
  let resp;
  try {
    resp = await fetch(path, { method: 'POST', body: form, credentials: 'same-origin', headers: { 'X-Requested-With': 'telehealth' } });
  } catch (e) {
    throw new ApiError(0, 'network', t('pdError'));
  }
  let data = {};
  try { data = await resp.json(); } catch (e) { data = {}; }
  if (!resp.ok) throw new ApiError(resp.status, data.code || 'error', data.error || t('pdError'));
  return data;
}

// documentsPage is the clinic's templates and the form to add one.
export async function documentsPage({ api, header, back }) {
  const list = h('ul', { class: 'sessions', id: 'templates-list' });
  const status = h('p', { class: 'hint', role: 'status', id: 'template-status' });
  const error = h('p', { class: 'error', role: 'alert', id: 'template-error' });
  const maxLine = h('p', { class: 'hint' });
  const load = async () => {
    let data;
    try {
      data = await api('GET', '/api/panel/templates');
    } catch (e) {
      error.textContent = e.message || t('pdError');
      return;
    }
    maxLine.textContent = t('pdMax', { size: size(data.max_size) });
    list.replaceChildren(...data.templates.map((tp) => h('li', { class: 'session-item', 'data-template': tp.id },
      h('a', { href: `/api/panel/templates/${tp.id}/file`, target: '_blank', rel: 'noopener' }, title(tp.title)),
      tp.needs_ack ? h('span', { class: 'badge' }, ' ', t('pdAck')) : null)));
    if (!data.templates.length) list.append(h('li', { class: 'hint' }, t('pdNone')));
  };
  const titleEn = h('input', { id: 'template-title-en', type: 'text', maxlength: 200 });
  const titleFr = h('input', { id: 'template-title-fr', type: 'text', maxlength: 200 });
  const file = h('input', { id: 'template-file', type: 'file', accept: '.pdf,.png,.jpg,.jpeg,.gif,.webp,.txt,.docx,.odt' });
  const ack = h('input', { id: 'template-needs-ack', type: 'checkbox' });
  const save = h('button', { type: 'submit', class: 'primary', id: 'template-save' }, t('pdSave'));
  const form = h('form', { class: 'card', id: 'template-form', novalidate: true },
    h('h2', {}, t('pdNew')),
    h('div', { class: 'field' }, h('label', { for: 'template-title-en' }, t('pdTitleEn')), titleEn),
    h('div', { class: 'field' }, h('label', { for: 'template-title-fr' }, t('pdTitleFr')), titleFr),
    h('div', { class: 'field' }, h('label', { for: 'template-file' }, t('pdFile')), file, maxLine),
    h('label', { class: 'check' }, ack, ' ', t('pdNeedsAck')),
    h('div', { class: 'actions' }, save), status, error);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    status.textContent = '';
    error.textContent = '';
    const data = new FormData();
    data.append('title_en', titleEn.value);
    data.append('title_fr', titleFr.value);
    data.append('needs_ack', ack.checked ? 'true' : 'false');
    if (file.files[0]) data.append('file', file.files[0]);
    save.disabled = true;
    try {
      await upload('/api/panel/templates', data);
      form.reset();
      status.textContent = t('pdSaved');
      await load();
    } catch (e) {
      error.textContent = e.message || t('pdError'); // what was typed and chosen stays
    } finally {
      save.disabled = false;
    }
  });
  show(header(), h('main', { class: 'panel documents' },
    h('p', {}, h('button', { type: 'button', id: 'documents-back', onclick: back }, t('pdBack'))),
    h('h1', {}, t('pdTitle')), h('p', { class: 'hint' }, t('pdIntro')), list, form));
  await load();
}

// recordDocuments is a client record's documents section.
export function recordDocuments(api, clientID) {
  const base = `/api/panel/clients/${encodeURIComponent(clientID)}/documents`;
  const list = h('ul', { class: 'sessions', id: 'record-documents' });
  const status = h('p', { class: 'hint', role: 'status', id: 'share-status' });
  const error = h('p', { class: 'error', role: 'alert', id: 'share-error' });
  const file = h('input', { id: 'share-file', type: 'file', accept: '.pdf,.png,.jpg,.jpeg,.gif,.webp,.txt,.docx,.odt' });
  const share = h('button', { type: 'submit', id: 'share-send' }, t('pdShare'));
  const load = async () => {
    let data;
    try {
      data = await api('GET', base);
    } catch (e) {
      section.hidden = e.status === 503; // no documents on this bridge
      error.textContent = e.status === 503 ? '' : (e.message || t('pdError'));
      return;
    }
    list.replaceChildren(...data.documents.map((d) => h('li', { class: 'session-item', 'data-document': d.id },
      h('a', { href: `${base}/${d.id}/file`, ...(d.inline ? { target: '_blank', rel: 'noopener' } : { download: d.name }) }, d.name),
      h('span', { class: 'meta' }, ' · ', d.kind === 'insurance_card' ? t('pdCard', { date: day(d.shared_at) })
        : t('pdSharedBy', { name: d.shared_by, date: day(d.shared_at) }), ' · ', size(d.size)))));
    if (!data.documents.length) list.append(h('li', { class: 'hint' }, t('pdRecordNone')));
  };
  const form = h('form', { id: 'share-form', novalidate: true }, h('label', { for: 'share-file' }, t('pdShare')), file, share, status, error);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    status.textContent = '';
    error.textContent = '';
    if (!file.files[0]) return;
    const data = new FormData();
    data.append('file', file.files[0]);
    share.disabled = true;
    share.textContent = t('pdWorking');
    try {
      await upload(base, data);
      form.reset();
      status.textContent = t('pdShared');
      await load();
    } catch (e) {
      error.textContent = e.message || t('pdError');
    } finally {
      share.disabled = false;
      share.textContent = t('pdShare');
    }
  });
  const section = h('section', { id: 'client-documents', class: 'card' },
    h('h2', {}, t('pdRecord')), h('p', { class: 'hint' }, t('pdRecordHint')), list, form);
  load();
  return section;
}

// templatePicker is the booking form's "Show participant documents": a tick per template.
// Its selected() are the ticked templates' IDs.
export function templatePicker() {
  const box = h('fieldset', { class: 'field', id: 'documents' }, h('legend', {}, t('pdShow')));
  box.selected = () => [...box.querySelectorAll('input[type="checkbox"]:checked')].map((c) => Number(c.value));
  request('GET', '/api/panel/templates').then((data) => {
    if (!data.templates.length) {
      box.append(h('p', { class: 'hint' }, t('pdShowNone')));
      return;
    }
    for (const tp of data.templates) {
      box.append(h('label', { class: 'check' },
        h('input', { type: 'checkbox', name: 'documents', value: tp.id, 'data-template': tp.id }), ' ', title(tp.title),
        tp.needs_ack ? h('span', { class: 'hint' }, ' (', t('pdAck'), ')') : null));
    }
  }).catch(() => { box.hidden = true; });
  box.append(h('p', { class: 'error', id: 'documents-error' }));
  // The package's forms: each is assigned to the participant's client record at booking.
  const forms = h('fieldset', { class: 'field', id: 'forms' }, h('legend', {}, t('pdForms')));
  forms.hidden = true;
  request('GET', '/api/panel/forms').then((data) => {
    for (const f of data.forms) {
      forms.append(h('label', { class: 'check' },
        h('input', { type: 'checkbox', name: 'forms', value: f.id, 'data-form': f.id }), ' ', title(f.title)));
    }
    forms.hidden = !data.forms.length;
  }).catch(() => { forms.hidden = true; });
  const formsError = h('p', { class: 'error', id: 'forms-error' });
  return h('div', { class: 'package' }, box, forms, formsError);
}

// formsWord is the lobby's word for whether a participant did their package's forms.
export function formsWord(state) {
  return t(state === 'forms_done' ? 'pdFormsDone' : 'pdFormsNotDone');
}
