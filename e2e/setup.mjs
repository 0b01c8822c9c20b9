// setup.mjs: "Test my setup" from the link (camera preview, microphone recorded 3 s and played
// back, a test sound, ICE to the call server's media port in a call of one's own), in English
// and French, before the waiting room opens (French) and after (English); and the page
// a browser without WebRTC gets: which browsers work, and a button that copies the link.
import { launch, open, control, check, until, shots, text } from './lib.mjs';

const en = await control('/book', { name: 'Jane Doe', locale: 'en', in_minutes: 20 });
const fr = await control('/book', { name: 'Jean Dupont', locale: 'fr', in_minutes: 20 });
await control('/open', { session_id: en.session_id });

{
  const browser = await launch();
  const page = await open(browser, en.guest_link, 'client en');
  await page.locator('#test-setup').click();
  await page.waitForURL(/\/setup$/);
  await until('the camera preview', () => page.evaluate(() => { const v = document.querySelector('#setup-preview'); return v && v.videoWidth > 0; }));
  await page.locator('#record').click();
  check((await text(page, '#record-status')).startsWith('Recording'), 'the page says it records');
  await until('the recording played back', () => page.evaluate(() => {
    const a = document.querySelector('#setup-playback');
    return a && !a.hidden && a.src.startsWith('blob:') && a.currentTime > 0;
  }), 10000);
  check((await text(page, '#record-status')).includes('If you hear yourself'), 'the page says what to listen for');
  await page.locator('#play-sound').click();
  check((await page.locator('#speaker-result').getAttribute('data-played')) === 'true', 'no test sound');
  await page.locator('#check-connection').click();
  await until('the connection check', async () => (await page.locator('#connection-result').getAttribute('data-result')) === 'ok');
  check((await text(page, '#connection-result')).startsWith('Your browser connects to the clinic\'s call server directly'), 'the check says: ' + await text(page, '#connection-result'));
  await shots(page, 'setup-en');
  await page.locator('#setup-back').click();
  await page.locator('#join').waitFor();
  await browser.close();
}

{
  const browser = await launch({ permissions: ['camera', 'microphone', 'clipboard-read', 'clipboard-write'] });
  const setup = await open(browser, fr.guest_link + '/setup', 'setup fr');
  await until('the French setup page', async () => (await setup.locator('h1').textContent()) === 'Tester mon équipement');
  await until('the camera preview', () => setup.evaluate(() => { const v = document.querySelector('#setup-preview'); return v && v.videoWidth > 0; }));
  await setup.locator('#check-connection').click();
  await until('the French connection check', async () => (await setup.locator('#connection-result').getAttribute('data-result')) === 'ok');
  check((await text(setup, '#connection-result')).startsWith('Votre navigateur se connecte directement'), 'the check says: ' + await text(setup, '#connection-result'));
  await shots(setup, 'setup-fr');
  // The same link in a browser without WebRTC.
  await browser.addInitScript(() => { delete window.RTCPeerConnection; window.RTCPeerConnection = undefined; });
  const page = await open(browser, fr.guest_link, 'unsupported fr');
  await until('the unsupported page', async () => (await page.locator('h1').textContent()) === 'Ce navigateur ne permet pas de rejoindre l\'appel vidéo');
  check((await text(page, '#browsers')).includes('Safari sur un iPhone'), 'the page lists the browsers that work');
  check(await page.locator('#join').count() === 0, 'a Join button in a browser that cannot join');
  await page.locator('#copy-link').click();
  await until('the copy confirmed', async () => (await text(page, '#copy-status')).startsWith('Lien copié'));
  const copied = await page.evaluate(() => navigator.clipboard.readText());
  check(copied === fr.guest_link, 'the copied link: ' + copied);
  await shots(page, 'unsupported-fr');
  await browser.close();
}
console.log('setup scenario passed');
