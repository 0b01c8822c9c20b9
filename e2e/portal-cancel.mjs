// portal-cancel.mjs: a client changes her sessions in her portal, and her links land there.
// Jane cancels next Friday's session from My sessions (a confirm dialog first) and sees it
// said cancelled; asks to move next Tuesday's (an hour long, no consultation online) to two
// times that suit her; moves Wednesday's consultation into one of Dr Martin's free slots; today's
// is too close to change online, so the portal says to call the clinic (English, then French). My professionals shows Dr Martin's Matrix picture. Her own
// session link, opened in her browser, lands in her portal on that session; once its waiting
// room is open, Join there opens the session's page. The same link in a signed-out browser, or
// in Leo's (another client signed in), keeps its page and never offers a portal.
import { launch, open, control, check, until, text, shots, BRIDGE } from './lib.mjs';

const TODAY = process.env.TODAY_ID;
const FRIDAY = process.env.FRIDAY_ID;
const LATER = process.env.LATER_ID;
const MOVABLE = process.env.MOVABLE_ID;
const LINK = process.env.TODAY_LINK;

async function signedIn(who) {
  // In Paris, where Jane and Leo live: the times they pick are Paris times.
  const device = await launch({ permissions: [], timezoneId: 'Europe/Paris' });
  await device.addCookies([{ name: 'telehealth_portal', value: process.env['PORTAL_TOKEN_' + who], url: BRIDGE, httpOnly: true, sameSite: 'Strict' }]);
  return device;
}

const item = (page, id) => page.locator(`.portal-session[data-session="${id}"]`);

const janes = await signedIn('JANE');
const page = await open(janes, BRIDGE + '/portal?lang=en#sessions', 'jane');
await until('My sessions', async () => (await page.locator('.portal-session').count()) === 4);

// Today's session is within the day's notice: no buttons, the clinic to call instead.
await until("today's session", async () => (await item(page, TODAY).locator('.call-clinic').count()) === 1);
check((await item(page, TODAY).locator('.cancel-session, .move-session').count()) === 0, "today's session offers a change");
const callLine = await text(page, `.portal-session[data-session="${TODAY}"] .call-clinic`);
check(callLine.includes('too late to change this session online') && callLine.includes('Call the clinic: +33123456789'), 'the call-the-clinic line: ' + callLine);
check((await item(page, TODAY).locator('.call-clinic a[href="tel:+33123456789"]').count()) === 1, 'the clinic phone is not a link to call');

// Friday's: cancel, after saying yes.
const friday = item(page, FRIDAY);
check((await friday.locator('.cancel-session').count()) === 1 && (await friday.locator('.move-session').count()) === 1, "Friday's session offers no cancel or move");
await shots(page, 'portal-cancel-sessions-en');
await friday.locator('.cancel-session').click();
await until('the confirm dialog', async () => (await page.locator('dialog.confirm[open]').count()) === 1);
check((await text(page, 'dialog.confirm p')).startsWith('Cancel your session of'), 'the question: ' + await text(page, 'dialog.confirm p'));
await shots(page, 'portal-cancel-confirm-en');
// "Keep it" first: nothing happens.
await page.locator('dialog.confirm [data-action=dismiss]').click();
check((await friday.getAttribute('data-status')) === 'scheduled', 'dismissing cancelled the session');
await friday.locator('.cancel-session').click();
await page.locator('dialog.confirm [data-action=confirm]').click();
await until('the session said cancelled', async () => (await item(page, FRIDAY).getAttribute('data-status')) === 'cancelled');
check((await text(page, `.portal-session[data-session="${FRIDAY}"] .state`)) === 'Cancelled', 'the state: ' + await text(page, `.portal-session[data-session="${FRIDAY}"] .state`));
check((await item(page, FRIDAY).locator('.cancel-session, .move-session, a.join').count()) === 0, 'a cancelled session offers a change or a join');
check((await text(page, '#message')).includes('is cancelled'), 'the status line: ' + await text(page, '#message'));
await shots(page, 'portal-cancel-done-en');

// Next Tuesday's: ask to move it, to two times that would suit her (in Paris, the browser's zone).
const later = item(page, LATER);
await later.locator('.move-session').click();
await until('the move form', async () => (await later.locator('form.move-request').count()) === 1);
await later.locator('.send-move').click();
check((await text(page, `.portal-session[data-session="${LATER}"] .change-error`)) === 'Choose at least one time.', 'an empty request was not refused');
await later.locator('input.move-time').nth(0).fill('2026-12-04T16:00');
await later.locator('input.move-time').nth(1).fill('2026-12-03T10:30');
await shots(page, 'portal-move-request-en');
await later.locator('.send-move').click();
await until('the request shown on the session', async () => (await item(page, LATER).locator('.move-requested').count()) === 1);
const asked = await text(page, `.portal-session[data-session="${LATER}"] .move-requested`);
check(asked.includes('Thursday 3 December 2026 10:30 AM') && asked.includes('Friday 4 December 2026 4:00 PM') && asked.indexOf('Thursday') < asked.indexOf('Friday'), 'the request: ' + asked);
check((await text(page, '#message')).includes('Your request is sent'), 'the status line: ' + await text(page, '#message'));
check((await item(page, LATER).getAttribute('data-status')) === 'scheduled', 'the session moved by itself');

// Wednesday's is a consultation Dr Martin takes online: move it into a free slot at once.
const movable = item(page, MOVABLE);
check((await text(page, `.portal-session[data-session="${MOVABLE}"] .move-session`)) === 'Move it', 'the move button: ' + await text(page, `.portal-session[data-session="${MOVABLE}"] .move-session`));
await movable.locator('.move-session').click();
await until('the free slots', async () => (await movable.locator('.move-slots .slot').count()) > 0);
check((await text(page, `.portal-session[data-session="${MOVABLE}"] .move-slots .hint`)).includes('Europe/Paris'), 'the slots\' zone');
await shots(page, 'portal-move-slots-en');
const slot = movable.locator('.move-slots .slot').first();
const slotStart = Number(await slot.getAttribute('data-start'));
await slot.click();
await until('the move question', async () => (await page.locator('dialog.confirm[open]').count()) === 1);
check((await text(page, 'dialog.confirm p')).startsWith('Move your session of Wednesday 2 December 2026 3:00 PM to'), 'the move question: ' + await text(page, 'dialog.confirm p'));
await page.locator('dialog.confirm [data-action=confirm]').click();
await until('the session moved', async () => (await item(page, MOVABLE).getAttribute('data-status')) === 'cancelled');
check((await text(page, '#message')).includes('Your session is moved to'), 'the status line: ' + await text(page, '#message'));
// The new session is among the upcoming ones, soonest first: at the slot's time.
const upcoming = await page.locator('.portal-session').evaluateAll((els) => els.map((el) => ({ id: el.dataset.session, status: el.dataset.status })));
check(upcoming.length === 5 && upcoming.filter((u) => u.status === 'scheduled').length === 3, 'after the move: ' + JSON.stringify(upcoming));
check(slotStart > Date.parse('2026-11-25T00:00:00Z'), 'the slot is not after the notice');
await shots(page, 'portal-moved-en');

// In French.
await page.goto(BRIDGE + '/portal?lang=fr#sessions');
await until('Mes séances', async () => (await page.locator('.portal-session').count()) === 5);
check((await text(page, `.portal-session[data-session="${LATER}"] .move-requested`)).startsWith('Vous avez demandé à la déplacer'), 'the French request');
check((await text(page, `.portal-session[data-session="${TODAY}"] .call-clinic`)).includes('Il est trop tard'), 'the French call-the-clinic line');
check((await text(page, `.portal-session[data-session="${FRIDAY}"] .state`)) === 'Annulée', 'the French state');
await shots(page, 'portal-cancel-sessions-fr');

// My professionals: Dr Martin's picture, from Matrix.
await page.goto(BRIDGE + '/portal?lang=en#professionals');
await until("Dr Martin's picture", async () => page.locator('.professional img.avatar.picture').evaluate((img) => !img.hidden && img.complete && img.naturalWidth > 0));
check((await page.locator('.professional .avatar.initials').count()) === 0, 'the initials stay beside the picture');
await shots(page, 'portal-professionals-picture');

// Her own link lands in her portal, on that session.
await page.goto(LINK);
await until('the portal on that session', async () => new URL(page.url()).pathname === '/portal' && (await page.locator('.portal-session.focused').count()) === 1);
check((await page.locator('.portal-session.focused').getAttribute('data-session')) === TODAY, 'the wrong session is highlighted');
await shots(page, 'portal-link-lands-en');
// Once the waiting room opens, Join there opens the session's page, ready to join.
await control('/open', { session_id: TODAY });
await page.reload();
await until('the Join button', async () => (await item(page, TODAY).locator('a.join').count()) === 1);
await item(page, TODAY).locator('a.join').click();
await until('the session page', async () => new URL(page.url()).pathname.startsWith('/g/'));
await until('the Join button of the session page', async () => page.locator('#join').isEnabled());
check((await page.locator('#portal-link').count()) === 1, 'the session page offers no way back to the portal');

// The same link in a signed-out browser keeps its page.
const nobody = await launch({ permissions: [] });
const stranger = await open(nobody, LINK, 'signed-out');
await until('the session page, signed out', async () => (await stranger.locator('#when').count()) === 1);
check(new URL(stranger.url()).pathname.startsWith('/g/') && (await stranger.locator('#portal-link').count()) === 0, 'a signed-out browser left the link or was offered a portal');
await nobody.close();

// And in Leo's, another client's, signed in: the link's page, not Leo's portal, not Jane's.
const leos = await signedIn('LEO');
const leo = await open(leos, LINK, 'leo');
await until("the session page in Leo's browser", async () => (await leo.locator('#when').count()) === 1);
check(new URL(leo.url()).pathname.startsWith('/g/') && (await leo.locator('#portal-link').count()) === 0, "Leo's browser left the link or was offered a portal");
await leos.close();

await janes.close();
console.log('portal-cancel scenario passed');
