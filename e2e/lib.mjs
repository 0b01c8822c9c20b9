// lib.mjs: what every browser scenario needs. Chromium from Debian with fake camera and
// microphone, loopback only; the Go test's control server; assertions that fail the run.
import { chromium } from 'playwright-core';
import { mkdtempSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const BRIDGE = process.env.BRIDGE_URL;
export const CONTROL = process.env.CONTROL_URL;
export const ARTIFACTS = process.env.ARTIFACTS_DIR || 'test-artifacts';
mkdirSync(ARTIFACTS, { recursive: true });

// launch starts Chromium with a new, empty profile. permissions are the devices the person
// allows; any other is refused as a person's "Block" would (without the fake prompt that
// accepts everything). fakeDevices: false gives a machine with no camera and no microphone at
// all. Other options, such as { locale: 'fr-FR' } or a viewport, go to playwright.
export async function launch({ permissions = ['camera', 'microphone'], fakeDevices = true, args = [], ...options } = {}) {
  const profile = mkdtempSync(join(tmpdir(), 'telehealth-chromium-'));
  const allowAll = permissions.includes('camera') && permissions.includes('microphone');
  return chromium.launchPersistentContext(profile, {
    viewport: { width: 1280, height: 800 },
    ...options,
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    permissions,
    args: [
      '--no-sandbox', '--disable-gpu', ...(fakeDevices ? ['--use-fake-device-for-media-stream'] : []), ...(allowAll ? ['--use-fake-ui-for-media-stream'] : []),
      '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic',
      '--disable-features=WebRtcHideLocalIpsWithMdns', '--allow-loopback-in-peer-connection',
      '--auto-select-desktop-capture-source=Entire screen', '--autoplay-policy=no-user-gesture-required',
      ...args,
    ],
  });
}

// page opens a new tab that reports its errors (a page error fails the scenario).
const watched = [];

// dump shows what each page shows, for a failure's report.
async function dump() {
  for (const { page, name } of watched) {
    try {
      const info = await page.evaluate(async () => ({
        url: location.pathname,
        status: (document.querySelector('#call-status, #message, #waiting') || {}).textContent,
        stats: window.telehealthCall ? await window.telehealthCall.stats() : null,
        tiles: document.querySelectorAll('.tile').length,
      }));
      console.error(`${name}: ${JSON.stringify(info)}`);
      await page.screenshot({ path: join(ARTIFACTS, 'failure-' + name.replace(/\W+/g, '-') + '.png') });
    } catch (e) { /* a closed page */ }
  }
}

export async function open(context, url, name) {
  const page = await context.newPage();
  watch(page, name);
  await page.goto(url);
  return page;
}

// signIn opens a one-time login link as a clinician does: a link previewer fetches it first
// (as Element and mail scanners do), then the clinician clicks the page's button.
export async function signIn(context, loginLink, name = 'panel') {
  const preview = await fetch(loginLink);
  check(preview.ok, `the link previewer's GET of the login link: ${preview.status}`);
  const page = await open(context, loginLink, name);
  await page.locator('#continue').click();
  await page.waitForURL(/\/panel$/);
  return page;
}

// watch fails the scenario on a page's uncaught errors and dialogs, and shows its console errors.
export function watch(page, name) {
  watched.push({ page, name });
  page.on('pageerror', (err) => fail(`${name}: page error: ${err.message}`));
  page.on('dialog', (d) => fail(`${name}: a dialog opened: ${d.message()}`));
  page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') console.error(`${name} console: ${m.text()}`); });
}

// control calls the Go test's control server.
export async function control(path, body) {
  const resp = await fetch(CONTROL + path, { method: body ? 'POST' : 'GET', body: body ? JSON.stringify(body) : undefined });
  if (!resp.ok) throw new Error(`control ${path}: ${resp.status} ${await resp.text()}`);
  return resp.json();
}

export function fail(msg) {
  console.error('FAIL: ' + msg);
  process.exit(1);
}

export function check(cond, msg) {
  if (!cond) fail(msg);
}

// until polls f until it returns a truthy value, or fails after the deadline.
export async function until(what, f, timeoutMs = 20000, onTimeout = null) {
  const end = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try { last = await f(); } catch (e) { last = undefined; }
    if (last) return last;
    if (Date.now() > end) {
      if (onTimeout) await onTimeout();
      await dump();
      fail(`timed out waiting for ${what}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function shot(page, name) {
  await page.screenshot({ path: join(ARTIFACTS, name + '.png'), fullPage: true });
}

// shots keeps what a person sees of a page on a 1280x800 laptop and on a 390x844 phone
// (name-1280.png, name-390.png), then puts the laptop size back.
export async function shots(page, name) {
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.screenshot({ path: join(ARTIFACTS, name + '-1280.png') });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({ path: join(ARTIFACTS, name + '-390.png') });
  await page.setViewportSize({ width: 1280, height: 800 });
}

// stats reads the call page's connection summary. With CALL_BACKEND set (the Go test runs the
// bridge on that media backend: 'livekit'), a call going through another fails the scenario.
const BACKEND = process.env.CALL_BACKEND || '';
export async function stats(page) {
  const [s, backend] = await page.evaluate(async () => (window.telehealthCall ? [await window.telehealthCall.stats(), window.telehealthCall.backend] : [null, '']));
  if (s && BACKEND && backend !== BACKEND) fail(`the call goes through ${backend}, not ${BACKEND}`);
  return s;
}

export async function text(page, selector) {
  return (await page.locator(selector).textContent()) || '';
}

export function percentile(values, p) {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((s.length - 1) * p / 100))];
}
