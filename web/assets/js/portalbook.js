// portalbook.js: the portal's "Schedule an appointment" page. The client picks one of their
// professionals who take bookings online and a session type, sees the free slots by day in
// their own zone (GET /api/portal/slots), and books one (POST /api/portal/book). The server
// books from the client's record; the page sends only the professional, the type and the slot.
import { request, ApiError } from './api.js';
import { h, show } from './dom.js';
import { t, addStrings } from './i18n.js';

addStrings({
  en: {
    bookOpen: 'Schedule an appointment',
    bookTitle: 'Schedule an appointment',
    bookIntro: 'Choose who you would like to see and the kind of appointment, then a time that suits you.',
    bookNone: 'None of your professionals takes appointments online at the moment. Please contact your clinic.',
    bookProfessional: 'Professional',
    bookType: 'Appointment',
    bookMinutes: '{minutes} min',
    bookTimesIn: 'Times are shown in your time zone ({zone}).',
    bookNoSlots: 'No free times in the next two weeks.',
    bookLater: 'Later dates',
    bookEarlier: 'Earlier dates',
    bookConfirm: 'Book {time}',
    bookDone: 'Your appointment is booked',
    bookDoneText: '{date} at {time} ({zone}) with {name}. A confirmation is on its way.',
    bookAnother: 'Schedule another',
    bookBack: 'Back',
    bookTaken: 'Someone has just booked that time. Please choose another one.',
    bookError: 'Something went wrong. Please try again.',
  },
  fr: {
    bookOpen: 'Prendre rendez-vous',
    bookTitle: 'Prendre rendez-vous',
    bookIntro: 'Choisissez la personne que vous souhaitez voir et le type de rendez-vous, puis un horaire qui vous convient.',
    bookNone: 'Aucun de vos professionnels ne prend de rendez-vous en ligne pour le moment. Veuillez contacter votre clinique.',
    bookProfessional: 'Professionnel',
    bookType: 'Rendez-vous',
    bookMinutes: '{minutes} min',
    bookTimesIn: 'Les horaires sont affichés dans votre fuseau horaire ({zone}).',
    bookNoSlots: 'Aucun horaire libre dans les deux prochaines semaines.',
    bookLater: 'Dates suivantes',
    bookEarlier: 'Dates précédentes',
    bookConfirm: 'Réserver {time}',
    bookDone: 'Votre rendez-vous est réservé',
    bookDoneText: 'Le {date} à {time} ({zone}) avec {name}. Une confirmation est en route.',
    bookAnother: 'Prendre un autre rendez-vous',
    bookBack: 'Retour',
    bookTaken: 'Quelqu\u2019un vient de réserver cet horaire. Veuillez en choisir un autre.',
    bookError: 'Une erreur est survenue. Veuillez réessayer.',
  },
});

const DAY = 24 * 60 * 60 * 1000;
const SPAN = 14 * DAY;

function zone() {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || '';
  } catch {
    return '';
  }
}

function errorText(e) {
  if (e instanceof ApiError && e.code === 'slot_taken') return t('bookTaken');
  if (e instanceof ApiError && e.message) return e.message;
  return t('bookError');
}

// schedulePage shows the page; back returns to where the client came from.
export async function schedulePage({ back }) {
  const status = h('p', { id: 'book-message', class: 'error', role: 'alert' });
  const backButton = h('button', { id: 'book-back', type: 'button', class: 'link' }, t('bookBack'));
  backButton.addEventListener('click', () => back());
  let pros = [];
  try {
    pros = (await request('GET', '/api/portal/professionals')).professionals || [];
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return back();
    status.textContent = errorText(e);
  }
  if (pros.length === 0) {
    show(h('main', { class: 'card', role: 'main' },
      h('h1', {}, t('bookTitle')), h('p', { id: 'book-none' }, t('bookNone')), status, h('div', { class: 'actions' }, backButton)));
    return;
  }
  const proSelect = h('select', { id: 'book-professional', name: 'professional' },
    pros.map((p) => h('option', { value: p.user_id }, p.name || p.user_id)));
  const typeSelect = h('select', { id: 'book-type', name: 'type' });
  const slotsBox = h('div', { id: 'book-slots', 'aria-live': 'polite' });
  const zoneNote = h('p', { class: 'hint', id: 'book-zone' });
  // from is null for the next two weeks from the server's now; later pages count from here.
  let from = null;

  const current = () => pros.find((p) => p.user_id === proSelect.value) || pros[0];
  function fillTypes() {
    typeSelect.replaceChildren(...current().types.map((ty) =>
      h('option', { value: String(ty.id) }, `${ty.name} (${t('bookMinutes', { minutes: ty.duration_minutes })})`)));
  }

  // loadSlots shows the free slots; keep leaves the message (why a booking failed) on screen.
  async function loadSlots(keep = false) {
    if (!keep) status.textContent = '';
    slotsBox.replaceChildren();
    const q = new URLSearchParams({ clinician: proSelect.value, type: typeSelect.value });
    if (from !== null) { q.set('from', String(from)); q.set('to', String(from + SPAN)); }
    if (zone()) q.set('zone', zone());
    let view;
    try {
      view = await request('GET', '/api/portal/slots?' + q);
    } catch (e) {
      status.textContent = errorText(e);
      return;
    }
    zoneNote.textContent = t('bookTimesIn', { zone: view.time_zone });
    const days = new Map();
    for (const s of view.slots) {
      if (!days.has(s.day)) days.set(s.day, []);
      days.get(s.day).push(s);
    }
    const earlier = h('button', { id: 'book-earlier', type: 'button', disabled: from === null }, t('bookEarlier'));
    const later = h('button', { id: 'book-later', type: 'button' }, t('bookLater'));
    earlier.addEventListener('click', () => { from = from - SPAN <= Date.now() ? null : from - SPAN; loadSlots(); });
    later.addEventListener('click', () => { from = (from === null ? Date.now() : from) + SPAN; loadSlots(); });
    const list = [];
    for (const [day, slots] of days) {
      list.push(h('section', { class: 'book-day', 'data-day': day },
        h('h2', {}, slots[0].local.date),
        h('div', { class: 'book-times actions' }, slots.map((s) => {
          const b = h('button', { type: 'button', class: 'slot', 'data-start': String(s.start), 'aria-label': t('bookConfirm', { time: `${s.local.date} ${s.local.start}` }) }, s.local.start);
          b.addEventListener('click', () => book(s));
          return b;
        }))));
    }
    slotsBox.replaceChildren(
      ...(list.length ? list : [h('p', { id: 'book-no-slots' }, t('bookNoSlots'))]),
      h('div', { class: 'actions' }, earlier, later));
  }

  async function book(slot) {
    for (const b of slotsBox.querySelectorAll('button')) b.disabled = true;
    status.textContent = '';
    try {
      // The confirmation reads in the zone the slots were shown in.
      const where = zone() ? '?' + new URLSearchParams({ zone: zone() }) : '';
      const out = await request('POST', '/api/portal/book' + where, { body: { clinician: proSelect.value, type: Number(typeSelect.value), start: slot.start } });
      const local = out.session.local || slot.local;
      const again = h('button', { id: 'book-another', type: 'button' }, t('bookAnother'));
      again.addEventListener('click', () => schedulePage({ back }));
      show(h('main', { class: 'card', role: 'main' },
        h('h1', { id: 'book-done' }, t('bookDone')),
        h('p', { id: 'book-done-text' }, t('bookDoneText', { date: local.date, time: local.start, zone: local.zone_abbr || local.zone || '', name: current().name || current().user_id })),
        h('div', { class: 'actions' }, again, backButton)));
    } catch (e) {
      status.textContent = errorText(e);
      await loadSlots(true);
    }
  }

  proSelect.addEventListener('change', () => { fillTypes(); from = null; loadSlots(); });
  typeSelect.addEventListener('change', () => { from = null; loadSlots(); });
  fillTypes();
  show(h('main', { class: 'card', role: 'main' },
    h('h1', { id: 'book-title' }, t('bookTitle')),
    h('p', {}, t('bookIntro')),
    h('div', { class: 'field' }, h('label', { for: 'book-professional' }, t('bookProfessional')), proSelect),
    h('div', { class: 'field' }, h('label', { for: 'book-type' }, t('bookType')), typeSelect),
    zoneNote, status, slotsBox,
    h('div', { class: 'actions' }, backButton)));
  await loadSlots();
}
