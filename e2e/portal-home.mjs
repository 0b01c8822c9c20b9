// portal-home.mjs: the client portal's home, as a client sees it. Alice signs in with a code
// by email and finds My sessions: the next one on top with its Join button (its waiting room is
// open), a telephone session saying who will call, a past one; then My professionals with the
// clinic's phone. In English, then in French; on a computer (1280×800) and a phone (390×844).
// Her brother Bob's session, booked with their parent's address, is never on her page.
import { launch, open, control, check, until, text, shots, BRIDGE } from './lib.mjs';

const browser = await launch({ permissions: [] });
const page = await open(browser, BRIDGE + '/portal?lang=en', 'alice');
await until('the sign-in page', async () => (await text(page, 'h1')) === 'Sign in');
await page.locator('#contact').fill('alice@example.org');
await page.locator('#send-code').click();
await page.locator('#code').waitFor();
const code = await until('the emailed code', async () => (await control('/code?contact=alice@example.org')).code);
await page.locator('#code').fill(code);
await page.locator('#verify-code').click();
await until('the home', async () => (await text(page, '#welcome')) === 'Welcome, Alice Martin');

async function sessions() {
  return page.locator('.portal-session').evaluateAll((els) => els.map((el) => ({
    id: el.dataset.session, next: el.classList.contains('next'), text: el.textContent,
    join: el.querySelector('a.join') ? new URL(el.querySelector('a.join').href).pathname : '',
  })));
}

// --- English ---
await until('My sessions', async () => (await page.locator('.portal-session').count()) === 3);
check(await page.locator('nav.portal-nav a[aria-current=page]').textContent() === 'My sessions', 'My sessions is not the open tab');
const navEn = await page.locator('nav.portal-nav a').allTextContents();
check(navEn.join('|') === 'My sessions|Documents|To-do|My professionals|Messages|Payment & Insurances', 'the navigation: ' + navEn.join('|'));
let list = await sessions();
check(list.map((s) => s.id).join(' ') === 'soon phone held', 'sessions in order: ' + list.map((s) => s.id).join(' '));
check(!list.some((s) => s.id === 'bobs') && !(await text(page, 'main')).includes('Bob'), "Bob's session is on Alice's page");
check(list[0].next && list[0].text.includes('Your next session') && list[0].join.startsWith('/g/'), 'the next session: ' + JSON.stringify(list[0]));
// 09:20 UTC on Tuesday 24 November is 10:20 AM in Paris, where Alice lives.
check(list[0].text.includes('Tuesday 24 November 2026, 10:20 AM'), 'the next session in Alice\'s zone: ' + list[0].text);
check(list[0].text.includes('With Dr Roy') && list[0].text.includes('Video'), 'the next session\'s professional and kind: ' + list[0].text);
check(!list[1].next && list[1].text.includes('Dr Roy will call you') && list[1].text.includes('Telephone') && !list[1].join, 'the telephone session: ' + list[1].text);
check(list[2].text.includes('Held') && !list[2].join, 'the past session: ' + list[2].text);
check(await page.locator('#past').textContent() === 'Past', 'no Past heading');
await shots(page, 'portal-home-sessions-en');

await page.locator('nav.portal-nav a[data-tab=professionals]').click();
await until('My professionals', async () => (await page.locator('.professional').count()) === 1);
check(await text(page, '.professional .name') === 'Dr Roy', 'the professional: ' + await text(page, '.professional'));
check(await text(page, '.professional .avatar.initials') === 'R', 'the initials of a professional without a picture: ' + await text(page, '.professional .avatar'));
check((await text(page, '.clinic-phone')).includes('+33 1 23 45 67 89'), 'the clinic\'s phone');
await shots(page, 'portal-home-professionals-en');

// --- French: the same page, in the language she chooses ---
await page.goto(BRIDGE + '/portal?lang=fr#sessions');
await until('the French home', async () => (await text(page, '#welcome')) === 'Bienvenue, Alice Martin');
await until('Mes séances', async () => (await page.locator('.portal-session').count()) === 3);
const navFr = await page.locator('nav.portal-nav a').allTextContents();
check(navFr.join('|') === 'Mes séances|Documents|À faire|Mes praticiens|Messages|Paiement et assurances', 'the French navigation: ' + navFr.join('|'));
list = await sessions();
check(list[0].text.includes('Votre prochaine séance') && list[0].text.includes('mardi 24 novembre 2026, 10:20') && list[0].text.includes('Avec Dr Roy'), 'the next session in French: ' + list[0].text);
check(list[1].text.includes('Dr Roy vous appellera'), 'the French telephone session: ' + list[1].text);
check(list[2].text.includes('Tenue'), 'the French past session: ' + list[2].text);
await shots(page, 'portal-home-sessions-fr');
await page.locator('nav.portal-nav a[data-tab=professionals]').click();
await until('Mes praticiens', async () => (await page.locator('.professional').count()) === 1);
check((await text(page, '.clinic-phone')).includes('Téléphone'), 'the French clinic phone');
await shots(page, 'portal-home-professionals-fr');

// Join takes her to her own session's page.
await page.goto(BRIDGE + '/portal?lang=en#sessions');
await until('the Join button', async () => (await page.locator('a.join').count()) === 1);
const joinPath = new URL(await page.locator('a.join').getAttribute('href'), BRIDGE).pathname;
await page.locator('a.join').click();
await until('the session page', async () => new URL(page.url()).pathname.startsWith('/g/'));
// Signed in to the portal, her own link offers her portal, open on this session.
await until('the link to the portal', async () => (await page.locator('#portal-link').count()) === 1);
check(await text(page, '#portal-link') === 'See all your sessions in your portal', 'the portal link: ' + await text(page, '#portal-link'));
await shots(page, 'portal-home-session-link-en');
await page.locator('#portal-link').click();
await until('the portal on that session', async () => (await page.locator('.portal-session.focused').count()) === 1);
check(await page.locator('.portal-session.focused').getAttribute('data-session') === 'soon', 'the wrong session is shown');

// In a browser where no one is signed in, the same link offers no portal.
const other = await launch({ permissions: [] });
const stranger = await open(other, BRIDGE + joinPath, 'stranger');
await until('the session page, signed out', async () => (await stranger.locator('#when').count()) === 1);
check((await stranger.locator('#portal-link').count()) === 0, 'a signed-out browser is offered the portal');
await other.close();

await browser.close();
console.log('portal-home scenario passed');
