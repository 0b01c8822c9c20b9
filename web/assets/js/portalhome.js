// portalhome.js: the signed-in client's home in the portal: a header, a navigation of tabs,
// and the two tabs this module owns, My sessions and My professionals. Other parts of the
// portal add their tab with addPortalTab from their own module, which portal.js imports; a
// section that does not exist yet has no tab (no "coming soon").
import { request, ApiError } from './api.js';
import { h, show } from './dom.js';
import { t, setLocale, locale } from './i18n.js';
import './portalhomewords.js';

const tabs = new Map();

// addPortalTab adds a tab to the portal's navigation.
//   id:     its address (/portal#id) and the data-tab of its link;
//   label:  the i18n key of its name;
//   order:  its place, lowest first (sessions 10, professionals 20; schedule 30, settings 90);
//   render: ({ home, me, reload }) => a Node or a Promise of one, the tab's content;
//           reload(notice) fetches the home again and shows the tab anew, notice in the status.
//   badge:  optional, (home) => a short text shown beside the label (an unread count), or ''.
export function addPortalTab({ id, label, order, render, badge = null }) {
  tabs.set(id, { id, label, order, render, badge });
}

function orderedTabs() {
  return [...tabs.values()].sort((a, b) => a.order - b.order);
}

addPortalTab({ id: 'sessions', label: 'tabSessions', order: 10, render: sessionsTab });
addPortalTab({ id: 'professionals', label: 'tabProfessionals', order: 20, render: professionalsTab });

const params = new URLSearchParams(location.search);

// showHome shows the home of the signed-in client me. actions(status) builds the buttons under
// it once the page's language is settled (the sign-outs); notice is said in the status line.
export async function showHome({ me, notice = '', actions = () => [] }) {
  // The client's chosen page language (?lang=) wins; else their record's.
  const chosen = params.has('lang');
  const q = new URLSearchParams({ zone: Intl.DateTimeFormat().resolvedOptions().timeZone || '' });
  if (chosen) q.set('lang', locale());
  let home = null;
  try {
    home = await request('GET', '/api/portal/home?' + q);
    if (!chosen && home.locale) setLocale(home.locale);
  } catch (e) {
    if (e && e.status === 401) throw e;
  }
  // reload shows the home again after a change (a cancel, a move), the notice said.
  async function reload(text = '') {
    try {
      home = await request('GET', '/api/portal/home?' + q);
    } catch (e) {
      if (e && e.status === 401) return location.reload();
    }
    status.textContent = text;
    shown = '';
    await open();
  }
  const status = h('p', { id: 'message', class: 'hint', role: 'status' }, notice);
  const panel = h('section', { id: 'portal-panel', class: 'portal-panel', 'aria-live': 'polite' });
  const nav = h('nav', { class: 'portal-nav', 'aria-label': t('portalNav') },
    orderedTabs().map((tab) => {
      const badge = tab.badge && home ? tab.badge(home) : '';
      return h('a', { href: '#' + tab.id, class: 'portal-tab', 'data-tab': tab.id }, t(tab.label),
        badge ? h('span', { class: 'tab-badge' }, badge) : null);
    }));

  let shown = '';
  async function open() {
    const id = tabs.has(location.hash.slice(1)) ? location.hash.slice(1) : orderedTabs()[0].id;
    if (id === shown) return;
    shown = id;
    for (const a of nav.querySelectorAll('a')) {
      if (a.dataset.tab === id) a.setAttribute('aria-current', 'page');
      else a.removeAttribute('aria-current');
    }
    let content;
    try {
      content = home ? await tabs.get(id).render({ home, me, reload }) : h('p', { class: 'error', role: 'alert' }, t('homeError'));
    } catch (e) {
      content = h('p', { class: 'error', role: 'alert' }, t('homeError'));
    }
    if (shown === id) panel.replaceChildren(content);
  }
  window.onhashchange = open; // one listener, whichever home is shown last

  show(h('main', { class: 'card portal', role: 'main' },
    h('header', { class: 'portal-header' },
      h('h1', { id: 'welcome' }, t('welcome', { name: me.name }))),
    status,
    nav,
    panel,
    h('div', { class: 'actions portal-actions' }, actions(status))));
  await open();
}

// --- My sessions ---

// The session's page from the portal: ?from=portal keeps the page (a link of the client's own
// opened elsewhere lands in the portal).
function sessionPage(item) {
  return item.link ? new URL(item.link).pathname + '?from=portal' : '';
}

function sessionItem(item, past, home, reload) {
  const s = item.session;
  const l = s.local;
  const page = sessionPage(item);
  let action = null;
  if (!past && s.status !== 'cancelled') {
    if (s.kind === 'phone') {
      action = h('p', { class: 'calls-you' }, item.calls_you ? t('callsYou', { name: item.calls_you }) : t('clinicCallsYou'));
    } else if (item.can_join) {
      action = h('a', { class: 'button primary join', href: page }, t('join'));
    } else if (page) {
      action = h('p', { class: 'later' }, t('joinOpensAt', { time: l.opens }), ' · ', h('a', { href: page }, t('openSession')));
    }
  }
  const focused = params.get('session') === s.id;
  return h('li', {
    class: 'session-item portal-session' + (item.next ? ' next' : '') + (focused ? ' focused' : ''),
    'data-session': s.id, 'data-status': s.status,
  },
  item.next ? h('p', { class: 'next-label' }, t('nextSession')) : null,
  h('span', { class: 'when' }, t('sessionAt', { date: l.date, start: l.start, end: l.end, zone: l.zone_abbr || l.zone })),
  h('p', { class: 'meta' },
    h('span', { class: 'kind' }, t(s.kind === 'phone' ? 'kindPhone' : 'kindVideo')),
    s.clinician_name ? [' · ', h('span', { class: 'with' }, t('withProfessional', { name: s.clinician_name }))] : null,
    ' · ', h('span', { class: 'state' }, t('sessionStatus')[s.status] || s.status)),
  action,
  past ? null : changes(item, home, reload));
}

// ask shows a question in a modal dialog; it resolves to true for yes.
function ask(question, yes, no) {
  return new Promise((resolve) => {
    const done = (answer) => { dialog.close(); dialog.remove(); resolve(answer); };
    const dialog = h('dialog', { class: 'confirm', 'aria-label': question },
      h('p', {}, question),
      h('div', { class: 'actions' },
        h('button', { type: 'button', 'data-action': 'dismiss', onclick: () => done(false) }, no),
        h('button', { type: 'button', class: 'danger', 'data-action': 'confirm', onclick: () => done(true) }, yes)));
    dialog.addEventListener('cancel', () => resolve(false));
    document.body.append(dialog);
    dialog.showModal();
  });
}

function changeError(e) {
  return e instanceof ApiError && e.message ? e.message : t('changeError');
}

// changes: what the client may change in an upcoming session (cancel, move), the move they
// asked for, or the clinic's phone when it is too late to change it online.
function changes(item, home, reload) {
  const s = item.session;
  const l = s.local;
  const error = h('p', { class: 'error change-error', role: 'alert' });
  const form = h('div', { class: 'move-box' });
  const requested = (item.move_requested || []).map((m) => `${m.local.date} ${m.local.start}`);
  const phone = (home.clinic || {}).phone;
  const buttons = [];
  if (item.can_cancel) {
    buttons.push(h('button', {
      type: 'button', class: 'cancel-session', onclick: async (ev) => {
        error.textContent = '';
        if (!await ask(t('cancelQuestion', { date: l.date, start: l.start }), t('cancelYes'), t('cancelNo'))) return;
        ev.target.disabled = true;
        try {
          await request('POST', `/api/portal/sessions/${encodeURIComponent(s.id)}/cancel`, { body: {} });
          await reload(t('cancelDone', { date: l.date, start: l.start }));
        } catch (e) {
          ev.target.disabled = false;
          error.textContent = changeError(e);
        }
      },
    }, t('cancelSession')));
  }
  if (item.can_move) {
    buttons.push(h('button', {
      type: 'button', class: 'move-session', 'aria-expanded': 'false', onclick: (ev) => {
        const open = ev.target.getAttribute('aria-expanded') !== 'true';
        ev.target.setAttribute('aria-expanded', String(open));
        error.textContent = '';
        form.replaceChildren(...(open ? [item.move_slots ? moveSlots(item, error, reload) : moveRequest(item, error, reload)] : []));
      },
    }, item.move_slots ? t('moveSession') : t('askToMove')));
  }
  if (!buttons.length && !requested.length && !item.call_clinic) return null;
  return h('div', { class: 'session-changes' },
    requested.length ? h('p', { class: 'move-requested' }, t('moveRequested', { times: requested.join(t('timesSep')) })) : null,
    item.call_clinic ? h('p', { class: 'call-clinic' }, t('tooLateToChange'), ' ',
      phone ? h('a', { href: 'tel:' + phone }, t('callClinicAt', { phone })) : t('callClinic')) : null,
    buttons.length ? h('div', { class: 'actions' }, buttons) : null,
    form, error);
}

function browserZone() {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || '';
  } catch {
    return '';
  }
}

// moveRequest: up to three times that would suit the client, for the clinician.
function moveRequest(item, error, reload) {
  const s = item.session;
  const fields = [0, 1, 2].map((i) => h('div', { class: 'field' },
    h('label', { for: `move-${s.id}-${i}` }, t('moveTimeLabel', { n: i + 1 })),
    h('input', { id: `move-${s.id}-${i}`, type: 'datetime-local', class: 'move-time', required: i === 0 })));
  const send = h('button', { type: 'submit', class: 'primary send-move' }, t('moveSend'));
  return h('form', {
    class: 'move-request', novalidate: true, oninput: () => { error.textContent = ''; }, onsubmit: async (ev) => {
      ev.preventDefault();
      error.textContent = '';
      const times = [...ev.target.querySelectorAll('input.move-time')].map((i) => i.value).filter(Boolean).map((v) => new Date(v).getTime());
      if (!times.length) {
        error.textContent = t('moveNeedTime');
        return;
      }
      send.disabled = true;
      try {
        await request('POST', `/api/portal/sessions/${encodeURIComponent(s.id)}/move`, { body: { times } });
        await reload(t('moveSent'));
      } catch (e) {
        send.disabled = false;
        error.textContent = changeError(e);
      }
    },
  },
  h('p', { class: 'hint' }, t('moveIntro', { zone: browserZone() })),
  fields,
  h('div', { class: 'actions' }, send));
}

// moveSlots: the professional's free slots of the session's kind and length; the one chosen
// replaces the session at once.
function moveSlots(item, error, reload) {
  const s = item.session;
  const box = h('div', { class: 'move-slots', 'aria-live': 'polite' }, h('p', { class: 'hint' }, t('moveLoading')));
  (async () => {
    const q = new URLSearchParams({ clinician: item.move_slots.clinician, type: String(item.move_slots.type) });
    if (browserZone()) q.set('zone', browserZone());
    let view;
    try {
      view = await request('GET', '/api/portal/slots?' + q);
    } catch (e) {
      box.replaceChildren();
      error.textContent = changeError(e);
      return;
    }
    const days = new Map();
    for (const slot of view.slots) {
      if (!days.has(slot.day)) days.set(slot.day, []);
      days.get(slot.day).push(slot);
    }
    const list = [...days.values()].map((slots) => h('section', { class: 'book-day' },
      h('h3', {}, slots[0].local.date),
      h('div', { class: 'book-times actions' }, slots.map((slot) => h('button', {
        type: 'button', class: 'slot', 'data-start': String(slot.start), onclick: async (ev) => {
          error.textContent = '';
          const when = `${slot.local.date} ${slot.local.start}`;
          if (!await ask(t('moveQuestion', { from: `${s.local.date} ${s.local.start}`, to: when }), t('moveYes'), t('cancelNo'))) return;
          ev.target.disabled = true;
          try {
            const where = browserZone() ? '?' + new URLSearchParams({ zone: browserZone() }) : '';
            await request('POST', `/api/portal/sessions/${encodeURIComponent(s.id)}/move${where}`, { body: { type: item.move_slots.type, start: slot.start } });
            await reload(t('movedDone', { time: when }));
          } catch (e) {
            ev.target.disabled = false;
            error.textContent = changeError(e);
          }
        },
      }, slot.local.start)))));
    box.replaceChildren(h('p', { class: 'hint' }, t('moveSlotsIntro', { zone: view.time_zone })),
      ...(list.length ? list : [h('p', { class: 'empty' }, t('moveNoSlots'))]));
  })();
  return box;
}

function sessionsTab({ home, reload }) {
  const list = (items, past) => h('ol', { class: 'sessions' }, items.map((item) => sessionItem(item, past, home, reload)));
  const out = h('div', { class: 'my-sessions' },
    h('h2', { id: 'upcoming' }, t('upcomingTitle')),
    home.upcoming.length ? list(home.upcoming, false) : h('p', { class: 'empty' }, t('noUpcoming')),
    h('h2', { id: 'past' }, t('pastTitle')),
    home.past.length ? list(home.past, true) : h('p', { class: 'empty' }, t('noPast')));
  const focused = out.querySelector('.focused');
  if (focused) requestAnimationFrame(() => focused.scrollIntoView({ block: 'center' }));
  return out;
}

// --- My professionals ---

// initials of a name, for a professional without a picture: "Dr Anne Roy" → "AR", "Dr Roy" → "R".
function initials(name) {
  const words = (name || '').split(/\s+/).filter((w) => w && !/^(dr|pr|mme|mr|mrs|ms)\.?$/i.test(w));
  return (words.length > 1 ? words[0][0] + words[words.length - 1][0] : (words[0] || '?')[0]).toUpperCase();
}

// avatar: the professional's initials, replaced by their picture once it loaded (a
// professional without one keeps the initials).
function avatar(p) {
  const mark = h('span', { class: 'avatar initials', 'aria-hidden': 'true' }, initials(p.name));
  if (!p.avatar) return mark;
  const img = h('img', { class: 'avatar picture', alt: '', src: p.avatar, width: 56, height: 56, hidden: true });
  img.addEventListener('load', () => { img.hidden = false; mark.remove(); });
  img.addEventListener('error', () => img.remove());
  return [mark, img];
}

function professionalsTab({ home }) {
  const clinic = home.clinic || {};
  return h('div', { class: 'my-professionals' },
    home.professionals.length
      ? h('ul', { class: 'professionals' }, home.professionals.map((p) => h('li', { class: 'professional' },
        avatar(p), h('span', { class: 'name' }, p.name))))
      : h('p', { class: 'empty' }, t('noProfessionals')),
    h('h2', {}, t('contactClinic')),
    h('p', { class: 'clinic-name' }, clinic.name || ''),
    clinic.phone ? h('p', { class: 'clinic-phone' }, h('a', { href: 'tel:' + clinic.phone }, t('clinicPhone', { phone: clinic.phone }))) : null);
}
