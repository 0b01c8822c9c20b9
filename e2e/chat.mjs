// chat.mjs: the in-call chat in real browsers. A guest and the clinician write to each other on
// their call pages; the clinician's Matrix client writes in the session room too; the guest
// reads only what was said once they were let in; hostile text (markup, a link, bidi
// overrides, a very long word) shows as text. Screenshots in English and French, laptop and
// phone.
import { launch, open, signIn, watch, control, check, until, shot, text, ARTIFACTS } from './lib.mjs';

const CHAT = process.env.CHAT_CONTROL_URL;
async function chatControl(path, body) {
  const resp = await fetch(CHAT + path, { method: 'POST', body: JSON.stringify(body) });
  if (!resp.ok) throw new Error(`chat control ${path}: ${resp.status} ${await resp.text()}`);
  return resp.json();
}

// messages reads what a page's chat list shows: name and text as a person sees them.
const messages = (page) => page.evaluate(() => [...document.querySelectorAll('#chat-list .chat-message')].map((li) => ({
  name: li.querySelector('.chat-name').textContent, text: li.querySelector('.chat-text').textContent,
  host: li.classList.contains('host'), mine: li.classList.contains('mine'),
})));
const shows = async (page, what, f) => until(what, async () => (await messages(page)).find(f));
// send types a message and presses Enter, as a person does.
async function send(page, message) {
  await page.locator('#chat-input').fill(message);
  await page.locator('#chat-input').press('Enter');
}

const { guest_link: guestLink, session_id: sessionId } = await control('/book', { name: 'Jane Doe' });
await control('/open', { session_id: sessionId });
const { url: loginLink } = await control('/login-link');
const clinicianBrowser = await launch();
const clientBrowser = await launch();

const panel = await signIn(clinicianBrowser, loginLink);
await panel.locator(`[data-session="${sessionId}"] [data-action="enter"]`).waitFor();
const [host] = await Promise.all([
  clinicianBrowser.waitForEvent('page'),
  panel.locator(`[data-session="${sessionId}"] [data-action="enter"]`).click(),
]);
watch(host, 'clinician call page');
await host.locator('#accept').click();
await host.locator('#attendees').waitFor();

// Said in the room (from Element) before the client is let in: the clinician reads it, the
// client never will.
await chatControl('/say', { session_id: sessionId, text: 'Private note before the visit' });
await host.locator('#chat-toggle').click();
await shows(host, 'the note in the clinician\'s chat', (m) => m.text === 'Private note before the visit' && m.host);

const client = await open(clientBrowser, guestLink, 'client');
await client.setViewportSize({ width: 1280, height: 800 }); // a laptop
await host.setViewportSize({ width: 1280, height: 800 });
await client.locator('#join:not([disabled])').click();
await client.locator('#name').fill('Jane');
await until('the client\'s camera', () => client.locator('#accept:not([disabled])').count());
await client.locator('#accept').click();
await client.locator('#waiting').waitFor();
check(await client.locator('#chat-toggle').count() === 0, 'a waiting client has a chat button');

await host.locator('.waiting-list [data-action="admit"]').click();
await client.locator('#remotes').waitFor();
await client.locator('#chat-toggle').waitFor();

// The clinician writes from the call page; the client sees the unread badge, then the message.
await send(host, 'Hello Jane, can you hear me?');
await shows(host, 'the clinician\'s own message', (m) => m.text === 'Hello Jane, can you hear me?' && m.mine);
await until('the unread badge', async () => (await text(client, '#chat-badge')).includes('1 new'));
check(await client.locator('#chat-panel').isHidden(), 'the chat opened by itself');
check((await client.locator('#chat-toggle').getAttribute('aria-label')) === 'Chat (1 unread)', 'the badge is not told to screen readers');
await shot(client, 'chat-unread-en');
await client.locator('nav.controls').screenshot({ path: `${ARTIFACTS}/chat-unread-controls-en.png` });
await client.locator('#chat-toggle').click();
await shows(client, 'the clinician\'s message on the client\'s page', (m) => m.text === 'Hello Jane, can you hear me?' && m.host && m.name === 'dr.martin');
check(await client.locator('#chat-badge').isHidden(), 'the badge stays once the chat is open');
check(!(await messages(client)).some((m) => m.text.includes('Private note')), 'the client reads what was said before they were let in');

// Hostile text from the client: markup, a link, a very long word. The clinician sees it as
// text, with no element made of it, no link, nothing run, nothing wider than the panel.
const hostile = '<img src=x onerror="window.pwned=1"><script>window.pwned=2</script> **bold** https://evil.example/login';
await send(client, hostile);
await shows(host, 'the hostile text on the clinician\'s page', (m) => m.text === hostile && m.name === 'Jane' && !m.host);
const longWord = 'W'.repeat(1800);
await send(client, longWord);
await shows(host, 'the long word on the clinician\'s page', (m) => m.text === longWord);
const listed = await host.evaluate(() => {
  const list = document.querySelector('#chat-list');
  return {
    elements: list.querySelectorAll('img, script, a, b, strong').length, pwned: window.pwned,
    overflow: list.scrollWidth - list.clientWidth, panel: document.querySelector('#chat-panel').getBoundingClientRect().width,
  };
});
check(listed.elements === 0, `the chat made elements of a message: ${JSON.stringify(listed)}`);
check(listed.pwned === undefined, 'a message ran script');
check(listed.overflow <= 0 && listed.panel <= 330, `a long word widened the chat: ${JSON.stringify(listed)}`);

// A Matrix client's text with a right-to-left override shows the override as a mark, and
// stays inside its own message.
await chatControl('/say', { session_id: sessionId, text: 'invoice \u202Egpj.exe' });
await chatControl('/say', { session_id: sessionId, text: 'next line' });
await shows(client, 'the Matrix message with a bidi override made visible', (m) => m.text === 'invoice \uFFFDgpj.exe');
await shows(client, 'the message after it', (m) => m.text === 'next line');
const isolated = await client.evaluate(() => [...document.querySelectorAll('#chat-list .chat-text')].every((p) =>
  p.getAttribute('dir') === 'auto' && getComputedStyle(p).unicodeBidi === 'isolate'));
check(isolated, 'chat texts are not isolated from each other');
// The client cannot send one: refused in words.
await send(client, 'mine \u202Etxt.exe');
await until('the refusal of a bidi override', async () => (await text(client, '#chat-error')).includes('invisible characters'));
check(await client.locator('#chat-input').inputValue() === 'mine \u202Etxt.exe', 'a refused message was cleared from the field');
await client.locator('#chat-input').fill('');

// Shift+Enter makes a new line; the message keeps it.
await client.locator('#chat-input').fill('line one');
await client.locator('#chat-input').press('Shift+Enter');
await client.locator('#chat-input').type('line two');
await client.locator('#chat-input').press('Enter');
await shows(host, 'a two-line message', (m) => m.text === 'line one\nline two');

await shot(client, 'chat-guest-en');
await shot(host, 'chat-clinician-en');
await client.setViewportSize({ width: 390, height: 844 });
await shot(client, 'chat-guest-phone-en');
const phone = await client.evaluate(() => document.querySelector('#chat-panel').getBoundingClientRect().width);
check(phone <= 390, `the chat is wider than the phone: ${phone}`);

// Closing the chat, then a new message: the badge again.
await client.locator('#chat-close').click();
await send(host, 'See you next week');
await until('the badge for a message while closed', async () => (await text(client, '#chat-badge')).includes('1 new'));

// Sent back to the waiting room, then let in again: what was said meanwhile stays unread by
// them; what they read before is not counted again, what they had not read still is.
await host.locator('.inside-list [data-action="send-back"]').click();
await client.locator('#waiting').waitFor();
check(await client.locator('#chat-toggle').count() === 0, 'the chat stays on the waiting page');
await chatControl('/say', { session_id: sessionId, text: 'While Jane waits' });
await shows(host, 'the message said while Jane waits', (m) => m.text === 'While Jane waits');
await host.locator('.waiting-list [data-action="admit"]').click();
await client.locator('#chat-toggle').waitFor();
await send(host, 'Welcome back');
await until('the badge after coming back', async () => (await text(client, '#chat-badge')).includes('2 new'));
await client.locator('#chat-toggle').click();
await shows(client, 'the message after coming back', (m) => m.text === 'Welcome back');
const back = await messages(client);
check(back.some((m) => m.text === 'Hello Jane, can you hear me?') && back.some((m) => m.text === 'See you next week'), 'the first stay\'s messages are gone after coming back');
check(!back.some((m) => m.text === 'While Jane waits'), 'the client reads what was said while they were in the waiting room');

// French: another client, let in from Element, reads the chat in French.
const fr = await control('/book', { name: 'Jeanne Dupont', locale: 'fr' });
await control('/open', { session_id: fr.session_id });
const frClient = await open(clientBrowser, fr.guest_link, 'French client');
await frClient.setViewportSize({ width: 1280, height: 800 });
await frClient.locator('#join:not([disabled])').click();
await frClient.locator('#name').fill('Jeanne');
await until('the French client\'s camera', () => frClient.locator('#accept:not([disabled])').count());
await frClient.locator('#accept').click();
await frClient.locator('#waiting').waitFor();
await chatControl('/admit', { session_id: fr.session_id });
await frClient.locator('#chat-toggle').waitFor();
check((await text(frClient, '#chat-toggle')).startsWith('Discussion'), 'the chat button is not in French');
await frClient.locator('#chat-toggle').click();
check((await text(frClient, '#chat-empty')).includes('avant votre arrivée'), 'the empty chat does not say why in French');
await chatControl('/say', { session_id: fr.session_id, text: 'Bonjour Jeanne, c\'est à vous <b>quand vous voulez</b>' });
await shows(frClient, 'the French session\'s message', (m) => m.text === 'Bonjour Jeanne, c\'est à vous <b>quand vous voulez</b>');
check(!(await messages(frClient)).some((m) => m.text.includes('Jane') || m.text === hostile), 'another session\'s chat shows');
await send(frClient, 'Bonjour, je vous entends bien.');
await shows(frClient, 'the French client\'s own message', (m) => m.mine && m.name === 'Vous');
await send(frClient, 'caché \u202Etxt.exe');
await until('the French refusal', async () => (await text(frClient, '#chat-error')).includes('caractères invisibles'));
await shot(frClient, 'chat-guest-fr');
await frClient.setViewportSize({ width: 390, height: 844 });
await shot(frClient, 'chat-guest-phone-fr');

await clinicianBrowser.close();
await clientBrowser.close();
console.log('chat scenario passed');
