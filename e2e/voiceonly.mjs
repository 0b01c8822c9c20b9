// voiceonly.mjs: joining with what the client has. A client whose browser blocks the camera
// but allows the microphone is told exactly that, with how to allow it in this browser, and
// joins with audio only ("Continue without camera"): the clinician hears them while they see
// the clinician. A client who allows neither (French), or whose computer has neither, joins to
// listen.
import { launch, open, signIn, watch, control, check, until, shots, stats, text } from './lib.mjs';

// Both sessions are booked before the clinician signs in; both waiting rooms are open.
const en = await control('/book', { name: 'Jane Doe', locale: 'en', in_minutes: 20 });
const fr = await control('/book', { name: 'Jean Dupont', locale: 'fr', in_minutes: 20 });
const none = await control('/book', { name: 'Max Roe', locale: 'en', in_minutes: 20 });
await control('/open', { session_id: en.session_id });
await control('/open', { session_id: fr.session_id });
await control('/open', { session_id: none.session_id });
const clinicianBrowser = await launch();
const { url: loginLink } = await control('/login-link');
const panel = await signIn(clinicianBrowser, loginLink);

// enter opens the session's call from the panel, as the clinician does.
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

// English: the camera is blocked, the microphone allowed.
{
  const { guest_link: link, session_id: sessionId } = en;
  const host = await enter(sessionId);
  const browser = await launch({ permissions: ['microphone'] });
  const client = await open(browser, link, 'client without camera');
  await client.locator('#join:not([disabled])').click();
  await client.locator('#device-problem').waitFor();
  const problem = await text(client, '#device-problem');
  check(problem.includes('Your browser blocked the camera for this site.'), 'the page says the camera was blocked: ' + problem);
  check(!problem.includes('microphone for this site'), 'the page blames the microphone too: ' + problem);
  check((await text(client, '#device-help')).includes('To allow it in Chrome'), 'the help speaks of this browser: ' + await text(client, '#device-help'));
  check(await client.locator('#preview').count() === 0, 'a camera preview without a camera');
  await until('the microphone level meter to move', () => client.evaluate(() => document.querySelector('meter.level').value > 0));
  check((await text(client, '#accept')) === 'Continue without camera', 'the button says: ' + await text(client, '#accept'));
  await client.locator('#name').fill('Jane');
  await shots(client, 'voice-only-prejoin-en');
  await client.locator('#accept').click();
  await client.locator('#waiting').waitFor();
  await host.locator('.waiting-list [data-action="admit"]').click();
  await client.locator('#remotes').waitFor();
  await until('the client to decode the clinician\'s video', async () => (await stats(client))?.framesDecoded > 0);
  await until('the clinician to hear the client', async () => (await stats(host))?.audioPacketsReceived > 20);
  check(await client.locator('#camera').isDisabled() && (await text(client, '#camera')) === 'No camera', 'the camera button says there is none');
  check((await stats(client)).videoPacketsSent === 0, 'video was sent without a camera');
  // The clinician sees her tile at once: her name, her initials, the camera-off sign.
  await until('Jane\'s tile on the clinician\'s page, initials and camera off', () => host.evaluate(() => {
    const t = document.querySelector('.tile.camera[data-name="Jane"]');
    return t && t.dataset.videoOff === 'true' && t.querySelector('.avatar').textContent === 'J' && !t.querySelector('.cam-off').hidden;
  }), 2000);
  await shots(host, 'voice-only-clinician-en');
  await shots(client, 'voice-only-call-en');
  await browser.close();
}

// French: neither device; they join to listen.
{
  const { guest_link: link, session_id: sessionId } = fr;
  const host = await enter(sessionId);
  const browser = await launch({ permissions: [] });
  const client = await open(browser, link, 'client listening');
  await client.locator('#join:not([disabled])').click();
  await client.locator('#device-problem').waitFor();
  check(await client.evaluate(() => document.documentElement.lang) === 'fr', 'the page is not in French');
  const problem = await text(client, '#device-problem');
  check(problem.includes('Votre navigateur a bloqué la caméra et le micro pour ce site.'), 'the page names both devices: ' + problem);
  check((await text(client, '#accept')) === 'Entrer pour écouter', 'the button says: ' + await text(client, '#accept'));
  await client.locator('#name').fill('Jean');
  await shots(client, 'listen-only-prejoin-fr');
  await client.locator('#accept').click();
  await client.locator('#waiting').waitFor();
  await host.locator('.waiting-list [data-action="admit"]').click();
  await client.locator('#remotes').waitFor();
  await until('the listener to decode the clinician\'s video', async () => (await stats(client))?.framesDecoded > 0);
  await until('the listener to receive the clinician\'s audio', async () => (await stats(client))?.audioPacketsReceived > 20);
  const sent = await stats(client);
  check(sent.audioPacketsSent === 0 && sent.videoPacketsSent === 0, 'a listener sent media: ' + JSON.stringify(sent));
  check((await text(client, '#mute')) === 'Pas de micro', 'the microphone button says: ' + await text(client, '#mute'));
  await shots(client, 'listen-only-call-fr');
  await browser.close();
}

// A computer with no camera and no microphone at all: said so, without browser settings to
// change, and they join to listen.
{
  const host = await enter(none.session_id);
  const browser = await launch({ fakeDevices: false });
  const client = await open(browser, none.guest_link, 'client without devices');
  await client.locator('#join:not([disabled])').click();
  await client.locator('#device-problem').waitFor();
  const problem = await text(client, '#device-problem');
  check(problem.includes('This device has no camera and microphone, or the browser cannot see it.'), 'the page says there are none: ' + problem);
  check(await client.locator('#device-help').count() === 0, 'help to allow devices that do not exist');
  check((await text(client, '#accept')) === 'Join to listen', 'the button says: ' + await text(client, '#accept'));
  await client.locator('#name').fill('Max');
  await shots(client, 'no-devices-prejoin-en');
  await client.locator('#accept').click();
  await client.locator('#waiting').waitFor();
  await host.locator('.waiting-list [data-action="admit"]').click();
  await until('the listener without devices to decode the clinician\'s video', async () => (await stats(client))?.framesDecoded > 0);
  await browser.close();
}

await clinicianBrowser.close();
console.log('voice-only scenario passed');
