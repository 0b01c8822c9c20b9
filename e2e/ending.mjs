// ending.mjs: how sessions end, for each side.
// - Client pages show the clinic's name and the clinician's display name, and a help line with
//   the clinic's phone (English overview; French waiting room).
// - The clinician's Leave asks: leave (the meeting goes on) or End meeting for all; both bring
//   them back to the panel. The client then reads that the clinician will join shortly, and,
//   once the meeting is ended, an ended page that says whom to contact, with My sessions.
// - The French client's denied, removed and cancelled pages say whom to contact too.
import { launch, open, signIn, watch, control, check, until, shots, stats, text } from './lib.mjs';

const CONTACT_EN = 'Questions about your session? Contact Cabinet Martin at +33123456789.';
const CONTACT_FR = 'Une question sur votre séance ? Contactez Cabinet Martin au +33123456789.';
const en = await control('/book', { name: 'Jane Doe', locale: 'en', in_minutes: 20 });
const fr = await control('/book', { name: 'Jean Dupont', locale: 'fr', in_minutes: 20 });
const cancelled = await control('/book', { name: 'Jean Dupont', locale: 'fr', in_minutes: 25 });
for (const s of [en, fr, cancelled]) await control('/open', { session_id: s.session_id });
const clinicianBrowser = await launch();
const { url: loginLink } = await control('/login-link');
const panel = await signIn(clinicianBrowser, loginLink);

async function enter(sessionId) {
  await panel.bringToFront();
  const button = panel.locator(`[data-session="${sessionId}"] [data-action="enter"]`);
  await button.waitFor();
  const [host] = await Promise.all([clinicianBrowser.waitForEvent('page'), button.click()]);
  watch(host, 'clinician call ' + sessionId);
  await host.locator('#accept:not([disabled])').click();
  await host.locator('#attendees').waitFor();
  return host;
}

async function knock(page, name) {
  await page.locator('#join:not([disabled])').click();
  await page.locator('#name').fill(name);
  await page.locator('#accept:not([disabled])').click();
  await page.locator('#waiting').waitFor();
}

// English: the clinic on the overview; Leave, then End meeting for all.
{
  const browser = await launch();
  const client = await open(browser, en.guest_link, 'client en');
  await client.locator('#join').waitFor();
  check((await text(client, '#clinic-header')).includes('Cabinet Martin') && (await text(client, '#clinic-header')).includes('with Dr Claire Martin'),
    'the header names the clinic and the clinician: ' + await text(client, '#clinic-header'));
  check((await text(client, '#help-line')) === CONTACT_EN, 'the help line: ' + await text(client, '#help-line'));
  await shots(client, 'ending-overview-en');
  let host = await enter(en.session_id);
  await knock(client, 'Jane');
  await host.locator('.waiting-list [data-action="admit"]').click();
  await until('the client to decode the clinician\'s video', async () => (await stats(client))?.framesDecoded > 0);
  check(await client.locator('#clinic-header').isHidden(), 'the header takes room from the call');

  // Leave, and the meeting goes on: back to the panel; the client waits for the clinician.
  await host.locator('#leave').click();
  await host.locator('#leave-dialog').waitFor();
  await shots(host, 'ending-leave-dialog-clinician-en');
  await host.locator('#leave-dialog [data-action="leave-only"]').click();
  await host.waitForURL(/\/panel$/);
  await until('the client told the clinician will join shortly', async () => (await text(client, '#presence')).startsWith('You\'re in. Your clinician will join shortly'));
  check((await control('/state?session_id=' + en.session_id)).status === 'live', 'leaving ended the session');
  await host.close();

  // Back in, then Leave → End meeting for all.
  host = await enter(en.session_id);
  await until('the client to see the clinician again', () => client.locator('#presence').isHidden());
  await host.locator('#leave').click();
  await host.locator('#leave-dialog [data-action="end-for-all"]').click();
  await host.waitForURL(/\/panel$/);
  await until('the client\'s ended page', async () => (await client.locator('#message').count()) > 0 && (await text(client, '#message')) === 'This session has ended.');
  check((await text(client, '#contact')) === CONTACT_EN, 'the ended page says whom to contact: ' + await text(client, '#contact'));
  check(await client.locator('#contact a[href="tel:+33123456789"]').count() === 1, 'the phone is a link to call');
  check(await client.locator('#my-sessions').isVisible(), 'the ended page offers My sessions');
  check((await control('/state?session_id=' + en.session_id)).status === 'ended', 'the session is not ended');
  await shots(client, 'ending-ended-en');
  await client.locator('#my-sessions').click();
  await client.waitForURL(/\/sessions$/);
  await host.close();
  await browser.close();
}

// French: denied, then back, removed; and a cancelled session.
{
  const browser = await launch();
  const client = await open(browser, fr.guest_link, 'client fr');
  const host = await enter(fr.session_id);
  await knock(client, 'Jean');
  check((await text(client, '#help-line')) === CONTACT_FR, 'the French help line: ' + await text(client, '#help-line'));
  check((await text(client, '#clinic-header')).includes('avec Dr Claire Martin'), 'the French header: ' + await text(client, '#clinic-header'));
  await shots(client, 'ending-waiting-fr');
  await host.locator('.waiting-list [data-action="deny"]').click();
  await until('the denied page', async () => (await client.locator('#message').count()) > 0 && (await text(client, '#message')).startsWith('Votre praticien ne vous a pas fait entrer'));
  check((await text(client, '#contact')) === CONTACT_FR, 'the denied page says whom to contact: ' + await text(client, '#contact'));
  check((await text(client, '#my-sessions')) === 'Mes séances', 'the denied page offers My sessions');
  await shots(client, 'ending-denied-fr');
  await client.locator('#rejoin').click();
  await client.locator('#accept:not([disabled])').click();
  await client.locator('#waiting').waitFor();
  await host.locator('.waiting-list [data-action="admit"]').click();
  await until('the client in the call', async () => (await stats(client))?.framesDecoded > 0);
  await host.locator('.inside-list [data-action="remove"]').click();
  await until('the removed page', async () => (await client.locator('#message').count()) > 0 && (await text(client, '#message')) === 'Vous avez été retiré de cette séance.');
  check((await text(client, '#contact')) === CONTACT_FR, 'the removed page says whom to contact');
  await shots(client, 'ending-removed-fr');
  await host.close();

  const other = await open(browser, cancelled.guest_link, 'client fr cancelled');
  await other.locator('#join').waitFor();
  await panel.bringToFront();
  await panel.locator(`[data-session="${cancelled.session_id}"] [data-action="cancel"]`).click();
  await panel.locator('dialog [data-action="confirm"]').click();
  await until('the cancelled page', async () => (await other.locator('#message').count()) > 0 && (await text(other, '#message')) === 'Cette séance a été annulée.');
  check((await text(other, '#contact')) === CONTACT_FR, 'the cancelled page says whom to contact');
  check(await other.locator('#my-sessions').isVisible(), 'the cancelled page offers My sessions');
  await shots(other, 'ending-cancelled-fr');
  await browser.close();
}

await clinicianBrowser.close();
console.log('ending scenario passed');
