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
  if (!data.documents || !data.documents.length) return;
  box.hidden = false;
  box.replaceChildren(
    h('h2', {}, t('sdTitle')),
    h('p', { class: 'hint' }, t('sdIntro')),
    h('ul', { class: 'sessions' }, data.documents.map((d) => item(d, auth))));
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
