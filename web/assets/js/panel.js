// panel.js: the clinician's web panel. Upcoming & Ongoing sessions, New Scheduled Session,
// edit and cancel, guest links, and the Attendees Access Panel. Signed in with the cookie a
// one-time !login link sets.
import { request, follow, ApiError } from './api.js';
import { h, show, message } from './dom.js';
import { t, setLocale, stateName, locale } from './i18n.js';
import { AttendeesPanel, confirmDialog } from './lobby.js';

setLocale((navigator.language || 'en').slice(0, 2));
const words = locale() === 'fr' ? {
  panel: 'Téléconsultation', upcoming: 'Séances à venir et en cours', newSession: 'Nouvelle séance', signOut: 'Se déconnecter',
  signedOut: 'Pour vous connecter, envoyez !login au bot dans votre salon de contrôle : il vous envoie un lien de connexion.',
  none: 'Aucune séance à venir.', enter: 'Entrer dans la séance', start: 'Démarrer la séance', attendees: 'Participants', edit: 'Modifier',
  cancelSession: 'Annuler la séance', cancelConfirm: 'Annuler cette séance ? Les participants en seront informés.',
  notSent: '{what} non envoyé : {why}', kinds: { confirmation: 'Confirmation', reminder: 'Rappel', window_open: 'Lien de la salle d\'attente', reschedule: 'Changement d\'horaire', cancellation: 'Annulation', phone_intro: 'Annonce de l\'appel' },
  waitingNow: '{n} en attente', link: 'Lien', copy: 'Copier le lien', copied: 'Copié', newLink: 'Nouveau lien', revoke: 'Retirer le lien',
  date: 'Date', time: 'Heure', duration: 'Durée', zone: 'Fuseau horaire de la séance', name: 'Nom ou initiales du participant',
  invite: 'Invitation et rappels', byEmail: 'Par e-mail', bySMS: 'Par SMS', noInvite: 'Pas d\'invitation', email: 'E-mail du participant',
  phone: 'Téléphone mobile du participant', region: 'Pays du numéro (pour un numéro national)', international: 'International (+…)',
  participantZone: 'Fuseau horaire du participant', language: 'Langue du participant', kind: 'Type', video: 'Vidéo', phoneKind: 'Téléphone',
  admission: 'Admission', manual: 'Je fais entrer chaque participant', auto: 'Entrée automatique une fois que je suis là',
  save: 'Enregistrer', back: 'Retour', minutes: '{n} min', status: { scheduled: 'programmée', open: 'salle d\'attente ouverte', live: 'en cours' },
} : {
  panel: 'Telehealth', upcoming: 'Upcoming & Ongoing', newSession: 'New Scheduled Session', signOut: 'Sign out',
  signedOut: 'To sign in, send !login to the bot in your control room: it sends you a sign-in link.',
  none: 'No upcoming sessions.', enter: 'Enter Meeting', start: 'Start Session', attendees: 'Attendees', edit: 'Edit',
  cancelSession: 'Cancel session', cancelConfirm: 'Cancel this session? The participants will be told.',
  notSent: '{what} not sent: {why}', kinds: { confirmation: 'Confirmation', reminder: 'Reminder', window_open: 'Waiting room link', reschedule: 'New time', cancellation: 'Cancellation', phone_intro: 'Call announcement' },
  waitingNow: '{n} waiting', link: 'Link', copy: 'Copy link', copied: 'Copied', newLink: 'New link', revoke: 'Withdraw link',
  date: 'Date', time: 'Time', duration: 'Duration', zone: 'Session time zone', name: 'Participant name or initials',
  invite: 'Session invite and reminders', byEmail: 'E-mail invitation', bySMS: 'Text message invitation', noInvite: 'No invitation', email: 'Participant e-mail',
  phone: 'Participant mobile phone', region: 'Country of the number (for a national number)', international: 'International (+…)',
  participantZone: 'Participant time zone', language: 'Participant language', kind: 'Kind', video: 'Video', phoneKind: 'Telephone',
  admission: 'Admission', manual: 'I let each participant in', auto: 'Participants enter by themselves once I am in',
  save: 'Save', back: 'Back', minutes: '{n} min', status: { scheduled: 'scheduled', open: 'waiting room open', live: 'in progress' },
};
const w = (key, vars = {}) => String(words[key]).replace(/\{(\w+)\}/g, (_, k) => vars[k] ?? '');

let stopFollow = null;

function signedOut() {
  if (stopFollow) stopFollow();
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

function header(me) {
  return h('header', { class: 'panel-header' },
    h('strong', {}, words.panel), h('span', { class: 'user' }, me.user_id),
    h('button', { type: 'button', id: 'sign-out', onclick: async () => { await api('POST', '/api/panel/logout', {}); signedOut(); } }, words.signOut));
}

let me = null;

// home is Upcoming & Ongoing. It follows the clinician's sessions: a knock, a status change or
// an unsent reminder shows without a reload.
async function home() {
  if (stopFollow) { stopFollow(); stopFollow = null; }
  try {
    me = me || await api('GET', '/api/panel/me');
  } catch (e) {
    if (e.status !== 401) message(words.panel, e.message || t('error'));
    return;
  }
  if (stopFollow) stopFollow(); // another view may have started while we asked who we are
  stopFollow = follow('/api/panel/sessions', {
    onState: (list) => {
      const sessions = list.sessions || [];
      show(header(me), h('main', { class: 'panel' },
        h('h1', {}, words.upcoming),
        h('div', { class: 'actions' }, h('button', { type: 'button', class: 'primary', id: 'new-session', onclick: () => sessionForm(null) }, words.newSession)),
        sessions.length ? h('ol', { class: 'sessions', id: 'sessions' }, sessions.map(sessionCard)) : h('p', {}, words.none)));
    },
    onError: (e) => { if (e.status === 401) signedOut(); else message(words.panel, e.message || t('error')); },
  });
}

function sessionCard(ps) {
  const s = ps.session;
  const l = s.local;
  const waiting = ps.participants.filter((p) => p.state === 'waiting');
  return h('li', { class: 'session-card', 'data-session': s.id },
    h('h2', {}, `${l.date} · ${l.start}–${l.end} (${l.zone_abbr})`),
    h('p', { class: 'status' }, (words.status[s.status] || s.status) + (waiting.length ? ' · ' + w('waitingNow', { n: waiting.length }) + ': ' : '')),
    s.kind === 'phone' ? h('p', { class: 'kind', 'data-kind': 'phone' }, [words.phoneKind, ...ps.participants.map((p) => p.phone).filter(Boolean)].join(' · ')) : null,
    waiting.length ? h('p', { class: 'waiting-names' }, waiting.map((p) => p.name).join(', ')) : null,
    h('ul', { class: 'participants' }, ps.participants.map((p) => participantRow(s, p))),
    h('div', { class: 'actions' },
      h('button', { type: 'button', class: 'primary', 'data-action': 'enter', onclick: () => enter(s.id) }, s.status === 'live' ? words.enter : words.start),
      h('button', { type: 'button', 'data-action': 'attendees', onclick: () => attendees(s.id) }, words.attendees),
      h('button', { type: 'button', 'data-action': 'edit', onclick: () => sessionForm(ps) }, words.edit),
      h('button', { type: 'button', class: 'danger', 'data-action': 'cancel', onclick: () => cancelSession(s.id) }, words.cancelSession)));
}

function participantRow(s, p) {
  const copy = p.link ? h('button', { type: 'button', 'data-action': 'copy-link', onclick: async () => {
    try { await navigator.clipboard.writeText(p.link); copy.textContent = words.copied; } catch (e) { /* shown in the field */ }
  } }, words.copy) : null;
  return h('li', { class: 'participant', 'data-number': p.number, 'data-state': p.state },
    h('span', { class: 'name' }, p.name), ' · ', h('span', { class: 'state' }, stateName(p.state)),
    ...(p.problems || []).map((n) => h('p', { class: 'notice-problem', 'data-kind': n.kind },
      w('notSent', { what: `${words.kinds[n.kind] || n.kind} (${{ sms: 'SMS', matrix: 'Matrix' }[n.channel] || 'e-mail'})`, why: n.reason }))),
    p.link ? h('input', { class: 'link', type: 'text', readonly: true, value: p.link, 'aria-label': `${words.link} ${p.name}` }) : null,
    copy,
    h('button', { type: 'button', 'data-action': 'new-link', onclick: () => act(s.id, 'link', String(p.number)).then(home) }, words.newLink),
    p.link ? h('button', { type: 'button', 'data-action': 'revoke', onclick: () => act(s.id, 'revoke', String(p.number)).then(home) }, words.revoke) : null);
}

function act(id, action, participant = '', text = '') {
  return api('POST', `/api/panel/sessions/${encodeURIComponent(id)}/${action}`, { participant, text });
}

async function enter(id) {
  const { url } = await act(id, 'enter');
  window.open(url, '_blank', 'noopener');
}

async function cancelSession(id) {
  if (!(await confirmDialog(words.cancelConfirm, words.cancelSession))) return;
  await act(id, 'cancel');
  home();
}

// attendees: one session's Attendees Access Panel, following its lobby.
function attendees(id) {
  if (stopFollow) { stopFollow(); stopFollow = null; }
  const panel = new AttendeesPanel(async (action, participant, text) => {
    const view = await act(id, action, participant, text);
    render(view);
  });
  const title = h('h1', {});
  const endButton = h('button', { type: 'button', class: 'danger', id: 'end-for-all', onclick: async () => {
    if (await confirmDialog(t('endConfirm'), t('endForAll'))) { await act(id, 'end'); home(); }
  } }, t('endForAll'));
  const render = (view) => {
    const l = view.session.local;
    title.textContent = `${l.date} · ${l.start}–${l.end} (${l.zone_abbr})`;
    panel.render(view.participants, view.session.lobby_message);
  };
  show(header(me), h('main', { class: 'panel' },
    h('p', {}, h('button', { type: 'button', onclick: home }, words.back)),
    title, panel.el,
    h('div', { class: 'actions' }, h('button', { type: 'button', class: 'primary', onclick: () => enter(id) }, words.enter), endButton)));
  stopFollow = follow(`/api/panel/sessions/${encodeURIComponent(id)}`, {
    onState: render,
    onError: (e) => { if (e.status === 401) signedOut(); else message(words.panel, e.message); },
  });
}

// timeOptions lists the times of a day every quarter hour, written the browser's way
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

function zoneSelect(id, selected) {
  const zones = Intl.supportedValuesOf ? Intl.supportedValuesOf('timeZone') : [selected];
  if (!zones.includes(selected)) zones.unshift(selected);
  return h('select', { id, name: id }, zones.map((z) => h('option', { value: z, selected: z === selected }, z)));
}

function field(id, label, control, hint = '') {
  return h('div', { class: 'field', 'data-field': id },
    h('label', { for: id }, label), control, hint ? h('p', { class: 'hint' }, hint) : null,
    h('p', { class: 'error', id: id + '-error', role: 'alert' }));
}

// sessionForm is New Scheduled Session, or Edit (which moves the session) for an existing one.
function sessionForm(existing) {
  if (stopFollow) { stopFollow(); stopFollow = null; }
  const browserZone = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  const s = existing ? existing.session : null;
  const startISO = s ? new Date(s.start) : new Date(Date.now() + 24 * 3600 * 1000);
  const zone = s ? s.time_zone : browserZone;
  const parts = Object.fromEntries(new Intl.DateTimeFormat('en-CA', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })
    .formatToParts(startISO).map((p) => [p.type, p.value]));
  const date = h('input', { id: 'date', type: 'date', required: true, value: `${parts.year}-${parts.month}-${parts.day}` });
  const minutes = Math.round(Number(parts.minute) / 15) * 15 % 60;
  const time = h('select', { id: 'time' }, timeOptions(s ? `${parts.hour}:${String(minutes).padStart(2, '0')}` : '09:00'));
  const duration = h('select', { id: 'duration_minutes' }, [30, 45, 50, 60, 90].map((n) =>
    h('option', { value: n, selected: n === (s ? Math.round((s.end - s.start) / 60000) : 50) }, w('minutes', { n }))));
  const fields = [field('date', words.date, date), field('time', words.time, time), field('duration_minutes', words.duration, duration), field('time_zone', words.zone, zoneSelect('time_zone', zone))];

  if (!existing) {
    const name = h('input', { id: 'name', type: 'text', required: true, minlength: 2, maxlength: 64, list: 'contacts', autocomplete: 'off' });
    const contacts = h('datalist', { id: 'contacts' });
    const email = h('input', { id: 'email', type: 'email' });
    const phone = h('input', { id: 'phone', type: 'tel' });
    const region = h('select', { id: 'phone_region' },
      [['', words.international], ['FR', 'France'], ['BE', 'Belgique'], ['CH', 'Suisse'], ['CA', 'Canada'], ['US', 'United States'], ['GB', 'United Kingdom']]
        .map(([v, label]) => h('option', { value: v }, label)));
    const radio = (value, label) => h('label', { class: 'choice' }, h('input', { type: 'radio', name: 'invite', value, checked: value === 'email' }), ' ', label);
    const inviteBox = h('fieldset', { id: 'invite' }, h('legend', {}, words.invite), radio('email', words.byEmail), radio('sms', words.bySMS), radio('none', words.noInvite));
    const emailField = field('email', words.email, email);
    const phoneFields = h('div', {}, field('phone', words.phone, phone), field('phone_region', words.region, region));
    const kind = h('select', { id: 'kind' }, h('option', { value: 'video' }, words.video), h('option', { value: 'phone' }, words.phoneKind));
    // A telephone session needs the number to call, whatever the invitation.
    const updateInvite = () => {
      const mode = inviteBox.querySelector('input:checked').value;
      const needsPhone = mode === 'sms' || kind.value === 'phone';
      emailField.hidden = mode !== 'email';
      phoneFields.hidden = !needsPhone;
      email.required = mode === 'email';
      phone.required = needsPhone;
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
    const participantZone = zoneSelect('participant_time_zone', zone);
    const lang = h('select', { id: 'locale' }, [['en', 'English'], ['fr', 'Français']].map(([v, l]) => h('option', { value: v, selected: v === locale() }, l)));
    const fill = (c) => {
      email.value = c.email || '';
      phone.value = c.phone || '';
      lang.value = c.locale || 'en';
      participantZone.value = c.time_zone || zone;
      const radioEl = inviteBox.querySelector(`input[value="${c.invite}"]`);
      if (radioEl) radioEl.checked = true;
      updateInvite();
    };
    const admission = h('select', { id: 'admission' }, h('option', { value: 'manual' }, words.manual), h('option', { value: 'auto' }, words.auto));
    fields.push(field('name', words.name, h('div', {}, name, contacts), t('nameHint')), inviteBox, emailField, phoneFields,
      field('participant_time_zone', words.participantZone, participantZone), field('locale', words.language, lang),
      field('kind', words.kind, kind), field('admission', words.admission, admission));
    updateInvite();
  }

  const formError = h('p', { class: 'error', role: 'alert', id: 'form-error' });
  // The bridge checks every field and says what is wrong next to it (novalidate: the
  // browser's own bubbles would hide those messages).
  const form = h('form', { class: 'card session-form', id: 'session-form', novalidate: true, onsubmit: async (e) => {
    e.preventDefault();
    form.querySelectorAll('.error').forEach((el) => { el.textContent = ''; });
    const v = (id) => { const el = form.querySelector('#' + id); return el ? el.value : ''; };
    const body = { date: v('date'), time: v('time'), time_zone: v('time_zone'), duration_minutes: Number(v('duration_minutes')) };
    if (!existing) {
      Object.assign(body, {
        name: v('name'), invite: form.querySelector('input[name="invite"]:checked').value, email: v('email'), phone: v('phone'),
        phone_region: v('phone_region'), participant_time_zone: v('participant_time_zone'), locale: v('locale'), kind: v('kind'), admission: v('admission'),
        client_id: Number(form.querySelector('#name').dataset.clientId || 0),
      });
    }
    try {
      if (existing) await api('PUT', `/api/panel/sessions/${encodeURIComponent(s.id)}`, body);
      else await api('POST', '/api/panel/sessions', body);
    } catch (err) {
      const f = (err.code || '').startsWith('field:') ? err.code.slice(6) : '';
      const slot = f && form.querySelector(`#${f}-error`);
      (slot || formError).textContent = err.message || t('error');
      const input = f && form.querySelector('#' + f);
      if (input) input.focus();
      return;
    }
    home();
  } },
  h('h1', {}, existing ? words.edit : words.newSession),
  fields, formError,
  h('div', { class: 'actions' },
    h('button', { type: 'button', onclick: home }, words.back),
    h('button', { type: 'submit', class: 'primary', id: 'save' }, words.save)));
  show(header(me || { user_id: '' }), h('main', { class: 'panel' }, form));
}

home();
