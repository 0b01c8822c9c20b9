// sessiondocuments.js: the session's documents on a participant's session page
// (docs/web-api.md, "Documents"): the clinic's documents the clinician attached to the session
// at booking, to read before joining, and, where a document asks for it, to acknowledge with
// one's full name and a tick. Files come through the bridge with the page's link token (a
// fetch, opened from a blob: a PDF or a picture in a new tab, anything else downloaded).
import { request } from './api.js';
import { h } from './dom.js';
import { t, locale, addStrings } from './i18n.js';

addStrings({
  en: {
    sdTitle: 'Before your session',
    sdIntro: 'Your clinician asks you to read these documents before joining.',
    sdOpen: 'Open',
    sdDownload: 'Download',
    sdName: 'Your full name',
    sdTick: 'I have read this document and I accept it',
    sdAck: 'Acknowledge',
    sdAcked: 'Acknowledged on {date}',
    sdNeedsAck: 'To acknowledge',
    sdFailed: 'This document could not be opened. Please try again in a moment.',
    sdAckFailed: 'Your acknowledgement was not recorded. Please try again.',
    sdForms: 'Forms to complete',
    sdFormStatus: { todo: 'To do', in_progress: 'In progress', done: 'Done' },
    sdFormComplete: 'Complete it in your portal',
    sdFormPortal: 'Complete it in your portal: ask your clinician for access if you do not have it.',
  },
  fr: {
    sdTitle: 'Avant votre séance',
    sdIntro: 'Votre praticien vous demande de lire ces documents avant de rejoindre la séance.',
    sdOpen: 'Ouvrir',
    sdDownload: 'Télécharger',
    sdName: 'Votre nom complet',
    sdTick: 'J\'ai lu ce document et je l\'accepte',
    sdAck: 'Accepter',
    sdAcked: 'Accepté le {date}',
    sdNeedsAck: 'À accepter',
    sdFailed: 'Ce document n\'a pas pu être ouvert. Réessayez dans un instant.',
    sdAckFailed: 'Votre acceptation n\'a pas été enregistrée. Réessayez.',
    sdForms: 'Questionnaires à remplir',
    sdFormStatus: { todo: 'À faire', in_progress: 'En cours', done: 'Fait' },
    sdFormComplete: 'Le remplir dans votre portail',
    sdFormPortal: 'À remplir dans votre portail : demandez-en l\'accès à votre praticien si vous ne l\'avez pas.',
  },
});

function title(text) {
  return (text && (text[locale()] || text.en)) || '';
}

function when(ms) {
  return new Intl.DateTimeFormat(locale(), { dateStyle: 'long', timeStyle: 'short' }).format(new Date(ms));
}

// sessionDocuments is the session's documents for the participant whose link auth is, or an
// empty box when there are none (it fills itself once they are loaded).
export function sessionDocuments(auth) {
  const box = h('section', { id: 'session-documents', class: 'session-documents', hidden: true });
  load(box, auth);
  return box;
}

async function load(box, auth) {
  let data;
  try {
    data = await request('GET', '/api/call/documents', { auth });
  } catch (e) {
    return; // no package to show (or not now): the page works without it
  }
  const docs = data.documents || [];
  const forms = data.forms || [];
  if (!docs.length && !forms.length) return;
  box.hidden = false;
  box.replaceChildren(h('h2', {}, t('sdTitle')));
  if (docs.length) {
    box.append(h('p', { class: 'hint' }, t('sdIntro')), h('ul', { class: 'sessions' }, docs.map((d) => item(d, auth))));
  }
  if (forms.length) {
    box.append(h('h3', {}, t('sdForms')), h('ul', { class: 'sessions' }, forms.map((f) => formItem(f, data.forms_in_portal))));
  }
}

// formItem is a form of the session's package: its status, and where to complete it (the
// portal's to-do list; answers never travel through the session page).
function formItem(f, inPortal) {
  const li = h('li', { class: 'session-item form-item', 'data-assignment': f.id, 'data-status': f.status },
    h('span', { class: 'when' }, title(f.title)),
    h('p', { class: 'meta form-status' }, t('sdFormStatus')[f.status] || f.status));
  if (f.status !== 'done') {
    li.append(inPortal
      ? h('a', { class: 'button form-link', href: '/portal#todo', target: '_blank', rel: 'noopener' }, t('sdFormComplete'))
      : h('p', { class: 'hint form-portal' }, t('sdFormPortal')));
  }
  return li;
}

function item(d, auth) {
  const li = h('li', { class: 'session-item doc-item', 'data-template': d.id, 'data-acked': d.acked_at ? 'true' : 'false' });
  const status = h('p', { class: 'meta doc-ack', role: 'status' });
  const error = h('p', { class: 'error', role: 'alert', hidden: true });
  const open = h('button', { type: 'button', class: 'doc-open', onclick: () => openFile(d, auth, error) }, d.inline ? t('sdOpen') : t('sdDownload'));
  li.append(h('span', { class: 'when' }, title(d.title)), open, status, error);
  if (d.acked_at) {
    status.textContent = t('sdAcked', { date: when(d.acked_at) });
  } else if (d.needs_ack) {
    status.textContent = t('sdNeedsAck');
    const nameId = `doc-name-${d.id}`;
    const tickId = `doc-tick-${d.id}`;
    const name = h('input', { id: nameId, class: 'doc-name', type: 'text', autocomplete: 'name', maxlength: 200 });
    const tick = h('input', { id: tickId, class: 'doc-tick', type: 'checkbox' });
    const button = h('button', { type: 'submit', class: 'primary doc-ack-button' }, t('sdAck'));
    const form = h('form', { class: 'doc-ack-form' },
      h('label', { for: nameId }, t('sdName')), name,
      h('label', { class: 'check' }, tick, ' ', t('sdTick')),
      button);
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      error.hidden = true;
      button.disabled = true;
      try {
        const res = await request('POST', `/api/call/documents/${d.id}/ack`, { auth, body: { name: name.value, ticked: tick.checked } });
        d.acked_at = res.acked_at;
        li.replaceWith(item(d, auth));
      } catch (e) {
        error.textContent = e.message || t('sdAckFailed');
        error.hidden = false;
        button.disabled = false; // what they typed stays
      }
    });
    li.append(form);
  }
  return li;
}

async function openFile(d, auth, error) {
  error.hidden = true;
  try {
    const resp = await fetch(`/api/call/documents/${d.id}/file`, { headers: { Authorization: 'Bearer ' + auth, 'X-Requested-With': 'telehealth' } });
    if (!resp.ok) throw new Error(String(resp.status));
    const url = URL.createObjectURL(await resp.blob());
    const a = h('a', { href: url, ...(d.inline ? { target: '_blank', rel: 'noopener' } : { download: d.name }) });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60000);
  } catch (e) {
    error.textContent = t('sdFailed');
    error.hidden = false;
  }
}
