// panelprospects.js: the panel's Prospects page, over /api/panel/prospects. The people who
// signed up on the portal by themselves wait here until a clinician links each to a client
// record (found by the same search as the booking form), creates a record, or dismisses them.
import { h, show } from './dom.js';
import { locale } from './i18n.js';
import { confirmDialog } from './lobby.js';

// prospectsPage shows the waiting prospects. api is the panel's API call (a lapsed sign-in
// shows the signed-out page), header its header, back the way home, pw the panel's words.
export async function prospectsPage({ api, header, back, pw }) {
  const { words, w, refusal } = pw;
  const status = h('p', { id: 'prospects-status', class: 'hint', role: 'status' });
  const problem = h('p', { id: 'prospects-problem', class: 'error', role: 'alert' });
  const say = (e) => { problem.textContent = words.prRefusals[e && e.code] || refusal(e, words.refusals.internal || ''); };
  const list = h('ol', { class: 'sessions', id: 'prospects' });

  async function act(path, body, done) {
    problem.textContent = '';
    status.textContent = '';
    try {
      const res = await api('POST', path, body);
      await load();
      status.textContent = done(res);
    } catch (e) {
      say(e);
    }
  }

  function card(p) {
    const when = new Intl.DateTimeFormat(locale(), { dateStyle: 'long', timeStyle: 'short' }).format(new Date(p.created_at));
    const results = h('ul', { class: 'prospect-matches' });
    const search = h('input', { type: 'search', id: `prospect-search-${p.id}`, autocomplete: 'off' });
    let timer = null;
    search.addEventListener('input', () => {
      clearTimeout(timer);
      timer = setTimeout(async () => {
        const q = search.value.trim();
        results.replaceChildren();
        if (q.length < 2) return;
        try {
          const res = await api('GET', '/api/panel/clients?limit=8&q=' + encodeURIComponent(q));
          if (!res.clients.length) results.append(h('li', { class: 'hint' }, w('prNoMatch', { q })));
          for (const c of res.clients) {
            const contact = [...c.emails, ...c.phones][0] || '';
            results.append(h('li', {},
              h('button', { type: 'button', 'data-client': c.id, onclick: () => act(`/api/panel/prospects/${p.id}/link`, { client_id: c.id }, (r) => w('prLinked', { name: r.client.display_name })) },
                w('prLink', { name: c.display_name })),
              contact ? h('span', { class: 'hint' }, ' ', contact) : null));
          }
        } catch (e) {
          say(e);
        }
      }, 250);
    });
    return h('li', { class: 'card', 'data-prospect': p.id },
      h('h2', {}, p.name),
      h('p', {}, p.email || p.phone),
      h('p', { class: 'hint' }, w('prSignedUp', { when }), ' · ', words.prLanguage[p.locale] || p.locale, ' · ', p.time_zone),
      h('div', { class: 'field' }, h('label', { for: search.id }, words.prSearch), search), results,
      h('div', { class: 'actions' },
        h('button', { type: 'button', class: 'primary', 'data-action': 'create', onclick: () => act(`/api/panel/prospects/${p.id}/client`, {}, (r) => w('prCreated', { name: r.client.display_name })) }, words.prCreate),
        h('button', { type: 'button', class: 'danger', 'data-action': 'dismiss', onclick: async () => {
          if (await confirmDialog(words.prDismissConfirm, words.prDismiss)) act(`/api/panel/prospects/${p.id}/dismiss`, {}, () => words.prDismissed);
        } }, words.prDismiss)));
  }

  async function load() {
    const res = await api('GET', '/api/panel/prospects');
    list.replaceChildren(...res.prospects.map(card));
    list.hidden = res.prospects.length === 0;
    empty.hidden = res.prospects.length !== 0;
  }

  const empty = h('p', { id: 'prospects-none' }, words.prNone);
  show(header(), h('main', { class: 'panel' },
    h('h1', {}, words.prTitle),
    h('p', { class: 'hint' }, words.prIntro),
    status, problem, list, empty,
    h('div', { class: 'actions' }, h('button', { type: 'button', id: 'prospects-back', onclick: back }, words.back))));
  try {
    await load();
  } catch (e) {
    say(e);
  }
}
