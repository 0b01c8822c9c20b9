// portal-messages.mjs: the Messages thread. Jane, signed in to her portal, writes to her
// clinician from the Messages tab; Dr Martin's Matrix client (standing for Element, driven by
// the Go test through the control server) receives it in the room and answers; Jane's page
// shows the answer live, without a reload. Then the tab in French.
import { launch, open, signIn, control, check, until, text, shots, BRIDGE } from './lib.mjs';

const device = await launch({ permissions: [] });
await device.addCookies([{ name: 'telehealth_portal', value: process.env.PORTAL_TOKEN_JANE, url: BRIDGE, httpOnly: true, sameSite: 'Strict' }]);
const page = await open(device, `${BRIDGE}/portal?lang=en#messages`, 'jane');
await until('the Messages tab open', async () => (await page.locator('#thread-input').count()) === 1);
check((await page.locator('a[data-tab="messages"]').getAttribute('aria-current')) === 'page', 'the Messages tab is not the current one');
await until('the empty thread', async () => (await page.locator('#thread-empty').isVisible()));
check((await text(page, '#thread-empty')) === 'No messages yet. Write to your professional below.', 'the empty thread\'s words');

// The room exists now (the tab asked for it): Dr Martin accepts its invite in "Element".
await control('/clinician-accept', {});

const question = 'Hello, may I move my next session to the afternoon?';
await page.locator('#thread-input').fill(question);
await page.locator('#thread-send').click();
await until('my message in the thread', async () => (await page.locator('#thread-list li.mine').count()) === 1);
check((await text(page, '#thread-list li.mine .chat-name')) === 'You', 'my message is not signed "You"');
check((await text(page, '#thread-list li.mine .chat-text')) === question, 'my message\'s text');
check((await page.locator('#thread-input').inputValue()) === '', 'the send box was not emptied');
await shots(page, 'portal-messages-sent-en');

// The page must not reload to show the answer: a mark set now survives only without one.
await page.evaluate(() => { window.__noReload = true; });
const answer = 'Of course: Thursday at 15:00 suits me.';
await control('/clinician-answer', { expect: question, text: answer });
await until('the clinician\'s answer, live', async () => (await page.locator('#thread-list li:not(.mine)').count()) === 1);
check(await page.evaluate(() => window.__noReload === true), 'the page reloaded to show the answer');
check((await text(page, '#thread-list li:not(.mine) .chat-text')) === answer, 'the answer\'s text');
const name = await text(page, '#thread-list li:not(.mine) .chat-name');
check(name.toLowerCase().includes('martin') && name !== 'You', `the answer is signed ${JSON.stringify(name)}, not by the clinician`);
// Newest at the bottom.
const items = await page.locator('#thread-list li .chat-text').allTextContents();
check(items.length === 2 && items[0] === question && items[1] === answer, `the order: ${JSON.stringify(items)}`);
await shots(page, 'portal-messages-answer-en');

// Dr Martin on the panel: the record's thread (mountClientMessages, as the Clients page mounts
// it), Jane named by her record, the relay said; his answer from there reaches Jane live.
const { url: loginLink, client_id: clientId } = await control('/panel-link');
const panelDevice = await launch({ permissions: [] });
const panel = await signIn(panelDevice, loginLink);
await panel.evaluate(async (id) => {
  const { mountClientMessages } = await import('/assets/js/panelmessages.js');
  const el = document.createElement('section');
  el.id = 'client-messages';
  document.querySelector('main, #app, body').append(el);
  mountClientMessages(el, id);
}, clientId);
await until('the thread on the panel', async () => (await panel.locator('#client-messages #thread-list li').count()) === 2);
check((await text(panel, '#client-messages #thread-list li:first-child .chat-name')) === 'Jane Doe', 'the client is not named by her record on the panel');
check((await text(panel, '#thread-note')).includes('bot'), 'the panel does not say its messages are relayed by the bot');
const fromPanel = 'See you on Thursday.';
await panel.locator('#thread-input').fill(fromPanel);
await panel.locator('#thread-send').click();
await until('the panel\'s message on the panel', async () => (await panel.locator('#client-messages #thread-list li.mine').count()) === 2);
await until('the panel\'s message in the portal, live', async () => (await page.locator('#thread-list li').count()) === 3);
check((await text(page, '#thread-list li:last-child .chat-text')) === fromPanel, 'the panel\'s message text in the portal');
check((await text(page, '#thread-list li:last-child .chat-name')).toLowerCase().includes('martin'), 'the panel\'s message is not signed by the clinician');
check(await page.evaluate(() => window.__noReload === true), 'the portal reloaded');
await shots(panel, 'panel-messages-en');
await panelDevice.close();

// In French: the same thread, the tab's words and "Vous".
const fr = await open(device, `${BRIDGE}/portal?lang=fr#messages`, 'jane-fr');
await until('the French thread', async () => (await fr.locator('#thread-list li').count()) === 3);
check((await text(fr, 'a[data-tab="messages"]')).startsWith('Messages'), 'the French tab');
check((await text(fr, '#my-messages')).includes('Vous'), 'my message is not signed "Vous"');
check((await fr.locator('#thread-send').textContent()) === 'Envoyer', 'the French send button');
await shots(fr, 'portal-messages-fr');

await device.close();
console.log('portal messages: sent, received in Matrix, answered, shown live, in English and French');
