// panel.js: the clinician's web panel. Upcoming & Ongoing sessions, New Scheduled Session,
// edit and cancel, guest links, and the Attendees Access Panel. Signed in with the cookie a
// one-time !login link sets.
import { request, follow, ApiError } from './api.js';
import { h, show, message } from './dom.js';
import { t, setLocale, stateName, locale } from './i18n.js';
import { AttendeesPanel, confirmDialog, bookedAndJoined } from './lobby.js';
import './paymentwords.js';
import { panelWords } from './panelwords.js';
import { zonePicker } from './zones.js';
import { availabilityPage } from './panelavailability.js';
import { clientsPage } from './panelclients.js';
import { prospectsPage } from './panelprospects.js';
import { formsPage } from './panelforms.js';
import { servicesPage } from './panelservices.js';
import { documentsPage, templatePicker, formsWord } from './paneldocuments.js';

setLocale((navigator.language || 'en').slice(0, 2));
const { words, w, notSent, fieldError, refusal } = panelWords(locale());
document.title = words.panel;

let stopFollow = null; // the view's own long poll (the Attendees Access Panel's)
let stopSessions = null; // the clinician's sessions, followed while signed in
let me = null;
let sessions = []; // the latest list, for the view that shows it
let onSessions = null; // the view that shows the list, if it is on screen

function stopAll() {
  if (stopFollow) { stopFollow(); stopFollow = null; }
  if (stopSessions) { stopSessions(); stopSessions = null; }
}

function signedOut() {
  stopAll();
  waitingBadge(0);
  message(words.panel, words.signedOut);
}

// api calls the panel API. A lapsed sign-in shows the signed-out page, and the call never
// completes: whatever was under way stops there.
async function api(method, path, body) {
  try {
    return await request(method, path, { body });
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) {
      signedOut();
      return new Promise(() => {});
    }
    throw e;
  }
}

// When someone waits: the tab says so ("(1) Waiting — Telehealth"), the icon carries the
// count, and, if the clinician turned it on, a short sound when the count goes up.
const soundKey = 'telehealth-panel:sound';
const alerts = { waiting: 0, beeps: 0, audio: null };
window.telehealthPanel = alerts; // read by the browser tests

function soundOn() { return localStorage.getItem(soundKey) === 'on'; }

// Browsers let a page play sound only once the person has acted on it: after a reload the
// first click anywhere on the panel makes the chosen sound audible again.
function wakeSound() {
  if (!soundOn()) return;
  try { alerts.audio = alerts.audio || new AudioContext(); alerts.audio.resume(); } catch (e) { /* no sound */ }
}
document.addEventListener('click', wakeSound, { capture: true });

function beep() {
  alerts.beeps++;
  try {
    alerts.audio = alerts.audio || new AudioContext();
    const ctx = alerts.audio;
    const osc = ctx.createOscillator();
    const gain = ctx.createGain();
    osc.frequency.value = 880;
    gain.gain.setValueAtTime(0.15, ctx.currentTime);
    gain.gain.exponentialRampToValueAtTime(0.001, ctx.currentTime + 0.4);
    osc.connect(gain).connect(ctx.destination);
    osc.start();
    osc.stop(ctx.currentTime + 0.4);
  } catch (e) { /* no sound in this browser: the title and icon still say it */ }
}

function favicon(n) {
  let link = document.querySelector('link[rel="icon"]');
  if (!link) link = document.head.appendChild(h('link', { rel: 'icon' }));
  if (!n) { link.href = 'data:,'; return; }
  const c = document.createElement('canvas');
  c.width = c.height = 32;
  const g = c.getContext('2d');
  g.fillStyle = '#c62828';
  g.beginPath(); g.arc(16, 16, 16, 0, 2 * Math.PI); g.fill();
  g.fillStyle = '#fff';
  g.font = 'bold 20px sans-serif';
  g.textAlign = 'center'; g.textBaseline = 'middle';
  g.fillText(n > 9 ? '9+' : String(n), 16, 17);
  link.href = c.toDataURL('image/png');
}

function waitingBadge(n) {
  if (n > alerts.waiting && soundOn()) beep();
  alerts.waiting = n;
  document.title = n ? w('waitingTitle', { n, panel: words.panel }) : words.panel;
  favicon(n);
}

// followSessions keeps the clinician's sessions and the waiting badge up to date, whatever
// view is on screen.
function followSessions() {
  if (stopSessions) return;
  stopSessions = follow('/api/panel/sessions', {
    onState: (list) => {
      sessions = list.sessions || [];
      waitingBadge(sessions.reduce((n, ps) => n + ps.participants.filter((p) => p.state === 'waiting').length, 0));
      if (onSessions) onSessions();
    },
    onError: (e) => {
      stopSessions = null;
      if (e.status === 401) signedOut(); else message(words.panel, refusal(e, t('error')));
    },
  });
}

function header() {
  const sound = h('input', { type: 'checkbox', id: 'sound', checked: soundOn(), onchange: () => {
    localStorage.setItem(soundKey, sound.checked ? 'on' : 'off');
    wakeSound(); // this click is the person acting on the page
  } });
  return h('header', { class: 'panel-header' },
    h('strong', {}, words.panel), h('span', { class: 'user' }, me ? me.user_id : ''),
    h('label', { class: 'sound-toggle' }, sound, ' ', words.sound),
    h('button', { type: 'button', id: 'sign-out', onclick: async () => { await api('POST', '/api/panel/logout', {}); signedOut(); } }, words.signOut));
}

// when is a session's date and times in its own zone, written the panel's way.
function when(s) {
  const opts = { timeZone: s.time_zone };
  const day = new Intl.DateTimeFormat(locale(), { ...opts, weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' }).format(new Date(s.start));
  const clock = new Intl.DateTimeFormat(locale(), { ...opts, hour: 'numeric', minute: '2-digit' });
  const zone = new Intl.DateTimeFormat(locale(), { ...opts, timeZoneName: 'short' }).formatToParts(new Date(s.start)).find((p) => p.type === 'timeZoneName');
  return `${day} · ${clock.format(new Date(s.start))}–${clock.format(new Date(s.end))} (${zone ? zone.value : s.time_zone})`;
}

// home is Upcoming & Ongoing. It follows the clinician's sessions: a knock, a status change or
// an unsent reminder shows without a reload.
async function home() {
  if (stopFollow) { stopFollow(); stopFollow = null; }
  try {
    me = me || await api('GET', '/api/panel/me');
  } catch (e) {
    if (e.status !== 401) message(words.panel, refusal(e, t('error')));
    return;
  }
  onSessions = () => {
    show(header(), h('main', { class: 'panel' },
      h('h1', {}, words.upcoming), problemBar,
      h('div', { class: 'actions' }, h('button', { type: 'button', class: 'primary', id: 'new-session', onclick: () => sessionForm(null) }, words.newSession),
        h('button', { type: 'button', id: 'open-clients', onclick: () => { onSessions = null; clientsPage({ api, header, back: home, words, refusal, when, clinicZone: me && me.clinic_time_zone }); } }, words.clients.open),
        h('button', { type: 'button', id: 'open-availability', onclick: () => { onSessions = null; availabilityPage({ api, header, back: home }); } }, t('avOpen')),
        h('button', { type: 'button', id: 'open-prospects', onclick: () => { onSessions = null; prospectsPage({ api, header, back: home, pw: panelWords(locale()) }); } }, words.prOpen),
        h('button', { type: 'button', id: 'open-forms', onclick: () => { onSessions = null; formsPage({ api, header, back: home }); } }, t('pfOpen')),
        h('button', { type: 'button', id: 'open-services', onclick: () => { onSessions = null; servicesPage({ api, header, back: home }).catch((e) => message(words.panel, refusal(e, t('error')))); } }, t('psOpen')),
        h('button', { type: 'button', id: 'open-documents', onclick: () => { onSessions = null; documentsPage({ api, header, back: home }); } }, t('pdOpen'))),
      sessions.length ? h('ol', { class: 'sessions', id: 'sessions' }, sessions.map(sessionCard)) : h('p', {}, words.none)));
  };
  if (stopSessions) onSessions(); else followSessions();
}

function sessionCard(ps) {
  const s = ps.session;
  const waiting = ps.participants.filter((p) => p.state === 'waiting');
  return h('li', { class: 'session-card', 'data-session': s.id },
    h('h2', {}, when(s)),
    // A telephone session has no waiting room and no call page: the clinician calls.
    h('p', { class: 'status' }, (s.kind === 'phone' && s.status === 'open' ? words.status.scheduled : (words.status[s.status] || s.status)) + (waiting.length ? ' · ' + w('waitingNow', { n: waiting.length }) + words.colon : '')),
    s.kind === 'phone' ? h('p', { class: 'kind', 'data-kind': 'phone' }, [words.phoneKind, ...ps.participants.map((p) => p.phone).filter(Boolean)].join(' · ')) : null,
    ps.call ? h('p', { class: 'call-state', 'data-state': ps.call.state, role: 'status' },
      ps.call.state === 'failed' ? `${words.callStates.failed} ${words.callProblems[ps.call.problem] || ps.call.words}` : (words.callStates[ps.call.state] || ps.call.words)) : null,
    waiting.length ? h('p', { class: 'waiting-names' }, waiting.map((p) => bookedAndJoined(p)).join(', ')) : null,
    h('ul', { class: 'participants' }, ps.participants.map((p) => participantRow(s, p))),
    h('div', { class: 'actions' },
      ps.can_call && !(ps.call && ['ringing_clinician', 'clinician_answered', 'ringing_client', 'connected'].includes(ps.call.state)) ? h('button', { type: 'button', class: 'primary', 'data-action': 'call', title: words.callHint, onclick: () => attempt(() => act(s.id, 'call').then(home)) }, words.callNow) : null,
      s.kind === 'phone' ? null : h('button', { type: 'button', class: 'primary', 'data-action': 'enter', onclick: () => attempt(() => enter(s.id)) }, s.status === 'live' ? words.enter : words.start),
      h('button', { type: 'button', 'data-action': 'attendees', onclick: () => attendees(s.id) }, words.attendees),
      h('button', { type: 'button', 'data-action': 'edit', onclick: () => sessionForm(ps) }, words.edit),
      h('button', { type: 'button', class: 'danger', 'data-action': 'cancel', onclick: () => attempt(() => cancelSession(s.id)) }, words.cancelSession)));
}

function participantRow(s, p) {
  const copy = p.link ? h('button', { type: 'button', 'data-action': 'copy-link', onclick: async () => {
    try { await navigator.clipboard.writeText(p.link); copy.textContent = words.copied; } catch (e) { /* shown in the field */ }
  } }, words.copy) : null;
  const booked = p.booked_name || p.name;
  return h('li', { class: 'participant', 'data-number': p.number, 'data-state': p.state },
    h('span', { class: 'name' }, booked),
    p.joined_name ? h('span', { class: 'joined-as' }, ' — ', w('joinedAs', { name: p.joined_name })) : null,
    ' · ', h('span', { class: 'state' }, stateName(p.state)),
    p.documents ? h('span', { class: 'doc-ack', 'data-documents': p.documents }, ' · ', t(p.documents === 'acknowledged' ? 'pdAcked' : 'pdNotAcked')) : null,
    p.forms ? h('span', { class: 'doc-forms', 'data-forms': p.forms }, ' · ', formsWord(p.forms)) : null,
    ...(p.problems || []).map((n) => h('p', { class: 'notice-problem', 'data-kind': n.kind }, notSent(n.kind, n.channel, n.reason))),
    p.move_requested && p.move_requested.length ? h('p', { class: 'move-requested' }, w('moveRequested', { times: p.move_requested.map((m) => `${m.local.date} ${m.local.start}`).join(words.timesSep) })) : null,
    p.link ? h('input', { class: 'link', type: 'text', readonly: true, value: p.link, 'aria-label': `${words.link} ${booked}` }) : null,
    copy,
    h('button', { type: 'button', 'data-action': 'new-link', onclick: () => attempt(() => act(s.id, 'link', String(p.number)).then(home)) }, words.newLink),
    p.link ? h('button', { type: 'button', 'data-action': 'revoke', onclick: () => attempt(() => act(s.id, 'revoke', String(p.number)).then(home)) }, words.revoke) : null,
    p.can_text ? textForm(s, p) : null);
}

// problemBar says why the last action on a session did not work (it stays across the
// list's refreshes until the next action).
const problemBar = h('p', { class: 'error', id: 'panel-error', role: 'alert' });

// attempt runs a button's action; a refusal shows in the problem bar, in the panel's language.
async function attempt(action) {
  problemBar.textContent = '';
  try {
    await action();
  } catch (e) {
    problemBar.textContent = refusal(e, t('error'));
  }
}

// textDrafts keeps what the clinician is writing across the list's re-renders (the list is
// drawn again whenever any session changes).
const textDrafts = new Map();

// textForm: a text message of the clinician's own to the participant, with what to keep out.
function textForm(s, p) {
  const id = `text-${s.id}-${p.number}`;
  const draft = textDrafts.get(id);
  const area = h('textarea', { id, maxlength: 300, rows: 3, cols: 60, 'aria-label': `${words.sendText}: ${p.name}`, 'aria-describedby': id + '-hint' });
  area.value = draft || '';
  area.addEventListener('input', () => textDrafts.set(id, area.value));
  const status = h('p', { class: 'error', role: 'status' });
  const box = h('details', { class: 'text-message', 'data-action': 'text', open: draft !== undefined },
    h('summary', {}, words.sendText),
    h('form', { novalidate: true, onsubmit: async (e) => {
      e.preventDefault();
      try {
        await act(s.id, 'sms', String(p.number), area.value);
        area.value = '';
        textDrafts.delete(id);
        status.textContent = words.textQueued;
      } catch (err) { status.textContent = err.message; }
    } },
    area,
    h('p', { class: 'hint', id: id + '-hint' }, words.textHint),
    h('button', { type: 'submit' }, words.textSend), status));
  box.addEventListener('toggle', () => { if (box.open && !textDrafts.has(id)) textDrafts.set(id, area.value); if (!box.open) textDrafts.delete(id); });
  return box;
}

function act(id, action, participant = '', text = '') {
  return api('POST', `/api/panel/sessions/${encodeURIComponent(id)}/${action}`, { participant, text });
}

// enter opens the call in a new tab, in the panel's language.
async function enter(id) {
  const { url } = await act(id, 'enter');
  const [page, token] = url.split('#');
  window.open(`${page}?lang=${locale()}#${token}`, '_blank', 'noopener');
}

async function cancelSession(id) {
  if (!(await confirmDialog(words.cancelConfirm, words.cancelSession, words.keepSession))) return;
  await act(id, 'cancel');
  home();
}

// attendees: one session's Attendees Access Panel, following its lobby.
function attendees(id) {
  if (stopFollow) { stopFollow(); stopFollow = null; }
  onSessions = null;
  const panel = new AttendeesPanel(async (action, participant, text) => {
    try {
      render(await act(id, action, participant, text));
    } catch (e) {
      const err = new Error(refusal(e, t('error')));
      err.code = e.code; // the panel asks "Admit without payment?" on payment_due
      throw err;
    }
  });
  const title = h('h1', {});
  const endButton = h('button', { type: 'button', class: 'danger', id: 'end-for-all', onclick: async () => {
    attempt(async () => { if (await confirmDialog(t('endConfirm'), t('endForAll'))) { await act(id, 'end'); home(); } });
  } }, t('endForAll'));
  const render = (view) => {
    title.textContent = when(view.session);
    panel.render(view.participants, view.session.lobby_message);
  };
  show(header(), h('main', { class: 'panel' },
    h('p', {}, h('button', { type: 'button', onclick: home }, words.back)),
    title, problemBar, panel.el,
    h('div', { class: 'actions' }, h('button', { type: 'button', class: 'primary', onclick: () => attempt(() => enter(id)) }, words.enter), endButton)));
  stopFollow = follow(`/api/panel/sessions/${encodeURIComponent(id)}`, {
    onState: render,
    onError: (e) => { if (e.status === 401) signedOut(); else message(words.panel, refusal(e, t('error'))); },
  });
}

// paymentFields: "Require payment" at booking, a service of the price list and its amount
// (filled in from the price, editable). Hidden where the bridge takes no payments.
function paymentFields() {
  const box = h('fieldset', { class: 'field', id: 'payment-fields', hidden: true });
  api('GET', '/api/panel/services').then((out) => {
    const services = out.services || [];
    const service = h('select', { id: 'payment_service_id' }, services.map((sv) => h('option', { value: sv.id, 'data-digits': sv.digits }, `${sv.name} — ${sv.price_text}`)));
    const amount = h('input', { id: 'payment_amount', type: 'number', min: 0, step: '0.01', inputmode: 'decimal' });
    const fill = () => {
      const sv = services.find((x) => String(x.id) === service.value);
      if (sv) {
        amount.step = sv.digits ? String(10 ** -sv.digits) : '1';
        amount.value = (sv.price / 10 ** sv.digits).toFixed(sv.digits);
      }
    };
    service.onchange = fill;
    fill();
    const details = h('div', { hidden: true },
      field('payment_service_id', t('paymentServiceLabel'), service), field('payment_amount', t('paymentAmountLabel'), amount));
    const check = h('input', { id: 'require_payment', type: 'checkbox', disabled: services.length === 0, onchange: () => { details.hidden = !check.checked; } });
    box.replaceChildren(h('label', { for: 'require_payment' }, check, ' ', t('requirePayment')),
      services.length ? details : h('p', { class: 'hint' }, t('noServices')));
    box.hidden = false;
  }).catch(() => { /* no payments on this bridge: the form books without them */ });
  return box;
}

// timeOptions lists the times of a day every quarter hour, written the panel's way
// (AM/PM in English, 24 hours in French); the value is always HH:MM.
function timeOptions(selected) {
  const fmt = new Intl.DateTimeFormat(navigator.language || 'en', { hour: 'numeric', minute: '2-digit' });
  const out = [];
  for (let m = 0; m < 24 * 60; m += 15) {
    const value = `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
    out.push(h('option', { value, selected: value === selected }, fmt.format(new Date(2000, 0, 1, Math.floor(m / 60), m % 60))));
  }
  return out;
}

function field(id, label, control, hint = '') {
  return h('div', { class: 'field', 'data-field': id },
    h('label', { for: id }, label), control, hint ? h('p', { class: 'hint' }, hint) : null,
    h('p', { class: 'error', id: id + '-error', role: 'alert' }));
}

// regionOptions: the countries a national number may be from, named in the panel's language.
function regionOptions() {
  let names = null;
  try { names = new Intl.DisplayNames([locale()], { type: 'region' }); } catch (e) { names = null; }
  return [['', words.international], ...['FR', 'BE', 'CH', 'CA', 'US', 'GB'].map((c) => [c, names ? names.of(c) : c])]
    .map(([v, label]) => h('option', { value: v }, label));
}

const emailPattern = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

// sessionForm is New Scheduled Session, or Edit (which moves the session) for an existing one.
// It never fails silently: every refusal shows next to its field (a field that is hidden sends
// nothing, so it cannot be refused), and anything else under the Save button.
function sessionForm(existing) {
  if (stopFollow) { stopFollow(); stopFollow = null; }
  onSessions = null;
  const browserZone = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  const clinicZone = (me && me.clinic_time_zone) || '';
  const s = existing ? existing.session : null;
  const startISO = s ? new Date(s.start) : new Date(Date.now() + 24 * 3600 * 1000);
  const zone = s ? s.time_zone : (clinicZone || browserZone);
  const parts = Object.fromEntries(new Intl.DateTimeFormat('en-CA', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })
    .formatToParts(startISO).map((p) => [p.type, p.value]));
  const date = h('input', { id: 'date', type: 'date', required: true, value: `${parts.year}-${parts.month}-${parts.day}` });
  const minutes = Math.round(Number(parts.minute) / 15) * 15 % 60;
  const time = h('select', { id: 'time' }, timeOptions(s ? `${parts.hour}:${String(minutes).padStart(2, '0')}` : '09:00'));
  const duration = h('select', { id: 'duration_minutes' }, [30, 45, 50, 60, 90].map((n) =>
    h('option', { value: n, selected: n === (s ? Math.round((s.end - s.start) / 60000) : 50) }, w('minutes', { n }))));
  const zones = (id, selected) => zonePicker(id, selected, { first: clinicZone || browserZone, locale: locale(), words });
  const fields = [field('date', words.date, date), field('time', words.time, time), field('duration_minutes', words.duration, duration), field('time_zone', words.zone, zones('time_zone', zone))];

  let emailField = null;
  let phoneFields = null;
  if (!existing) {
    const name = h('input', { id: 'name', type: 'text', required: true, minlength: 2, maxlength: 64, list: 'contacts', autocomplete: 'off' });
    const contacts = h('datalist', { id: 'contacts' });
    const email = h('input', { id: 'email', type: 'email' });
    const phone = h('input', { id: 'phone', type: 'tel' });
    const region = h('select', { id: 'phone_region' }, regionOptions());
    const radio = (value, label) => h('label', { class: 'choice' }, h('input', { type: 'radio', name: 'invite', value, checked: value === 'email' }), ' ', label);
    const inviteBox = h('fieldset', { id: 'invite' }, h('legend', {}, words.invite), radio('email', words.byEmail), radio('sms', words.bySMS), radio('none', words.noInvite),
      h('p', { class: 'error', id: 'invite-error', role: 'alert' }));
    emailField = field('email', words.email, email);
    phoneFields = h('div', { class: 'phone-fields' }, field('phone', words.phone, phone), field('phone_region', words.region, region));
    const kind = h('select', { id: 'kind' }, h('option', { value: 'video' }, words.video), h('option', { value: 'phone' }, words.phoneKind));
    // A telephone session needs the number to call, whatever the invitation.
    const updateInvite = () => {
      const mode = inviteBox.querySelector('input:checked').value;
      const needsPhone = mode === 'sms' || kind.value === 'phone';
      emailField.hidden = mode !== 'email';
      phoneFields.hidden = !needsPhone;
      email.required = mode === 'email';
      phone.required = needsPhone;
      // What was said about a field that is now hidden no longer applies.
      form.querySelectorAll('[hidden] .error').forEach((el) => { el.textContent = ''; });
    };
    inviteBox.addEventListener('change', updateInvite);
    kind.addEventListener('change', updateInvite);
    // Pick a client or create one: the list is the clinic's client records this clinician may
    // see; picking one books that record (client_id), typing on makes a new one.
    let found = [];
    name.placeholder = locale() === 'fr' ? 'Choisissez un client ou saisissez un nouveau nom' : 'Pick a client or type a new name';
    const label = (c) => {
      const text = [c.display_name, c.emails[0] || c.phones[0]].filter(Boolean).join(' — ');
      return found.filter((o) => o !== c && o.display_name === c.display_name && (o.emails[0] || o.phones[0]) === (c.emails[0] || c.phones[0])).length ? `${text} #${c.id}` : text;
    };
    name.addEventListener('input', async () => {
      const q = name.value.trim();
      const match = found.find((c) => label(c) === name.value);
      if (match) {
        name.dataset.clientId = match.id;
        name.value = match.display_name;
        return fill({ email: match.emails[0], phone: match.phones[0], locale: match.locale, time_zone: match.time_zone, invite: match.reminders });
      }
      delete name.dataset.clientId;
      if (!q) return;
      try { found = (await api('GET', '/api/panel/clients?limit=10&q=' + encodeURIComponent(q))).clients || []; } catch (e) { found = []; }
      contacts.replaceChildren(...found.map((c) => h('option', { value: label(c) })));
    });
    const participantZone = zones('participant_time_zone', zone);
    const lang = h('select', { id: 'locale' }, [['en', 'English'], ['fr', 'Français']].map(([v, l]) => h('option', { value: v, selected: v === locale() }, l)));
    const fill = (c) => {
      email.value = c.email || '';
      phone.value = c.phone || '';
      lang.value = c.locale || 'en';
      participantZone.setZone(c.time_zone || zone);
      const radioEl = inviteBox.querySelector(`input[value="${c.invite}"]`);
      if (radioEl) radioEl.checked = true;
      updateInvite();
    };
    const admission = h('select', { id: 'admission' }, h('option', { value: 'manual' }, words.manual), h('option', { value: 'auto' }, words.auto));
    const documentsPicker = templatePicker(); // "Show participant documents"
    fields.push(field('name', words.name, h('div', {}, name, contacts), words.nameHint), inviteBox, emailField, phoneFields,
      field('participant_time_zone', words.participantZone, participantZone), field('locale', words.language, lang),
      field('kind', words.kind, kind), field('admission', words.admission, admission), paymentFields(), documentsPicker);
    queueMicrotask(updateInvite);
  }

  const formError = h('p', { class: 'error', role: 'alert', id: 'form-error' });
  const save = h('button', { type: 'submit', class: 'primary', id: 'save' }, words.save);
  const shown = (el) => el && !el.closest('[hidden]');
  // problem shows a sentence next to its field (or under the form if the field is not on
  // screen) and a pointer to it next to Save.
  const problem = (f, text) => {
    const slot = f && form.querySelector(`#${f}-error`);
    if (shown(slot)) {
      slot.textContent = text;
      formError.textContent = words.formProblem;
      const input = form.querySelector(`#${f}-search`) || form.querySelector('#' + f) || form.querySelector(`[name="${f}"]`);
      if (input && input.focus) input.focus();
      slot.scrollIntoView({ block: 'center' });
    } else {
      formError.textContent = text;
    }
  };
  // check finds what the bridge would refuse without asking it, in the panel's language.
  const check = (body) => {
    const e = words.errors;
    if (!body.date) return ['date', e.date];
    if (existing) return null;
    const name = body.name.trim();
    if ([...name].length < 2) return ['name', e.name];
    if ([...name].length > 64) return ['name', e.nameLong];
    if (body.invite === 'email' && !body.email.trim()) return ['email', e.emailMissing];
    if (body.invite === 'email' && !emailPattern.test(body.email.trim())) return ['email', e.email];
    if (body.invite === 'sms' && !body.phone.trim()) return ['phone', e.phoneMissing];
    return null;
  };
  // The bridge checks every field and says what is wrong next to it (novalidate: the
  // browser's own bubbles would hide those messages, in the browser's language).
  const form = h('form', { class: 'card session-form', id: 'session-form', novalidate: true, onsubmit: async (e) => {
    e.preventDefault();
    form.querySelectorAll('.error').forEach((el) => { el.textContent = ''; });
    const v = (id) => { const el = form.querySelector('#' + id); return el && shown(el) ? el.value : ''; };
    const body = { date: v('date'), time: v('time'), time_zone: v('time_zone'), duration_minutes: Number(v('duration_minutes')) };
    if (!existing) {
      // Only what is on screen goes: a hidden e-mail or phone field is not part of the booking.
      Object.assign(body, {
        name: v('name'), invite: form.querySelector('input[name="invite"]:checked').value, email: v('email'), phone: v('phone'),
        phone_region: v('phone_region'), participant_time_zone: v('participant_time_zone'), locale: v('locale'), kind: v('kind'), admission: v('admission'),
        client_id: Number(form.querySelector('#name').dataset.clientId || 0),
        documents: [...form.querySelectorAll('#documents input[name="documents"]:checked')].map((c) => Number(c.value)),
        forms: [...form.querySelectorAll('#forms input[name="forms"]:checked')].map((c) => Number(c.value)),
      });
      const required = form.querySelector('#require_payment');
      if (required && required.checked && v('payment_service_id')) {
        body.payment_service_id = Number(v('payment_service_id'));
        // In the currency's minor units: cents for EUR, whole yen for JPY.
        const digits = Number(form.querySelector('#payment_service_id').selectedOptions[0]?.dataset.digits ?? 2);
        body.payment_amount = Math.round(Number(v('payment_amount')) * 10 ** digits);
      }
    }
    const wrong = check(body);
    if (wrong) return problem(...wrong);
    save.disabled = true;
    save.textContent = words.saving;
    try {
      if (existing) await api('PUT', `/api/panel/sessions/${encodeURIComponent(s.id)}`, body);
      else await api('POST', '/api/panel/sessions', body);
    } catch (err) {
      const f = (err.code || '').startsWith('field:') ? err.code.slice(6) : '';
      if (f) problem(f, fieldError(f, err.message));
      else problem('', refusal(err, t('error')));
      return;
    } finally {
      save.disabled = false;
      save.textContent = words.save;
    }
    home();
  } },
  h('h1', {}, existing ? words.edit : words.newSession),
  fields,
  h('div', { class: 'actions' },
    h('button', { type: 'button', onclick: home }, words.back),
    save),
  formError);
  form.addEventListener('input', (e) => {
    const f = e.target.closest('[data-field]');
    const slot = f && f.querySelector('.error');
    if (slot) slot.textContent = '';
  });
  show(header(), h('main', { class: 'panel' }, form));
}

home();
