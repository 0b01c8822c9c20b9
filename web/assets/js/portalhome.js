// portalhome.js: the signed-in client's home in the portal: a header, a navigation of tabs,
// and the two tabs this module owns, My sessions and My professionals. Other parts of the
// portal add their tab with addPortalTab from their own module, which portal.js imports; a
// section that does not exist yet has no tab (no "coming soon").
import { request } from './api.js';
import { h, show } from './dom.js';
import { t, setLocale, locale } from './i18n.js';
import './portalhomewords.js';

const tabs = new Map();

// addPortalTab adds a tab to the portal's navigation.
//   id:     its address (/portal#id) and the data-tab of its link;
//   label:  the i18n key of its name;
//   order:  its place, lowest first (sessions 10, professionals 20; schedule 30, settings 90);
//   render: ({ home, me }) => a Node or a Promise of one, the tab's content;
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
      content = home ? await tabs.get(id).render({ home, me }) : h('p', { class: 'error', role: 'alert' }, t('homeError'));
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

function sessionItem(item, past) {
  const s = item.session;
  const l = s.local;
  const page = item.link ? new URL(item.link).pathname : '';
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
  action);
}

function sessionsTab({ home }) {
  const list = (items, past) => h('ol', { class: 'sessions' }, items.map((item) => sessionItem(item, past)));
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

function professionalsTab({ home }) {
  const clinic = home.clinic || {};
  return h('div', { class: 'my-professionals' },
    home.professionals.length
      ? h('ul', { class: 'professionals' }, home.professionals.map((p) => h('li', { class: 'professional' }, p.name)))
      : h('p', { class: 'empty' }, t('noProfessionals')),
    h('h2', {}, t('contactClinic')),
    h('p', { class: 'clinic-name' }, clinic.name || ''),
    clinic.phone ? h('p', { class: 'clinic-phone' }, h('a', { href: 'tel:' + clinic.phone }, t('clinicPhone', { phone: clinic.phone }))) : null);
}
