// portal-documents.mjs: documents before a session and shared documents. Dr Martin adds a
// consent template needing acknowledgement on the panel's Documents page and attaches it when
// he books Jane (picked from her record); Jane opens her session link, sees the consent, opens
// it and acknowledges it with her typed name and the tick (refused without the tick, nothing
// typed lost); the panel's lobby shows "acknowledged" live. He also gives her the GAD-7 at
// booking: her session page lists it with a link to her portal, she completes it there and
// the lobby shows her forms done, live. Then Dr Martin shares a PDF from
// Jane's record; her portal's Documents tab lists it, by him, and opens it. Jane adds a
// picture of her insurance card in Payment & Insurances; it is not among the shared documents.
import { launch, open, signIn, control, check, until, text, shots, BRIDGE } from './lib.mjs';

const pdf = (label) => Buffer.from(`%PDF-1.4\n% ${label}\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n`);

const { url: loginLink } = await control('/panel-link');
const panelDevice = await launch({ permissions: [] });
const panel = await signIn(panelDevice, loginLink);

// The Documents page: a consent that participants acknowledge.
await panel.locator('#open-documents').click();
await panel.locator('#template-title-en').fill('Consent to telehealth');
await panel.locator('#template-title-fr').fill('Consentement à la téléconsultation');
await panel.locator('#template-file').setInputFiles({ name: 'consent.pdf', mimeType: 'application/pdf', buffer: pdf('consent') });
await panel.locator('#template-needs-ack').check();
await panel.locator('#template-save').click();
await until('the template in the list', async () => (await panel.locator('#templates-list [data-template]').count()) === 1);
check((await text(panel, '#templates-list [data-template]')).includes('Consent to telehealth'), 'the template\'s title in the list');
await shots(panel, 'panel-documents-en');
await panel.locator('#documents-back').click();

// Booking Jane, picked from her record, with the consent.
await panel.locator('#new-session').click();
await panel.locator('#date').fill('2026-11-25');
await panel.locator('#time').selectOption('10:00');
await panel.locator('#name').fill('Jane');
await until('Jane offered from the records', async () => (await panel.locator('#contacts option').count()) === 1);
await panel.locator('#name').fill(await panel.locator('#contacts option').first().getAttribute('value'));
await until('Jane\'s record picked', async () => (await panel.locator('#name').getAttribute('data-client-id')) !== null);
await panel.locator('input[name="invite"][value="none"]').check();
await until('the documents to show', async () => (await panel.locator('#documents input[type="checkbox"]').count()) === 1);
await panel.locator('#documents input[type="checkbox"]').check();
// and the GAD-7, to complete before the session (it goes to her record's to-do list).
await until('the forms to give', async () => (await panel.locator('#forms input[name="forms"]').count()) >= 2);
await panel.locator('#forms label', { hasText: 'GAD-7' }).locator('input').check();
const [created] = await Promise.all([
  panel.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith('/api/panel/sessions')),
  panel.locator('#save').click(),
]);
check(created.ok(), `booking answered ${created.status()}`);
const booked = await created.json();
const link = booked.participants[0].link;
check(link && booked.documents.length === 1, `the booking: ${JSON.stringify({ link: !!link, documents: booked.documents })}`);
const row = panel.locator(`[data-session="${booked.session.id}"] .participant`);
await until('the lobby says not acknowledged', async () => (await row.locator('.doc-ack').getAttribute('data-documents')) === 'not_acknowledged');
await until('the lobby says the forms are not done', async () => (await row.locator('.doc-forms').getAttribute('data-forms')) === 'forms_not_done');

// Jane's session page: the consent, opened, acknowledged.
const client = await launch({ permissions: [] });
const page = await open(client, link, 'jane-session');
await until('the session\'s documents', async () => (await page.locator('#session-documents .doc-item').count()) === 1);
await until('the session\'s form', async () => (await page.locator('#session-documents .form-item[data-status="todo"]').count()) === 1);
check((await text(page, '#session-documents .form-item')).includes('GAD-7') && (await text(page, '#session-documents .form-item')).includes('To do'),
  'the form on the session page: ' + await text(page, '#session-documents .form-item'));
check((await page.locator('#session-documents .form-item a.form-link').getAttribute('href')) === '/portal#todo', 'the form\'s link to the portal');
check((await text(page, '#session-documents')).includes('Consent to telehealth'), 'the consent\'s title on the session page');
const [popup] = await Promise.all([client.waitForEvent('page'), page.locator('#session-documents .doc-open').click()]);
check(popup.url().startsWith('blob:'), `the consent opened at ${popup.url()}`);
await popup.close();
await page.locator('.doc-name').fill('Jane Doe');
await page.locator('.doc-ack-button').click();
await until('refused without the tick', async () => (await text(page, '#session-documents .error')).includes('tick'));
check((await page.locator('.doc-name').inputValue()) === 'Jane Doe', 'the typed name was lost');
await page.locator('.doc-tick').check();
await page.locator('.doc-ack-button').click();
await until('acknowledged on the page', async () => (await page.locator('#session-documents .doc-item[data-acked="true"]').count()) === 1);
check((await text(page, '#session-documents .doc-ack')).startsWith('Acknowledged on'), 'the acknowledgement is not said');
await shots(page, 'session-documents-acknowledged-en');
await until('the lobby says acknowledged, live', async () => (await row.locator('.doc-ack').getAttribute('data-documents')) === 'acknowledged');
await shots(panel, 'panel-lobby-acknowledged-en');

// Jane completes the GAD-7 in her portal's To-do tab: the lobby says the forms are done, live,
// and her session page says it is done.
await client.addCookies([{ name: 'telehealth_portal', value: process.env.PORTAL_TOKEN_JANE, url: BRIDGE, httpOnly: true, sameSite: 'Strict' }]);
const todo = await open(client, `${BRIDGE}/portal?lang=en#todo`, 'jane-todo');
await until('her to-do list', async () => (await todo.locator('.todo-item').count()) === 1);
check((await text(todo, '.todo-item')).includes('GAD-7'), 'the package\'s form in the to-do list: ' + await text(todo, '.todo-item'));
await todo.locator('.todo-item button').click();
await until('the GAD-7', async () => (await todo.locator('.fill-form [data-field]').count()) === 7);
for (let i = 1; i <= 7; i++) await todo.locator(`[data-field=q${i}] input[value="0"]`).check();
await todo.locator('#form-submit').click();
await until('sent', async () => (await todo.locator('#todo-notice').count()) === 1);
await until('the lobby says the forms are done, live', async () => (await row.locator('.doc-forms').getAttribute('data-forms')) === 'forms_done');
// (The link again on another device: on this one, signed in to her portal, it opens the portal.)
const otherDevice = await launch({ permissions: [] });
const again = await open(otherDevice, link, 'jane-session-again');
await until('the form done on the session page', async () => (await again.locator('#session-documents .form-item[data-status="done"]').count()) === 1,
  30000, async () => console.error(again.url(), await text(again, 'body')));
check((await again.locator('#session-documents .form-item a.form-link').count()) === 0, 'a done form still links to the portal');
await shots(again, 'session-documents-form-done-en');
await otherDevice.close();
await todo.close();

// Dr Martin shares a PDF from Jane's record.
await panel.locator('#open-clients').click();
await until('Jane in the clients', async () => (await panel.locator('#client-list .client-open').count()) >= 1);
await panel.locator('#client-list .client-open').first().click();
await until('the record\'s documents', async () => (await panel.locator('#client-documents').count()) === 1);
await panel.locator('#share-file').setInputFiles({ name: 'care-plan.pdf', mimeType: 'application/pdf', buffer: pdf('care plan') });
await panel.locator('#share-send').click();
await until('shared', async () => (await panel.locator('#record-documents [data-document]').count()) === 1, 30000,
  async () => console.error(await text(panel, '#client-documents')));
check((await text(panel, '#share-status')).includes('portal'), 'the share is not confirmed');
await shots(panel, 'panel-record-documents-en');

// Jane's portal: the Documents tab lists it, by Dr Martin, and opens it.
const portal = await open(client, `${BRIDGE}/portal?lang=en#documents`, 'jane-portal');
await until('the Documents tab', async () => (await portal.locator('.doc-list .doc-item').count()) === 1);
check((await text(portal, '.doc-list .doc-name')) === 'care-plan.pdf', 'the shared file\'s name');
check((await text(portal, '.doc-list .meta')).toLowerCase().includes('martin'), 'the file is not said shared by Dr Martin');
check((await text(portal, '.doc-package')).includes('Acknowledged'), 'the session\'s package is not shown acknowledged');
const href = await portal.locator('.doc-list a.button').getAttribute('href');
const got = await portal.evaluate(async (h) => {
  const r = await fetch(h, { credentials: 'same-origin' });
  const body = await r.text();
  return { status: r.status, type: r.headers.get('content-type'), disposition: r.headers.get('content-disposition'), start: body.slice(0, 5) };
}, href);
check(got.status === 200 && got.type === 'application/pdf' && got.disposition.startsWith('inline') && got.start === '%PDF-', `opening the PDF: ${JSON.stringify(got)}`);
await shots(portal, 'portal-documents-en');
const fr = await open(client, `${BRIDGE}/portal?lang=fr#documents`, 'jane-portal-fr');
await until('the French tab', async () => (await fr.locator('.doc-list .doc-item').count()) === 1);
check((await text(fr, '.doc-list a.button')) === 'Ouvrir', 'the French open button');
await shots(fr, 'portal-documents-fr');

// Payment & Insurances: Jane adds a picture of her card's front; a PDF is refused with words.
const png = Buffer.from('\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR card', 'latin1');
const pays = await open(client, `${BRIDGE}/portal?lang=en#payments`, 'jane-payments');
await until('the card form', async () => (await pays.locator('#card-form').count()) === 1);
check((await text(pays, '#card-list')).includes('No picture of your card yet.'), 'the empty card list: ' + await text(pays, '#card-list'));
await pays.locator('#card-file').setInputFiles({ name: 'card.pdf', mimeType: 'application/pdf', buffer: pdf('card') });
await pays.locator('#card-send').click();
await until('the PDF refused', async () => (await text(pays, '#card-error')).includes('PNG, JPEG or WebP'));
await pays.locator('#card-side').selectOption('front');
await pays.locator('#card-file').setInputFiles({ name: 'IMG_0042.png', mimeType: 'image/png', buffer: png });
await pays.locator('#card-send').click();
await until('the card listed', async () => (await pays.locator('#card-list .card-item').count()) === 1);
check((await text(pays, '#card-list .card-item')).includes('Front'), 'the card\'s side: ' + await text(pays, '#card-list .card-item'));
await shots(pays, 'portal-insurance-card-en');
const docsAgain = await open(client, `${BRIDGE}/portal?lang=en#documents`, 'jane-portal-again');
await until('the Documents tab again', async () => (await docsAgain.locator('.doc-list .doc-item').count()) === 1);
check(!(await text(docsAgain, '.doc-list')).includes('insurance'), 'the card among the shared documents');

await client.close();
await panelDevice.close();
console.log('portal documents: template added, attached at booking, acknowledged on the session page, shown in the lobby, shared and opened in the portal');
