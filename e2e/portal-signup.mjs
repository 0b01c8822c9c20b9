// portal-signup.mjs: someone new signs up on the clinic's portal. Nora gives her name and
// email (the time zone is her browser's), types the code the clinic emailed her, and sees only
// that the clinic will confirm her account: the booking doors refuse her. The clinician finds
// her in the panel's Prospects and links her to her record; Nora checks again, sets a password
// ("Create your access") and sees her home.
import { launch, open, control, check, until, text, shots, signIn } from './lib.mjs';
import { BRIDGE } from './lib.mjs';

const browser = await launch({ permissions: [], timezoneId: 'Europe/Paris' });
async function heading(page) { return (await page.locator('h1').first().textContent()) || ''; }

// In French, the page speaks French.
const fr = await open(browser, BRIDGE + '/portal/signup?lang=fr', 'fr');
await until('the French sign-up page', async () => (await heading(fr)) === 'Inscription');
check((await fr.locator('main').textContent()).includes('Adresse e-mail ou numéro de mobile'), 'the French form is not French');
await fr.close();

// Nora finds the sign-up from the sign-in page.
const nora = await open(browser, BRIDGE + '/portal?lang=en', 'nora');
await until('the sign-in page', async () => (await heading(nora)) === 'Sign in');
await nora.locator('#sign-up-link').click();
await until('the sign-up page', async () => (await heading(nora)) === 'Sign up');
check(await nora.locator('#signup-zone').inputValue() === 'Europe/Paris', 'the time zone is not the browser\'s');
await nora.locator('#signup-name').fill('Nora Blanc');
await nora.locator('#signup-contact').fill('nora@example.org');
await nora.locator('#signup-send').click();
await nora.locator('#signup-code').waitFor();
check((await text(nora, '#signup-code-sent')).includes('6-digit code'), 'no word that a code was sent');
const code = await until('the emailed code', async () => (await control('/code?to=nora@example.org')).code);
await nora.locator('#signup-code').fill(code);
await nora.locator('#signup-verify').click();
await until('"Your clinic will confirm your account"', async () => (await text(nora, '#message')).startsWith('Your clinic will confirm your account'));
check(!(await nora.locator('#open-schedule').count()), 'a prospect is offered booking');
await shots(nora, 'portal-signup-waiting');

// Nothing to knock on: the portal's booking and home doors refuse her.
const refused = await nora.evaluate(async () => {
  const h = { 'X-Requested-With': 'telehealth', 'Content-Type': 'application/json' };
  const out = {};
  for (const [method, path] of [['GET', '/api/portal/home'], ['GET', '/api/portal/professionals'], ['POST', '/api/portal/book']]) {
    const r = await fetch(path, { method, headers: h, body: method === 'POST' ? '{}' : undefined });
    out[path] = r.status + ' ' + (await r.json()).code;
  }
  return out;
});
for (const [path, got] of Object.entries(refused)) check(got === '403 prospect_waiting', `${path} answered a prospect ${got}`);

// The clinician links her in the panel.
const panel = await signIn(browser, (await control('/login-link')).url);
await panel.locator('#open-prospects').click();
const card = panel.locator('[data-prospect]').filter({ hasText: 'Nora Blanc' });
await card.waitFor();
check((await card.textContent()).includes('nora@example.org'), 'the panel does not show the verified address');
await card.locator('input[type=search]').fill('Nora');
await card.locator('[data-client]').first().waitFor();
await shots(panel, 'panel-prospects');
await card.locator('[data-client]').first().click();
await until('"is linked"', async () => (await text(panel, '#prospects-status')).includes('Nora Blanc is linked'));
await until('the empty list', async () => panel.locator('#prospects-none').isVisible());
await shots(panel, 'panel-prospects-linked');

// Nora checks again: her record now, and "Create your access" as after an enrolment link; she
// sets a password, then sees her home.
await nora.locator('#prospect-check').click();
await until('"Create your access"', async () => (await heading(nora)) === 'Create your access');
await nora.locator('#new-password').fill('plum orchard lantern 42');
await nora.locator('#save-password').click();
await until('Nora\'s home', async () => (await text(nora, '#welcome')) === 'Welcome, Nora Blanc');
await shots(nora, 'portal-signup-home');
await browser.close();
console.log('sign-up, waiting, linked in the panel, home: ok');
