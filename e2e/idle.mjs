// idle.mjs: an open, unattended panel signs out after web.panel_idle (2 minutes in this
// run). Its long poll answers changes all along, but only a person's actions keep the sign-in.
import { launch, signIn, control, check, until, text } from './lib.mjs';

const browser = await launch();
const { url: loginLink } = await control('/login-link');
const panel = await signIn(browser, loginLink);
await panel.locator('#new-session').waitFor();

// A minute and a half later a session is booked: the open panel shows it by itself.
await control('/advance', { minutes: 1.5 });
const { session_id: booked } = await control('/book', { name: 'Jane Doe' });
await panel.locator(`[data-session="${booked}"]`).waitFor();

// Another minute with nobody at the panel: past the idle time since the sign-in.
await control('/advance', { minutes: 1 });
await until('the sign-in screen on the unattended panel', async () => (await text(panel, '#message')).includes('!login'));
check(await panel.locator('#sessions').count() === 0, 'the sessions are still on the page');

await browser.close();
console.log('idle scenario passed');
