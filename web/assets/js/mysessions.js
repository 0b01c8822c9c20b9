// mysessions.js: "My sessions", a guest's upcoming sessions with the clinic, next first.
import { request } from './api.js';
import { errorText } from './callwords.js';
import { h, show, message } from './dom.js';
import { t, setLocale, stateName } from './i18n.js';

export async function mySessions(token) {
  let state, list;
  try {
    state = await request('GET', '/api/call/state', { auth: token });
    setLocale(state.me.locale);
    list = await request('GET', '/api/call/sessions', { auth: token });
  } catch (e) {
    return message(t('title'), errorText(e));
  }
  document.title = t('mySessions');
  const items = (list.sessions || []).map((item) => {
    const l = item.session.local;
    return h('li', { class: 'session-item', 'data-session': item.session.id },
      h('span', { class: 'when' }, t('sessionAt', { date: l.date, start: l.start, end: l.end, zone: l.zone })),
      h('span', { class: 'state' }, stateName(item.state)),
      item.session.kind === 'phone'
        ? h('a', { class: 'later', href: new URL(item.link).pathname }, t('byPhone'))
        : item.can_join
          ? h('a', { class: 'button primary', href: new URL(item.link).pathname }, t('join'))
          : h('span', { class: 'later' }, t('joinOpensAt', { time: l.opens })));
  });
  show(h('main', { class: 'card' },
    h('h1', {}, t('mySessions')),
    items.length ? h('ol', { class: 'sessions' }, items) : h('p', {}, t('noSessions')),
    h('p', {}, h('a', { href: location.pathname.replace(/\/sessions$/, '') }, t('back')))));
}
