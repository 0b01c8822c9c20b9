// portaldocuments.js: the portal's Documents tab (docs/web-api.md, "Documents"): the files the
// client's professionals shared with them, newest first, with who shared them and when; and,
// for the sessions to come, the documents to read (and acknowledge) before joining, which the
// session's page opens. Files are served by the bridge after it checked that they are the
// client's: a PDF or a picture opens in a new tab, anything else downloads.
import { request } from './api.js';
import { h } from './dom.js';
import { t, locale, addStrings } from './i18n.js';
import { addPortalTab } from './portalhome.js';

addStrings({
  en: {
    tabDocuments: 'Documents',
    docsIntro: 'Documents your professionals shared with you.',
    docsEmpty: 'No document shared with you yet.',
    docsShared: 'Shared by {name} on {date}',
    docsOpen: 'Open',
    docsDownload: 'Download',
    docsError: 'Your documents could not be loaded. Please try again in a moment.',
    docsBefore: 'Before your session on {date}',
    docsToAck: 'To read and acknowledge',
    docsAcked: 'Acknowledged',
    docsToRead: 'To read',
    docsGoToSession: 'Read them on the session page',
  },
  fr: {
    tabDocuments: 'Documents',
    docsIntro: 'Les documents que vos praticiens ont partagés avec vous.',
    docsEmpty: 'Aucun document partagé avec vous pour le moment.',
    docsShared: 'Partagé par {name} le {date}',
    docsOpen: 'Ouvrir',
    docsDownload: 'Télécharger',
    docsError: 'Vos documents n\'ont pas pu être chargés. Réessayez dans un instant.',
    docsBefore: 'Avant votre séance du {date}',
    docsToAck: 'À lire et à accepter',
    docsAcked: 'Accepté',
    docsToRead: 'À lire',
    docsGoToSession: 'Les lire sur la page de la séance',
  },
});

addPortalTab({ id: 'documents', label: 'tabDocuments', order: 12, render: documentsTab });

function day(ms) {
  return new Intl.DateTimeFormat(locale(), { day: 'numeric', month: 'long', year: 'numeric' }).format(new Date(ms));
}

// when is a session's start in the participant's zone (the session page's), said with it.
function when(ms, timeZone) {
  const opts = { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric', hour: '2-digit', minute: '2-digit', timeZoneName: 'short' };
  try {
    return new Intl.DateTimeFormat(locale(), { ...opts, timeZone }).format(new Date(ms));
  } catch (e) {
    return new Intl.DateTimeFormat(locale(), opts).format(new Date(ms)); // a zone the browser does not know
  }
}

// size is a file's size, short.
export function size(n) {
  if (n >= 1 << 20) return (n / (1 << 20)).toFixed(1) + ' MB';
  if (n >= 1 << 10) return Math.round(n / (1 << 10)) + ' KB';
  return n + ' B';
}

function title(text) {
  return (text && (text[locale()] || text.en)) || '';
}

async function documentsTab() {
  const box = h('div', { class: 'documents' });
  let data;
  try {
    data = await request('GET', '/api/portal/documents');
  } catch (e) {
    box.replaceChildren(h('p', { class: 'error', role: 'alert' }, t('docsError')));
    return box;
  }
  const packages = (data.packages || []).map((p) => h('section', { class: 'doc-package', 'data-session': p.session_id },
    h('h3', {}, t('docsBefore', { date: when(p.start, p.time_zone || undefined) })),
    h('ul', { class: 'sessions' }, p.documents.map((d) => h('li', { class: 'session-item doc-item', 'data-template': d.id },
      h('span', { class: 'when' }, title(d.title)),
      h('p', { class: 'meta doc-ack', 'data-acked': d.acked_at ? 'true' : 'false' },
        d.acked_at ? t('docsAcked') : d.needs_ack ? t('docsToAck') : t('docsToRead'))))),
    p.link ? h('a', { class: 'button primary', href: p.link }, t('docsGoToSession')) : null));
  const items = data.documents.map((d) => h('li', { class: 'session-item doc-item', 'data-document': d.id },
    h('span', { class: 'when doc-name' }, d.name),
    h('p', { class: 'meta' }, t('docsShared', { name: d.shared_by, date: day(d.shared_at) }), ' · ', size(d.size)),
    h('a', {
      class: 'button', href: `/api/portal/documents/${d.id}/file`,
      ...(d.inline ? { target: '_blank', rel: 'noopener' } : { download: d.name }),
    }, d.inline ? t('docsOpen') : t('docsDownload'))));
  box.replaceChildren(...packages,
    h('p', { class: 'hint' }, t('docsIntro')),
    items.length ? h('ol', { class: 'sessions doc-list' }, items) : h('p', { class: 'empty' }, t('docsEmpty')));
  return box;
}
