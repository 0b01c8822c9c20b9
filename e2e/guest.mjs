// guest.mjs: a web-link guest's journey and the clinician's panel, in real browsers.
// The clinician signs in with a one-time link and books the guest through the New Scheduled
// Session form; the guest opens their link early (Join is not live, the server refuses a
// knock), the clock reaches the window, the guest checks their devices, confirms their name and
// waits; the clinician starts the session and admits them from the panel; both decode video;
// the guest reloads and is straight back in, without knocking again.
import { launch, open, signIn, watch, control, check, until, shot, stats, text } from './lib.mjs';

const clinicianBrowser = await launch();
const guestBrowser = await launch();

// The clinician signs in and books the session.
const { url: loginLink } = await control('/login-link');
const panel = await signIn(clinicianBrowser, loginLink);
await panel.locator('#new-session').click();
await panel.locator('#date').fill('2026-11-24');
await panel.locator('#time').selectOption('10:45'); // 09:45 UTC; the test clock says 09:00
await panel.locator('#time_zone').selectOption('Europe/Paris');
await panel.locator('#name').fill('Jane Doe');
await panel.locator('input[name="invite"][value="email"]').check();
await panel.locator('#email').fill('not an email');
await panel.locator('#participant_time_zone').selectOption('America/New_York');
await panel.locator('#locale').selectOption('en');
await panel.locator('#save').click();
await until('the e-mail error next to its field', async () => (await text(panel, '#email-error')).includes('not a valid email'));
check(await panel.locator('#name').inputValue() === 'Jane Doe', 'the form lost what was typed');
await panel.locator('#email').fill('jane@example.org');
await panel.locator('#save').click();
await panel.locator('.session-card').waitFor();
await shot(panel, 'panel-upcoming');
const card = panel.locator('.session-card').first();
const sessionId = await card.getAttribute('data-session');
const guestLink = await card.locator('input.link').inputValue();
check(guestLink.includes('/g/' + sessionId + '.'), 'the panel shows the participant\'s link');

// The guest opens the link early: the time in their zone, Join not live, the API says no.
const guest = await open(guestBrowser, guestLink, 'guest');
await guest.locator('#when').waitFor();
check((await text(guest, '#when')).includes('4:45 AM') && (await text(guest, '#when')).includes('America/New_York'), 'the time in the guest\'s zone: ' + await text(guest, '#when'));
check(await guest.locator('#join').isDisabled(), 'Join is live before the window');
check((await text(guest, '#join')).includes('4:15 AM'), 'the button says when it opens');
const token = guestLink.split('/g/')[1];
const early = await guest.evaluate(async (tok) => {
  const r = await fetch('/api/call/knock', { method: 'POST', headers: { Authorization: 'Bearer ' + tok, 'X-Requested-With': 'telehealth', 'Content-Type': 'application/json' }, body: '{"name":"Jane"}' });
  return r.status;
}, token);
check(early === 409, 'the server accepted an early knock: ' + early);

// The clock reaches the window: Join goes live by itself.
await control('/open', { session_id: sessionId });
await guest.locator('#join:not([disabled])').click();
await guest.locator('#preview').waitFor();
await until('the camera preview', () => guest.evaluate(() => document.querySelector('#preview').videoWidth > 0));
await until('the microphone level meter to move', () => guest.evaluate(() => document.querySelector('meter.level').value > 0));
await shot(guest, 'guest-prejoin');
await guest.locator('#name').fill('J');
await guest.locator('#accept').click();
await until('the short name refused', async () => (await text(guest, '#name-error')).includes('at least 2'));
await guest.locator('#name').fill('Jane');
await guest.locator('#accept').click();
await guest.locator('#waiting').waitFor();
await shot(guest, 'guest-waiting');
// This test clinic sends no e-mail: the panel, as it is, tells the clinician that Jane's
// confirmation did not go, and why; and that she is waiting.
await until('the unsent confirmation on the panel', async () =>
  ((await panel.locator('.session-card .notice-problem[data-kind="confirmation"]').textContent({ timeout: 1000 })) || '').includes('Confirmation (e-mail) not sent: the clinic has not configured') &&
  ((await panel.locator('.session-card .participant').first().getAttribute('data-state', { timeout: 1000 })) === 'waiting'), 10000,
  async () => console.error(await text(panel, '.session-card')));

// The clinician starts the session (Enter Meeting, a new tab) and admits Jane from the panel.
const [host] = await Promise.all([clinicianBrowser.waitForEvent('page'), card.locator('[data-action="enter"]').click()]);
watch(host, 'clinician call');
await host.locator('#accept').click();
await host.locator('#attendees').waitFor();
await panel.bringToFront();
await panel.locator('.session-card [data-action="attendees"]').first().click();
await panel.locator('.waiting-list [data-action="admit"]').click();
await shot(panel, 'panel-attendees');

// The guest's page leaves the waiting room by itself; both decode video.
await guest.locator('#remotes').waitFor();
await until('the guest to decode the clinician\'s video', async () => (await stats(guest))?.framesDecoded > 0);
await until('the clinician to decode the guest\'s video', async () => (await stats(host))?.framesDecoded > 0);
await shot(guest, 'guest-call');

// A reload: straight back into the call, no second knock.
await guest.reload();
await guest.locator('#accept:not([disabled])').click();
await until('the guest back in the call', async () => (await stats(guest))?.framesDecoded > 0);
const state = await control('/state?session_id=' + sessionId);
check(state.participants[0] === 'in_session', 'after the reload the guest is ' + state.participants[0]);
check(state.knocks === 1, `the guest knocked ${state.knocks} times`);
await until('the panel to show Jane in the session', async () => (await panel.locator('.inside-list [data-state="in_session"]').count()) === 1);
check(await panel.locator('.waiting-list li').count() === 0, 'Jane is still listed as waiting');

await clinicianBrowser.close();
await guestBrowser.close();
console.log('guest scenario passed');
