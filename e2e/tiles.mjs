// tiles.mjs: who is who in the call. Tiles carry the person's display name (the name the client
// typed, the clinician's Matrix display name), never "Participant" or "Clinician"; a microphone
// or camera turned off shows at once on the others' pages: a sign on the tile, and the
// initials instead of a frozen frame. In English (the client turns theirs off) and in French
// (the clinician turns theirs off).
import { launch, open, signIn, watch, control, check, until, shots, stats, text } from './lib.mjs';

const en = await control('/book', { name: 'Jane Doe', locale: 'en', in_minutes: 20 });
const fr = await control('/book', { name: 'Jean Dupont', locale: 'fr', in_minutes: 20 });
await control('/open', { session_id: en.session_id });
await control('/open', { session_id: fr.session_id });
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

// join takes a client from their link into the call, admitted by the clinician.
async function join(browser, link, name, host, label) {
  const client = await open(browser, link, label);
  await client.locator('#join:not([disabled])').click();
  await client.locator('#name').fill(name);
  await client.locator('#accept:not([disabled])').click();
  await client.locator('#waiting').waitFor();
  await host.locator('.waiting-list [data-action="admit"]').click();
  await until(label + ' to decode the clinician\'s video', async () => (await stats(client))?.framesDecoded > 0);
  await until('the clinician to decode ' + label + '\'s video', async () => (await stats(host))?.framesDecoded > 0);
  return client;
}

// tile reads what a page shows of one person's tile.
const tile = (page, name) => page.evaluate((n) => {
  const el = [...document.querySelectorAll('.tile.camera')].find((t) => t.dataset.name === n);
  if (!el) return null;
  const seen = (sel) => { const x = el.querySelector(sel); return !!x && !x.hidden && x.getBoundingClientRect().width > 0; };
  return { caption: el.querySelector('figcaption').textContent, video: seen('video'), avatar: seen('.avatar') ? el.querySelector('.avatar').textContent : '',
    micOff: seen('.mic-off'), camOff: seen('.cam-off') };
}, name);
const captions = (page) => page.evaluate(() => [...document.querySelectorAll('.tile figcaption')].map((c) => c.textContent));
// within: "at once" is within two seconds.
const AT_ONCE = 2000;

{
  const host = await enter(en.session_id);
  const browser = await launch();
  const client = await join(browser, en.guest_link, 'Jane', host, 'client');
  const clinicianName = await client.evaluate(() => window.telehealthCall.state().session.clinician_name);
  check(clinicianName && clinicianName !== 'Clinician', 'the state names the clinician: ' + clinicianName);
  await until('the clinician\'s name on the client\'s tile', async () => (await tile(client, clinicianName))?.video);
  await until('Jane\'s name on the clinician\'s tile', async () => (await tile(host, 'Jane'))?.video);
  for (const page of [client, host]) {
    const all = await captions(page);
    check(!all.some((c) => /Participant|Clinician|^$/.test(c)), 'a tile without a name: ' + JSON.stringify(all));
  }
  await client.locator('#mute').click();
  await until('the clinician to see Jane muted', async () => (await tile(host, 'Jane'))?.micOff, AT_ONCE);
  await client.locator('#camera').click();
  await until('the clinician to see Jane\'s initials, not a frozen frame', async () => {
    const t = await tile(host, 'Jane');
    return t && !t.video && t.avatar === 'J' && t.camOff;
  }, AT_ONCE);
  await shots(host, 'tiles-camera-off-clinician-en');
  await shots(client, 'tiles-client-en');
  await client.locator('#camera').click();
  await client.locator('#mute').click();
  await until('Jane\'s video and microphone back on the clinician\'s tile', async () => {
    const t = await tile(host, 'Jane');
    return t && t.video && !t.micOff && !t.camOff && !t.avatar;
  }, AT_ONCE);
  const before = (await stats(host)).framesDecoded;
  await until('frames of Jane\'s camera again', async () => (await stats(host)).framesDecoded > before + 10);
  await host.close();
  await browser.close();
}

{
  const host = await enter(fr.session_id);
  const browser = await launch();
  const client = await join(browser, fr.guest_link, 'Jean', host, 'client fr');
  const clinicianName = await client.evaluate(() => window.telehealthCall.state().session.clinician_name);
  await until('the clinician\'s name on the French client\'s tile', async () => (await tile(client, clinicianName))?.video);
  await host.locator('#mute').click();
  await host.locator('#camera').click();
  await until('the French client to see the clinician muted, camera off', async () => {
    const t = await tile(client, clinicianName);
    return t && t.micOff && t.camOff && !t.video && t.avatar.length > 0;
  }, AT_ONCE);
  const label = await client.locator('.tile.camera .mic-off').getAttribute('aria-label');
  check(label === 'Micro coupé', 'the sign is said in French: ' + label);
  await shots(client, 'tiles-camera-off-client-fr');
  await browser.close();
}

await clinicianBrowser.close();
console.log('tiles scenario passed');
