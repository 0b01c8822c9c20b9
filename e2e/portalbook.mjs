// portalbook.mjs: self-scheduling. Dr Martin publishes his availability on the panel's
// Availability page (a session type without a name is refused beside its field), then Jane
// (English) and Leo (French) open "Schedule an appointment" in their portals and go for the
// same slot: Jane books it and sees the confirmation, Leo is told it has just been taken.
import { launch, signIn, open, control, check, until, text, shots } from './lib.mjs';
import { BRIDGE } from './lib.mjs';

// --- the clinician's availability ---
const browser = await launch({ permissions: [] });
const { url: loginLink } = await control('/login-link');
const panel = await signIn(browser, loginLink);
await panel.locator('#open-availability').click();
await until('the Availability page', async () => (await text(panel, 'h1')) === 'Your availability');
await panel.locator('#av-zone').selectOption('Europe/Paris');
await panel.locator('#av-on').check();
await panel.locator('#av-add-hours').click();
const hours = panel.locator('#av-hours li').last();
await hours.locator('.av-day').selectOption('thursday');
await hours.locator('.av-start').fill('09:00');
await hours.locator('.av-end').fill('12:00');
await panel.locator('#av-add-type').click();
const type = panel.locator('#av-types li').last();
await type.locator('.av-type-minutes').fill('60');
await panel.locator('#av-save').click();
const nameError = type.locator('[data-field="types[0].name"] .error');
await until('the refused name beside its field', async () => ((await nameError.textContent()) || '').length > 0);
await shots(panel, 'availability-error-en');
await type.locator('.av-type-name').fill('Consultation');
await panel.locator('#av-save').click();
await until('"saved"', async () => (await text(panel, '#av-status')) === 'Your availability is saved.');
await shots(panel, 'availability-en');

const fr = await browser.newPage();
await fr.addInitScript(() => Object.defineProperty(navigator, 'language', { get: () => 'fr-FR' }));
await fr.goto(panel.url());
await fr.locator('#open-availability').click();
await until('the French Availability page', async () => (await text(fr, 'h1')) === 'Vos disponibilités');
check(await fr.locator('#av-on').isChecked(), 'self-scheduling is not on after saving');
check(await fr.locator('.av-type-name').inputValue() === 'Consultation', 'the session type was not kept');
await shots(fr, 'availability-fr');
// A refusal reads in French beside its field; nothing is saved.
await fr.locator('.av-type-name').fill('C');
await fr.locator('#av-save').click();
await until('the French refusal beside the name', async () => (await text(fr, '[data-field="types[0].name"] .error')) === 'Le nom doit avoir de 2 à 60 caractères.');
await shots(fr, 'availability-error-fr');
await fr.close();

// --- two clients, each signed in to their portal on their own device ---
const devices = [];
async function portal(who, lang) {
  const device = await launch({ permissions: [] });
  devices.push(device);
  await device.addCookies([{ name: 'telehealth_portal', value: process.env['PORTAL_TOKEN_' + who], url: BRIDGE, httpOnly: true, sameSite: 'Strict' }]);
  const page = await open(device, `${BRIDGE}/portal?lang=${lang}`, who.toLowerCase());
  await page.locator('#open-schedule').click();
  await until(`${who}'s free slots`, async () => (await page.locator('#book-slots .slot').count()) > 0);
  return page;
}
const jane = await portal('JANE', 'en');
check((await text(jane, '#book-title')) === 'Schedule an appointment', 'the English title');
check((await jane.locator('#book-type option').first().textContent()).startsWith('Consultation (60 min)'), 'the type is not offered');
await shots(jane, 'portal-schedule-en');
const leo = await portal('LEO', 'fr');
check((await text(leo, '#book-title')) === 'Prendre rendez-vous', 'the French title');
await shots(leo, 'portal-schedule-fr');

// Both pick the first slot; Jane is first.
const first = await jane.locator('#book-slots .slot').first().getAttribute('data-start');
const firstTime = await jane.locator('#book-slots .slot').first().textContent();
await jane.locator(`#book-slots .slot[data-start="${first}"]`).click();
await until('Jane\'s confirmation', async () => (await text(jane, '#book-done')) === 'Your appointment is booked');
const done = await text(jane, '#book-done-text');
check(done.includes('A confirmation is on its way.') && done.includes(` at ${firstTime} (`), `the confirmation: ${done} (the slot read ${firstTime})`);
await shots(jane, 'portal-booked-en');
await leo.locator(`#book-slots .slot[data-start="${first}"]`).click();
await until('Leo told the slot is taken', async () => (await text(leo, '#book-message')).startsWith('Quelqu\u2019un vient de réserver cet horaire'));
await until('the taken slot gone from Leo\'s list', async () => (await leo.locator(`#book-slots .slot[data-start="${first}"]`).count()) === 0
  && (await leo.locator('#book-slots .slot').count()) > 0);
await shots(leo, 'portal-taken-fr');

// The clinician's Upcoming list shows Jane's booking without a reload.
await panel.locator('#av-back').click();
await until('Jane\'s booking on the panel', async () => (await panel.locator('#sessions').count()) > 0
  && (await text(panel, '#sessions')).includes('Jane Doe'));
await shots(panel, 'panel-self-booked-en');
console.log('availability saved on the panel; Jane booked', new Date(Number(first)).toISOString(), '; Leo was told it was taken');
for (const d of [browser, ...devices]) await d.close();
