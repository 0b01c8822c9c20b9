// payment.mjs: payment before the session. Jane's session requires payment: her page says
// "Payment required" with the amount; Pay takes her to the (loopback) Stripe Checkout page, a
// declined card is refused there, a good one returns her to her page, which says paid. The
// clinician's lobby shows her "Paid" and Admit lets her in at once. Ann has not paid: the lobby
// shows "Not paid" and Admit asks "Admit without payment?" before letting her in.
import { launch, open, signIn, control, until, check, text, shots } from './lib.mjs';

const clinicianBrowser = await launch();
const janeBrowser = await launch();
const annBrowser = await launch();

const jane = await control('/book-paid', { name: 'Jane Doe', amount: 6500, in_minutes: 20 });
const ann = await control('/book-paid', { name: 'Ann Lee', amount: 0, in_minutes: 25 });
await control('/open', { session_id: jane.session_id });
await control('/open', { session_id: ann.session_id });

// Jane: "Payment required", the amount, Pay.
const janePage = await open(janeBrowser, jane.guest_link, 'jane');
await janePage.locator('#payment[data-status="due"]').waitFor();
const box = await text(janePage, '#payment');
check(box.includes('Payment required') && box.includes('65.00 EUR'), `Jane's payment box: ${box}`);
await shots(janePage, 'payment-required');
await janePage.locator('#pay').click();
await janePage.waitForURL(/\/pay\/cs_/);
// A declined card stays on Stripe's page with its words.
await janePage.locator('input[name="card"]').fill('4000 0000 0000 0002');
await janePage.locator('button[type="submit"]').click();
await until('the declined card refused', async () => (await text(janePage, '[role="alert"]')).includes('declined'));
await janePage.locator('input[name="card"]').fill('4242 4242 4242 4242');
await janePage.locator('button[type="submit"]').click();
// Back through /paid to her own page, which says paid.
await janePage.waitForURL((u) => u.pathname.startsWith('/g/'), { timeout: 20000 });
await until('Jane\'s page says paid', () => janePage.locator('#payment[data-status="paid"]').isVisible());
await janePage.locator('#join:not([disabled])').click();
await janePage.locator('#accept:not([disabled])').click();
await until('Jane waiting', () => janePage.locator('#waiting').isVisible());

// Ann knocks without paying.
const annPage = await open(annBrowser, ann.guest_link, 'ann');
await annPage.locator('#payment[data-status="due"]').waitFor();
await annPage.locator('#join:not([disabled])').click();
await annPage.locator('#accept:not([disabled])').click();
await until('Ann waiting', () => annPage.locator('#waiting').isVisible());

// The clinician: Jane is paid and admitted without a question.
const { url: loginLink } = await control('/login-link');
const panel = await signIn(clinicianBrowser, loginLink);
// The price list: the clinician reads it; only admins change it.
await panel.locator('#open-services').click();
await panel.locator('#services-page [data-service]').first().waitFor();
const services = await text(panel, '#services-list');
check(services.includes('Consultation') && services.includes('80.00 EUR'), `the price list: ${services}`);
check(await panel.locator('#service-form').count() === 0, 'a clinician got the form to change prices');
await panel.locator('#ps-back').click();

// Booking with "Require payment": the service's price fills the amount, which the clinician
// changes for this booking; the lobby then shows what Max owes.
await panel.locator('#new-session').click();
await panel.locator('#payment-fields:not([hidden])').waitFor();
await panel.locator('#require_payment').check();
await until('the amount filled in', async () => (await panel.locator('#payment_amount').inputValue()) === '80.00');
await panel.locator('#payment_amount').fill('70.00');
await panel.locator('#date').fill('2026-11-26');
await panel.locator('#time').selectOption('10:00');
await panel.locator('#name').fill('Max Payne');
await panel.locator('input[name="invite"][value="none"]').check();
await shots(panel, 'require-payment');
const [created] = await Promise.all([
  panel.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith('/api/panel/sessions')),
  panel.locator('#save').click(),
]);
check(created.ok(), `booking with payment answered ${created.status()}`);
const bookedView = await created.json();
const owed = bookedView.participants[0].payment;
check(owed && owed.amount === 7000 && owed.status === 'due', `Max owes ${JSON.stringify(owed)}`);
await panel.locator(`[data-session="${bookedView.session.id}"]`).waitFor();
await panel.locator(`[data-session="${jane.session_id}"] [data-action="attendees"]`).click();
await until('Jane paid on the lobby', () => panel.locator('.waiting-list [data-payment="paid"]').isVisible());
check((await text(panel, '.waiting-list')).includes('Paid'), 'the lobby says Paid');
await shots(panel, 'lobby-paid');
await panel.locator('.waiting-list [data-action="admit"]').click();
await until('Jane admitted', async () => {
  const st = await control('/state?session_id=' + jane.session_id);
  return ['admitted', 'in_session'].includes(st.participants[0]);
});

// Ann: not paid; Admit asks first.
await panel.goto(panel.url().split('#')[0]);
await panel.locator(`[data-session="${ann.session_id}"] [data-action="attendees"]`).click();
await until('Ann not paid on the lobby', () => panel.locator('.waiting-list [data-payment="due"]').isVisible());
check((await text(panel, '.waiting-list')).includes('Not paid'), 'the lobby says Not paid');
await panel.locator('.waiting-list [data-action="admit"]').click();
const dialog = panel.locator('dialog.confirm');
await dialog.waitFor();
check((await dialog.textContent()).includes('has not paid. Admit without payment?'), `the question: ${await dialog.textContent()}`);
await shots(panel, 'admit-without-payment');
let st = await control('/state?session_id=' + ann.session_id);
check(st.participants[0] === 'waiting', `Ann let in before the answer: ${st.participants[0]}`);
await dialog.locator('[data-action="confirm"]').click();
await until('Ann admitted without payment', async () => {
  st = await control('/state?session_id=' + ann.session_id);
  return ['admitted', 'in_session'].includes(st.participants[0]);
});
// From the call page: the clinician in the call admits Sam, who has not paid; the call page
// asks the same question.
const samBrowser = await launch();
const sam = await control('/book-paid', { name: 'Sam Roe', amount: 0, in_minutes: 28 });
await control('/open', { session_id: sam.session_id });
const samPage = await open(samBrowser, sam.guest_link, 'sam');
await samPage.locator('#join:not([disabled])').click();
await samPage.locator('#accept:not([disabled])').click();
await until('Sam waiting', () => samPage.locator('#waiting').isVisible());
await panel.goto(panel.url().split('#')[0]);
const [host] = await Promise.all([clinicianBrowser.waitForEvent('page'),
  panel.locator(`[data-session="${sam.session_id}"] [data-action="enter"]`).click()]);
await host.locator('#accept:not([disabled])').click();
await host.locator('#attendees .waiting-list [data-payment="due"]').waitFor();
await host.locator('#attendees .waiting-list [data-action="admit"]').click();
const inCall = host.locator('dialog.confirm');
await inCall.waitFor();
check((await inCall.textContent()).includes('Sam Roe has not paid'), `the call page's question: ${await inCall.textContent()}`);
await inCall.locator('[data-action="confirm"]').click();
await until('Sam admitted from the call', async () => {
  st = await control('/state?session_id=' + sam.session_id);
  return ['admitted', 'in_session'].includes(st.participants[0]);
});
await samBrowser.close();

console.log('payment: paid through Checkout and admitted; unpaid admitted after confirmation, from the panel and from the call');
await clinicianBrowser.close();
await janeBrowser.close();
await annBrowser.close();
