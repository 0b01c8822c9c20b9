// reconnect.mjs: the call's signalling drops (the WebSocket is cut and the network is away):
// the page says it is offline while it retries, then reconnects by itself and the call resumes
// as it was (the client still muted, video decoding again). A French client, then the
// clinician (English).
import { launch, open, signIn, watch, control, check, until, shots, stats, text } from './lib.mjs';

const { guest_link: link, session_id: sessionId } = await control('/book', { name: 'Jean Dupont', locale: 'fr', in_minutes: 20 });
await control('/open', { session_id: sessionId });
const clinicianBrowser = await launch();
const { url: loginLink } = await control('/login-link');
const panel = await signIn(clinicianBrowser, loginLink);
const button = panel.locator(`[data-session="${sessionId}"] [data-action="enter"]`);
await button.waitFor();
const [host] = await Promise.all([clinicianBrowser.waitForEvent('page'), button.click()]);
watch(host, 'clinician call');
await host.locator('#accept:not([disabled])').click();
await host.locator('#attendees').waitFor();

const clientBrowser = await launch();
const client = await open(clientBrowser, link, 'client fr');
await client.locator('#join:not([disabled])').click();
await client.locator('#name').fill('Jean');
await client.locator('#accept:not([disabled])').click();
await client.locator('#waiting').waitFor();
await host.locator('.waiting-list [data-action="admit"]').click();
await until('the client to decode the clinician\'s video', async () => (await stats(client))?.framesDecoded > 0);
await until('the clinician to decode the client\'s video', async () => (await stats(host))?.framesDecoded > 0);
await client.locator('#mute').click();
const micOff = (page) => page.evaluate(() => { const t = document.querySelector('.tile.camera[data-name="Jean"]'); return !!t && t.dataset.audioMuted === 'true'; });
await until('the clinician to see the client muted', () => micOff(host));

// dropAndResume cuts a page's signalling with the network away, checks what it says, then
// gives the network back and waits for the call to resume.
async function dropAndResume(page, context, offlineText, name, other) {
  const generation = await page.evaluate(() => window.telehealthCall.generation);
  await context.setOffline(true);
  await page.evaluate(() => window.telehealthCall.dropSignalling());
  await until(name + ' to say it is offline', async () =>
    (await page.locator('main.call[data-connection="offline"]').count()) === 1 && (await text(page, '#call-status')) === offlineText);
  await shots(page, 'reconnect-offline-' + name);
  check((await page.locator('main.call').count()) === 1, name + ' left the call page while offline');
  await context.setOffline(false);
  await until(name + ' to reconnect by itself', () => page.evaluate((g) => window.telehealthCall.generation > g, generation));
  await until(name + ' online again', async () => (await page.locator('main.call[data-connection="online"]').count()) === 1 && (await text(page, '#call-status')) === '');
  await until(name + ' to decode video again', async () => (await stats(page))?.framesDecoded > 0);
  await until('the other side to decode ' + name + '\'s video again', async () => {
    const before = (await stats(other))?.framesDecoded || 0;
    await new Promise((r) => setTimeout(r, 300));
    return ((await stats(other))?.framesDecoded || 0) > before;
  });
}

await dropAndResume(client, clientBrowser, 'La connexion au cabinet est perdue. Nouvelle tentative…', 'client-fr', host);
await until('the client still muted after reconnecting', () => micOff(host));
check((await text(client, '#mute')) === 'Activer le micro', 'the mute button forgot the state: ' + await text(client, '#mute'));
const muted = await stats(client);
await new Promise((r) => setTimeout(r, 500));
check((await stats(client)).audioPacketsSent === muted.audioPacketsSent, 'audio was sent while muted after reconnecting');

await dropAndResume(host, clinicianBrowser, 'The connection to the clinic was lost. Trying again…', 'clinician-en', client);
await until('the clinician back in the session', async () => (await control('/state?session_id=' + sessionId)).status === 'live');

await clientBrowser.close();
await clinicianBrowser.close();
console.log('reconnect scenario passed');
