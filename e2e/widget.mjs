// widget.mjs: the call page as an Element widget. Inside a Matrix client whose origin is in
// web.element_origins it signs in with the client's OpenID token; its messages go to that
// client's origin only, never to a page that does not say who it is; any other site cannot
// frame it at all.
import { launch, open, control, check, until, text, CONTROL, BRIDGE } from './lib.mjs';

const browser = await launch();
const { session_id: sessionId, access_token: token, matrix_server_name: server } = await control('/book-matrix', { user: 'jane' });
const query = `session=${sessionId}&access_token=${encodeURIComponent(token)}&server=${encodeURIComponent(server)}`;
const bridgeOrigin = new URL(BRIDGE).origin;

// In the Matrix client: the widget asks for an OpenID token and shows Jane's session.
const element = await open(browser, `${CONTROL}/element?${query}&parent=self`, 'element');
await element.frameLocator('iframe').locator('#when').waitFor();
const heard = await element.evaluate(() => window.received);
check(heard.some((m) => m.action === 'get_openid'), 'the client was not asked for an OpenID token: ' + JSON.stringify(heard));
check(heard.every((m) => m.origin === bridgeOrigin), 'the client heard from another origin: ' + JSON.stringify(heard));

// A page that frames the widget without saying who it is hears nothing, and the widget says it
// cannot sign in.
const silent = await open(browser, `${CONTROL}/element?${query}&parent=none`, 'page without parentUrl');
await until('the widget to refuse to sign in', async () => (await text(silent.frameLocator('iframe'), '#message')).includes('expired'));
const overheard = await silent.evaluate(() => window.received);
check(overheard.length === 0, 'the widget posted to a page that did not say who it is: ' + JSON.stringify(overheard));

// Another site (localhost is another origin than 127.0.0.1) cannot frame the widget.
const foreign = await open(browser, `${CONTROL.replace('127.0.0.1', 'localhost')}/element?${query}&parent=self`, 'foreign site');
// Chromium replaces a frame refused by frame-ancestors with its error page.
await until('the frame to be refused', async () => {
  const frame = foreign.frames().find((f) => f !== foreign.mainFrame());
  return frame && frame.url().startsWith('chrome-error:');
});
check(await foreign.frameLocator('iframe').locator('#app').count() === 0, 'another site framed the widget');

await browser.close();
console.log('widget scenario passed');
