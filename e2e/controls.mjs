// controls.mjs: every in-call control, in real browsers through the whole bridge. Jane (English)
// and Ann (French) are booked on one session:
// leave the waiting room and ask again; deny, and ask again; admit all; stop camera (the
// clinician sees it); hide self-view; share then stop sharing the screen; switch the microphone
// in Settings; send back then re-admitted; leave the call then join again.
import { launch, open, signIn, watch, control, check, until, shots, stats, text } from './lib.mjs';

const booked = await control('/book', { name: 'Jane Doe', locale: 'en', in_minutes: 20, extra: [{ name: 'Ann Lee', locale: 'fr' }] });
const [janeLink, annLink] = booked.guest_links;
await control('/open', { session_id: booked.session_id });
const lobby = async () => (await control('/state?session_id=' + booked.session_id)).participants;

const clinicianBrowser = await launch();
const { url: loginLink } = await control('/login-link');
const panel = await signIn(clinicianBrowser, loginLink);
const button = panel.locator(`[data-session="${booked.session_id}"] [data-action="enter"]`);
await button.waitFor();
const [host] = await Promise.all([clinicianBrowser.waitForEvent('page'), button.click()]);
watch(host, 'clinician call');
await host.locator('#accept:not([disabled])').click();
await host.locator('#attendees').waitFor();

const janeBrowser = await launch();
const annBrowser = await launch();
const jane = await open(janeBrowser, janeLink, 'jane');
const ann = await open(annBrowser, annLink, 'ann');

async function knock(page, name) {
  await page.locator('#join:not([disabled])').click();
  await page.locator('#name').fill(name);
  await page.locator('#accept:not([disabled])').click();
  await page.locator('#waiting').waitFor();
}
const waitingRow = (name) => host.locator('.waiting-list li', { hasText: name });
const insideRow = (name) => host.locator('.inside-list li', { hasText: name });
// decodes waits for a page to decode video on a connection newer than the one it had before
// (a new call after being let in again).
const generation = (page) => page.evaluate(() => (window.telehealthCall ? window.telehealthCall.generation : 0));
const decodes = async (page, what, after = 0) => {
  await until(what, async () => (await generation(page)) > after && (await stats(page))?.framesDecoded > 0);
};

// Leave the waiting room, then ask again.
await knock(jane, 'Jane');
await waitingRow('Jane').waitFor();
await jane.locator('button', { hasText: 'Leave the waiting room' }).click();
await until('Jane out of the waiting room', async () => (await text(jane, '#message')) === 'You left the session.');
await until('Jane gone from the clinician\'s waiting list', async () => (await waitingRow('Jane').count()) === 0);
check((await lobby())[0] === 'left', 'Jane is ' + (await lobby())[0]);
await shots(jane, 'controls-left-waiting-en');
await jane.locator('#rejoin').click();
await jane.locator('#accept:not([disabled])').click();
await jane.locator('#waiting').waitFor();
await waitingRow('Jane').waitFor();

// Deny Ann, who asks again.
await knock(ann, 'Ann');
await waitingRow('Ann').locator('[data-action="deny"]').click();
await until('Ann denied', async () => (await ann.locator('#message').count()) > 0 && (await text(ann, '#message')).startsWith('Votre praticien ne vous a pas fait entrer'));
await shots(ann, 'controls-denied-fr');
await ann.locator('#rejoin').click();
await ann.locator('#accept:not([disabled])').click();
await ann.locator('#waiting').waitFor();

// Admit all.
await until('both on the waiting list', async () => (await host.locator('.waiting-list li').count()) === 2);
await host.locator('[data-action="admit-all"]').click();
await decodes(jane, 'Jane to decode video');
await decodes(ann, 'Ann to decode video');
await until('the clinician to see both', async () => (await host.locator('.tile.camera[data-name="Jane"] video:not([hidden])').count()) === 1 &&
  (await host.locator('.tile.camera[data-name="Ann"] video:not([hidden])').count()) === 1);
// Media may flow a moment before the ghosts' joins reach the lobby (the SFU lets the admitted
// in at once): the lobby catches up.
await until('both in the session after Admit all', async () => (await lobby()).every((s) => s === 'in_session'));

// Stop camera: the clinician and Ann see Jane's initials.
await jane.locator('#camera').click();
for (const page of [host, ann]) {
  await until('Jane\'s camera off on another page', () => page.evaluate(() => {
    const t = document.querySelector('.tile.camera[data-name="Jane"]');
    return t && t.dataset.videoOff === 'true' && t.querySelector('video').hidden && t.querySelector('.avatar').textContent === 'J';
  }), 2000);
}
check((await text(jane, '#camera')) === 'Start camera' && (await jane.locator('#camera').getAttribute('aria-pressed')) === 'true', 'the camera button');
await jane.locator('#camera').click();
await until('Jane\'s camera back', () => host.evaluate(() => !document.querySelector('.tile.camera[data-name="Jane"] video').hidden));

// Hide self-view.
check(await jane.locator('#self').isVisible(), 'no self-view');
await jane.locator('#hide-self').click();
check(await jane.locator('#self').isHidden() && (await text(jane, '#hide-self')) === 'Show my video', 'hiding the self-view');
await shots(jane, 'controls-self-hidden-en');
await jane.locator('#hide-self').click();
check(await jane.locator('#self').isVisible(), 'showing the self-view again');

// Share the screen, then stop sharing.
await jane.locator('#share').click();
await until('Jane\'s screen on the clinician\'s page', () => host.evaluate(() => {
  const v = document.querySelector('.tile.screen video');
  return v && v.videoWidth > 0;
}));
check((await text(host, '.tile.screen figcaption')) === 'Screen of Jane', 'the screen tile: ' + await text(host, '.tile.screen figcaption'));
await shots(ann, 'controls-screen-share-fr');
await jane.locator('#share').click();
await until('the screen gone from the clinician\'s page', async () => (await host.locator('.tile.screen').count()) === 0);
await until('the screen gone from Ann\'s page', async () => (await ann.locator('.tile.screen').count()) === 0);
// The browser's own Stop sharing: the call and the button follow.
await jane.locator('#share').click();
await until('Jane\'s screen shared again', async () => (await host.locator('.tile.screen').count()) === 1);
await jane.evaluate(() => window.telehealthCall.endScreenCapture());
await until('the screen gone after the browser\'s Stop sharing', async () => (await host.locator('.tile.screen').count()) === 0);
check((await text(jane, '#share')) === 'Share screen' && (await jane.locator('#share').getAttribute('aria-pressed')) === 'false', 'the Share button after the browser\'s Stop sharing');

// Switch the microphone in Settings: the call sends from the new one.
const before = await jane.evaluate(() => window.telehealthCall.devices().audio);
await jane.locator('#settings').click();
const picker = jane.locator('dialog.settings #pick-audioinput');
await picker.waitFor();
const other = await picker.evaluate((sel, cur) => [...sel.options].map((o) => o.value).find((v) => v !== cur && v !== 'default' && v !== 'communications'), before);
check(other, 'only one microphone to switch to');
await shots(jane, 'controls-settings-en');
await picker.selectOption(other);
await until('the call to send from the new microphone', () => jane.evaluate((id) => window.telehealthCall.devices().audio === id, other));
const sent = (await stats(jane)).audioPacketsSent;
await until('audio from the new microphone', async () => (await stats(jane)).audioPacketsSent > sent + 20);
await jane.locator('dialog.settings button', { hasText: 'Close' }).click();

// Send back, then re-admitted.
const janeCall = await generation(jane);
await insideRow('Jane').locator('[data-action="send-back"]').click();
await until('Jane back in the waiting room', () => jane.locator('#waiting').isVisible());
await waitingRow('Jane').locator('[data-action="admit"]').click();
await decodes(jane, 'Jane to decode video after being let in again', janeCall);

// Leave the call, then join again.
const annCall = await generation(ann);
await ann.locator('#leave').click();
await until('Ann out of the call', async () => (await ann.locator('#message').count()) > 0 && (await text(ann, '#message')) === 'Vous avez quitté la séance.');
await until('Ann\'s tile gone from the clinician\'s page', async () => (await host.locator('.tile.camera[data-name="Ann"]').count()) === 0);
await shots(ann, 'controls-left-fr');
await ann.locator('#rejoin').click();
await ann.locator('#accept:not([disabled])').click();
await ann.locator('#waiting').waitFor();
await waitingRow('Ann').locator('[data-action="admit"]').click();
await decodes(ann, 'Ann to decode video after joining again', annCall);

await janeBrowser.close();
await annBrowser.close();
await clinicianBrowser.close();
console.log('controls scenario passed');
