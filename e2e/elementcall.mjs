// elementcall.mjs: Element Call (the embedded build, as a widget of e2e/widgethost.mjs, an
// Element stand-in signed in to Dendrite) in the same LiveKit call as a web guest. Run by
// internal/e2e's TestElementCallInTheBrowser, which serves Element Call, the host and the
// /ec/ control endpoints.
//
// The web guest asks to enter on the real call page and is let in; the call page still uses
// the embedded SFU, so the guest's LiveKit side is a livekit-client page (fake camera) with
// the LiveKit token the bridge gave that call page's own /api/call/join. Pat knocks from
// Matrix and is let in through the lobby; then Element Call, in Pat's browser, gets its token
// from the bridge, connects to LiveKit and publishes; the guest decodes Pat's video. The
// clinician then removes Pat: the bridge takes Pat's Element Call out of LiveKit.
// Prints what Element Call and the host asked of Dendrite that Dendrite did not answer.
import { launch, open, control, until, check, fail, BRIDGE, CONTROL, ARTIFACTS } from './lib.mjs';

const t0 = Date.now();
const since = () => `${((Date.now() - t0) / 1000).toFixed(1)} s`;
const book = await control('/ec/book', {});
await control('/open', { session_id: book.session_id });
const lobby = async () => (await control('/state?session_id=' + book.session_id)).participants;
const dumpLobby = async () => console.error('lobby: ' + JSON.stringify(await control('/state?session_id=' + book.session_id)));

// The web guest asks to enter on the call page; its bearer credential is what the page sends.
const guestBrowser = await launch();
const guest = await open(guestBrowser, book.guest_link, 'guest');
let guestAuth = null;
guest.on('request', (req) => {
  const auth = req.headers().authorization;
  if (auth && req.url().startsWith(BRIDGE + '/api/call/')) guestAuth = auth;
});
await guest.locator('#join:not([disabled])').click();
await guest.locator('#accept:not([disabled])').click();
await until('the guest in the waiting room', () => guest.locator('#waiting').isVisible());

// Pat knocks from Matrix (Mallory, booked too, knocks and is never let in).
await control('/ec/knock', { user: 'pat', name: 'Pat Quinn' });
await control('/ec/knock', { user: 'mallory', name: 'Mallory Roe' });
await until('all three waiting in the lobby', async () => (await lobby()).every((s) => s === 'waiting'), 20000, dumpLobby);

// Element Call is only opened once Pat is let in; before that the bridge would refuse its token
// (the test's own MatrixRTC client checks that for Mallory, in Go).
await control('/ec/lobby', { action: 'admit', participant: '1' });
const admitPat = Date.now();
await control('/ec/lobby', { action: 'admit', participant: '2', user: 'pat' });
await until('the guest and Pat in the session', async () => {
  const s = await lobby();
  return s[0] === 'in_session' && s[1] === 'in_session' && s[2] === 'waiting';
}, 20000, dumpLobby);

// The guest's LiveKit side.
check(guestAuth, 'the call page sent no bearer credential');
const joinResp = await fetch(BRIDGE + '/api/call/join', {
  method: 'POST', headers: { Authorization: guestAuth, 'X-Requested-With': 'telehealth', 'Content-Type': 'application/json' }, body: '{}',
});
const access = await joinResp.json();
check(joinResp.ok && access.livekit && access.livekit.token, `the guest's /api/call/join: ${joinResp.status} ${JSON.stringify(Object.keys(access))}`);
const lkGuest = await open(guestBrowser, CONTROL + '/ec/guest', 'guest (LiveKit)');
await lkGuest.evaluate(async ({ url, token }) => {
  const { Room, RoomEvent, createLocalTracks, VideoPresets } = window.LivekitClient;
  // A small picture without simulcast: three browsers encode on a shared machine.
  const room = new Room({ adaptiveStream: false, dynacast: false, publishDefaults: { simulcast: false },
    videoCaptureDefaults: { resolution: VideoPresets.h180.resolution } });
  room.on(RoomEvent.TrackSubscribed, (track, _pub, participant) => {
    const el = track.attach();
    el.dataset.identity = participant.identity;
    el.dataset.kind = track.kind;
    document.getElementById('tiles').appendChild(el);
  });
  await room.connect(url, token);
  for (const track of await createLocalTracks({ audio: true, video: true })) await room.localParticipant.publishTrack(track);
  window.lkRoom = room;
}, access.livekit);
const guestView = () => lkGuest.evaluate(() => ({
  identity: window.lkRoom.localParticipant.identity,
  room: window.lkRoom.name,
  remotes: [...window.lkRoom.remoteParticipants.values()].map((p) => p.identity),
  videos: [...document.querySelectorAll('video')].map((v) => ({ identity: v.dataset.identity, frames: v.getVideoPlaybackQuality().totalVideoFrames, width: v.videoWidth })),
}));

// Pat opens the session room's call: Element Call in the Element stand-in.
const account = await control('/ec/account?user=pat');
const patBrowser = await launch();
const seen = []; // every request of Pat's page and Element Call's frame, with its answer
// Not lib's open(): an uncaught error of Element Call's own is printed with its stack and kept
// (Element Web would not stop for it either); one of the host page fails the run.
const host = await patBrowser.newPage();
const ecErrors = [];
host.on('pageerror', (err) => {
  console.error(`Element (Pat): page error: ${err.stack || err.message}`);
  if (String(err.stack || '').includes('/ec/widgethost.mjs')) fail('the widget host failed: ' + err.message);
  ecErrors.push(err.message);
});
host.on('console', (m) => { if (m.type() === 'error') console.error(`Element (Pat) console: ${m.text().slice(0, 300)}`); });
host.on('response', (resp) => seen.push({ method: resp.request().method(), url: resp.url(), status: resp.status(), at: Date.now() }));
host.on('requestfailed', (req) => seen.push({ method: req.method(), url: req.url(), status: 'failed: ' + (req.failure() || {}).errorText, at: Date.now() }));
const patOpens = Date.now();
await host.goto(`${CONTROL}/ec/host#user=pat&room=${encodeURIComponent(book.room_id)}&ec=${encodeURIComponent(book.ec)}&name=${encodeURIComponent('Pat Quinn')}`);
const ecFrame = () => host.frames().find((f) => f.url().startsWith(book.ec));
const report = async () => {
  const log = await host.evaluate(() => ({ errors: window.homeserverErrors, widget: window.widgetLog, caps: window.capabilities })).catch(() => ({}));
  console.error('widget actions: ' + JSON.stringify(log.widget));
  console.error('homeserver errors: ' + JSON.stringify(log.errors));
  console.error('requests: ' + JSON.stringify(seen.map((r) => `${r.method} ${r.url.replace(/access_token=[^&]+/, 'access_token=…')} ${r.status}`)));
  const f = ecFrame();
  if (f) console.error('Element Call shows: ' + JSON.stringify((await f.evaluate(() => document.body.innerText).catch(() => '')).slice(0, 500)));
  await host.screenshot({ path: `${ARTIFACTS}/element-call-pat.png`, timeout: 10000 }).catch(() => {});
};

const tokenAnswer = await until('Element Call to get a LiveKit token from the bridge',
  () => seen.find((r) => r.url.startsWith(BRIDGE + '/livekit/jwt/') && r.method === 'POST'), 60000, report);
if (tokenAnswer.status !== 200) { await report(); fail(`the bridge answered Element Call's ${tokenAnswer.url} with ${tokenAnswer.status}`); }
for (const r of seen.filter((x) => !x.url.includes('/assets/') && x.at <= tokenAnswer.at)) {
  console.log(`  +${((r.at - patOpens) / 1000).toFixed(1)} s ${r.method} ${r.url.replace(/access_token=[^&]+/, 'access_token=…').slice(0, 160)} ${r.status}`);
}
console.log(`Element Call got its token from ${tokenAnswer.url.slice(BRIDGE.length)} ${((tokenAnswer.at - patOpens) / 1000).toFixed(1)} s after the page opened`);

// The guest decodes Pat's Element Call video, in the same LiveKit room.
const patVideo = await until('the guest to decode video from Pat\'s Element Call', async () => {
  const v = await guestView();
  const pat = v.videos.find((x) => x.kind !== 'audio' && x.identity && x.identity.startsWith(account.user_id) && x.frames > 30);
  return pat ? { view: v, video: pat } : null;
}, 60000, async () => { console.error('guest sees: ' + JSON.stringify(await guestView())); await report(); });
const firstFrames = Date.now();
console.log(`the guest (${patVideo.view.identity}) decodes ${patVideo.video.frames} frames of Pat's Element Call (${patVideo.video.identity}, ${patVideo.video.width} px wide) in LiveKit room ${patVideo.view.room}, ${((firstFrames - admitPat) / 1000).toFixed(1)} s after Pat's admission`);
// /sfu/get names the participant by user and device (lk-jwt-service's identity).
if (tokenAnswer.url.endsWith('/sfu/get')) check(patVideo.video.identity === `${account.user_id}:${account.device_id}`, `Pat's LiveKit identity ${patVideo.video.identity}`);

// Element Call wrote Pat's membership in the room, naming the bridge's focus.
const members = await until('Pat\'s call.member event in the room', async () => {
  const m = (await control('/ec/members')).members || [];
  return m.find((e) => e.sender === account.user_id) ? m : null;
}, 20000, report);
const patMember = members.find((e) => e.sender === account.user_id);
console.log(`Pat's call.member: state key ${patMember.state_key}, content ${JSON.stringify(patMember.content)}`);
check(JSON.stringify(patMember.content.foci_preferred || []).includes(BRIDGE + '/livekit/jwt'), 'Pat\'s membership does not name the bridge\'s focus');

// What Element Call shows of the web guest: it shows a LiveKit participant only beside a
// MatrixRTC membership whose backend identity is theirs, and web guests have none.
const ecVideos = await ecFrame().evaluate(() => [...document.querySelectorAll('video')].map((v) => v.getVideoPlaybackQuality().totalVideoFrames));
const ecText = await ecFrame().evaluate(() => document.body.innerText);
console.log(`Element Call's uncaught errors: ${JSON.stringify(ecErrors)}`);
console.log(`Element Call shows ${ecVideos.length} video(s) (frames ${ecVideos.join(', ')}); names the guest: ${ecText.includes('Jane')}`);
// Pictures for a person to look at, when the machine has time for them.
const picture = (page, name) => page.screenshot({ path: `${ARTIFACTS}/${name}.png`, timeout: 10000 }).catch((e) => console.error(`no picture ${name}: ${e.message.split('\n')[0]}`));
await picture(host, 'element-call-pat');
await picture(lkGuest, 'guest-livekit');

// The recipe for web guests in Element Call, which the bridge does not follow yet: the guest's
// ghost announces a MatrixRTC membership (device WEB) and the guest joins LiveKit as
// <ghost>:WEB (a token the test signs with the server's key). Element Call then shows the guest
// and decodes their video.
const recipe = await control('/ec/recipe', { ghost: access.user_id });
await lkGuest.evaluate(async ({ url, token }) => {
  // In place of the guest's first connection (one camera less to encode on a shared machine).
  await window.lkRoom.disconnect();
  document.getElementById('tiles').replaceChildren();
  const { Room, RoomEvent, createLocalTracks, VideoPresets } = window.LivekitClient;
  const room = new Room({ adaptiveStream: false, dynacast: false, publishDefaults: { simulcast: false },
    videoCaptureDefaults: { resolution: VideoPresets.h180.resolution } });
  room.on(RoomEvent.TrackSubscribed, (track, _pub, participant) => {
    const el = track.attach();
    el.dataset.identity = participant.identity;
    el.dataset.kind = track.kind;
    document.getElementById('tiles').appendChild(el);
  });
  for (let attempt = 1; ; attempt++) {
    try {
      await room.connect(url, token);
      break;
    } catch (e) {
      if (attempt === 3) throw e;
    }
  }
  for (const track of await createLocalTracks({ audio: true, video: true })) await room.localParticipant.publishTrack(track);
  window.lkRoom = room;
}, { url: access.livekit.url, token: recipe.token });
const recipeStart = Date.now();
const ecDecodes = await until('Element Call to decode the guest\'s video (with the recipe)', async () => {
  const frames = await ecFrame().evaluate(() => [...document.querySelectorAll('video')].map((v) => v.getVideoPlaybackQuality().totalVideoFrames));
  return frames.length >= 2 && frames.filter((f) => f > 30).length >= 2 ? frames : null;
}, 60000, report);
console.log(`with the recipe, Element Call shows ${ecDecodes.length} videos (frames ${ecDecodes.join(', ')}) ${((Date.now() - recipeStart) / 1000).toFixed(1)} s after the guest's membership; names the guest: ${(await ecFrame().evaluate(() => document.body.innerText)).includes('Jane')}`);
await picture(host, 'element-call-pat-recipe');

// What Element Call and its host asked of Dendrite that Dendrite did not give.
const hostLog = await host.evaluate(() => ({ errors: window.homeserverErrors, widget: window.widgetLog }));
const hsOrigin = new URL(account.homeserver).origin;
for (const r of seen.filter((x) => x.url.startsWith(hsOrigin) && x.status !== 200)) {
  console.log(`DENDRITE ${r.method} ${new URL(r.url).pathname} -> ${r.status}`);
}
for (const e of hostLog.errors) console.log(`DENDRITE (host) ${e.method} ${e.path} -> ${e.status} ${e.errcode || ''} ${e.error || ''}`);
const versions = await (await fetch(account.homeserver + '/_matrix/client/versions')).json();
console.log(`DENDRITE /versions unstable_features: msc4140=${!!(versions.unstable_features || {})['org.matrix.msc4140']} msc4143=${!!(versions.unstable_features || {})['org.matrix.msc4143']} msc4354=${!!(versions.unstable_features || {})['org.matrix.msc4354']}`);
for (const w of hostLog.widget.filter((x) => !x.ok)) console.log(`WIDGET ${w.action} refused: ${w.error}`);

// The clinician removes Pat: the bridge takes Pat's Element Call out of LiveKit.
await control('/ec/lobby', { action: 'remove', participant: '2' });
await until('Pat\'s Element Call to leave the guest\'s LiveKit room', async () =>
  !(await guestView()).remotes.some((id) => id.startsWith(account.user_id)), 20000, report);
console.log(`Pat removed: out of LiveKit at ${since()}`);

await guestBrowser.close();
await patBrowser.close();
console.log('elementcall: OK');
