// panelclients.js: the panel's Clients pages, over /api/panel/clients (only the records the
// clinician may see: assigned to them or booked by them; every record for an admin). A search by
// name, e-mail or phone; a record to edit, with its sessions and its portal (enable, send the
// enrolment again, disable: the enrolment link goes to the client only, never to this page);
// a "New client" form. A refused field shows its reason next to it and nothing typed is lost.
import { h, show } from './dom.js';
import { locale } from './i18n.js';
import { confirmDialog } from './lobby.js';
import { zonePicker } from './zones.js';
import { recordDocuments } from './paneldocuments.js';

// clientsPage shows the search and the list. ctx: api (the panel's API call: a lapsed sign-in
// shows the signed-out page), header, back (the way home), words (panelwords.js), refusal,
// when (a session's date and times, written the panel's way).
export async function clientsPage(ctx, query = '') {
  const cw = ctx.words.clients;
  const search = h('input', { id: 'client-search', type: 'search', autocomplete: 'off', placeholder: cw.search, 'aria-label': cw.search, value: query });
  const list = h('ol', { class: 'client-list', id: 'client-list', 'aria-live': 'polite' });
  const status = h('p', { class: 'error', id: 'clients-error', role: 'alert' });
  let asked = 0;
  const load = async () => {
    const mine = ++asked;
    const q = search.value.trim();
    let clients = [];
    try {
      clients = (await ctx.api('GET', '/api/panel/clients?limit=50&q=' + encodeURIComponent(q))).clients || [];
      status.textContent = '';
    } catch (e) {
      status.textContent = refused(ctx, e);
      return;
    }
    if (mine !== asked) return; // a later search answered first
    list.replaceChildren(...clients.map((c) => h('li', { class: 'client-item', 'data-client': c.id },
      h('button', { type: 'button', class: 'client-open', onclick: () => clientRecord(ctx, c.id, search.value) },
        h('span', { class: 'name' }, c.display_name),
        c.preferred_name ? h('span', { class: 'preferred' }, ` (${c.preferred_name})`) : null,
        h('span', { class: 'client-contact' }, [c.emails[0], c.phones[0]].filter(Boolean).join(' · ')),
        c.portal_enabled ? h('span', { class: 'badge portal-badge' }, cw.portalOn) : null))));
    if (!clients.length) list.append(h('li', { class: 'hint' }, q ? cw.none : cw.empty));
  };
  let timer = null;
  search.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(load, 200); });
  show(ctx.header(), h('main', { class: 'panel clients' },
    h('p', {}, h('button', { type: 'button', id: 'clients-back', onclick: ctx.back }, cw.back)),
    h('h1', {}, cw.title),
    h('div', { class: 'actions' }, h('button', { type: 'button', class: 'primary', id: 'new-client', onclick: () => clientForm(ctx, null, search.value) }, cw.newClient)),
    h('div', { class: 'field' }, search), status, list));
  await load();
}

function refused(ctx, e) {
  const cw = ctx.words.clients;
  return (e && cw.refusals[e.code]) || ctx.refusal(e, cw.refusals.internal || 'Something went wrong. Please try again.');
}

// clientRecord opens one record: its form, its portal, its sessions, its messages.
async function clientRecord(ctx, id, query) {
  let page;
  try {
    page = await ctx.api('GET', `/api/panel/clients/${encodeURIComponent(id)}`);
  } catch (e) {
    show(ctx.header(), h('main', { class: 'panel' },
      h('p', {}, h('button', { type: 'button', id: 'clients-back', onclick: () => clientsPage(ctx, query) }, ctx.words.clients.back)),
      h('p', { class: 'error', id: 'clients-error', role: 'alert' }, refused(ctx, e))));
    return;
  }
  clientForm(ctx, page, query);
}

const lines = (s) => s.split(/[\n,;]+/).map((x) => x.trim()).filter(Boolean);

// clientForm is a record's page (page is {client, sessions}), or the New client form (null).
function clientForm(ctx, page, query) {
  const cw = ctx.words.clients;
  const c = page ? page.client : { display_name: '', preferred_name: '', emails: [], phones: [], locale: locale(), time_zone: '', professionals: [], reminders: '' };
  const browserZone = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  const clinicZone = ctx.clinicZone || '';
  const field = (id, label, control) => h('div', { class: 'field', 'data-field': id },
    h('label', { for: id }, label), control, h('p', { class: 'error', id: id + '-error', role: 'alert' }));
  const input = (id, value, attrs = {}) => h('input', { id, type: 'text', value, ...attrs });
  const area = (id, values, attrs = {}) => { const el = h('textarea', { id, rows: 2, ...attrs }); el.value = values.join('\n'); return el; };
  const title = h('h1', { id: 'client-title' }, page ? (c.preferred_name || c.display_name) : cw.newClient);
  const zone = zonePicker('time_zone', c.time_zone || clinicZone || browserZone, { first: clinicZone || browserZone, locale: locale(), words: ctx.words });
  let names = null;
  try { names = new Intl.DisplayNames([locale()], { type: 'region' }); } catch (e) { names = null; }
  const region = h('select', { id: 'phone_region' }, [['', ctx.words.international], ...['FR', 'BE', 'CH', 'CA', 'US', 'GB'].map((r) => [r, names ? names.of(r) : r])]
    .map(([v, label]) => h('option', { value: v }, label)));
  const reminders = h('select', { id: 'reminders' },
    [['', cw.remindAuto], ['email', cw.remindEmail], ['sms', cw.remindSMS], ['none', cw.remindNone]].map(([v, label]) => h('option', { value: v, selected: v === (c.reminders || '') }, label)));
  const lang = h('select', { id: 'locale' }, [['en', 'English'], ['fr', 'Français']].map(([v, label]) => h('option', { value: v, selected: v === c.locale }, label)));
  const formError = h('p', { class: 'error', id: 'client-form-error', role: 'alert' });
  const saved = h('p', { class: 'hint', id: 'client-saved', role: 'status' });
  const save = h('button', { type: 'submit', class: 'primary', id: 'client-save' }, page ? cw.save : cw.create);

  const problem = (f, text) => {
    const slot = f && form.querySelector(`#${f}-error`);
    if (slot) {
      slot.textContent = text;
      formError.textContent = cw.formProblem;
      const el = form.querySelector(`#${f}-search`) || form.querySelector('#' + f);
      if (el && el.focus) el.focus();
    } else {
      formError.textContent = text;
    }
  };
  const form = h('form', { class: 'card client-form', id: 'client-form', novalidate: true, onsubmit: async (e) => {
    e.preventDefault();
    form.querySelectorAll('.error').forEach((el) => { el.textContent = ''; });
    saved.textContent = '';
    const v = (id) => form.querySelector('#' + id).value;
    const body = {
      display_name: v('display_name'), preferred_name: v('preferred_name'), emails: lines(v('emails')), phones: lines(v('phones')),
      phone_region: v('phone_region'), locale: v('locale'), time_zone: v('time_zone'), professionals: lines(v('professionals')),
      reminders: v('reminders'), matrix_id: c.matrix_id || '',
    };
    if ([...body.display_name.trim()].length < 2) return problem('display_name', locale() === 'fr' ? cw.errors.display_name : 'Enter the client\'s name or initials (2 to 64 characters).');
    save.disabled = true;
    save.textContent = cw.saving;
    try {
      const got = page
        ? await ctx.api('PUT', `/api/panel/clients/${encodeURIComponent(c.id)}`, body)
        : await ctx.api('POST', '/api/panel/clients', body);
      if (!page) { clientRecord(ctx, got.client.id, query); return; }
      Object.assign(c, got.client);
      title.textContent = c.preferred_name || c.display_name;
      // What the bridge normalised (lower case, +33…) is what the record now holds.
      form.querySelector('#emails').value = c.emails.join('\n');
      form.querySelector('#phones').value = c.phones.join('\n');
      form.querySelector('#professionals').value = c.professionals.join('\n');
      reminders.value = c.reminders;
      saved.textContent = cw.saved;
    } catch (err) {
      const f = (err.code || '').startsWith('field:') ? err.code.slice(6) : '';
      if (f) problem(f, locale() === 'fr' ? (cw.errors[f] || err.message) : err.message);
      else problem('', refused(ctx, err));
    } finally {
      save.disabled = false;
      save.textContent = page ? cw.save : cw.create;
    }
  } },
  field('display_name', cw.displayName, input('display_name', c.display_name, { required: true, minlength: 2, maxlength: 64, autocomplete: 'off' })),
  field('preferred_name', cw.preferredName, input('preferred_name', c.preferred_name || '', { maxlength: 64, autocomplete: 'off' })),
  field('emails', cw.emails, area('emails', c.emails, { inputmode: 'email', autocomplete: 'off' })),
  field('phones', cw.phones, area('phones', c.phones, { inputmode: 'tel', autocomplete: 'off' })),
  field('phone_region', cw.region, region),
  field('locale', cw.language, lang),
  field('time_zone', cw.zone, zone),
  field('reminders', cw.reminders, reminders),
  field('professionals', cw.professionals, area('professionals', c.professionals, { autocomplete: 'off' })),
  h('div', { class: 'actions' }, save), saved, formError);
  form.addEventListener('input', (e) => {
    const f = e.target.closest('[data-field]');
    const slot = f && f.querySelector('.error');
    if (slot) slot.textContent = '';
  });

  const back = h('p', {}, h('button', { type: 'button', id: 'clients-back', onclick: () => clientsPage(ctx, query) }, cw.back));
  if (!page) {
    show(ctx.header(), h('main', { class: 'panel client-record' }, back, title, form));
    return;
  }
  show(ctx.header(), h('main', { class: 'panel client-record', 'data-client': c.id }, back, title,
    portalSection(ctx, c), form, sessionsSection(ctx, page.sessions || []), messagesSection(ctx, c.id), recordDocuments(ctx.api, c.id)));
}

// portalSection: the record's portal, and the buttons that open it, send the enrolment again
// or close it. The answers say by which channel the enrolment went, never the link.
function portalSection(ctx, c) {
  const cw = ctx.words.clients;
  const state = h('p', { id: 'portal-state' });
  const status = h('p', { id: 'portal-status', role: 'status', class: 'hint' });
  const error = h('p', { id: 'portal-error', class: 'error', role: 'alert' });
  const buttons = h('div', { class: 'actions' });
  const run = async (button, method, path, after) => {
    status.textContent = '';
    error.textContent = '';
    const label = button.textContent;
    buttons.querySelectorAll('button').forEach((b) => { b.disabled = true; });
    button.textContent = cw.working;
    try {
      const got = await ctx.api(method, path, {});
      c.portal_enabled = got.client.portal_enabled;
      c.portal_closed = got.client.portal_closed;
      render();
      status.textContent = after(got);
    } catch (e) {
      error.textContent = refused(ctx, e);
      buttons.querySelectorAll('button').forEach((b) => { b.disabled = false; });
      button.textContent = label;
    }
  };
  const sent = (got) => (got.sent_by === 'sms' ? cw.sentSMS : cw.sentEmail);
  const path = (what) => `/api/panel/clients/${encodeURIComponent(c.id)}/${what}`;
  const render = () => {
    state.textContent = c.portal_enabled ? cw.portalIsOn : (c.portal_closed ? cw.portalIsClosed : cw.portalIsOff);
    section.dataset.portal = c.portal_enabled ? 'on' : (c.portal_closed ? 'closed' : 'off');
    if (!c.portal_enabled) {
      const enable = h('button', { type: 'button', class: 'primary', id: 'portal-enable', onclick: () => run(enable, 'POST', path('portal'), sent) }, cw.enable);
      buttons.replaceChildren(enable);
      return;
    }
    const resend = h('button', { type: 'button', id: 'portal-resend', onclick: () => run(resend, 'POST', path('enrolment'), sent) }, cw.resend);
    const disable = h('button', { type: 'button', class: 'danger', id: 'portal-disable', onclick: async () => {
      if (await confirmDialog(cw.disableConfirm, cw.disable, cw.keep)) run(disable, 'DELETE', path('portal'), () => cw.disabled);
    } }, cw.disable);
    buttons.replaceChildren(resend, disable);
  };
  const section = h('section', { id: 'client-portal', class: 'card' }, h('h2', {}, cw.portal), state, h('p', { class: 'hint' }, cw.portalHint), buttons, status, error);
  render();
  return section;
}

// sessionsSection: the clinician's sessions with the client, upcoming first (soonest on top),
// then past ones (latest on top), each with its status.
function sessionsSection(ctx, sessions) {
  const cw = ctx.words.clients;
  // The bridge's status says whether a session is over (its clock, not this browser's).
  const over = (s) => s.status === 'ended' || s.status === 'cancelled';
  const upcoming = sessions.filter((s) => !over(s)).sort((a, b) => a.start - b.start);
  const past = sessions.filter(over).sort((a, b) => b.start - a.start);
  const item = (s) => h('li', { class: 'client-session', 'data-session': s.id, 'data-status': s.status },
    h('span', { class: 'when' }, ctx.when(s)), ' · ',
    h('span', { class: 'kind' }, s.kind === 'phone' ? cw.phoneKind : cw.video), ' · ',
    h('span', { class: 'status' }, cw.sessionStatus[s.status] || s.status));
  const group = (id, label, list) => [h('h3', {}, label),
    list.length ? h('ol', { class: 'sessions', id }, list.map(item)) : h('p', { class: 'hint', id }, cw.noSessions)];
  return h('section', { id: 'client-sessions', class: 'card' }, h('h2', {}, cw.sessions),
    group('client-upcoming', cw.upcoming, upcoming), group('client-past', cw.past, past));
}

// messagesSection is the record's thread with the client, which panelmessages.js draws when the
// bridge has it; until then the section stays hidden.
function messagesSection(ctx, clientID) {
  const section = h('section', { id: 'client-messages', class: 'card', hidden: true },
    h('h2', {}, ctx.words.clients.messages), h('p', { class: 'hint' }, ctx.words.clients.messagesSoon));
  import('./panelmessages.js')
    .then((m) => {
      if (typeof m.mountClientMessages !== 'function') return;
      section.replaceChildren();
      section.hidden = false;
      m.mountClientMessages(section, clientID);
    })
    .catch(() => { /* no message thread in this bridge: the section stays hidden */ });
  return section;
}
