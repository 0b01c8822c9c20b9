// zones.js: time zones as people look for them. A search box over a list of city names with
// their offset today ("Paris — UTC+01:00"), the clinic's zone first; the IANA ID
// (Europe/Paris) is only a detail under the list. The <select> keeps the IANA ID as its value.
import { h } from './dom.js';

// French names of cities whose English name a French speaker would not type, and cities
// people look for that are not a zone's own name.
const aliases = {
  'America/Toronto': ['Montréal', 'Québec', 'Ottawa'],
  'America/Halifax': ['Moncton'],
  'Europe/London': ['Londres'],
  'Europe/Brussels': ['Bruxelles'],
  'Europe/Zurich': ['Genève', 'Geneva', 'Lausanne', 'Berne'],
  'Europe/Lisbon': ['Lisbonne'],
  'Europe/Vienna': ['Vienne'],
  'Europe/Warsaw': ['Varsovie'],
  'Europe/Athens': ['Athènes'],
  'Europe/Moscow': ['Moscou'],
  'Europe/Copenhagen': ['Copenhague'],
  'Europe/Luxembourg': ['Luxembourg'],
  'Africa/Algiers': ['Alger'],
  'Indian/Reunion': ['La Réunion', 'Saint-Denis'],
  'Pacific/Noumea': ['Nouméa'],
  'America/Martinique': ['Fort-de-France'],
  'America/Guadeloupe': ['Pointe-à-Pitre'],
  'America/Cayenne': ['Guyane'],
  'Asia/Calcutta': ['Kolkata', 'Mumbai', 'Delhi', 'Bombay'],
  'Europe/Kiev': ['Kiev'],
  'Asia/Saigon': ['Saigon'],
  'America/Los_Angeles': ['San Francisco', 'Seattle'],
  'America/New_York': ['Boston', 'Washington'],
};
const frNames = {
  'Europe/London': 'Londres', 'Europe/Brussels': 'Bruxelles', 'Europe/Lisbon': 'Lisbonne', 'Europe/Vienna': 'Vienne',
  'Europe/Warsaw': 'Varsovie', 'Europe/Athens': 'Athènes', 'Europe/Moscow': 'Moscou', 'Europe/Copenhagen': 'Copenhague',
  'Africa/Algiers': 'Alger', 'Indian/Reunion': 'La Réunion', 'Pacific/Noumea': 'Nouméa', 'America/Cayenne': 'Cayenne',
};

// Chromium lists some zones under their old IANA names: show the city as it is called today.
const todayNames = {
  'Asia/Calcutta': 'Kolkata', 'Europe/Kiev': 'Kyiv', 'Asia/Saigon': 'Ho Chi Minh City', 'Asia/Katmandu': 'Kathmandu',
  'Asia/Rangoon': 'Yangon', 'America/Godthab': 'Nuuk', 'Africa/Asmera': 'Asmara', 'Atlantic/Faeroe': 'Faroe Islands',
  'Pacific/Truk': 'Chuuk', 'Pacific/Ponape': 'Pohnpei', 'Pacific/Enderbury': 'Kanton', 'America/Coral_Harbour': 'Atikokan',
  'Antarctica/DumontDUrville': 'Dumont d\'Urville',
};

function cityOf(zone, locale) {
  if (locale === 'fr' && frNames[zone]) return frNames[zone];
  if (todayNames[zone]) return todayNames[zone];
  if (zone === 'UTC') return 'UTC';
  const parts = zone.split('/').map((p) => p.replace(/_/g, ' '));
  // America/North_Dakota/Center: "Center (North Dakota)".
  return parts.length > 2 ? `${parts[2]} (${parts[1]})` : parts[parts.length - 1];
}

// offsetOf is the zone's offset from UTC now, in minutes and as text ("UTC+05:30").
function offsetOf(zone, now) {
  let text = 'GMT';
  try {
    const part = new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'longOffset' })
      .formatToParts(now).find((p) => p.type === 'timeZoneName');
    text = part ? part.value : 'GMT';
  } catch (e) { /* an unknown zone reads as UTC */ }
  const m = /GMT([+-])(\d{2}):(\d{2})/.exec(text);
  const minutes = m ? (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])) : 0;
  return { minutes, text: m ? `UTC${m[1]}${m[2]}:${m[3]}` : 'UTC' };
}

function genericName(zone, locale, now) {
  try {
    const part = new Intl.DateTimeFormat(locale, { timeZone: zone, timeZoneName: 'longGeneric' })
      .formatToParts(now).find((p) => p.type === 'timeZoneName');
    return part ? part.value : '';
  } catch (e) { return ''; }
}

// fold makes searching forgiving: no case, no accents.
const fold = (s) => s.normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase();

let cache = null;

// allZones lists every zone the browser knows, with what a search may match, sorted by
// offset then city.
function allZones(locale) {
  if (cache && cache.locale === locale) return cache.zones;
  const now = new Date();
  const ids = Intl.supportedValuesOf ? Intl.supportedValuesOf('timeZone') : [];
  if (!ids.includes('UTC')) ids.push('UTC');
  const zones = ids.map((id) => {
    const offset = offsetOf(id, now);
    const city = cityOf(id, locale);
    return {
      id, city, offset, label: `${city} — ${offset.text}`,
      search: fold([city, id.replace(/_/g, ' '), genericName(id, locale, now), ...(aliases[id] || [])].join(' ')),
    };
  });
  zones.sort((a, b) => a.offset.minutes - b.offset.minutes || a.city.localeCompare(b.city, locale));
  cache = { locale, zones };
  return zones;
}

// zonePicker is a field's control: a search box (#<id>-search), the list (#<id>) and the
// selected zone's IANA ID as a detail (#<id>-detail). first is the clinic's zone.
export function zonePicker(id, selected, { first, locale, words }) {
  const now = new Date();
  const zones = allZones(locale);
  const known = (z) => z && zones.some((x) => x.id === z);
  const entry = (z) => zones.find((x) => x.id === z) || { id: z, label: `${cityOf(z, locale)} — ${offsetOf(z, now).text}`, search: fold(z) };
  const option = (z) => h('option', { value: z.id, selected: z.id === selected, 'data-search': z.search }, z.label);
  const groups = [];
  if (first) {
    groups.push(h('optgroup', { label: words.zoneClinic }, option(entry(first))));
  }
  if (selected && !known(selected) && selected !== first) groups.push(option(entry(selected)));
  groups.push(h('optgroup', { label: words.zoneAll }, zones.filter((z) => z.id !== first).map(option)));
  const select = h('select', { id, name: id }, groups);
  const detail = h('p', { class: 'hint zone-detail', id: id + '-detail' });
  const none = h('p', { class: 'hint zone-none', id: id + '-none', hidden: true });
  const search = h('input', {
    id: id + '-search', type: 'search', class: 'zone-search', autocomplete: 'off',
    placeholder: words.zoneSearch, 'aria-label': words.zoneSearch, 'aria-controls': id,
  });
  const showDetail = () => { detail.textContent = select.value ? words.zoneID.replace('{id}', select.value) : ''; };
  search.addEventListener('input', () => {
    const q = fold(search.value.trim());
    let firstMatch = null;
    for (const o of select.options) {
      const match = !q || (o.dataset.search || '').includes(q);
      o.hidden = !match;
      if (match && !firstMatch) firstMatch = o;
    }
    for (const g of select.querySelectorAll('optgroup')) g.hidden = ![...g.children].some((o) => !o.hidden);
    none.hidden = !!firstMatch;
    none.textContent = firstMatch ? '' : words.zoneNone.replace('{q}', search.value.trim());
    if (firstMatch && select.selectedOptions[0] && select.selectedOptions[0].hidden) {
      select.value = firstMatch.value;
      select.dispatchEvent(new Event('change', { bubbles: true }));
    }
    showDetail();
  });
  select.addEventListener('change', showDetail);
  showDetail();
  const box = h('div', { class: 'zone-picker' }, search, select, none, detail);
  // The form reads the select; fill() sets it like this.
  box.setZone = (z) => {
    // A zone the browser lists under another name (Asia/Kolkata, Asia/Calcutta) is added as it is.
    if (z && ![...select.options].some((o) => o.value === z)) select.prepend(option(entry(z)));
    select.value = z;
    showDetail();
  };
  return box;
}
