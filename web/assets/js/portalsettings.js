// portalsettings.js: the portal's Settings (docs/web-api.md, "Portal settings API"): the
// client's information, appointment reminders, language and time zone, contacts (a new one
// only after a code sent to it), passkeys, password, and "Download my data". The portal's
// navigation opens it with settingsPage({ back }).
import { request, ApiError } from './api.js';
import { h, show } from './dom.js';
import { t, setLocale, locale, addStrings } from './i18n.js';
import { zonePicker } from './zones.js';

addStrings({
  en: {
    settingsTitle: 'Settings',
    settingsBack: 'Back',
    settingsAbout: 'About you',
    settingsNameOnFile: 'Name on file: {name}',
    settingsPreferredName: 'What would you like us to call you?',
    settingsLanguage: 'Language',
    settingsTimeZone: 'Your time zone',
    settingsZoneSearch: 'Search a city or a zone', settingsZoneAll: 'All time zones', settingsZoneNone: 'No time zone matches “{q}”.', settingsZoneID: 'Time zone ID: {id}',
    settingsSave: 'Save',
    settingsSaved: 'Saved.',
    settingsReminders: 'Appointment reminders',
    settingsRemindersIntro: 'How should we remind you of your appointments?',
    remindSMS: 'By text message',
    remindEmail: 'By email',
    remindNone: 'No reminders',
    remindNeedsPhone: 'Add a mobile number to get text messages.',
    settingsContact: 'Email and phone',
    settingsEmail: 'Email: {value}',
    settingsPhone: 'Mobile: {value}',
    settingsNone: 'none',
    settingsNewContact: 'New email address or mobile number',
    settingsNewContactHint: 'We send a code to the new one: it changes once you type the code here.',
    settingsSendContactCode: 'Send a code to it',
    settingsContactCodeSent: 'A 6-digit code is on its way to {value}. It works for 10 minutes.',
    settingsConfirmContact: 'Confirm the change',
    settingsContactChanged: 'Your contact details are changed.',
    settingsPasskeys: 'Passkeys',
    settingsNoPasskeys: 'No passkey yet.',
    settingsPasskeyAdded: 'Passkey added on {date}',
    settingsPasskeyUsed: 'last used on {date}',
    settingsRemovePasskey: 'Remove',
    settingsPasskeyRemoved: 'The passkey is removed.',
    settingsPassword: 'Password',
    settingsCurrentPassword: 'Current password',
    settingsNoCurrent: 'No password yet, or forgot it? Get a code instead.',
    settingsSendPasswordCode: 'Send me a code',
    settingsPasswordCodeSent: 'A 6-digit code is on its way to your email or phone.',
    settingsChangePassword: 'Change the password',
    settingsPasswordChanged: 'Your password is changed.',
    settingsData: 'Your data',
    settingsDataIntro: 'Download what your clinic\'s portal holds about you: your information, your sessions and your settings.',
    settingsDownload: 'Download my data',
    settingsDownloaded: 'Your data is downloaded (my-data.json).',
    settingsCodes: {
      invalid: 'This cannot be saved. Check what you typed.',
      not_found: 'This passkey is already gone.',
      no_contact: 'Your record has no email address or phone number to send a code to. Ask your clinic.',
    },
  },
  fr: {
    settingsTitle: 'Paramètres',
    settingsBack: 'Retour',
    settingsAbout: 'Vous',
    settingsNameOnFile: 'Nom au dossier : {name}',
    settingsPreferredName: 'Comment souhaitez-vous qu\'on vous appelle ?',
    settingsLanguage: 'Langue',
    settingsTimeZone: 'Votre fuseau horaire',
    settingsZoneSearch: 'Chercher une ville ou un fuseau', settingsZoneAll: 'Tous les fuseaux horaires', settingsZoneNone: 'Aucun fuseau ne correspond à « {q} ».', settingsZoneID: 'Identifiant du fuseau : {id}',
    settingsSave: 'Enregistrer',
    settingsSaved: 'Enregistré.',
    settingsReminders: 'Rappels de rendez-vous',
    settingsRemindersIntro: 'Comment souhaitez-vous être rappelé de vos rendez-vous ?',
    remindSMS: 'Par SMS',
    remindEmail: 'Par e-mail',
    remindNone: 'Pas de rappel',
    remindNeedsPhone: 'Ajoutez un numéro de mobile pour recevoir des SMS.',
    settingsContact: 'E-mail et téléphone',
    settingsEmail: 'E-mail : {value}',
    settingsPhone: 'Mobile : {value}',
    settingsNone: 'aucun',
    settingsNewContact: 'Nouvelle adresse e-mail ou nouveau numéro de mobile',
    settingsNewContactHint: 'Nous envoyons un code au nouveau : le changement se fait quand vous saisissez ce code ici.',
    settingsSendContactCode: 'Lui envoyer un code',
    settingsContactCodeSent: 'Un code à 6 chiffres est en route vers {value}. Il est valable 10 minutes.',
    settingsConfirmContact: 'Confirmer le changement',
    settingsContactChanged: 'Vos coordonnées sont modifiées.',
    settingsPasskeys: 'Clés d\'accès',
    settingsNoPasskeys: 'Pas encore de clé d\'accès.',
    settingsPasskeyAdded: 'Clé d\'accès ajoutée le {date}',
    settingsPasskeyUsed: 'utilisée pour la dernière fois le {date}',
    settingsRemovePasskey: 'Supprimer',
    settingsPasskeyRemoved: 'La clé d\'accès est supprimée.',
    settingsPassword: 'Mot de passe',
    settingsCurrentPassword: 'Mot de passe actuel',
    settingsNoCurrent: 'Pas encore de mot de passe, ou oublié ? Recevez plutôt un code.',
    settingsSendPasswordCode: 'M\'envoyer un code',
    settingsPasswordCodeSent: 'Un code à 6 chiffres est en route vers votre e-mail ou votre téléphone.',
    settingsChangePassword: 'Changer le mot de passe',
    settingsPasswordChanged: 'Votre mot de passe est modifié.',
    settingsData: 'Vos données',
    settingsDataIntro: 'Téléchargez ce que l\'espace client de votre cabinet conserve à votre sujet : vos informations, vos séances et vos paramètres.',
    settingsDownload: 'Télécharger mes données',
    settingsDownloaded: 'Vos données sont téléchargées (my-data.json).',
    settingsCodes: {
      invalid: 'Impossible d\'enregistrer. Vérifiez votre saisie.',
      not_found: 'Cette clé d\'accès n\'existe plus.',
      no_contact: 'Votre dossier n\'a ni e-mail ni téléphone où envoyer un code. Demandez à votre cabinet.',
    },
  },
});

function errorText(e) {
  if (e instanceof ApiError) {
    // A refused change says why in the server's words in English; in French, the general one.
    if (e.code === 'invalid' && locale() === 'en' && e.message) return e.message;
    return t('settingsCodes')[e.code] || t('codes')[e.code] || e.message || t('error');
  }
  return t('error');
}

// act runs a button's action, showing its outcome in the section's status line.
async function act(button, status, action) {
  button.disabled = true;
  status.textContent = '';
  status.className = 'hint';
  try {
    const done = await action();
    if (done) status.textContent = done;
  } catch (e) {
    status.className = 'error';
    status.textContent = errorText(e);
  } finally {
    button.disabled = false;
  }
}

function input(id, label, attrs = {}, hint = '') {
  return h('div', { class: 'field' },
    h('label', { for: id }, label),
    h('input', { id, name: id, ...attrs }),
    hint ? h('p', { class: 'hint' }, hint) : null);
}

function statusLine(id) { return h('p', { id, class: 'hint', role: 'status' }); }

function day(iso) {
  return new Date(iso).toLocaleDateString(locale() === 'fr' ? 'fr-FR' : 'en-GB', { day: 'numeric', month: 'long', year: 'numeric' });
}

// settingsPage shows the signed-in client's settings; back returns to the portal's home. A
// signed-out answer (401) goes back too: home shows the sign-in.
export async function settingsPage({ back }) {
  let st;
  try {
    st = await request('GET', '/api/portal/settings');
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return back();
    throw e;
  }
  render(st, { back });
}

function render(st, opts, notice = '') {
  const rerender = (next, said) => render(next, opts, said);
  const backButton = h('button', { id: 'settings-back', type: 'button', class: 'link', onclick: () => opts.back() }, t('settingsBack'));
  const top = statusLine('settings-message');
  top.textContent = notice;

  // About you: preferred name, language, time zone.
  const aboutStatus = statusLine('about-message');
  const language = h('select', { id: 'language', name: 'language' },
    h('option', { value: 'en', selected: st.language === 'en' }, 'English'),
    h('option', { value: 'fr', selected: st.language === 'fr' }, 'Français'));
  // The zone words keep their {q} and {id}: the picker fills them in.
  const zones = zonePicker('time-zone', st.time_zone, { locale: locale(), words: {
    zoneSearch: t('settingsZoneSearch'), zoneAll: t('settingsZoneAll'),
    zoneNone: t('settingsZoneNone', { q: '{q}' }), zoneID: t('settingsZoneID', { id: '{id}' }),
  } });
  const saveAbout = h('button', { id: 'save-settings', type: 'submit', class: 'primary' }, t('settingsSave'));
  const about = h('form', { id: 'about-form', class: 'settings-section' },
    h('h2', {}, t('settingsAbout')),
    h('p', { class: 'hint' }, t('settingsNameOnFile', { name: st.display_name })),
    input('preferred-name', t('settingsPreferredName'), { type: 'text', value: st.preferred_name || '', autocomplete: 'nickname' }),
    h('div', { class: 'field' }, h('label', { for: 'language' }, t('settingsLanguage')), language),
    h('div', { class: 'field' }, h('label', { for: 'time-zone' }, t('settingsTimeZone')), zones),
    h('div', { class: 'actions' }, saveAbout), aboutStatus);
  about.addEventListener('submit', (ev) => {
    ev.preventDefault();
    act(saveAbout, aboutStatus, async () => {
      const next = await request('POST', '/api/portal/settings', { body: {
        preferred_name: about.querySelector('#preferred-name').value, language: language.value,
        time_zone: zones.querySelector('select').value,
      } });
      // The portal speaks the language the client chose.
      setLocale(next.language);
      document.title = t('portalTitle');
      rerender(next, t('settingsSaved'));
    });
  });

  // Appointment reminders.
  const remindStatus = statusLine('reminders-message');
  const choice = (value, label, usable) => h('label', { class: 'choice' },
    h('input', { type: 'radio', name: 'reminders', id: 'remind-' + value, value, checked: st.reminders === value, disabled: !usable }),
    ' ', label);
  const saveReminders = h('button', { id: 'save-reminders', type: 'submit' }, t('settingsSave'));
  const reminders = h('form', { id: 'reminders-form', class: 'settings-section' },
    h('h2', {}, t('settingsReminders')),
    h('fieldset', {}, h('legend', {}, t('settingsRemindersIntro')),
      choice('sms', t('remindSMS'), !!st.phone), choice('email', t('remindEmail'), !!st.email), choice('none', t('remindNone'), true)),
    st.phone ? null : h('p', { class: 'hint' }, t('remindNeedsPhone')),
    h('div', { class: 'actions' }, saveReminders), remindStatus);
  reminders.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const picked = reminders.querySelector('input[name=reminders]:checked');
    act(saveReminders, remindStatus, async () => {
      const next = await request('POST', '/api/portal/settings', { body: { reminders: picked ? picked.value : '' } });
      st.reminders = next.reminders;
      return t('settingsSaved');
    });
  });

  // Email and phone: a new one needs the code sent to it.
  const contactStatus = statusLine('contact-message');
  const newContact = input('new-contact', t('settingsNewContact'), { type: 'text', inputmode: 'email', autocomplete: 'email' }, t('settingsNewContactHint'));
  const sendCode = h('button', { id: 'send-contact-code', type: 'button' }, t('settingsSendContactCode'));
  const codeForm = h('form', { id: 'contact-code-form', hidden: true },
    input('contact-code', t('codeLabel'), { type: 'text', inputmode: 'numeric', autocomplete: 'one-time-code', maxlength: 7 }),
    h('button', { id: 'confirm-contact', type: 'submit' }, t('settingsConfirmContact')));
  const contactValue = () => newContact.querySelector('input').value.trim();
  sendCode.addEventListener('click', () => act(sendCode, contactStatus, async () => {
    await request('POST', '/api/portal/settings/contact/code', { body: { contact: contactValue(), lang: locale() } });
    codeForm.hidden = false;
    codeForm.querySelector('input').focus();
    return t('settingsContactCodeSent', { value: contactValue() });
  }));
  codeForm.addEventListener('submit', (ev) => {
    ev.preventDefault();
    act(codeForm.querySelector('button'), contactStatus, async () => {
      const next = await request('POST', '/api/portal/settings/contact/verify', { body: { contact: contactValue(), code: codeForm.querySelector('input').value } });
      rerender(next, t('settingsContactChanged'));
    });
  });
  const contact = h('section', { id: 'contact-section', class: 'settings-section' },
    h('h2', {}, t('settingsContact')),
    h('p', { id: 'current-email' }, t('settingsEmail', { value: st.email || t('settingsNone') })),
    h('p', { id: 'current-phone' }, t('settingsPhone', { value: st.phone || t('settingsNone') })),
    newContact, h('div', { class: 'actions' }, sendCode), codeForm, contactStatus);

  // Passkeys.
  const keysStatus = statusLine('passkeys-message');
  const keys = h('ul', { id: 'passkeys', class: 'plain' }, st.passkeys.length ? st.passkeys.map((k) => {
    const remove = h('button', { type: 'button', class: 'remove-passkey' }, t('settingsRemovePasskey'));
    remove.addEventListener('click', () => act(remove, keysStatus, async () => {
      const next = await request('POST', '/api/portal/settings/passkeys/remove', { body: { id: k.id } });
      rerender(next, t('settingsPasskeyRemoved'));
    }));
    return h('li', {}, t('settingsPasskeyAdded', { date: day(k.created_at) }),
      k.last_used_at ? ', ' + t('settingsPasskeyUsed', { date: day(k.last_used_at) }) : '', ' ', remove);
  }) : h('li', {}, t('settingsNoPasskeys')));
  const passkeys = h('section', { id: 'passkeys-section', class: 'settings-section' }, h('h2', {}, t('settingsPasskeys')), keys, keysStatus);

  // Password: the current one, or a code.
  const passwordStatus = statusLine('password-message');
  const current = input('current-password', t('settingsCurrentPassword'), { type: 'password', autocomplete: 'current-password' });
  const passwordCode = input('password-code', t('codeLabel'), { type: 'text', inputmode: 'numeric', autocomplete: 'one-time-code', maxlength: 7 });
  passwordCode.hidden = true;
  const askCode = h('button', { id: 'send-password-code', type: 'button', class: 'link' }, t('settingsSendPasswordCode'));
  askCode.addEventListener('click', () => act(askCode, passwordStatus, async () => {
    await request('POST', '/api/portal/settings/password/code', { body: { lang: locale() } });
    passwordCode.hidden = false;
    current.hidden = true;
    return t('settingsPasswordCodeSent');
  }));
  const changePassword = h('button', { id: 'change-password', type: 'submit' }, t('settingsChangePassword'));
  const password = h('form', { id: 'password-form', class: 'settings-section' },
    h('h2', {}, t('settingsPassword')),
    st.has_password ? current : null,
    h('p', { class: 'hint' }, t('settingsNoCurrent'), ' ', askCode),
    passwordCode,
    input('settings-new-password', t('newPasswordLabel'), { type: 'password', autocomplete: 'new-password', minlength: 12 }, t('newPasswordHint')),
    h('div', { class: 'actions' }, changePassword), passwordStatus);
  password.addEventListener('submit', (ev) => {
    ev.preventDefault();
    act(changePassword, passwordStatus, async () => {
      const code = passwordCode.hidden ? '' : passwordCode.querySelector('input').value;
      const next = await request('POST', '/api/portal/settings/password', { body: {
        current: code ? '' : current.querySelector('input').value, code,
        password: password.querySelector('#settings-new-password').value,
      } });
      rerender(next, t('settingsPasswordChanged'));
    });
  });

  // Download my data: the export as a file, made in the page (the sign-in is a cookie the
  // download link could not carry across a new tab's SameSite rules any better).
  const dataStatus = statusLine('data-message');
  const download = h('button', { id: 'download-data', type: 'button' }, t('settingsDownload'));
  download.addEventListener('click', () => act(download, dataStatus, async () => {
    const data = await request('GET', '/api/portal/settings/export');
    const url = URL.createObjectURL(new Blob([JSON.stringify(data, null, 2)], { type: 'application/json' }));
    const a = h('a', { href: url, download: 'my-data.json', hidden: true });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
    return t('settingsDownloaded');
  }));
  const data = h('section', { id: 'data-section', class: 'settings-section' },
    h('h2', {}, t('settingsData')), h('p', {}, t('settingsDataIntro')), h('div', { class: 'actions' }, download), dataStatus);

  show(h('main', { class: 'card settings', role: 'main' },
    backButton,
    h('h1', { id: 'settings-title' }, t('settingsTitle')),
    top, about, reminders, contact, passkeys, password, data));
  // A re-drawn page says what happened at its top.
  if (notice) window.scrollTo(0, 0);
}
