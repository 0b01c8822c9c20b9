// panel.mjs: the clinician's panel as a clinician sees it, in English then in French, on a
// 1280×800 laptop and a 390×844 phone. New Scheduled Session never fails silently (a bad
// e-mail then text message: the hidden e-mail is not sent; every refusal sits next to its field
// in the panel's language); time zones are a searchable list of cities with their offset, the
// clinic's first; dates and reasons in the panel's language; a waiting client shows in the tab's
// title and icon, with a sound if turned on; the booked name stays, with the name typed beside
// it; the call page opens in the panel's language; the cancel dialog says what each button does.
import { launch, open, signIn, watch, control, check, until, shot, text, BRIDGE } from './lib.mjs';

const expect = {
  en: {
    locale: 'en-US', signIn: 'Sign in', moved: '4:00 PM–4:50 PM', title: 'Telehealth', waitingTitle: '(1) Waiting — Telehealth', clinicZone: 'Paris — UTC+01:00',
    search: 'london', londonLabel: 'London — UTC+00:00', badEmail: 'This is not a valid email address.', formProblem: 'The session was not saved',
    phoneMissing: 'Enter the participant\'s mobile number', past: 'This date and time are already past.', month: 'November',
    notSent: 'Confirmation (SMS) not sent: the clinic has not configured phone number sending',
    joinedAs: 'Jane Doe — joined as Jane', keep: 'Keep session', cancel: 'Cancel session',
  },
  fr: {
    locale: 'fr-FR', signIn: 'Se connecter', moved: '16:00–16:50', title: 'Téléconsultation', waitingTitle: '(1) En attente — Téléconsultation', clinicZone: 'Paris — UTC+01:00',
    search: 'Londres', londonLabel: 'Londres — UTC+00:00', badEmail: 'Cette adresse e-mail n\'est pas valide.', formProblem: 'La séance n\'a pas été enregistrée',
    phoneMissing: 'Indiquez le numéro de mobile du participant', past: 'Cette date et cette heure sont déjà passées.', month: 'novembre',
    notSent: 'Confirmation (SMS) non envoyée : le cabinet n\'a pas configuré l\'envoi de SMS',
    joinedAs: 'Jane Doe — a rejoint sous le nom Jane', keep: 'Garder la séance', cancel: 'Annuler la séance',
  },
};
const laptop = { width: 1280, height: 800 };
// resize changes the window's size and waits until the page is laid out again.
async function resize(page, size) {
  await page.setViewportSize(size);
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
}
const phone = { width: 390, height: 844 };

for (const lang of ['en', 'fr']) {
  const x = expect[lang];
  const browser = await launch({ locale: x.locale, viewport: laptop, args: [`--lang=${x.locale}`] });
  const { url: loginLink } = await control('/login-link');
  // The sign-in link's page speaks the browser's language (looking at it spends nothing).
  const signInPage = await open(browser, loginLink, `sign-in ${lang}`);
  check(await text(signInPage, '#continue') === x.signIn, `${lang}: the sign-in button reads ${await text(signInPage, '#continue')}`);
  check(await signInPage.evaluate(() => document.documentElement.lang) === lang, `${lang}: the sign-in page is not marked ${lang}`);
  await shot(signInPage, `panel-sign-in-${lang}-1280`);
  await resize(signInPage, phone);
  await shot(signInPage, `panel-sign-in-${lang}-390`);
  await signInPage.close();
  const panel = await signIn(browser, loginLink, `panel ${lang}`);
  await panel.locator('#new-session').waitFor();
  check(await panel.title() === x.title, `${lang}: the tab says ${await panel.title()}`);
  check(await panel.evaluate(() => document.documentElement.lang) === lang, `${lang}: the page is not marked ${lang}`);
  await panel.locator('#sound').check();

  // New Scheduled Session. The zones: the clinic's first, cities with their offset, the ID
  // only as a detail; a search finds a city by its name in the panel's language.
  await panel.locator('#new-session').click();
  check(await panel.locator('#time_zone option').first().textContent() === x.clinicZone,
    `${lang}: the first zone is ${await panel.locator('#time_zone option').first().textContent()}`);
  check((await text(panel, '#time_zone-detail')).includes('Europe/Paris'), `${lang}: the zone's ID is not shown as a detail`);
  check(!(await panel.locator('#time_zone option').allTextContents()).some((o) => o.includes('/')), `${lang}: a zone is listed by its IANA ID`);
  await panel.locator('#participant_time_zone-search').fill(x.search);
  await until(`${lang}: the search to choose London`, async () => (await panel.locator('#participant_time_zone').inputValue()) === 'Europe/London');
  check(await panel.locator('#participant_time_zone option:checked').textContent() === x.londonLabel, `${lang}: London reads ${await panel.locator('#participant_time_zone option:checked').textContent()}`);
  check((await text(panel, '#participant_time_zone-detail')).includes('Europe/London'), `${lang}: London's ID is not shown`);

  const sent = [];
  panel.on('request', (r) => { if (r.method() === 'POST' && r.url().endsWith('/api/panel/sessions')) sent.push(JSON.parse(r.postData())); });
  await panel.locator('#date').fill('2026-11-24');
  await panel.locator('#time').selectOption('15:00');
  await panel.locator('#name').fill('Jo Bloggs');
  await panel.locator('input[name="invite"][value="email"]').check();
  await panel.locator('#email').fill('not an email');
  await panel.locator('#save').click();
  await until(`${lang}: the e-mail refused next to its field`, async () => (await text(panel, '#email-error')) === x.badEmail);
  check((await text(panel, '#form-error')).includes(x.formProblem), `${lang}: nothing by the Save button: ${await text(panel, '#form-error')}`);
  await shot(panel, `panel-form-error-${lang}-1280`);
  await resize(panel, phone);
  await shot(panel, `panel-form-error-${lang}-390`);
  await resize(panel, laptop);

  // Text message instead: the e-mail field goes, with what was said about it.
  await panel.locator('input[name="invite"][value="sms"]').check();
  check(await panel.locator('#email').isHidden(), `${lang}: the e-mail field is still shown`);
  check((await text(panel, '#email-error')) === '', `${lang}: the e-mail error stayed`);
  await panel.locator('#save').click();
  await until(`${lang}: the missing number next to its field`, async () => (await text(panel, '#phone-error')).startsWith(x.phoneMissing));
  await panel.locator('#phone').fill('+33 6 12 34 56 78');
  // A day already past: the bridge refuses it, the panel says so by the date, in its language.
  await panel.locator('#date').fill('2026-11-23');
  await panel.locator('#save').click();
  await until(`${lang}: the past date refused next to it`, async () => (await text(panel, '#date-error')) === x.past, 10000,
    async () => console.error(await text(panel, '#session-form')));
  check(sent.length === 1 && sent[0].email === '' && sent[0].invite === 'sms', `${lang}: the form sent ${JSON.stringify(sent)}`);
  await panel.locator('#date').fill('2026-11-24');
  const [created] = await Promise.all([
    panel.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith('/api/panel/sessions')),
    panel.locator('#save').click(),
  ]);
  check(created.ok(), `${lang}: saving answered ${created.status()}`);
  const booked = (await created.json()).session.id;
  check(sent.at(-1).email === '' && sent.at(-1).participant_time_zone === 'Europe/London', `${lang}: the form sent ${JSON.stringify(sent.at(-1))}`);
  const bookedCard = panel.locator(`[data-session="${booked}"]`);
  await bookedCard.waitFor();
  check((await text(bookedCard, 'h2')).includes(x.month), `${lang}: the date reads ${await text(bookedCard, 'h2')}`);
  await control('/advance', { minutes: 1 / 60 }); // the sender's next round
  await until(`${lang}: the unsent confirmation, in the panel's language`, async () =>
    (await bookedCard.locator('.notice-problem[data-kind="confirmation"]').textContent({ timeout: 500 })) === x.notSent, 10000,
  async () => console.error(await text(bookedCard, '.participants')));

  // Edit moves the session; the form starts from its time and zone.
  await bookedCard.locator('[data-action="edit"]').click();
  check(await panel.locator('#time').inputValue() === '15:00' && await panel.locator('#time_zone').inputValue() === 'Europe/Paris',
    `${lang}: the edit form starts at ${await panel.locator('#time').inputValue()} ${await panel.locator('#time_zone').inputValue()}`);
  await panel.locator('#time').selectOption('16:00');
  await panel.locator('#save').click();
  await until(`${lang}: the moved session`, async () => (await text(bookedCard, 'h2')).includes(x.moved));

  // Jane, booked as "Jane Doe", asks to join as "Jane".
  const { guest_link: guestLink, session_id: sessionId } = await control('/book', { name: 'Jane Doe', in_minutes: 20 });
  await control('/open', { session_id: sessionId });
  const knock = await fetch(BRIDGE + '/api/call/knock', {
    method: 'POST', body: JSON.stringify({ name: 'Jane' }),
    headers: { Authorization: 'Bearer ' + guestLink.split('/g/')[1], 'X-Requested-With': 'telehealth', 'Content-Type': 'application/json' },
  });
  check(knock.ok, `${lang}: the knock answered ${knock.status}`);
  const card = panel.locator(`[data-session="${sessionId}"]`);
  await until(`${lang}: the booked name with the one typed`, async () => (await text(card, '.participant')).includes(x.joinedAs));
  await until(`${lang}: the tab title`, async () => (await panel.title()) === x.waitingTitle, 10000, async () => console.error(await panel.title()));
  check((await panel.evaluate(() => document.querySelector('link[rel="icon"]').href)).startsWith('data:image/png'), `${lang}: no badge on the icon`);
  await until(`${lang}: the sound`, () => panel.evaluate(() => window.telehealthPanel.beeps > 0));
  await shot(panel, `panel-waiting-${lang}-1280`);
  await resize(panel, phone);
  await shot(panel, `panel-waiting-${lang}-390`);
  await resize(panel, laptop);

  // The sound stays chosen after a reload.
  await panel.reload();
  await card.waitFor();
  check(await panel.locator('#sound').isChecked(), `${lang}: the sound choice was forgotten`);

  // The Attendees Access Panel keeps both names too.
  await card.locator('[data-action="attendees"]').click();
  await until(`${lang}: the waiting list`, async () => (await text(panel, '.waiting-list')).includes(x.joinedAs));
  await shot(panel, `panel-attendees-${lang}-1280`);
  await panel.locator('button', { hasText: lang === 'fr' ? 'Retour' : 'Back' }).first().click();
  await card.waitFor();

  // Enter Meeting opens the call page in the panel's language.
  const [host] = await Promise.all([browser.waitForEvent('page'), card.locator('[data-action="enter"]').click()]);
  watch(host, `clinician call ${lang}`);
  check(host.url().includes(`lang=${lang}`), `${lang}: the call page opened at ${host.url()}`);
  await host.locator('#accept').waitFor();
  check(await host.evaluate(() => document.documentElement.lang) === lang, `${lang}: the call page is not in ${lang}`);
  await shot(host, `call-host-prejoin-${lang}-1280`);
  await host.close();

  // Cancel: the dialog's buttons say what they do; keeping keeps it.
  await panel.bringToFront();
  await card.locator('[data-action="cancel"]').click();
  const dialog = panel.locator('dialog.confirm');
  await dialog.waitFor();
  check(await text(dialog, '[data-action="dismiss"]') === x.keep, `${lang}: the dialog's no reads ${await text(dialog, '[data-action="dismiss"]')}`);
  check(await text(dialog, '[data-action="confirm"]') === x.cancel, `${lang}: the dialog's yes reads ${await text(dialog, '[data-action="confirm"]')}`);
  await shot(panel, `panel-cancel-dialog-${lang}-1280`);
  await dialog.locator('[data-action="dismiss"]').click();
  check(await card.count() === 1, `${lang}: keeping the session removed it`);
  await card.locator('[data-action="cancel"]').click();
  await dialog.locator('[data-action="confirm"]').click();
  await until(`${lang}: the cancelled session gone`, async () => (await card.count()) === 0);
  await until(`${lang}: the tab title back`, async () => (await panel.title()) === x.title);
  check(await panel.evaluate(() => document.querySelector('link[rel="icon"]').href) === 'data:,', `${lang}: the badge stayed`);
  await shot(panel, `panel-home-${lang}-1280`);
  await resize(panel, phone);
  await shot(panel, `panel-home-${lang}-390`);
  await panel.locator('#new-session').click();
  await shot(panel, `panel-form-${lang}-390`);
  await browser.close();
}
console.log('panel scenario passed');
