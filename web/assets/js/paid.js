// paid.js: where the payment page sends the client back (/paid?status=paid|cancelled). The
// session page kept its own address in this tab's storage before leaving: the client goes back
// there, so that no link of theirs was ever given to the payment provider.
import { h, show } from './dom.js';
import { t, setLocale } from './i18n.js';
import './paymentwords.js';

const back = sessionStorage.getItem('telehealth-pay-return');
const lang = sessionStorage.getItem('telehealth-pay-lang');
if (lang) setLocale(lang);
const paid = new URLSearchParams(location.search).get('status') === 'paid';
if (back && back.startsWith('/')) {
  sessionStorage.removeItem('telehealth-pay-return');
  location.replace(back);
} else {
  show(h('main', { class: 'card' }, h('h1', {}, t('paidTitle')),
    h('p', { id: 'paid-result' }, paid ? t('paidThanks') : t('paidCancelled')),
    h('p', {}, t('paidNoReturn'))));
}
