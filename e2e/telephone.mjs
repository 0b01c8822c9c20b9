// telephone.mjs: a telephone session as the client and the clinician see it. The client's link
// page, in English and in French, on a laptop and a phone: who calls which number (masked) and
// when, no Join and no camera request, before and during the window. The clinician's panel:
// the card says Telephone with the number to call, and Call now rings their phone (a loopback
// Twilio, checked by the Go test); the card follows the call.
import { launch, signIn, watch, control, check, until, shot, text } from './lib.mjs';

const browser = await launch();

// openCounting opens a page that counts requests for the camera or microphone.
async function openCounting(url, name, viewport) {
  const page = await browser.newPage();
  watch(page, name);
  await page.setViewportSize(viewport);
  await page.addInitScript(() => {
    window.mediaRequests = 0;
    const md = navigator.mediaDevices;
    if (md && md.getUserMedia) {
      const orig = md.getUserMedia.bind(md);
      md.getUserMedia = (c) => { window.mediaRequests++; return orig(c); };
    }
  });
  await page.goto(url);
  return page;
}

const cases = [
  { locale: 'en', want: 'Your clinician will call you at +33 6 •• •• •• 12 at 3:00 PM', title: 'Your telephone session', lang: 'en' },
  { locale: 'fr', want: 'Votre praticien vous appellera au +33 6 •• •• •• 12 à 15:00', title: 'Votre séance par téléphone', lang: 'fr' },
];
let sessionId = '';
for (const c of cases) {
  const booked = await control('/book', { kind: 'phone', phone: '+33612345612', locale: c.locale, hour: 14 });
  sessionId = booked.session_id;
  for (const [device, viewport] of [['laptop', { width: 1280, height: 800 }], ['phone', { width: 390, height: 844 }]]) {
    const page = await openCounting(booked.guest_link, `telephone ${c.locale} ${device}`, viewport);
    await page.locator('#phone-call').waitFor();
    const said = await text(page, '#phone-call');
    check(said.includes(c.want), `${c.locale}: the page says ${JSON.stringify(said)}, want ${JSON.stringify(c.want)}`);
    check((await text(page, 'h1')).includes(c.title), `${c.locale}: title ${await text(page, 'h1')}`);
    check(await page.evaluate(() => document.documentElement.lang) === c.lang, `${c.locale}: page language`);
    check(await page.locator('#join').count() === 0, `${c.locale}: a Join button on a telephone session`);
    check(!(await page.evaluate(() => document.body.innerText)).includes('12 34 56'), `${c.locale}: the whole number shows`);
    // Everything on screen without scrolling, on both devices.
    const fits = await page.evaluate(() => document.querySelector('#phone-call').getBoundingClientRect().bottom <= window.innerHeight);
    check(fits, `${c.locale} ${device}: the call line is below the fold`);
    await shot(page, `telephone-guest-${c.locale}-${device}`);
    if (c.locale === 'fr' && device === 'laptop') {
      // The window opens: still no Join, still no camera request.
      await control('/open', { session_id: sessionId });
      await page.reload();
      await page.locator('#phone-call').waitFor();
      check(await page.locator('#join').count() === 0, 'a Join button once the window is open');
      check(await page.evaluate(() => window.mediaRequests) === 0, 'the page asked for the camera or microphone');
      await shot(page, 'telephone-guest-fr-window-open');
    }
    check(await page.evaluate(() => window.mediaRequests) === 0, `${c.locale} ${device}: the page asked for the camera or microphone`);
    if (device === 'phone') {
      // My sessions says it is by telephone, with no Join.
      await page.locator('#my-sessions').click();
      await page.locator('.session-item').first().waitFor();
      const item = await text(page, `.session-item[data-session="${sessionId}"]`);
      check(item.includes(c.locale === 'fr' ? 'Par téléphone' : 'By telephone') && !item.includes('Join') && !item.includes('Rejoindre'), `${c.locale}: My sessions says ${item}`);
      await shot(page, `telephone-my-sessions-${c.locale}`);
    }
    await page.close();
  }
}

// The clinician's panel: Telephone and the number to call; Call now; the call's state.
const { url: loginLink } = await control('/login-link');
const panel = await signIn(browser, loginLink);
await panel.setViewportSize({ width: 1280, height: 800 });
const card = panel.locator(`.session-card[data-session="${sessionId}"]`);
await card.waitFor();
check((await text(card, '.kind')).includes('Telephone · +33 6 12 34 56 12'), 'the card: ' + await text(card, '.kind'));
// No waiting room and no call page for a telephone session: no Start Session, no "waiting room open".
check(await card.locator('[data-action="enter"]').count() === 0, 'a telephone card offers Start Session');
check(!(await text(card, '.status')).includes('waiting room'), 'the telephone card says: ' + await text(card, '.status'));
// The clinician starts a text; the card is drawn again as the call moves; the draft stays.
await card.locator('details.text-message summary').click();
await card.locator('details.text-message textarea').fill('I will call you in 2 minutes.');
check((await text(card, 'details.text-message .hint')).includes('not private'), 'no reminder of what a text must not hold');
await card.locator('[data-action="call"]').click();
await until('the card to say the clinician\'s phone rings', async () =>
  (await text(card, '.call-state')).includes('Calling your phone'));
check(await card.locator('[data-action="call"]').count() === 0, 'Call now is still offered while the call rings');
check(await card.locator('details.text-message textarea').inputValue() === 'I will call you in 2 minutes.', 'the draft text was lost when the card was drawn again');
await shot(panel, 'telephone-panel-calling-en');
await card.locator('details.text-message button[type="submit"]').click();
await until('the text to be on its way', async () => (await text(card, 'details.text-message [role="status"]')).includes('on its way'));
await control('/advance', { minutes: 0.05 }); // the sender's next round

// New Scheduled Session: choosing Telephone shows the phone field whatever the invitation.
await panel.locator('#new-session').click();
await panel.locator('input[name="invite"][value="email"]').check();
check(!(await panel.locator('#phone').isVisible()), 'the phone field shows for a video session invited by e-mail');
await panel.locator('#kind').selectOption('phone');
check(await panel.locator('#phone').isVisible(), 'Telephone does not show the phone field');
await panel.locator('input[name="invite"][value="none"]').check();
check(await panel.locator('#phone').isVisible(), 'Telephone with no invitation hides the phone field');
await shot(panel, 'telephone-panel-form-en');
await browser.close();
console.log('telephone: ok');
