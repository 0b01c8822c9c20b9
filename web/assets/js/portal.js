// portal.js: the client portal's sign-in (/portal) and "Create your access" from an
// enrolment link (/portal/enrol#token). The session is an HttpOnly cookie: this script never
// sees it.
import { request, ApiError } from './api.js';
import { h, show, message } from './dom.js';
import { t, setLocale } from './i18n.js';
import './portalwords.js';
import { createPasskey, getPasskey, passkeysSupported } from './portalpasskey.js';
import { schedulePage } from './portalbook.js';
import { showHome } from './portalhome.js';
import { settingsPage } from './portalsettings.js';
import './portalmessages.js';
import { signUpPage, signUpLink, prospectPage } from './portalsignup.js';
import './portaltodo.js';
import './portalpayments.js';
import './portaldocuments.js';

const params = new URLSearchParams(location.search);
setLocale(params.get('lang') || '');
document.title = t('portalTitle');

// errorText is the sentence for an API error, in the page's language.
function errorText(e) {
  if (e instanceof ApiError) return t('codes')[e.code] || e.message || t('error');
  return t('error');
}

function field(id, label, attrs = {}, hint = '') {
  return h('div', { class: 'field' },
    h('label', { for: id }, label),
    h('input', { id, name: id, ...attrs }),
    hint ? h('p', { class: 'hint' }, hint) : null);
}

// busy disables a button while its action runs, and shows the action's error in el.
async function busy(button, el, action) {
  button.disabled = true;
  el.textContent = '';
  try {
    await action();
  } catch (e) {
    el.textContent = e && e.name === 'NotAllowedError' ? t('passkeyCancelled') : errorText(e);
  } finally {
    button.disabled = false;
  }
}

function signInPage() {
  const status = h('p', { id: 'message', class: 'error', role: 'alert' });
  const passkeyButton = h('button', { id: 'passkey-signin', class: 'primary', type: 'button' }, t('passkeySignIn'));
  passkeyButton.addEventListener('click', () => busy(passkeyButton, status, async () => {
    if (!passkeysSupported()) throw new Error('unsupported');
    const start = await request('POST', '/api/portal/auth/passkey/login/begin');
    const credential = await getPasskey(start.options);
    await request('POST', '/api/portal/auth/passkey/login/finish', { body: { ceremony: start.ceremony, credential } });
    await home();
  }));

  const contact = field('contact', t('contactLabel'), { type: 'text', autocomplete: 'username', inputmode: 'email' }, t('contactHint'));
  const codeForm = h('form', { id: 'code-form', hidden: true },
    field('code', t('codeLabel'), { type: 'text', inputmode: 'numeric', autocomplete: 'one-time-code', maxlength: 7 }),
    h('button', { id: 'verify-code', class: 'primary', type: 'submit' }, t('verifyCode')));
  const sendButton = h('button', { id: 'send-code', type: 'button' }, t('sendCode'));
  const sent = h('p', { id: 'code-sent', class: 'hint', hidden: true }, t('codeSent'));
  const contactValue = () => contact.querySelector('input').value;
  sendButton.addEventListener('click', () => busy(sendButton, status, async () => {
    await request('POST', '/api/portal/auth/code', { body: { contact: contactValue(), lang: document.documentElement.lang } });
    sent.hidden = false;
    codeForm.hidden = false;
    codeForm.querySelector('input').focus();
  }));
  codeForm.addEventListener('submit', (ev) => {
    ev.preventDefault();
    busy(codeForm.querySelector('button'), status, async () => {
      await request('POST', '/api/portal/auth/code/verify', { body: { contact: contactValue(), code: codeForm.querySelector('input').value } });
      await home();
    });
  });

  const passwordForm = h('form', { id: 'password-form', hidden: true },
    field('password', t('passwordLabel'), { type: 'password', autocomplete: 'current-password' }),
    h('button', { id: 'password-signin', type: 'submit' }, t('passwordSignIn')));
  passwordForm.addEventListener('submit', (ev) => {
    ev.preventDefault();
    busy(passwordForm.querySelector('button'), status, async () => {
      await request('POST', '/api/portal/auth/password', { body: { contact: contactValue(), password: passwordForm.querySelector('input').value } });
      await home();
    });
  });
  const usePassword = h('button', { id: 'use-password', type: 'button', class: 'link' }, t('usePassword'));
  usePassword.addEventListener('click', () => { passwordForm.hidden = false; usePassword.hidden = true; });

  const main = h('main', { class: 'card', role: 'main' },
    h('h1', {}, t('signInTitle')),
    h('p', {}, t('signInIntro')),
    passkeysSupported() ? [passkeyButton, h('p', { class: 'hint' }, t('passkeyHint'))] : null,
    h('p', {}, t('orWithCode')),
    contact, h('div', { class: 'actions' }, sendButton), sent, codeForm,
    h('div', { class: 'actions' }, usePassword), passwordForm,
    status);
  show(main);
  signUpLink().then((a) => { if (a) main.append(h('p', {}, a)); });
}

// createAccessPage is "Create your access": a passkey, or a password for those who cannot.
function createAccessPage(me) {
  const status = h('p', { id: 'message', class: 'error', role: 'alert' });
  const passkeyButton = h('button', { id: 'create-passkey', class: 'primary', type: 'button' }, t('createPasskey'));
  passkeyButton.addEventListener('click', () => busy(passkeyButton, status, async () => {
    await registerPasskey();
    await home(t('passkeyAdded'));
  }));
  const passwordForm = h('form', { id: 'new-password-form' },
    field('new-password', t('newPasswordLabel'), { type: 'password', autocomplete: 'new-password', minlength: 12 }, t('newPasswordHint')),
    h('button', { id: 'save-password', type: 'submit' }, t('savePassword')));
  passwordForm.addEventListener('submit', (ev) => {
    ev.preventDefault();
    busy(passwordForm.querySelector('button'), status, async () => {
      await request('POST', '/api/portal/auth/password/set', { body: { password: passwordForm.querySelector('input').value } });
      await home(t('accessReady'));
    });
  });
  show(h('main', { class: 'card', role: 'main' },
    h('h1', {}, t('createTitle')),
    h('p', {}, t('welcome', { name: me.name })),
    h('p', {}, t('createIntro')),
    passkeysSupported() ? [passkeyButton, h('p', { class: 'hint' }, t('createPasskeyHint')), h('p', {}, t('orPassword'))] : null,
    passwordForm,
    status));
}

async function registerPasskey() {
  if (!passkeysSupported()) throw new Error('unsupported');
  const start = await request('POST', '/api/portal/auth/passkey/register/begin');
  const credential = await createPasskey(start.options);
  await request('POST', '/api/portal/auth/passkey/register/finish', { body: { ceremony: start.ceremony, credential } });
}

// home is the signed-in client's page (portalhome.js): their sessions and professionals, under
// the sign-outs.
async function home(notice = '') {
  let me;
  try {
    me = await request('GET', '/api/portal/auth/me');
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return signInPage();
    // A prospect: nothing to show until the clinic links them to their record.
    // Checking again once linked offers "Create your access", as after an enrolment link.
    if (e instanceof ApiError && e.code === 'prospect_waiting') return prospectPage({ again: signedUp, signOut: signedOut });
    throw e;
  }
  await showHome({ me, notice, actions: (status) => homeActions(me, status) });
}

function homeActions(me, status) {
  const out = h('button', { id: 'sign-out', type: 'button' }, t('signOut'));
  const everywhere = h('button', { id: 'sign-out-everywhere', type: 'button' }, t('signOutEverywhere'));
  for (const [button, path] of [[out, 'logout'], [everywhere, 'logout-everywhere']]) {
    button.addEventListener('click', () => busy(button, status, async () => {
      await request('POST', '/api/portal/auth/' + path);
      signedOut();
    }));
  }
  const addPasskey = h('button', { id: 'add-passkey', type: 'button' }, t('addPasskey'));
  addPasskey.addEventListener('click', () => busy(addPasskey, status, async () => {
    await registerPasskey();
    status.textContent = t('passkeyAdded');
  }));
  const schedule = h('button', { id: 'open-schedule', class: 'primary', type: 'button' }, t('bookOpen'));
  schedule.addEventListener('click', () => schedulePage({ back: () => home() }));
  const settings = h('button', { id: 'open-settings', type: 'button' }, t('settingsTitle'));
  settings.addEventListener('click', () => settingsPage({ back: () => home() }));
  return [schedule, settings, passkeysSupported() && me.passkeys === 0 ? addPasskey : null, out, everywhere];
}

// signedUp follows an accepted sign-up code: a prospect sees that the clinic will confirm
// their account; a client whose address it was, and who has no passkey or password yet, is
// offered "Create your access" as after an enrolment link.
async function signedUp() {
  let me;
  try {
    me = await request('GET', '/api/portal/auth/me');
  } catch (e) {
    return home();
  }
  if (me.passkeys === 0 && !me.has_password) return createAccessPage(me);
  return home();
}

function signedOut() {
  const again = h('button', { id: 'sign-in-again', class: 'primary', type: 'button', onclick: () => signInPage() }, t('signInAgain'));
  message(t('signedOutTitle'), t('signedOutText'), again);
}

// enrol spends the link's token (in the fragment, never sent to the server by the browser)
// and opens "Create your access".
async function enrol() {
  const token = location.hash.slice(1);
  history.replaceState(null, '', location.pathname + location.search); // the token leaves the address bar
  try {
    await request('POST', '/api/portal/auth/enrol', { body: { token } });
  } catch (e) {
    const again = h('button', { id: 'sign-in-again', class: 'primary', type: 'button', onclick: () => signInPage() }, t('signInAgain'));
    return message(t('createTitle'), e instanceof ApiError && e.status === 410 ? t('linkUsed') : errorText(e), again);
  }
  createAccessPage(await request('GET', '/api/portal/auth/me'));
}

(async () => {
  try {
    if (location.pathname === '/portal/enrol' && location.hash.length > 1) await enrol();
    else if (location.pathname === '/portal/signup') await signUpPage({ done: signedUp });
    else await home();
  } catch (e) {
    message(t('portalTitle'), errorText(e));
  }
})();
