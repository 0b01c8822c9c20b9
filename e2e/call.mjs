// call.mjs: a video session in two real browsers, through the homeserver, the bridge and the
// SFU. The clinician starts from the panel; the client waits; the clinician admits them from
// the call's Attendees Access Panel; both see each other; mute stops the client's audio; a
// shared screen reaches the clinician; End meeting for all closes both calls.
import { launch, open, signIn, watch, control, check, until, shot, stats, text } from './lib.mjs';

const { guest_link: guestLink, session_id: sessionId } = await control('/book', { name: 'Jane Doe' });
await control('/open', { session_id: sessionId });
const { url: loginLink } = await control('/login-link');

const clinicianBrowser = await launch();
const clientBrowser = await launch();

// The clinician signs in with the one-time link and starts the session in a new tab.
const panel = await signIn(clinicianBrowser, loginLink);
await panel.locator(`[data-session="${sessionId}"] [data-action="enter"]`).waitFor();
const [host] = await Promise.all([
  clinicianBrowser.waitForEvent('page'),
  panel.locator(`[data-session="${sessionId}"] [data-action="enter"]`).click(),
]);
watch(host, 'clinician call page');
await host.locator('#accept').click();
await host.locator('#attendees').waitFor();

// The client joins from their link: pre-join, name, waiting room.
const client = await open(clientBrowser, guestLink, 'client');
await client.locator('#join:not([disabled])').click();
await client.locator('#preview').waitFor();
await until('the client\'s camera preview', () => client.evaluate(() => document.querySelector('#preview').videoWidth > 0));
await shot(client, 'call-prejoin');
await client.locator('#name').fill('Jane');
await client.locator('#accept').click();
await client.locator('#waiting').waitFor();
check((await text(client, '#waiting')).includes('Waiting for your clinician'), 'the waiting room says what happens');
await shot(client, 'call-waiting');

// The clinician admits them from the call's Attendees Access Panel.
await host.locator('.waiting-list [data-action="admit"]').click();
await client.locator('#remotes').waitFor();

// Both decode video.
await until('the client to decode the clinician\'s video', async () => (await stats(client))?.framesDecoded > 0);
await until('the clinician to decode the client\'s video', async () => (await stats(host))?.framesDecoded > 0);
await shot(client, 'call-in-call-client');
await shot(host, 'call-in-call-clinician');
check(await client.locator('#attendees').count() === 0, 'the client does not see the Attendees Access Panel');

// Mute stops the client's outbound audio: the count of audio packets sent stands still while
// video keeps flowing.
const before = await until('audio flowing', async () => { const s = await stats(client); return s.audioPacketsSent > 0 && s; });
await client.locator('#mute').click();
const muted = await until('the mute to take effect', async () => {
  const a = await stats(client);
  const b = await new Promise((r) => setTimeout(async () => r(await stats(client)), 300));
  return a.audioPacketsSent === b.audioPacketsSent && b;
});
await until('a second of video after the mute', async () => (await stats(client)).videoPacketsSent > muted.videoPacketsSent + 30);
check((await stats(client)).audioPacketsSent === muted.audioPacketsSent, 'audio packets were sent while muted');
check(muted.audioPacketsSent >= before.audioPacketsSent, 'audio counters went backwards');
await client.locator('#mute').click();
await until('audio after unmuting', async () => (await stats(client)).audioPacketsSent > muted.audioPacketsSent);

// A shared screen arrives on the clinician's page.
await client.locator('#share').click();
await host.locator('.tile.screen video').waitFor();
await until('frames of the shared screen', () => host.evaluate(() => {
  const v = document.querySelector('.tile.screen video');
  return v && v.videoWidth > 0;
}));
await shot(host, 'call-screen-share');

// End meeting for all, with its confirmation, closes both calls and takes the clinician back to
// the panel.
await host.locator('#end-for-all').click();
await host.locator('dialog [data-action="confirm"]').click();
await until('the client\'s page to say the session ended', async () => (await text(client, '#message')).includes('ended'));
await host.waitForURL(/\/panel$/); // the clinician is back on the panel
const state = await control('/state?session_id=' + sessionId);
check(state.status === 'ended', 'the session is ended in the bridge');

await clinicianBrowser.close();
await clientBrowser.close();
console.log('call scenario passed');
