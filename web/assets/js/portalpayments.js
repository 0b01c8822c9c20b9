// portalpayments.js: the portal's Payment & Insurances tab (docs/web-api.md, "Payments"): the
// client's payments with their receipts, Pay for one still owed, the payment mode saved at the
// provider (never card data here), their insurance details, and pictures of their insurance
// card (documents of kind insurance_card, opened through the documents' door).
import { request } from './api.js';
import { h } from './dom.js';
import { t, locale } from './i18n.js';
import { addPortalTab } from './portalhome.js';
import './paymentwords.js';

addPortalTab({ id: 'payments', label: 'tabPayments', order: 40, render: paymentsTab });

function day(ms) {
  return new Intl.DateTimeFormat(locale(), { day: 'numeric', month: 'long', year: 'numeric' }).format(new Date(ms));
}

async function paymentsTab() {
  const box = h('div', { class: 'payments-tab' });
  let data;
  try {
    data = await request('GET', '/api/portal/payments');
  } catch (e) {
    box.replaceChildren(h('p', { class: 'error', role: 'alert' }, t('paymentsError')));
    return box;
  }
  const status = h('p', { class: 'status', role: 'status', id: 'payments-status' });
  const pay = async (p, button) => {
    button.disabled = true;
    status.textContent = t('payOpening');
    try {
      const out = await request('POST', `/api/portal/payments/${p.id}/pay`, { body: {} });
      location.assign(out.url);
    } catch (e) {
      button.disabled = false;
      status.textContent = e.message || t('error');
    }
  };
  const rows = data.payments.map((p) => {
    const button = h('button', { type: 'button', class: 'primary', 'data-pay': p.id }, t('payNow'));
    button.onclick = () => pay(p, button);
    return h('tr', { 'data-payment': p.id, 'data-status': p.status },
      h('td', {}, day(p.date)),
      h('td', {}, p.service),
      h('td', {}, p.amount_text),
      h('td', { class: 'payment-status' }, t('paymentStatus')[p.status] || p.status),
      h('td', {}, p.receipt_url ? h('a', { href: p.receipt_url, target: '_blank', rel: 'noopener noreferrer' }, t('receipt')) : (p.can_pay ? button : '')));
  });
  const table = rows.length
    ? h('table', { class: 'payments-table', id: 'payments-table' },
      h('thead', {}, h('tr', {}, ...['paymentDate', 'paymentService', 'paymentAmount', 'paymentState', 'receipt'].map((k) => h('th', { scope: 'col' }, t(k))))),
      h('tbody', {}, rows))
    : h('p', { class: 'empty' }, t('noPayments'));

  const insurer = h('input', { id: 'insurer', type: 'text', maxlength: 100, value: data.insurance.insurer || '', autocomplete: 'off' });
  const member = h('input', { id: 'member_id', type: 'text', maxlength: 64, value: data.insurance.member_id || '', autocomplete: 'off' });
  const saved = h('p', { class: 'status', role: 'status', id: 'insurance-status' });
  const form = h('form', { class: 'insurance-form', id: 'insurance-form', onsubmit: async (e) => {
    e.preventDefault();
    saved.textContent = '';
    try {
      await request('PUT', '/api/portal/insurance', { body: { insurer: insurer.value, member_id: member.value } });
      saved.textContent = t('insuranceSaved');
    } catch (err) {
      saved.textContent = err.message || t('error');
    }
  } },
  h('div', { class: 'field' }, h('label', { for: 'insurer' }, t('insurer')), insurer),
  h('div', { class: 'field' }, h('label', { for: 'member_id' }, t('memberId')), member),
  h('div', { class: 'actions' }, h('button', { type: 'submit' }, t('saveInsurance'))), saved);

  box.replaceChildren(
    h('h2', {}, t('paymentsTitle')), table, status,
    h('h2', {}, t('paymentModeTitle')),
    h('p', { id: 'payment-mode' }, data.payment_mode ? t('paymentModeSaved', { mode: data.payment_mode }) : t('paymentModeNone')),
    h('h2', {}, t('insuranceTitle')), form, cardsSection(data.insurance_cards || []));
  return box;
}

// cardsSection lists the pictures of the client's insurance card and adds one.
function cardsSection(cards) {
  const list = h('ul', { class: 'sessions card-list', id: 'card-list' });
  const draw = () => {
    list.replaceChildren(...(cards.length ? cards.map((c) => h('li', { class: 'session-item card-item', 'data-document': c.id },
      h('span', { class: 'when' }, c.name.includes('-back') ? t('cardBack') : t('cardFront')),
      h('p', { class: 'meta' }, t('cardAdded', { date: day(c.shared_at) })),
      h('a', { class: 'button', href: `/api/portal/documents/${c.id}/file`, target: '_blank', rel: 'noopener' }, t('cardOpen'))))
      : [h('li', { class: 'empty' }, t('cardsNone'))]));
  };
  draw();
  const side = h('select', { id: 'card-side' }, h('option', { value: 'front' }, t('cardFront')), h('option', { value: 'back' }, t('cardBack')));
  const file = h('input', { id: 'card-file', type: 'file', accept: 'image/png,image/jpeg,image/webp' });
  const send = h('button', { type: 'submit', id: 'card-send' }, t('cardSend'));
  const status = h('p', { class: 'status', role: 'status', id: 'card-status' });
  const error = h('p', { class: 'error', role: 'alert', id: 'card-error' });
  const form = h('form', { class: 'card-form', id: 'card-form' },
    h('div', { class: 'field' }, h('label', { for: 'card-side' }, t('cardSide')), side),
    h('div', { class: 'field' }, h('label', { for: 'card-file' }, t('cardFile')), file),
    h('div', { class: 'actions' }, send), status, error);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    status.textContent = '';
    error.textContent = '';
    const body = new FormData();
    body.append('side', side.value);
    if (file.files[0]) body.append('file', file.files[0]);
    send.disabled = true;
    status.textContent = t('cardSending');
    try {
      const resp = await fetch('/api/portal/insurance/cards', { method: 'POST', body, credentials: 'same-origin', headers: { 'X-Requested-With': 'telehealth' } });
      let out = {};
      try { out = await resp.json(); } catch (e) { out = {}; }
      if (!resp.ok) throw new Error(out.error || t('cardError'));
      cards.unshift(out);
      draw();
      form.reset();
      status.textContent = t('cardSent');
    } catch (e) {
      status.textContent = '';
      error.textContent = e.message || t('cardError'); // the chosen side and file stay
    } finally {
      send.disabled = false;
    }
  });
  return h('section', { id: 'insurance-cards' }, h('h2', {}, t('cardsTitle')), h('p', { class: 'hint' }, t('cardsHint')), list, form);
}
