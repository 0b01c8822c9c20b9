// clients.mjs: the booking form's "pick a client or create one". Typing a name lists the
// clinic's client records with a contact to tell namesakes and siblings apart; picking one fills
// the form from the record and books it. Screenshots in English and French.
import { launch, signIn, control, check, until, shots } from './lib.mjs';

// Jane, and her brother booked with her email: two records.
await control('/book', { name: 'Jane Doe', email: 'jane@example.org', invite: 'email', locale: 'fr' });
await control('/book', { name: 'Leo Doe', email: 'jane@example.org', invite: 'email' });

const browser = await launch();
const { url: loginLink } = await control('/login-link');
const panel = await signIn(browser, loginLink);
await panel.locator('#new-session').click();
const name = panel.locator('#name');
check(await name.getAttribute('placeholder') === 'Pick a client or type a new name', 'the name field does not say to pick a client');
await name.pressSequentially('Do');
const options = () => panel.locator('#contacts option').evaluateAll((os) => os.map((o) => o.value));
const listed = await until('both records in the list', async () => {
  const values = await options();
  return values.length === 2 && values;
});
check(listed.includes('Jane Doe — jane@example.org') && listed.includes('Leo Doe — jane@example.org'), `the list: ${listed}`);
await shots(panel, 'clients-picker-en');
// Picking Jane, as choosing the suggestion does: the field keeps her name, the form is hers.
await name.fill('Jane Doe — jane@example.org');
await until('the form filled from the record', async () => (await panel.locator('#email').inputValue()) === 'jane@example.org');
check(await name.inputValue() === 'Jane Doe', `the name field reads ${await name.inputValue()}`);
check(await panel.locator('#locale').inputValue() === 'fr', 'the language is not the record\'s');
check(await panel.locator('input[name="invite"][value="email"]').isChecked(), 'the invitation is not the record\'s');
await shots(panel, 'clients-picked-en');
await panel.locator('#save').click();
await panel.locator('#sessions').waitFor();

// The same form in French.
const fr = await browser.newPage();
await fr.addInitScript(() => Object.defineProperty(navigator, 'language', { get: () => 'fr-FR' }));
await fr.goto(panel.url());
await fr.locator('#new-session').click();
check(await fr.locator('#name').getAttribute('placeholder') === 'Choisissez un client ou saisissez un nouveau nom', 'the French placeholder');
await fr.locator('#name').pressSequentially('Leo');
await until('Leo in the French list', async () => (await fr.locator('#contacts option').count()) === 1);
await shots(fr, 'clients-picker-fr');

await browser.close();
console.log('clients scenario passed');
