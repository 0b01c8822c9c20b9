// admit.mjs: how long from the clinician's Admit click on the panel to the guest's first
// decoded video frame, over 10 admissions (the guest is sent back to the waiting room between
// runs and asks again by themselves). Prints ADMIT_TO_FRAME_MS with p50 and p95.
import { launch, open, signIn, watch, control, until, percentile, fail } from './lib.mjs';

const runs = Number(process.env.RUNS || 10);
const clinicianBrowser = await launch();
const guestBrowser = await launch();
const { guest_link: guestLink, session_id: sessionId } = await control('/book', { name: 'Jane Doe', in_minutes: 20 });
await control('/open', { session_id: sessionId });
const { url: loginLink } = await control('/login-link');

const panel = await signIn(clinicianBrowser, loginLink);
const card = panel.locator(`[data-session="${sessionId}"]`);
const [host] = await Promise.all([clinicianBrowser.waitForEvent('page'), card.locator('[data-action="enter"]').click()]);
watch(host, 'clinician call');
await host.locator('#accept:not([disabled])').click();
await host.locator('#attendees').waitFor();
await panel.bringToFront();
await card.locator('[data-action="attendees"]').click();

const guest = await open(guestBrowser, guestLink, 'guest');
await guest.locator('#join:not([disabled])').click();
await guest.locator('#accept:not([disabled])').click();

// The admission starts when the click reaches the panel's Admit button (not when the test
// begins asking the browser to click, which waits for the button to be ready first).
await panel.evaluate(() => document.addEventListener('click', (e) => {
  if (e.target.closest && e.target.closest('[data-action="admit"]')) window.admitClickAt = Date.now();
}, true));

const samples = [];
const stages = [];
for (let i = 0; i < runs; i++) {
  const debug = async () => console.error(JSON.stringify(await control('/state?session_id=' + sessionId)));
  await until('the guest in the waiting room', () => guest.locator('#waiting').isVisible(), 20000, debug);
  await until('the guest on the panel\'s waiting list', () => panel.locator('.waiting-list [data-action="admit"]').isVisible(), 20000, debug);
  const start = Date.now();
  await panel.locator('.waiting-list [data-action="admit"]').click();
  // The first decoded frame of a new call (each admission is a new connection), seen from
  // inside the page every 10 ms.
  // Where the time goes, from inside the page every 10 ms: the call joined (the SFU let the
  // waiting connection in), the first video packet, the first decoded frame.
  const t = await guest.evaluate(async (n) => {
    const end = Date.now() + 20000;
    const at = { joined: 0, packet: 0, frame: 0, pli: 0, nack: 0 };
    while (Date.now() < end) {
      const c = window.telehealthCall;
      const s = c && c.generation === n ? await c.stats() : null;
      if (s) {
        if (!at.joined) at.joined = Date.now();
        if (!at.packet && s.videoPacketsReceived > 0) at.packet = Date.now();
        if (s.framesDecoded > 0) { at.frame = Date.now(); at.pli = s.pliSent; at.nack = s.nackSent; return at; }
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    return at;
  }, i + 1);
  const decoded = t.frame;
  if (!decoded) fail(`no decoded frame after admission ${i + 1}`);
  const clickAt = await panel.evaluate(() => window.admitClickAt);
  if (!clickAt || clickAt < start) fail(`the panel saw no click on Admit for admission ${i + 1}`);
  samples.push(decoded - clickAt);
  stages.push(`${decoded - clickAt}:joined=${t.joined - clickAt},packet=${t.packet - clickAt},pli=${t.pli},nack=${t.nack}`);
  await panel.locator('.inside-list [data-action="send-back"]').click();
  await until('the guest back in the waiting room', () => guest.locator('#waiting').isVisible(), 20000,
    async () => console.error(JSON.stringify(await control('/state?session_id=' + sessionId))));
}
console.log(`samples_ms=${samples.join(',')}`);
console.log(`stages_ms=${stages.join(' ')}`);
console.log(`ADMIT_TO_FRAME_MS runs=${runs} p50=${percentile(samples, 50)} p95=${percentile(samples, 95)}`);
await clinicianBrowser.close();
await guestBrowser.close();
