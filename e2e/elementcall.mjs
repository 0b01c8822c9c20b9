// elementcall.mjs: Element Call (the embedded build, as a widget of e2e/widgethost.mjs, an
// Element stand-in signed in to Dendrite) in the same LiveKit call as a web guest on the
// bridge's own call page. Run by internal/e2e's TestElementCallInTheBrowser (LiveKit backend,
// its webhooks reaching the bridge), which serves Element Call, the host and the /ec/ control
// endpoints.
//
// The web guest asks to enter on the call page and is let in: the page connects to LiveKit as
// <ghost>:WEB and the bridge writes the ghost's call.member. Pat knocks from Matrix and is let
// in through the lobby; then Element Call, in Pat's browser, gets its token from the bridge,
// connects to LiveKit and publishes. Both ways: the guest's call page decodes Pat's video, and
// Element Call shows the guest by name and decodes theirs. The clinician removes the guest
// (out of LiveKit, their membership ended), then Pat (Element Call out of LiveKit).
// Prints what Element Call and the host asked of Dendrite that Dendrite did not answer.
import { launch, open, control, until, check, fail, stats, BRIDGE, CONTROL, ARTIFACTS } from './lib.mjs';

const t0 = Date.now();
const since = () => `${((Date.now() - t0) / 1000).toFixed(1)} s`;
const book = await control('/ec/book', {});
await control('/open', { session_id: book.session_id });
const lobby = async () => (await control('/state?session_id=' + book.session_id)).participants;
const dumpLobby = async () => console.error('lobby: ' + JSON.stringify(await control('/state?session_id=' + book.session_id)));

// The web guest asks to enter on the call page; its bearer credential is what the page sends.
const guestBrowser = await launch();
const guest = await open(guestBrowser, book.guest_link, 'guest');
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

// The guest's call page connects to LiveKit once let in, as their ghost's device WEB; the
// bridge then writes the ghost's MatrixRTC membership for that device.
const inLiveKit = async () => (await control('/ec/livekit')).participants || [];
const guestLK = await until('the guest\'s call page in the LiveKit room', async () =>
  (await inLiveKit()).find((p) => p.identity.endsWith(':WEB')), 60000, async () => console.error('LiveKit has: ' + JSON.stringify(await inLiveKit())));
const ghost = guestLK.user;
check(guestLK.identity === ghost + ':WEB', `the guest's LiveKit identity ${guestLK.identity} for ${ghost}`);
check((await stats(guest)) !== null, 'the guest\'s call page has no call');
const guestMember = await until('the ghost\'s call.member', async () =>
  ((await control('/ec/members')).members || []).find((e) => e.sender === ghost), 30000);
console.log(`the guest's call page: LiveKit identity ${guestLK.identity}; the bridge wrote state key ${guestMember.state_key}, content ${JSON.stringify(guestMember.content)}`);
check(guestMember.state_key === `_${ghost}_WEB_m.call` && guestMember.content.membershipID === ghost + ':WEB' &&
  JSON.stringify(guestMember.content.foci_preferred || []).includes(BRIDGE + '/livekit/jwt'), 'the ghost\'s membership');

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

// The guest's call page decodes Pat's Element Call video, in the same LiveKit room (nobody else
// publishes in it: the clinician is not on a call page).
const patVideo = await until('the guest\'s call page to decode Pat\'s Element Call video', async () => {
  const ps = await inLiveKit();
  const pat = ps.find((p) => p.user === account.user_id);
  const st = await stats(guest);
  return pat && ps.length === 2 && st && st.framesDecoded > 30 ? { pat, st } : null;
}, 60000, async () => { console.error('LiveKit has: ' + JSON.stringify(await inLiveKit()) + '; the guest\'s page: ' + JSON.stringify(await stats(guest))); await report(); });
const firstFrames = Date.now();
console.log(`the guest's call page decodes ${patVideo.st.framesDecoded} frames of Pat's Element Call (${patVideo.pat.identity}), ${((firstFrames - admitPat) / 1000).toFixed(1)} s after Pat's admission`);
// /sfu/get names the participant by user and device (lk-jwt-service's identity).
if (tokenAnswer.url.endsWith('/sfu/get')) check(patVideo.pat.identity === `${account.user_id}:${account.device_id}`, `Pat's LiveKit identity ${patVideo.pat.identity}`);

// Element Call wrote Pat's membership in the room, naming the bridge's focus.
const members = await until('Pat\'s call.member event in the room', async () => {
  const m = (await control('/ec/members')).members || [];
  return m.find((e) => e.sender === account.user_id) ? m : null;
}, 20000, report);
const patMember = members.find((e) => e.sender === account.user_id);
console.log(`Pat's call.member: state key ${patMember.state_key}, content ${JSON.stringify(patMember.content)}`);
check(JSON.stringify(patMember.content.foci_preferred || []).includes(BRIDGE + '/livekit/jwt'), 'Pat\'s membership does not name the bridge\'s focus');

// Element Call shows the web guest, by their ghost's name, and decodes their video: it pairs
// the guest's LiveKit participant with the membership the bridge wrote.
const ecFrames = () => ecFrame().evaluate(() => [...document.querySelectorAll('video')].map((v) => v.getVideoPlaybackQuality().totalVideoFrames));
const ecDecodes = await until('Element Call to show the guest and decode their video', async () => {
  const frames = await ecFrames();
  const named = (await ecFrame().evaluate(() => document.body.innerText)).includes('Jane');
  return named && frames.length >= 2 && frames.filter((f) => f > 30).length >= 2 ? frames : null;
}, 60000, report);
console.log(`Element Call shows the guest (Jane) and ${ecDecodes.length} videos (frames ${ecDecodes.join(', ')}), ${((Date.now() - firstFrames) / 1000).toFixed(1)} s after the guest's page decoded Pat's; uncaught errors of its own: ${JSON.stringify(ecErrors)}`);
// Pictures for a person to look at, when the machine has time for them.
const picture = (page, name) => page.screenshot({ path: `${ARTIFACTS}/${name}.png`, timeout: 10000 }).catch((e) => console.error(`no picture ${name}: ${e.message.split('\n')[0]}`));
await picture(host, 'element-call-pat');
await picture(guest, 'guest-livekit');

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

// The clinician removes the guest: their call page leaves LiveKit and their membership ends,
// so Element Call stops showing them.
await control('/ec/lobby', { action: 'remove', participant: '1' });
await until('the guest\'s call page out of LiveKit', async () => !(await inLiveKit()).some((p) => p.user === ghost), 20000);
await until('the ghost\'s membership to end', async () => !((await control('/ec/members')).members || []).some((e) => e.sender === ghost), 20000);
const goneAt = Date.now();
const ecAfter = await until('Element Call to stop showing the guest', async () => {
  const frames = await ecFrames();
  return frames.length === 1 ? frames : null;
}, 30000, report);
console.log(`the guest removed: out of LiveKit, membership ended; Element Call shows ${ecAfter.length} video ${((Date.now() - goneAt) / 1000).toFixed(1)} s later`);

// The clinician removes Pat: the bridge takes Pat's Element Call out of LiveKit.
await control('/ec/lobby', { action: 'remove', participant: '2' });
await until('Pat\'s Element Call to leave the LiveKit room', async () =>
  !(await inLiveKit()).some((p) => p.user === account.user_id), 20000, report);
console.log(`Pat removed: out of LiveKit at ${since()}`);

await guestBrowser.close();
await patBrowser.close();
console.log('elementcall: OK');
