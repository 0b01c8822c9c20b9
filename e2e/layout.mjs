// layout.mjs: what matters is on screen without scrolling. On a 1280x800 laptop: the device
// check's Accept (client and clinician), the call's controls and End meeting for all. On a
// 390x844 phone the call fills the screen with its controls in sight, and there is no Share
// screen button where the browser cannot share. English client, French client on the phone.
import { launch, open, signIn, watch, control, check, until, shots, stats } from './lib.mjs';

const en = await control('/book', { name: 'Jane Doe', locale: 'en', in_minutes: 20 });
const fr = await control('/book', { name: 'Jean Dupont', locale: 'fr', in_minutes: 20 });
await control('/open', { session_id: en.session_id });
await control('/open', { session_id: fr.session_id });
const clinicianBrowser = await launch();
const { url: loginLink } = await control('/login-link');
const panel = await signIn(clinicianBrowser, loginLink);

// inView says whether each element is wholly on screen and the page does not scroll.
const inView = (page, selectors) => page.evaluate((sels) => {
  const out = { scrolls: document.scrollingElement.scrollHeight > innerHeight + 1 };
  for (const s of sels) {
    const el = document.querySelector(s);
    const r = el && el.getBoundingClientRect();
    out[s] = !!r && r.width > 0 && r.top >= 0 && r.bottom <= innerHeight && r.left >= 0 && r.right <= innerWidth;
  }
  return out;
}, selectors);
const allIn = (v) => !v.scrolls && Object.entries(v).every(([k, x]) => k === 'scrolls' || x);

async function enter(sessionId) {
  await panel.bringToFront();
  const button = panel.locator(`[data-session="${sessionId}"] [data-action="enter"]`);
  await button.waitFor();
  const [host] = await Promise.all([clinicianBrowser.waitForEvent('page'), button.click()]);
  watch(host, 'clinician call ' + sessionId);
  await host.locator('#accept:not([disabled])').waitFor();
  await until('the preview', () => host.evaluate(() => document.querySelector('#preview')?.videoWidth > 0));
  const v = await inView(host, ['#accept', '#preview']);
  check(allIn(v), 'the clinician\'s device check at 1280x800: ' + JSON.stringify(v));
  await host.locator('#accept').click();
  await host.locator('#attendees').waitFor();
  return host;
}

// Laptop, English.
const host = await enter(en.session_id);
{
  const browser = await launch();
  const client = await open(browser, en.guest_link, 'client en');
  await client.locator('#join:not([disabled])').click();
  await client.locator('#accept:not([disabled])').waitFor();
  await until('the preview', () => client.evaluate(() => document.querySelector('#preview')?.videoWidth > 0));
  const pre = await inView(client, ['#accept', '#name', '#preview']);
  check(allIn(pre), 'the client\'s device check at 1280x800: ' + JSON.stringify(pre));
  await client.screenshot({ path: process.env.ARTIFACTS_DIR + '/layout-prejoin-en-1280.png' });
  await client.locator('#name').fill('Jane');
  await client.locator('#accept').click();
  await client.locator('#waiting').waitFor();
  await host.locator('.waiting-list [data-action="admit"]').click();
  await until('the client to decode video', async () => (await stats(client))?.framesDecoded > 0);
  await until('the clinician to decode video', async () => (await stats(host))?.framesDecoded > 0);
  const controls = ['#mute', '#camera', '#hide-self', '#share', '#settings', '#leave'];
  const hv = await inView(host, [...controls, '#end-for-all']);
  check(allIn(hv), 'the clinician\'s call at 1280x800: ' + JSON.stringify(hv));
  const cv = await inView(client, controls);
  check(allIn(cv), 'the client\'s call at 1280x800: ' + JSON.stringify(cv));
  await host.screenshot({ path: process.env.ARTIFACTS_DIR + '/layout-call-clinician-en-1280.png' });
  await shots(client, 'layout-call-client-en');
  await browser.close();
}

// Phone, French, a browser that cannot share its screen.
{
  const browser = await launch();
  await browser.addInitScript(() => { delete MediaDevices.prototype.getDisplayMedia; });
  const client = await open(browser, fr.guest_link, 'client fr phone');
  await client.setViewportSize({ width: 390, height: 844 });
  await client.locator('#join:not([disabled])').click();
  await client.locator('#accept:not([disabled])').waitFor();
  await client.locator('#name').fill('Jean');
  await client.screenshot({ path: process.env.ARTIFACTS_DIR + '/layout-prejoin-fr-390.png', fullPage: true });
  await client.locator('#accept').click();
  await client.locator('#waiting').waitFor();
  const host2 = await enter(fr.session_id);
  await host2.locator('.waiting-list [data-action="admit"]').click();
  await until('the phone to decode video', async () => (await stats(client))?.framesDecoded > 0);
  check(await client.locator('#share').count() === 0, 'a Share screen button where the browser cannot share');
  const pv = await inView(client, ['#mute', '#camera', '#hide-self', '#settings', '#leave', '.tile.camera video']);
  check(allIn(pv), 'the phone\'s call: ' + JSON.stringify(pv));
  const fills = await client.evaluate(() => { const r = document.querySelector('main.call').getBoundingClientRect(); return r.top === 0 && Math.abs(r.height - innerHeight) < 2 && Math.abs(r.width - innerWidth) < 2; });
  check(fills, 'the call does not fill the phone\'s screen');
  await client.screenshot({ path: process.env.ARTIFACTS_DIR + '/layout-call-fr-390.png' });
  await client.setViewportSize({ width: 1280, height: 800 });
  await client.screenshot({ path: process.env.ARTIFACTS_DIR + '/layout-call-fr-1280.png' });
  await browser.close();
}

await clinicianBrowser.close();
console.log('layout scenario passed');
