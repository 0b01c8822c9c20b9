// lobby.mjs: the waiting room and the clinician's arrival.
// - The clinician opens a call before its window to try it out: the page says nobody can join
//   yet and the session stays scheduled; when the window opens with them still in, it goes live.
// - admission=auto (French client): nobody enters before the clinician is in; the clinician's
//   message reaches the open waiting page at once; the clinician enters and the client is let
//   in by themselves.
// - A client let in while the clinician is not in the call reads "You're in. Your clinician
//   will join shortly" instead of an empty screen, until the clinician comes.
import { launch, open, signIn, watch, control, check, until, shots, stats, text } from './lib.mjs';

const early = await control('/book', { name: 'Jane Doe', locale: 'en', in_minutes: 31 });
const auto = await control('/book', { name: 'Jean Dupont', locale: 'fr', in_minutes: 31, admission: 'auto' });
const clinicianBrowser = await launch();
const { url: loginLink } = await control('/login-link');
const panel = await signIn(clinicianBrowser, loginLink);
const status = async (id) => (await control('/state?session_id=' + id)).status;

async function enter(sessionId) {
  await panel.bringToFront();
  await panel.locator('#new-session').waitFor();
  const button = panel.locator(`[data-session="${sessionId}"] [data-action="enter"]`);
  await button.waitFor();
  const [host] = await Promise.all([clinicianBrowser.waitForEvent('page'), button.click()]);
  watch(host, 'clinician call ' + sessionId);
  await host.locator('#accept:not([disabled])').click();
  await host.locator('#attendees').waitFor();
  return host;
}

// The clinician tries the call out before the window opens.
let host = await enter(early.session_id);
await until('the clinician told nobody can join yet', async () => (await text(host, '#presence')).includes('nobody can join'));
await shots(host, 'lobby-rehearsal-clinician-en');
check(await status(early.session_id) === 'scheduled', 'opening the call early made the session ' + await status(early.session_id));
await control('/open', { session_id: early.session_id });
await until('the session live once its window opened with the clinician in', async () => (await status(early.session_id)) === 'live');
await until('the rehearsal note gone', () => host.locator('#presence').isHidden());
await host.close();
await until('the clinician away from the call', async () => (await control('/state?session_id=' + early.session_id)).status === 'live');

// admission=auto: the French client waits until the clinician is in.
const frBrowser = await launch();
const fr = await open(frBrowser, auto.guest_link, 'client fr');
await fr.locator('#join:not([disabled])').click();
await fr.locator('#name').fill('Jean');
await fr.locator('#accept:not([disabled])').click();
await fr.locator('#waiting').waitFor();
check((await control('/state?session_id=' + auto.session_id)).participants[0] === 'waiting', 'with admission=auto the client entered before the clinician');
await panel.bringToFront();
await panel.locator('#new-session').waitFor();
await panel.locator(`[data-session="${auto.session_id}"] [data-action="attendees"]`).click();
await panel.locator('#lobby-message').fill('Je suis en retard de 5 minutes');
await panel.locator('.message-form button[type="submit"]').click();
await until('the message on the open waiting page', async () => (await fr.locator('#lobby-message-text').count()) > 0 &&
  (await text(fr, '#lobby-message-text')) === 'Je suis en retard de 5 minutes', 5000);
check((await text(fr, '#lobby-message-box')).includes('Message de votre praticien'), 'the message is introduced in French');
await shots(fr, 'lobby-waiting-message-fr');
check((await control('/state?session_id=' + auto.session_id)).participants[0] === 'waiting', 'the client entered before the clinician');
await panel.getByRole('button', { name: 'Back', exact: true }).click();
host = await enter(auto.session_id);
await until('the client let in by themselves', async () => (await stats(fr))?.framesDecoded > 0);
await until('the clinician to see the client', async () => (await stats(host))?.framesDecoded > 0);
check(await fr.locator('#presence').isHidden(), 'the client is told the clinician is coming while they are there');
await host.close();
await frBrowser.close();

// Let in while the clinician is not in the call.
const enBrowser = await launch();
const en = await open(enBrowser, early.guest_link, 'client en');
await en.locator('#join:not([disabled])').click();
await en.locator('#name').fill('Jane');
await en.locator('#accept:not([disabled])').click();
await en.locator('#waiting').waitFor();
await panel.bringToFront();
await panel.locator('#new-session').waitFor();
await panel.locator(`[data-session="${early.session_id}"] [data-action="attendees"]`).click();
await panel.locator('.waiting-list [data-action="admit"]').click();
await until('the client told the clinician will join', async () => (await en.locator('#presence:not([hidden])').count()) > 0 &&
  (await text(en, '#presence')).startsWith('You\'re in. Your clinician will join shortly'));
await shots(en, 'lobby-in-before-clinician-en');
await panel.getByRole('button', { name: 'Back', exact: true }).click();
host = await enter(early.session_id);
await until('the client to see the clinician', async () => (await stats(en))?.framesDecoded > 0);
await until('the note gone once the clinician is in', () => en.locator('#presence').isHidden());

await enBrowser.close();
await clinicianBrowser.close();
console.log('lobby scenario passed');
