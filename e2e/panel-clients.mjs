// panel-clients.mjs: the panel's Clients pages. The clinician finds Jane by a search, opens her
// record (her session is listed), mistypes an email (the error shows next to the field and
// nothing typed is lost), saves her preferred name and enables her portal. The enrolment email
// reaches Jane; she opens the link, creates a password and lands on her portal home, which shows
// her session. Screenshots in English and French.
import { launch, signIn, open, control, check, until, text, shots } from './lib.mjs';

const { session_id: sessionID } = await control('/book', { name: 'Jane Doe', email: 'jane@example.org', invite: 'none' });
await control('/book', { name: 'Leo Martin', phone: '+33612345678', invite: 'none' });

const browser = await launch({ permissions: [] });
const { url: loginLink } = await control('/login-link');
const panel = await signIn(browser, loginLink);
await panel.locator('#open-clients').click();
await until('both clients listed', async () => (await panel.locator('#client-list .client-item').count()) === 2);
await panel.locator('#client-search').fill('jan');
await until('the search to keep Jane only', async () => {
  const names = await panel.locator('#client-list .client-item .name').allTextContents();
  return names.length === 1 && names[0] === 'Jane Doe';
});
await shots(panel, 'clients-search-en');
await panel.locator('#client-list .client-open').click();
await until("Jane's record", async () => (await text(panel, '#client-title')) === 'Jane Doe');
check(await panel.locator(`#client-upcoming [data-session="${sessionID}"]`).count() === 1, 'the record does not list her session');
check((await text(panel, '#portal-state')).includes('not open'), 'the portal is said open before it is');

// A bad email: the error is next to the field, and what was typed stays.
await panel.locator('#preferred_name').fill('Jenny');
await panel.locator('#emails').fill('jane@example.org\nnot an email');
await panel.locator('#client-save').click();
await until('the email error', async () => (await text(panel, '#emails-error')).includes('not a valid'));
check(await panel.locator('#preferred_name').inputValue() === 'Jenny', 'the preferred name typed was lost');
check((await panel.locator('#emails').inputValue()).includes('not an email'), 'the emails typed were lost');
await panel.locator('#emails').fill('Jane@Example.org');
await panel.locator('#client-save').click();
await until('the record saved', async () => (await text(panel, '#client-saved')) === 'Saved.');
check(await text(panel, '#client-title') === 'Jenny', 'the title is not the preferred name');
check(await panel.locator('#emails').inputValue() === 'jane@example.org', 'the email is not shown as stored');

await panel.locator('#portal-enable').click();
await until('the enrolment sent', async () => (await text(panel, '#portal-status')) === 'The enrolment is on its way by e-mail.');
check(await panel.locator('#portal-resend').count() === 1 && await panel.locator('#portal-disable').count() === 1, 'no resend or disable button once open');
check(!(await panel.content()).includes('/portal/enrol'), 'the panel shows the enrolment link');
await shots(panel, 'client-record-en');

// A new client: a bad number is refused next to its field, the name typed stays.
await panel.locator('#clients-back').click();
await panel.locator('#new-client').click();
await panel.locator('#display_name').fill('Noa Petit');
await panel.locator('#phones').fill('12');
await panel.locator('#client-save').click();
await until('the phone error', async () => (await text(panel, '#phones-error')) !== '');
check(await panel.locator('#display_name').inputValue() === 'Noa Petit', 'the name typed was lost');
await shots(panel, 'client-new-error-en');
await panel.locator('#phones').fill('+33 6 98 76 54 32');
await panel.locator('#client-save').click();
await until("Noa's new record", async () => (await text(panel, '#client-title')) === 'Noa Petit');
check(await panel.locator('#phones').inputValue() === '+33698765432', 'the new record does not show the stored number');
check(await panel.locator('#portal-enable').count() === 1, 'a new record has its portal open');

// The same page in French.
const fr = await browser.newPage();
await fr.addInitScript(() => Object.defineProperty(navigator, 'language', { get: () => 'fr-FR' }));
await fr.goto(panel.url());
await fr.locator('#open-clients').click();
await until('the French list', async () => (await fr.locator('#client-list .client-item').count()) === 3);
await fr.locator('#client-list .client-item[data-client] .client-open').first().click();
await until('the French record', async () => (await text(fr, '#portal-state')).includes('espace client'));
await shots(fr, 'client-record-fr');
await fr.close();

// Jane, on her phone: the email's link, a password, her portal home with her session.
const url = await until('the enrolment email', async () => (await control('/enrolment?to=jane@example.org')).url);
const device = await launch({ permissions: [] });
const jane = await open(device, 'about:blank', 'jane');
await jane.setViewportSize({ width: 390, height: 844 });
await jane.goto(url.replace('#', '?lang=en#'));
await until('"Create your access"', async () => (await text(jane, 'h1')) === 'Create your access');
await jane.locator('#new-password').fill('le chat dort au soleil');
await jane.locator('#save-password').click();
await until('her portal home', async () => (await text(jane, '#welcome')) === 'Welcome, Jenny');
await until('her session on the portal home', async () => (await jane.locator(`[data-session="${sessionID}"]`).count()) === 1);
await shots(jane, 'portal-home-after-enrolment-en');

await device.close();
await browser.close();
console.log('panel-clients scenario passed');
