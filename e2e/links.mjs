// links.mjs: links that do not work say why, names are text everywhere, French is French.
import { launch, open, signIn, control, check, until, shot, text } from './lib.mjs';

const browser = await launch();

// A name made of markup shows as text, on the guest's page and on the clinician's panel:
// no image element, no script run (a dialog would fail the scenario).
const evil = '<img src=x onerror=alert(1)>';
const { guest_link: evilLink, session_id: evilSession } = await control('/book', { name: evil, in_minutes: 20 });
await control('/open', { session_id: evilSession });
const guest = await open(browser, evilLink, 'guest');
await guest.locator('#join:not([disabled])').click();
await guest.locator('#name').waitFor();
check(await guest.locator('#name').inputValue() === evil, 'the booked name is not shown as typed');
await guest.locator('#accept:not([disabled])').click();
await guest.locator('#waiting').waitFor();
const { url: loginLink } = await control('/login-link');
const panel = await signIn(browser, loginLink);
await panel.locator(`[data-session="${evilSession}"] .participant .name`).waitFor();
check((await text(panel, `[data-session="${evilSession}"] .participant .name`)) === evil, 'the panel does not show the name as text');
check((await text(panel, `[data-session="${evilSession}"] .waiting-names`)) === evil, 'the waiting list does not show the name as text');
await panel.locator(`[data-session="${evilSession}"] [data-action="attendees"]`).click();
await panel.locator('.waiting-list .name').waitFor();
check((await text(panel, '.waiting-list .name')) === evil, 'the attendees panel does not show the name as text');
for (const [name, page] of [['guest', guest], ['panel', panel]]) {
  check(await page.locator('img').count() === 0, `an image element appeared on the ${name} page`);
}
await shot(panel, 'panel-markup-name');

// A French participant: French words, a 24-hour clock.
const { guest_link: frLink } = await control('/book', { name: 'Élodie', locale: 'fr', time_zone: 'Europe/Paris', hour: 16 });
const fr = await open(browser, frLink, 'french guest');
await fr.locator('#when').waitFor();
const when = await text(fr, '#when');
check(when.includes('mardi 24 novembre 2026') && when.includes('17:00'), 'French date and time: ' + when);
check((await text(fr, '#join')).includes('Accès à partir de 16:30'), 'French button: ' + await text(fr, '#join'));
check(await fr.evaluate(() => document.documentElement.lang) === 'fr', 'the page is not marked French');
await shot(fr, 'guest-french');

// A forged link: the page says it is not valid.
const forged = frLink.replace(/\.[^.]+$/, '.AAAAAAAAAAAAAAAAAAAAAA');
const forgedPage = await open(browser, forged, 'forged');
await until('the forged-link page', async () => (await text(forgedPage, '#message')).includes('not valid'));

// A withdrawn link: the clinician withdraws it from the panel.
const { guest_link: revokedLink, session_id: revokedSession } = await control('/book', { name: 'Kim Lee', hour: 17 });
await panel.goto(loginLink.replace(/\/l\/.*/, '/panel'));
await panel.locator(`[data-session="${revokedSession}"] [data-action="revoke"]`).click();
const revoked = await open(browser, revokedLink, 'revoked');
await until('the withdrawn-link page', async () => (await text(revoked, '#message')).includes('withdrawn'));

// An expired link: past the session's end and the grace period.
await control('/advance', { minutes: 24 * 60 });
const expired = await open(browser, evilLink, 'expired');
await until('the expired-link page', async () => (await text(expired, '#message')).includes('expired'));
await shot(expired, 'guest-expired');

await browser.close();
console.log('links scenario passed');
