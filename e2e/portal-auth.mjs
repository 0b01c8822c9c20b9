// portal-auth.mjs: the client portal's sign-in, as clients see it. Alice creates her access
// with a passkey from her enrolment link (Chromium's virtual authenticator stands in for her
// phone's), signs out, and signs in again with it. Bruno, in French, mistypes his emailed code
// before typing it right, then creates his access with a password and signs in with it.
import { launch, open, control, check, until, text, shots } from './lib.mjs';
import { BRIDGE } from './lib.mjs';

const browser = await launch({ permissions: [] });

// A virtual authenticator in the page: a platform one (like a phone's) that keeps discoverable
// credentials and verifies the user without a prompt.
async function authenticator(page) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true,
      isUserVerified: true, automaticPresenceSimulation: true },
  });
  return { cdp, authenticatorId };
}

async function heading(page) { return (await page.locator('h1').textContent()) || ''; }

// --- Alice: a passkey, in English ---
const { url: aliceLink } = await control('/enrol-link?client=1');
const alice = await open(browser, 'about:blank', 'alice');
const { cdp, authenticatorId } = await authenticator(alice);
await alice.goto(aliceLink.replace('#', '?lang=en#'));
await until('"Create your access"', async () => (await heading(alice)) === 'Create your access');
check(!alice.url().includes('#'), 'the enrolment token stays in the address bar: ' + alice.url());
check((await alice.locator('main').textContent()).includes('Welcome, Alice Martin'), 'the page does not greet Alice by name');
await shots(alice, 'portal-create-access-en');
await alice.locator('#create-passkey').click();
await until('the welcome page after creating a passkey', async () => (await text(alice, '#welcome')) === 'Welcome, Alice Martin');
check((await text(alice, '#message')).includes('Your passkey is ready'), 'no word that the passkey is ready');
const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
check(credentials.length === 1 && credentials[0].isResidentCredential, 'the authenticator holds no discoverable passkey: ' + JSON.stringify(credentials.map((c) => c.isResidentCredential)));
check(credentials[0].rpId === new URL(BRIDGE).hostname, 'the passkey is for ' + credentials[0].rpId);
await shots(alice, 'portal-welcome-en');

await alice.locator('#sign-out').click();
await until('the signed-out page', async () => (await heading(alice)) === 'Signed out');
await shots(alice, 'portal-signed-out-en');
await alice.locator('#sign-in-again').click();
await until('the sign-in page', async () => (await heading(alice)) === 'Sign in');
await shots(alice, 'portal-sign-in-en');
await alice.locator('#passkey-signin').click();
await until('the welcome page after signing in with the passkey', async () => (await text(alice, '#welcome')) === 'Welcome, Alice Martin');
// The cookie is out of the page's reach.
check(!(await alice.evaluate(() => document.cookie)).includes('telehealth_portal'), 'the portal cookie is readable by scripts');
const cookie = (await browser.cookies(BRIDGE)).find((c) => c.name === 'telehealth_portal');
check(cookie && cookie.httpOnly && cookie.sameSite === 'Strict', 'portal cookie: ' + JSON.stringify(cookie));

// --- Bruno, on his own device: a code with a typo, then a password, in French ---
const brunoDevice = await launch({ permissions: [] });
const bruno = await open(brunoDevice, BRIDGE + '/portal?lang=fr', 'bruno');
await until('the French sign-in page', async () => (await heading(bruno)) === 'Connexion');
await shots(bruno, 'portal-sign-in-fr');
// An address that is no one's gets the very same words as Bruno's.
await bruno.locator('#contact').fill('personne@example.org');
await bruno.locator('#send-code').click();
await bruno.locator('#code').waitFor();
const unknownAnswer = await text(bruno, '#code-sent');
await bruno.reload();
await until('the French sign-in page again', async () => (await heading(bruno)) === 'Connexion');
await bruno.locator('#contact').fill('bruno@example.org');
await bruno.locator('#send-code').click();
await bruno.locator('#code').waitFor();
check((await text(bruno, '#code-sent')).includes('un code à 6 chiffres est en route'), 'no word that a code was sent');
check(unknownAnswer === await text(bruno, '#code-sent'), 'an unknown address is answered differently');
const code = await until('the emailed code', async () => (await control('/code?contact=bruno@example.org')).code);
const typo = String((Number(code) + 1) % 1000000).padStart(6, '0');
await bruno.locator('#code').fill(typo);
await bruno.locator('#verify-code').click();
await until('the wrong code message', async () => (await text(bruno, '#message')).includes("Ce code n'est pas le bon"));
await shots(bruno, 'portal-wrong-code-fr');
await bruno.locator('#code').fill(code);
await bruno.locator('#verify-code').click();
await until('the French welcome page', async () => (await text(bruno, '#welcome')) === 'Bienvenue, Bruno Petit');
await shots(bruno, 'portal-welcome-fr');
await bruno.locator('#sign-out-everywhere').click();
await until('the French signed-out page', async () => (await heading(bruno)) === 'Déconnecté');

// Bruno's enrolment link, in French: he cannot use a passkey, so he sets a password.
const { url: brunoLink } = await control('/enrol-link?client=2');
await bruno.goto(brunoLink.replace('#', '?lang=fr#'));
await until('"Créez votre accès"', async () => (await heading(bruno)) === 'Créez votre accès');
await shots(bruno, 'portal-create-access-fr');
await bruno.locator('#new-password').fill('motdepasse12');
await bruno.locator('#save-password').click();
await until('the weak password message', async () => (await text(bruno, '#message')).includes('trop court ou trop courant'));
await bruno.locator('#new-password').fill('le chat dort au soleil');
await bruno.locator('#save-password').click();
await until('the French welcome page after the password', async () => (await text(bruno, '#welcome')) === 'Bienvenue, Bruno Petit');
await bruno.locator('#sign-out').click();
await until('the French signed-out page', async () => (await heading(bruno)) === 'Déconnecté');
await bruno.locator('#sign-in-again').click();
await bruno.locator('#use-password').click();
await bruno.locator('#contact').fill('bruno@example.org');
await bruno.locator('#password').fill('le chat dort au soleil');
await bruno.locator('#password-signin').click();
await until('the French welcome page after signing in with the password', async () => (await text(bruno, '#welcome')) === 'Bienvenue, Bruno Petit');

// A used enrolment link says so (opened afresh: only the fragment would differ).
await bruno.goto('about:blank');
await bruno.goto(brunoLink.replace('#', '?lang=fr#'));
await until('the used-link message', async () => (await text(bruno, '#message')).includes('Ce lien a déjà servi'));
await shots(bruno, 'portal-link-used-fr');

// Alice, on her device, is still herself.
await alice.reload();
await until('Alice still signed in', async () => (await text(alice, '#welcome')) === 'Welcome, Alice Martin');

await brunoDevice.close();
await browser.close();
console.log('portal-auth scenario passed');
