// panelservices.js: the clinic's price list on the panel (docs/payments.md). Every clinician
// reads it (it fills "Require payment" at booking); admins add, change and archive services.
import { h, show } from './dom.js';
import { t, addStrings } from './i18n.js';
import './paymentwords.js';

addStrings({
  en: {
    psOpen: 'Services',
    psTitle: 'Services and prices',
    psIntro: 'The services the clinic charges for. "Require payment" at booking offers them; the amount can be changed for one booking.',
    psAdminOnly: 'Only the clinic\'s admins change the price list.',
    psName: 'Name', psDuration: 'Duration (minutes)', psPrice: 'Price', psCurrency: 'Currency',
    psAdd: 'Add the service', psArchive: 'Archive', psRestore: 'Offer again', psArchived: 'archived',
    psBack: 'Back', psEmpty: 'No services yet.', psSaved: 'Saved.',
  },
  fr: {
    psOpen: 'Prestations',
    psTitle: 'Prestations et tarifs',
    psIntro: 'Les prestations facturées par le cabinet. « Demander un paiement » les propose à la réservation ; le montant peut être changé pour une réservation.',
    psAdminOnly: 'Seuls les administrateurs du cabinet modifient les tarifs.',
    psName: 'Nom', psDuration: 'Durée (minutes)', psPrice: 'Prix', psCurrency: 'Devise',
    psAdd: 'Ajouter la prestation', psArchive: 'Archiver', psRestore: 'Proposer à nouveau', psArchived: 'archivée',
    psBack: 'Retour', psEmpty: 'Aucune prestation pour le moment.', psSaved: 'Enregistré.',
  },
});

export async function servicesPage({ api, header, back }) {
  const list = h('ul', { class: 'sessions', id: 'services-list' });
  const status = h('p', { class: 'status', role: 'status', id: 'services-status' });
  let canEdit = false;
  const save = async (method, path, body) => {
    status.textContent = '';
    try {
      await api(method, path, body);
      status.textContent = t('psSaved');
      await reload();
    } catch (e) {
      status.textContent = e.message || t('error');
    }
  };
  async function reload() {
    const out = await api('GET', '/api/panel/services?all=1');
    canEdit = out.can_edit;
    list.replaceChildren(...(out.services.length ? out.services.map((sv) => h('li', { class: 'session-card', 'data-service': sv.id },
      h('strong', {}, sv.name), ' ', h('span', { class: 'hint' }, `${sv.duration_minutes} min · ${sv.price_text}${sv.archived ? ' · ' + t('psArchived') : ''}`), ' ',
      canEdit ? h('button', { type: 'button', onclick: () => save('PUT', `/api/panel/services/${sv.id}`, { ...sv, archived: !sv.archived, price_text: undefined, id: undefined }) },
        sv.archived ? t('psRestore') : t('psArchive')) : null)) : [h('li', { class: 'empty' }, t('psEmpty'))]));
  }
  await reload();
  const field = (id, label, input) => h('div', { class: 'field' }, h('label', { for: id }, label), input);
  const name = h('input', { id: 'service-name', type: 'text', maxlength: 100, required: true });
  const minutes = h('input', { id: 'service-minutes', type: 'number', min: 5, max: 720, value: 50 });
  const price = h('input', { id: 'service-price', type: 'number', min: 0, step: 'any', inputmode: 'decimal' });
  const currency = h('input', { id: 'service-currency', type: 'text', maxlength: 3, value: 'EUR' });
  const form = canEdit ? h('form', { class: 'card', id: 'service-form', onsubmit: (e) => {
    e.preventDefault();
    save('POST', '/api/panel/services', { name: name.value, duration_minutes: Number(minutes.value), price: Math.round(Number(price.value) * 10 ** currencyDigits(currency.value)), currency: currency.value });
  } }, field('service-name', t('psName'), name), field('service-minutes', t('psDuration'), minutes), field('service-price', t('psPrice'), price),
  field('service-currency', t('psCurrency'), currency), h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, t('psAdd'))))
    : h('p', { class: 'hint' }, t('psAdminOnly'));
  show(header(), h('main', { class: 'panel', id: 'services-page' },
    h('h1', {}, t('psTitle')), h('p', {}, t('psIntro')), list, status, form,
    h('div', { class: 'actions' }, h('button', { type: 'button', id: 'ps-back', onclick: back }, t('psBack')))));
}

// currencyDigits is how many digits the currency's minor unit has (ISO 4217, as the bridge's
// CurrencyDigits): 2 for EUR, 0 for JPY. An unknown code counts 2; the bridge refuses it.
function currencyDigits(code) {
  try {
    return new Intl.NumberFormat('en', { style: 'currency', currency: code.trim().toUpperCase() }).resolvedOptions().maximumFractionDigits;
  } catch (e) {
    return 2;
  }
}
