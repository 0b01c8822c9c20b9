// paybox.js: "Payment required" and the Pay button on the client's session page. Pay opens
// the provider's checkout; the page keeps its own address in this tab's storage, so that the
// /paid page the provider returns to brings the client back here.
import { request } from './api.js';
import { h } from './dom.js';
import { t, locale } from './i18n.js';
import { errorText } from './callwords.js';
import './paymentwords.js';

export function paymentBox(payment, auth) {
  if (!payment) return null;
  if (payment.status === 'paid') return h('p', { id: 'payment', class: 'status', 'data-status': 'paid' }, t('paymentPaid'));
  if (payment.status === 'waived' || payment.status === 'refunded') return null;
  const error = h('p', { id: 'pay-error', class: 'error', role: 'alert' });
  const pay = h('button', { type: 'button', class: 'primary', id: 'pay' }, t('payNow'));
  pay.onclick = async () => {
    pay.disabled = true;
    error.textContent = t('payOpening');
    try {
      const out = await request('POST', '/api/call/pay', { auth, body: {} });
      sessionStorage.setItem('telehealth-pay-return', location.pathname + location.search);
      sessionStorage.setItem('telehealth-pay-lang', locale());
      location.assign(out.url);
    } catch (e) {
      pay.disabled = false;
      error.textContent = errorText(e);
    }
  };
  return h('section', { id: 'payment', class: 'payment', 'data-status': payment.status, 'aria-labelledby': 'payment-title' },
    h('h2', { id: 'payment-title' }, t('paymentRequired')),
    h('p', {}, t('paymentDueIntro', { amount: payment.amount_text, service: payment.service })),
    payment.status === 'pending' ? h('p', { class: 'hint' }, t('paymentPending')) : null,
    payment.can_pay ? h('div', { class: 'actions' }, pay) : null,
    error);
}
