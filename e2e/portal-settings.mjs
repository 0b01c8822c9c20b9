// portal-settings.mjs: the portal's Settings, as a client sees them. Alice signs in with an
// emailed code, opens Settings, chooses text-message reminders, downloads her data (and only
// hers), then switches the portal to French, which then speaks French.
import { launch, open, control, check, until, text, shots } from './lib.mjs';
import { BRIDGE } from './lib.mjs';
import { readFileSync } from 'node:fs';

const browser = await launch({ permissions: [] });
const alice = await open(browser, BRIDGE + '/portal?lang=en', 'alice');
async function heading() { return (await alice.locator('h1').textContent()) || ''; }

await until('the sign-in page', async () => (await heading()) === 'Sign in');
await alice.locator('#contact').fill('alice@example.org');
await alice.locator('#send-code').click();
await alice.locator('#code').waitFor();
const code = await until('the emailed code', async () => (await control('/code?contact=alice@example.org')).code);
await alice.locator('#code').fill(code);
await alice.locator('#verify-code').click();
await until('the welcome page', async () => (await text(alice, '#welcome')) === 'Welcome, Alice Martin');

await alice.locator('#open-settings').click();
await until('the Settings page', async () => (await heading()) === 'Settings');
check((await alice.locator('main').textContent()).includes('Name on file: Alice Martin'), 'the page does not show the name on file');
check(await alice.locator('#remind-email').isChecked(), 'email reminders are not the current choice');
await shots(alice, 'portal-settings-en');

// Reminders by text message: saved on her record.
await alice.locator('#remind-sms').check();
await alice.locator('#save-reminders').click();
await until('"Saved."', async () => (await text(alice, '#reminders-message')) === 'Saved.');
const saved = await until('the record with sms reminders', async () => {
  const r = await control('/alice');
  return r.reminders === 'sms' ? r : null;
});
check(saved.locale === 'en', 'the language changed with the reminders');

// A new email address: a wrong code changes nothing, the code sent to the new address does.
await alice.locator('#new-contact').fill('alice.martin@example.net');
await alice.locator('#send-contact-code').click();
await alice.locator('#contact-code').waitFor();
check((await text(alice, '#contact-message')).includes('alice.martin@example.net'), 'no word of the code sent to the new address');
const newCode = await until('the code sent to the new address', async () => (await control('/code?contact=alice.martin@example.net')).code);
await alice.locator('#contact-code').fill(String((Number(newCode) + 1) % 1000000).padStart(6, '0'));
await alice.locator('#confirm-contact').click();
await until('the wrong code message', async () => (await text(alice, '#contact-message')).includes('This code is not the right one'));
check((await text(alice, '#current-email')) === 'Email: alice@example.org', 'a wrong code changed the email');
await alice.locator('#contact-code').fill(newCode);
await alice.locator('#confirm-contact').click();
await until('the new email on the page', async () => (await text(alice, '#current-email')) === 'Email: alice.martin@example.net');
check((await text(alice, '#settings-message')) === 'Your contact details are changed.', 'no word that the contact changed');
check((await control('/alice')).email === 'alice.martin@example.net', 'the record keeps the old email');

// Download my data: a JSON file of her own record and sessions, nobody else's.
const [download] = await Promise.all([alice.waitForEvent('download'), alice.locator('#download-data').click()]);
check(download.suggestedFilename() === 'my-data.json', 'the file is named ' + download.suggestedFilename());
const data = JSON.parse(readFileSync(await download.path(), 'utf8'));
check(data.record.display_name === 'Alice Martin' && data.record.reminders === 'sms', 'the export record: ' + JSON.stringify(data.record));
check(data.sessions.length === 1 && data.sessions[0].kind === 'video', 'the export sessions: ' + JSON.stringify(data.sessions));
check(!JSON.stringify(data).includes('Bruno') && !JSON.stringify(data).includes('bruno'), 'the export holds Bruno');
await until('the downloaded message', async () => (await text(alice, '#data-message')).includes('my-data.json'));

// French: the record says so and the page speaks it.
await alice.locator('#language').selectOption('fr');
await alice.locator('#preferred-name').fill('Ali');
await alice.locator('#save-settings').click();
await until('the French Settings page', async () => (await heading()) === 'Paramètres');
check((await text(alice, '#settings-message')) === 'Enregistré.', 'no French word that it is saved');
check(await alice.evaluate(() => document.documentElement.lang) === 'fr', 'the page language is not fr');
const fr = await control('/alice');
check(fr.locale === 'fr' && fr.preferred_name === 'Ali', 'the record after the change: ' + JSON.stringify(fr));
await shots(alice, 'portal-settings-fr');
await alice.locator('#settings-back').click();
await until('the French welcome', async () => (await text(alice, '#welcome')) === 'Bienvenue, Ali');

await browser.close();
console.log('portal-settings scenario passed');
