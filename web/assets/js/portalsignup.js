// portalsignup.js: the portal's public sign-up (/portal/signup) and what a prospect sees.
// Someone new gives their name, an email address or phone number, their language and time
// zone (the browser's), proves the address with a 6-digit code, and is signed in as a prospect:
// the portal then says only that the clinic will confirm their account. A client's own
// address signs them in to their record instead.
import { request, ApiError } from './api.js';
import { h, show, message } from './dom.js';
import { t, addStrings, locale } from './i18n.js';
import { zonePicker } from './zones.js';

addStrings({
  en: {
    signUpTitle: 'Sign up',
    signUpIntro: 'New to the clinic? Sign up, and the clinic will confirm your account.',
    signUpName: 'Your name',
    signUpNameHint: 'As the clinic should know you (2 characters at least).',
    signUpContact: 'Email address or mobile number',
    signUpContactHint: 'We send a code there to check it is yours. A phone number with its country code: +33 6 12 34 56 78.',
    signUpLanguage: 'Language',
    signUpTimeZone: 'Your time zone',
    signUpZoneSearch: 'Search a city or a zone', signUpZoneAll: 'All time zones', signUpZoneNone: 'No time zone matches “{q}”.', signUpZoneID: 'Time zone ID: {id}',
    signUpSend: 'Send me a code',
    signUpCodeSent: 'A 6-digit code is on its way to this address or number. It works for 10 minutes.',
    signUpCode: '6-digit code',
    signUpVerify: 'Confirm',
    signUpClosed: 'This clinic does not take sign-ups online. Please contact the clinic.',
    signUpHave: 'Already have an account? Sign in',
    signUpNew: 'New here? Sign up',
    prospectTitle: 'Thank you for signing up',
    prospectText: 'Your clinic will confirm your account. Once it has, your sessions and messages will show here: come back to this page, or sign in with a code sent to the address you gave.',
    prospectReload: 'Check again',
    english: 'English', french: 'Français',
    signUpCodes: {},
  },
  fr: {
    signUpTitle: 'Inscription',
    signUpIntro: 'Nouveau ou nouvelle au cabinet ? Inscrivez-vous : le cabinet confirmera votre compte.',
    signUpName: 'Votre nom',
    signUpNameHint: 'Tel que le cabinet doit vous connaître (2 caractères au moins).',
    signUpContact: 'Adresse e-mail ou numéro de mobile',
    signUpContactHint: 'Nous y envoyons un code pour vérifier qu\'il est à vous. Un numéro avec son indicatif : +33 6 12 34 56 78.',
    signUpLanguage: 'Langue',
    signUpTimeZone: 'Votre fuseau horaire',
    signUpZoneSearch: 'Chercher une ville ou un fuseau', signUpZoneAll: 'Tous les fuseaux horaires', signUpZoneNone: 'Aucun fuseau ne correspond à « {q} ».', signUpZoneID: 'Identifiant du fuseau : {id}',
    signUpSend: 'M\'envoyer un code',
    signUpCodeSent: 'Un code à 6 chiffres est en route vers cette adresse ou ce numéro. Il est valable 10 minutes.',
    signUpCode: 'Code à 6 chiffres',
    signUpVerify: 'Confirmer',
    signUpClosed: 'Ce cabinet ne prend pas d\'inscriptions en ligne. Veuillez contacter le cabinet.',
    signUpHave: 'Déjà un compte ? Se connecter',
    signUpNew: 'Nouveau ici ? S\'inscrire',
    prospectTitle: 'Merci de votre inscription',
    prospectText: 'Votre cabinet va confirmer votre compte. Ensuite, vos séances et vos messages s\'afficheront ici : revenez sur cette page, ou connectez-vous avec un code envoyé à l\'adresse indiquée.',
    prospectReload: 'Vérifier à nouveau',
    english: 'English', french: 'Français',
    signUpCodes: {
      signup_closed: 'Ce cabinet ne prend pas d\'inscriptions en ligne. Veuillez contacter le cabinet.',
      'field:name': 'Saisissez votre nom (2 à 64 caractères visibles).',
      'field:time_zone': 'Choisissez un fuseau horaire dans la liste.',
    },
  },
});

function errorText(e) {
  if (e instanceof ApiError) return (t('signUpCodes') || {})[e.code] || (t('codes') || {})[e.code] || e.message || t('error');
  return t('error');
}

function field(id, label, control, hint = '') {
  return h('div', { class: 'field' }, h('label', { for: id }, label), control, hint ? h('p', { class: 'hint' }, hint) : null);
}

// signUpLink is "New here? Sign up" for the sign-in page, when the clinic takes sign-ups.
export async function signUpLink() {
  try {
    await request('GET', '/api/portal/signup');
  } catch (e) {
    return null;
  }
  return h('a', { id: 'sign-up-link', href: '/portal/signup' + location.search }, t('signUpNew'));
}

// signUpPage is the sign-up form; done runs once the code is accepted (the portal's home).
export async function signUpPage({ done }) {
  try {
    await request('GET', '/api/portal/signup');
  } catch (e) {
    const back = h('a', { href: '/portal' + location.search }, t('signUpHave'));
    return message(t('signUpTitle'), e instanceof ApiError && e.status === 404 ? t('signUpClosed') : errorText(e), back);
  }
  const status = h('p', { id: 'message', class: 'error', role: 'alert' });
  const name = h('input', { id: 'signup-name', type: 'text', autocomplete: 'name', maxlength: 64, required: true });
  const contact = h('input', { id: 'signup-contact', type: 'text', autocomplete: 'email', inputmode: 'email', required: true });
  const lang = h('select', { id: 'signup-lang' },
    h('option', { value: 'en', selected: locale() !== 'fr' }, t('english')),
    h('option', { value: 'fr', selected: locale() === 'fr' }, t('french')));
  const browserZone = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  const zones = zonePicker('signup-zone', browserZone, { locale: locale(), words: {
    zoneSearch: t('signUpZoneSearch'), zoneAll: t('signUpZoneAll'),
    zoneNone: t('signUpZoneNone', { q: '{q}' }), zoneID: t('signUpZoneID', { id: '{id}' }),
  } });
  const form = () => ({
    name: name.value, contact: contact.value, lang: lang.value,
    time_zone: zones.querySelector('select').value,
  });
  const code = h('input', { id: 'signup-code', type: 'text', inputmode: 'numeric', autocomplete: 'one-time-code', maxlength: 7 });
  const codeForm = h('form', { id: 'signup-code-form', hidden: true },
    h('p', { id: 'signup-code-sent', class: 'hint' }, t('signUpCodeSent')),
    field('signup-code', t('signUpCode'), code),
    h('button', { id: 'signup-verify', class: 'primary', type: 'submit' }, t('signUpVerify')));
  const send = h('button', { id: 'signup-send', class: 'primary', type: 'submit' }, t('signUpSend'));
  const details = h('form', { id: 'signup-form' },
    field('signup-name', t('signUpName'), name, t('signUpNameHint')),
    field('signup-contact', t('signUpContact'), contact, t('signUpContactHint')),
    field('signup-lang', t('signUpLanguage'), lang),
    h('div', { class: 'field' }, h('label', { for: 'signup-zone' }, t('signUpTimeZone')), zones),
    h('div', { class: 'actions' }, send));
  const run = async (button, action) => {
    button.disabled = true;
    status.textContent = '';
    try { await action(); } catch (e) { status.textContent = errorText(e); } finally { button.disabled = false; }
  };
  details.addEventListener('submit', (ev) => {
    ev.preventDefault();
    run(send, async () => {
      await request('POST', '/api/portal/signup/code', { body: form() });
      codeForm.hidden = false;
      code.focus();
    });
  });
  codeForm.addEventListener('submit', (ev) => {
    ev.preventDefault();
    run(codeForm.querySelector('button'), async () => {
      await request('POST', '/api/portal/signup/verify', { body: { ...form(), code: code.value } });
      history.replaceState(null, '', '/portal' + location.search);
      await done();
    });
  });
  show(h('main', { class: 'card', role: 'main' },
    h('h1', {}, t('signUpTitle')),
    h('p', {}, t('signUpIntro')),
    details, codeForm, status,
    h('p', {}, h('a', { href: '/portal' + location.search }, t('signUpHave')))));
}

// prospectPage is all a prospect sees: the clinic will confirm their account.
export function prospectPage({ again, signOut }) {
  const status = h('p', { id: 'message-error', class: 'error', role: 'alert' });
  const check = h('button', { id: 'prospect-check', class: 'primary', type: 'button', onclick: () => again() }, t('prospectReload'));
  const out = h('button', { id: 'sign-out', type: 'button', onclick: async () => {
    try { await request('POST', '/api/portal/auth/logout'); signOut(); } catch (e) { status.textContent = errorText(e); }
  } }, t('signOut'));
  show(h('main', { class: 'card', role: 'main', id: 'prospect-waiting' },
    h('h1', {}, t('prospectTitle')),
    h('p', { id: 'message', class: 'message' }, t('prospectText')),
    h('div', { class: 'actions' }, check, out),
    status));
}
