// livekit.mjs: the call page on the LiveKit backend (media.backend: livekit), in real browsers
// through the bridge and a real LiveKit server. Jane (English) and Ann (French) wait; the
// clinician admits both from the call's Attendees Access Panel; everyone decodes the others'
// video through LiveKit (the page says which transport it uses, the LiveKit server lists
// them); removing Jane ends her media (every peer connection of her page closed, LiveKit no
// longer has her) while Ann stays; End meeting for all ends Ann's and the clinician's.
import { launch, open, signIn, watch, control, check, until, shot, stats, text } from './lib.mjs';

const booked = await control('/book', { name: 'Jane Doe', locale: 'en', in_minutes: 20, extra: [{ name: 'Ann Lee', locale: 'fr' }] });
const [janeLink, annLink] = booked.guest_links;
const sessionId = booked.session_id;
await control('/open', { session_id: sessionId });
const { url: loginLink } = await control('/login-link');
const inLiveKit = async () => (await control('/livekit?session_id=' + sessionId)).users || [];

// Every RTCPeerConnection a page makes is kept, so that the test sees all of its media,
// whichever library made the connection.
const keepConnections = () => {
  const Original = window.RTCPeerConnection;
  window.peerConnections = [];
  window.RTCPeerConnection = class extends Original {
    constructor(...args) {
      super(...args);
      window.peerConnections.push(this);
    }
  };
};
// media sums what a page's open peer connections received: packets and decoded frames.
const media = (page) => page.evaluate(async () => {
  const out = { made: window.peerConnections.length, open: 0, packets: 0, frames: 0 };
  for (const pc of window.peerConnections) {
    if (pc.signalingState === 'closed') continue;
    out.open++;
    (await pc.getStats()).forEach((s) => {
      if (s.type === 'inbound-rtp') { out.packets += s.packetsReceived || 0; out.frames += s.framesDecoded || 0; }
    });
  }
  return out;
});
const backend = (page) => page.evaluate(() => window.telehealthCall && window.telehealthCall.backend);

// One browser each (a tab in the background is not painted: its buttons never settle for a click).
const clinicianBrowser = await launch();
const janeBrowser = await launch();
const annBrowser = await launch();
for (const browser of [clinicianBrowser, janeBrowser, annBrowser]) await browser.addInitScript(keepConnections);

// The clinician starts the session from the panel: the call page, pre-join, the call.
const panel = await signIn(clinicianBrowser, loginLink);
const enter = panel.locator(`[data-session="${sessionId}"] [data-action="enter"]`);
await enter.waitFor();
const [host] = await Promise.all([clinicianBrowser.waitForEvent('page'), enter.click()]);
watch(host, 'clinician call');
await host.locator('#accept:not([disabled])').click();
await host.locator('#attendees').waitFor();
await until('the clinician in the LiveKit room', async () => (await inLiveKit()).length === 1);

// Jane and Ann: pre-join (preview), their name, the waiting room, each in their language.
async function knock(page, name, waiting) {
  await page.locator('#join:not([disabled])').click();
  await page.locator('#preview').waitFor();
  await until(name + '\'s camera preview', () => page.evaluate(() => document.querySelector('#preview').videoWidth > 0));
  await page.locator('#name').fill(name);
  await page.locator('#accept:not([disabled])').click();
  await page.locator('#waiting').waitFor();
  check((await text(page, '#waiting')).includes(waiting), `${name}'s waiting room: ${await text(page, '#waiting')}`);
}
const jane = await open(janeBrowser, janeLink, 'jane');
const ann = await open(annBrowser, annLink, 'ann');
await knock(jane, 'Jane', 'Waiting for your clinician');
await knock(ann, 'Ann', 'En attente de votre praticien');
await shot(ann, 'livekit-waiting-fr');
check((await inLiveKit()).length === 1, 'someone waiting is in the LiveKit room');
check((await media(jane)).made === 0, 'Jane\'s waiting page connected ahead on LiveKit');

// Admit all from the call page: all three decode the others' video, through LiveKit.
await until('both on the waiting list', async () => (await host.locator('.waiting-list li').count()) === 2);
await host.locator('[data-action="admit-all"]').click();
for (const [page, who] of [[jane, 'Jane'], [ann, 'Ann'], [host, 'the clinician']]) {
  await until(who + ' to decode video', async () => (await stats(page))?.framesDecoded > 0);
  check(await backend(page) === 'livekit', `${who}'s call goes through ${await backend(page)}`);
}
await until('the clinician to decode both', async () => (await stats(host))?.inboundVideo === 2 && (await host.locator('.tile.camera video:not([hidden])').count()) === 2);
await until('three in the LiveKit room', async () => (await inLiveKit()).length === 3);
await until('the tiles named', async () => (await host.locator('.tile.camera[data-name="Jane"]').count()) === 1 &&
  (await host.locator('.tile.camera[data-name="Ann"]').count()) === 1 && (await jane.locator('.tile.camera[data-name="Ann"]').count()) === 1);
await shot(host, 'livekit-call-clinician');
await shot(ann, 'livekit-call-fr');
check(await jane.locator('#attendees').count() === 0, 'Jane sees the Attendees Access Panel');

// Mute and camera off: Jane's page stops sending audio (no packets at all), the others see both.
const before = await until('Jane\'s audio flowing', async () => { const s = await stats(jane); return s.audioPacketsSent > 0 && s; });
await jane.locator('#mute').click();
await jane.locator('#camera').click();
const quiet = await until('the mute to take effect', async () => {
  const a = await stats(jane);
  const b = await new Promise((r) => setTimeout(async () => r(await stats(jane)), 300));
  return a.audioPacketsSent === b.audioPacketsSent && b;
});
check(quiet.audioPacketsSent >= before.audioPacketsSent, 'audio counters went backwards');
for (const page of [host, ann]) {
  await until('Jane muted and her camera off on another page', () => page.evaluate(() => {
    const t = document.querySelector('.tile.camera[data-name="Jane"]');
    return t && t.dataset.audioMuted === 'true' && t.dataset.videoOff === 'true' && t.querySelector('.avatar').textContent === 'J';
  }));
}
check(await jane.locator('#self').isVisible() && await jane.evaluate(() => document.querySelector('#self').srcObject.getVideoTracks()[0].enabled),
  'Jane\'s self-view went dark with her camera off');
await jane.locator('#mute').click();
await jane.locator('#camera').click();
await until('Jane sending again', async () => { const s = await stats(jane); return s.audioPacketsSent > quiet.audioPacketsSent && s.videoPacketsSent > quiet.videoPacketsSent; });
await until('Jane\'s camera back on the clinician\'s page', () => host.evaluate(() => {
  const t = document.querySelector('.tile.camera[data-name="Jane"]');
  return t && t.dataset.videoOff === 'false' && t.dataset.audioMuted === 'false';
}));

// LiveKit reconnects Jane's page in full (as the server asks when a negotiation timed out):
// the call goes on with the tracks republished; her microphone, muted before, stays silent
// (no packets at all), the others see her again, muted, and decode her video; she unmutes.
await jane.locator('#mute').click();
const hushed = await until('Jane muted before the full reconnect', async () => {
  const a = await stats(jane);
  const b = await new Promise((r) => setTimeout(async () => r(await stats(jane)), 300));
  return a.audioPacketsSent === b.audioPacketsSent && b;
});
const janeCall = await jane.evaluate(() => window.telehealthCall.generation);
await jane.evaluate(() => window.telehealthCall.reconnectInFull());
// A new publisher connection: its video counter starts again from zero.
await until('Jane\'s page on a new LiveKit connection', async () => { const s = await stats(jane); return s && s.videoPacketsSent > 0 && s.videoPacketsSent < hushed.videoPacketsSent; }, 30000);
check(await jane.evaluate(() => window.telehealthCall.generation) === janeCall, 'the page made a new call instead of LiveKit reconnecting');
for (const [page, who] of [[host, 'the clinician'], [ann, 'Ann']]) {
  await until(who + ' to see Jane again, muted, after her full reconnect', () => page.evaluate(() => {
    const t = document.querySelector('.tile.camera[data-name="Jane"]');
    return t && t.dataset.audioMuted === 'true' && t.dataset.videoOff === 'false' && t.querySelector('video').videoWidth > 0;
  }), 30000);
}
// Jane's page is back online: LiveKit has finished its restart (its republished microphone
// was told to stay quiet as it came back).
await until('Jane\'s page online again', () => jane.evaluate(() => document.querySelector('main.call').dataset.connection === 'online'), 30000);
const hostFramesAfter = (await stats(host)).framesDecoded;
await until('the clinician decoding Jane again', async () => (await stats(host)).framesDecoded > hostFramesAfter + 10);
const reconnected = await stats(jane);
await new Promise((r) => setTimeout(r, 1500));
const stillQuiet = await stats(jane);
check(stillQuiet.audioPacketsSent === reconnected.audioPacketsSent,
  'Jane\'s muted microphone sent after the full reconnect: ' + JSON.stringify({ reconnected, stillQuiet }));
await jane.locator('#mute').click();
await until('Jane\'s microphone back after the full reconnect', async () => (await stats(jane)).audioPacketsSent > stillQuiet.audioPacketsSent + 20);
await until('Jane unmuted on the clinician\'s page', () => host.evaluate(() => document.querySelector('.tile.camera[data-name="Jane"]').dataset.audioMuted === 'false'));

// Remove Jane: her page says so, every connection of hers is closed, LiveKit no longer has
// her; Ann and the clinician go on.
const janeBefore = await media(jane);
check(janeBefore.open > 0 && janeBefore.frames > 0, 'Jane had no media before the removal: ' + JSON.stringify(janeBefore));
await host.locator('.inside-list li', { hasText: 'Jane' }).locator('[data-action="remove"]').click();
await until('Jane\'s page to say she was removed', async () => (await jane.locator('#message').count()) > 0 && (await text(jane, '#message')) === 'You were taken out of this session.');
await until('every connection of Jane\'s closed', async () => (await media(jane)).open === 0);
await until('Jane out of the LiveKit room', async () => (await inLiveKit()).length === 2);
await until('Jane\'s tile gone', async () => (await host.locator('.tile.camera[data-name="Jane"]').count()) === 0 &&
  (await ann.locator('.tile.camera[data-name="Jane"]').count()) === 0);
const annFrames = (await stats(ann)).framesDecoded;
await until('Ann still decoding the clinician', async () => (await stats(ann)).framesDecoded > annFrames + 10);
// Over a second and a half, nothing reaches Jane's page (no connection left to carry it).
const janeAfter = await media(jane);
await new Promise((r) => setTimeout(r, 1500));
const janeLater = await media(jane);
check(janeAfter.open === 0 && janeLater.open === 0 && janeLater.packets === 0 && janeLater.frames === 0 && janeLater.made === janeBefore.made,
  'media reached Jane after her removal: ' + JSON.stringify({ janeAfter, janeLater }));
await shot(jane, 'livekit-removed');

// End meeting for all: Ann's page says it ended and her connections close, the clinician is
// back on the panel, nobody is left in the LiveKit room.
await host.locator('#end-for-all').click();
await host.locator('dialog [data-action="confirm"]').click();
await until('Ann\'s page to say the session ended', async () => (await ann.locator('#message').count()) > 0 && (await text(ann, '#message')) === 'Cette séance est terminée.');
await until('every connection of Ann\'s closed', async () => (await media(ann)).open === 0);
await host.waitForURL(/\/panel$/);
await until('nobody in the LiveKit room', async () => (await inLiveKit()).length === 0);
check((await control('/state?session_id=' + sessionId)).status === 'ended', 'the session is not ended in the bridge');
await shot(ann, 'livekit-ended-fr');

await janeBrowser.close();
await annBrowser.close();
await clinicianBrowser.close();
console.log('livekit scenario passed');
