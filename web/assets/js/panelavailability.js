// panelavailability.js: the clinician's Availability page on the panel, over
// GET/PUT /api/panel/availability (their own availability only: the address names nobody).
// Weekly hours, session types, notice, horizon, days off and self-scheduling on or off; a
// refused field shows its reason next to it.
import { h, show } from './dom.js';
import { t, addStrings } from './i18n.js';

addStrings({
  en: {
    avOpen: 'Availability',
    avTitle: 'Your availability',
    avIntro: 'Clients assigned to you can book these times themselves in their portal, in their own time zone.',
    avOn: 'Clients may book online (self-scheduling)',
    avZone: 'Your time zone',
    avHours: 'Weekly hours',
    avAddHours: 'Add hours',
    avTypes: 'Session types',
    avAddType: 'Add a session type',
    avTypeName: 'Name',
    avMinutes: 'Minutes',
    avKind: 'Kind',
    avVideo: 'Video',
    avPhone: 'Telephone',
    avNotice: 'Minimum notice (hours)',
    avHorizon: 'Bookable up to (days ahead)',
    avDaysOff: 'Days off',
    avAddDayOff: 'Add a day off',
    avRemove: 'Remove',
    avSave: 'Save',
    avSaving: 'Saving…',
    avSaved: 'Your availability is saved.',
    avBack: 'Back',
    avError: 'Something went wrong. Please try again.',
    avFrom: 'From',
    avTo: 'To',
    avDay: 'Day',
    avDays: ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'],
    // The bridge words its refusals in English; English pages show them as they are.
    avFieldErrors: {},
  },
  fr: {
    avOpen: 'Disponibilités',
    avTitle: 'Vos disponibilités',
    avIntro: 'Les clients qui vous sont assignés peuvent réserver ces horaires eux-mêmes dans leur portail, dans leur propre fuseau horaire.',
    avOn: 'Les clients peuvent réserver en ligne (prise de rendez-vous en ligne)',
    avZone: 'Votre fuseau horaire',
    avHours: 'Horaires de la semaine',
    avAddHours: 'Ajouter des horaires',
    avTypes: 'Types de séance',
    avAddType: 'Ajouter un type de séance',
    avTypeName: 'Nom',
    avMinutes: 'Minutes',
    avKind: 'Type',
    avVideo: 'Vidéo',
    avPhone: 'Téléphone',
    avNotice: 'Délai minimum (heures)',
    avHorizon: 'Réservable jusqu\u2019à (jours à l\u2019avance)',
    avDaysOff: 'Jours de congé',
    avAddDayOff: 'Ajouter un jour de congé',
    avRemove: 'Retirer',
    avSave: 'Enregistrer',
    avSaving: 'Enregistrement…',
    avSaved: 'Vos disponibilités sont enregistrées.',
    avBack: 'Retour',
    avError: 'Une erreur est survenue. Veuillez réessayer.',
    avFrom: 'De',
    avTo: 'À',
    avDay: 'Jour',
    avDays: ['Dimanche', 'Lundi', 'Mardi', 'Mercredi', 'Jeudi', 'Vendredi', 'Samedi'],
    // The bridge's refusals, by the last part of the field they name.
    avFieldErrors: {
      time_zone: 'Choisissez un fuseau horaire de la liste.',
      hours: 'Trop de plages horaires dans la semaine.',
      day: 'Le jour doit être du lundi au dimanche.',
      start: 'Ces horaires ne sont pas valables, ou chevauchent d\u2019autres horaires du même jour.',
      end: 'La fin doit être après le début.',
      types: 'Ce type de séance n\u2019existe pas, ou il y en a trop.',
      name: 'Le nom doit avoir de 2 à 60 caractères.',
      duration_minutes: 'La durée doit être de 5 minutes à 12 heures.',
      kind: 'Choisissez vidéo ou téléphone.',
      min_notice_minutes: 'Le délai minimum va de 0 à 30 jours.',
      horizon_days: 'L\u2019horizon de réservation va de 1 à 365 jours.',
      days_off: 'Ce jour de congé n\u2019est pas une date valable.',
    },
  },
});

const DAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];
const WEEK = [1, 2, 3, 4, 5, 6, 0]; // Monday first

// slot is a field with its own error line: the server's "field:<name>" refusals land there.
function slot(name, label, control) {
  return h('div', { class: 'field', 'data-field': name }, h('label', {}, label, ' ', control), h('p', { class: 'error', role: 'alert' }));
}

function zones(selected) {
  let all = [];
  try { all = Intl.supportedValuesOf('timeZone'); } catch (e) { all = []; }
  if (!all.includes('UTC')) all = ['UTC', ...all];
  if (selected && !all.includes(selected)) all = [selected, ...all];
  return all.map((z) => h('option', { value: z, selected: z === selected }, z));
}

// availabilityPage shows the signed-in clinician's availability. api is the panel's API call
// (a lapsed sign-in shows the signed-out page), header its header, back the way home.
export async function availabilityPage({ api, header, back }) {
  const av = await api('GET', '/api/panel/availability');
  if (av.time_zone === 'UTC' && av.hours.length === 0) {
    av.time_zone = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  }
  const days = t('avDays');
  const hoursList = h('ol', { class: 'av-list', id: 'av-hours' });
  const typesList = h('ol', { class: 'av-list', id: 'av-types' });
  const offList = h('ol', { class: 'av-list', id: 'av-days-off' });
  const remove = (row) => h('button', { type: 'button', class: 'link', onclick: () => row.remove() }, t('avRemove'));

  function hoursRow(hr = { day: 'monday', start: '09:00', end: '12:00' }) {
    const i = hoursList.children.length;
    const row = h('li', { class: 'av-hours' });
    row.append(
      slot(`hours[${i}].day`, t('avDay'), h('select', { class: 'av-day' }, WEEK.map((d) => h('option', { value: DAYS[d], selected: DAYS[d] === hr.day }, days[d])))),
      slot(`hours[${i}].start`, t('avFrom'), h('input', { class: 'av-start', type: 'time', step: 300, value: hr.start })),
      slot(`hours[${i}].end`, t('avTo'), h('input', { class: 'av-end', type: 'time', step: 300, value: hr.end === '24:00' ? '23:59' : hr.end })),
      remove(row));
    hoursList.append(row);
  }
  function typeRow(ty = { name: '', duration_minutes: 50, kind: 'video' }) {
    const i = typesList.children.length;
    const row = h('li', { class: 'av-type', 'data-id': ty.id ? String(ty.id) : '' });
    row.append(
      slot(`types[${i}].name`, t('avTypeName'), h('input', { class: 'av-type-name', type: 'text', value: ty.name, maxlength: 80 })),
      slot(`types[${i}].duration_minutes`, t('avMinutes'), h('input', { class: 'av-type-minutes', type: 'number', min: 5, max: 720, step: 5, value: ty.duration_minutes })),
      slot(`types[${i}].kind`, t('avKind'), h('select', { class: 'av-type-kind' },
        h('option', { value: 'video', selected: ty.kind === 'video' }, t('avVideo')),
        h('option', { value: 'phone', selected: ty.kind === 'phone' }, t('avPhone')))),
      remove(row));
    typesList.append(row);
  }
  function offRow(day = '') {
    const i = offList.children.length;
    const row = h('li', { class: 'av-day-off' });
    row.append(slot(`days_off[${i}]`, t('avDay'), h('input', { class: 'av-off', type: 'date', value: day })), remove(row));
    offList.append(row);
  }
  av.hours.forEach(hoursRow);
  av.types.forEach(typeRow);
  av.days_off.forEach(offRow);

  const on = h('input', { type: 'checkbox', id: 'av-on', checked: av.self_scheduling });
  const zone = h('select', { id: 'av-zone' }, zones(av.time_zone));
  const notice = h('input', { id: 'av-notice', type: 'number', min: 0, max: 720, step: 1, value: Math.round(av.min_notice_minutes / 60) });
  const horizon = h('input', { id: 'av-horizon', type: 'number', min: 1, max: 365, value: av.horizon_days });
  const status = h('p', { id: 'av-status', role: 'status', class: 'hint' });
  const formError = h('p', { id: 'av-error', class: 'error', role: 'alert' });
  const save = h('button', { type: 'submit', class: 'primary', id: 'av-save' }, t('avSave'));

  function clearErrors(form) {
    for (const p of form.querySelectorAll('.error')) p.textContent = '';
  }
  // body reads the form as PUT /api/panel/availability takes it; the rows are renumbered as
  // they are now, so that a field error names the row on screen.
  function body(form) {
    const renumber = (list, prefix) => [...list.children].forEach((row, i) => {
      for (const f of row.querySelectorAll('[data-field]')) f.dataset.field = f.dataset.field.replace(/^[a-z_]+\[\d+\]/, `${prefix}[${i}]`);
    });
    renumber(hoursList, 'hours');
    renumber(typesList, 'types');
    renumber(offList, 'days_off');
    return {
      time_zone: zone.value, self_scheduling: on.checked,
      min_notice_minutes: Math.round(Number(notice.value || 0) * 60), horizon_days: Number(horizon.value || 0),
      slot_step_minutes: av.slot_step_minutes || 0,
      hours: [...hoursList.children].map((row) => ({
        day: row.querySelector('.av-day').value, start: row.querySelector('.av-start').value,
        end: row.querySelector('.av-end').value === '23:59' ? '24:00' : row.querySelector('.av-end').value,
      })),
      types: [...typesList.children].map((row) => ({
        ...(row.dataset.id ? { id: Number(row.dataset.id) } : {}),
        name: row.querySelector('.av-type-name').value.trim(), duration_minutes: Number(row.querySelector('.av-type-minutes').value || 0),
        kind: row.querySelector('.av-type-kind').value,
      })),
      days_off: [...offList.children].map((row) => row.querySelector('.av-off').value).filter(Boolean),
    };
  }

  const form = h('form', { id: 'availability-form', class: 'panel-form', novalidate: true, onsubmit: async (e) => {
    e.preventDefault();
    clearErrors(form);
    status.textContent = '';
    save.disabled = true;
    save.textContent = t('avSaving');
    try {
      const saved = await api('PUT', '/api/panel/availability', body(form));
      // New session types now have their IDs: keep them, so that a second save updates them.
      [...typesList.children].forEach((row, i) => { if (saved.types[i]) row.dataset.id = String(saved.types[i].id); });
      status.textContent = t('avSaved');
    } catch (err) {
      const name = (err.code || '').startsWith('field:') ? err.code.slice(6) : '';
      const where = name && (form.querySelector(`[data-field="${CSS.escape(name)}"] .error`) ||
        form.querySelector(`[data-field="${CSS.escape(name.replace(/\..*$/, ''))}"] .error`));
      const said = t('avFieldErrors')[name.replace(/^.*\./, '').replace(/\[\d+\]$/, '')];
      (where || formError).textContent = said || err.message || t('avError');
    } finally {
      save.disabled = false;
      save.textContent = t('avSave');
    }
  } },
  h('h1', {}, t('avTitle')),
  h('p', {}, t('avIntro')),
  h('div', { class: 'field', 'data-field': 'self_scheduling' }, h('label', { class: 'check' }, on, ' ', t('avOn'))),
  slot('time_zone', t('avZone'), zone),
  h('h2', {}, t('avHours')), h('div', { 'data-field': 'hours' }, hoursList, h('p', { class: 'error', role: 'alert' })),
  h('button', { type: 'button', id: 'av-add-hours', onclick: () => hoursRow() }, t('avAddHours')),
  h('h2', {}, t('avTypes')), h('div', { 'data-field': 'types' }, typesList, h('p', { class: 'error', role: 'alert' })),
  h('button', { type: 'button', id: 'av-add-type', onclick: () => typeRow() }, t('avAddType')),
  slot('min_notice_minutes', t('avNotice'), notice),
  slot('horizon_days', t('avHorizon'), horizon),
  h('h2', {}, t('avDaysOff')), h('div', { 'data-field': 'days_off' }, offList, h('p', { class: 'error', role: 'alert' })),
  h('button', { type: 'button', id: 'av-add-day-off', onclick: () => offRow() }, t('avAddDayOff')),
  h('div', { class: 'actions' }, h('button', { type: 'button', id: 'av-back', onclick: back }, t('avBack')), save),
  status, formError);
  form.addEventListener('input', (e) => {
    const f = e.target.closest('[data-field]');
    const err = f && f.querySelector('.error');
    if (err) err.textContent = '';
  });
  show(header(), h('main', { class: 'panel' }, form));
}
