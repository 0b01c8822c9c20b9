// portal-forms.mjs: a form from the clinician to the client and back. Dr Roy opens the panel's
// Forms page, finds Amélie and assigns her the PHQ-9. Amélie (French) signs in to her portal
// on a phone, opens À faire, answers as she goes (saved without a button), leaves question 9
// empty and sends: the reason shows next to question 9, in French. She answers it, sends, and
// reads her answers, which can no longer change. The panel then shows the score, its band and
// every answer.
import { launch, open, signIn, control, check, until, text, shots, BRIDGE } from './lib.mjs';

// --- The clinician assigns the PHQ-9 ---
const drBrowser = await launch({ permissions: [], locale: 'en-GB' });
const { link } = await control('/login');
const panel = await signIn(drBrowser, link);
await panel.locator('#open-forms').click();
await until('the forms list', async () => (await panel.locator('.form-card').count()) === 2);
const titles = await panel.locator('.form-card strong').allTextContents();
check(titles.some((x) => x.startsWith('PHQ-9')) && titles.some((x) => x.startsWith('GAD-7')), 'the standard forms: ' + titles.join(', '));
// A form of the clinic's own: a refused definition says where, beside the text.
await panel.locator('#pf-new').click();
const bad = { title: { en: 'Sleep diary' }, sections: [{ id: 's', fields: [{ id: 'h', type: 'scale', label: { en: 'Hours slept' } }] }] };
await panel.locator('#form-json').fill(JSON.stringify(bad));
await panel.locator('#form-save').click();
await until('the refusal beside the definition', async () => (await text(panel, '#form-json-error')).includes('(at sections[0].fields[0].max)'));
await shots(panel, 'portal-forms-panel-refused');
bad.sections[0].fields[0].min = 0;
bad.sections[0].fields[0].max = 12;
await panel.locator('#form-json').fill(JSON.stringify(bad, null, 2));
await panel.locator('#form-save').click();
await until('the form saved', async () => (await text(panel, '#form-json-status')) === 'Saved: version 1.');
await until('three forms', async () => (await panel.locator('.form-card').count()) === 3);
check((await text(panel, '#form-json-error')) === '', 'the refusal stays: ' + await text(panel, '#form-json-error'));

await panel.locator('#pf-client-search').fill('amé');
await panel.locator('[data-client]').first().click();
await until('Amélie\'s forms', async () => (await text(panel, '#pf-assignments')).includes('No form assigned yet.'));
const phq = await panel.locator('#pf-assign-form option', { hasText: 'PHQ-9' }).getAttribute('value');
await panel.locator('#pf-assign-form').selectOption(phq);
await panel.locator('#pf-assign').click();
await until('the assignment', async () => (await panel.locator('#pf-assignments [data-status=todo]').count()) === 1);
check((await text(panel, '#pf-assign-status')).includes('Assigned'), 'the assignment is not confirmed');
await shots(panel, 'portal-forms-panel-assigned');

// --- Amélie answers on her phone ---
const phone = await launch({ permissions: [], viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
const page = await open(phone, BRIDGE + '/portal', 'amelie');
await page.locator('#contact').fill('amelie@example.org');
await page.locator('#send-code').click();
await page.locator('#code').waitFor();
const code = await until('the emailed code', async () => (await control('/code?contact=amelie@example.org')).code);
await page.locator('#code').fill(code);
await page.locator('#verify-code').click();
await until('the French home', async () => (await text(page, '#welcome')) === 'Bienvenue, Amélie Durand');
await page.locator('nav.portal-nav a[data-tab=todo]').click();
await until('her to-do list', async () => (await page.locator('.todo-item').count()) === 1);
check((await text(page, '.todo-item')).includes('À faire'), 'the status: ' + await text(page, '.todo-item'));
check(!(await text(page, '#portal-panel')).includes('null'), 'the to-do tab shows "null": ' + await text(page, '#portal-panel'));
await shots(page, 'portal-forms-todo-fr');
await page.locator('.todo-item button').click();
await until('the PHQ-9', async () => (await page.locator('.fill-form [data-field]').count()) === 10);
check((await text(page, '#form-title')).startsWith('PHQ-9'), 'the title: ' + await text(page, '#form-title'));
check((await text(page, '[data-field=q1] legend')).includes('Peu d\'intérêt'), 'question 1 in French: ' + await text(page, '[data-field=q1] legend'));

// Questions 1 to 8 (score 11), then a pause: saved without a button.
const values = [2, 2, 1, 1, 2, 1, 1, 1];
for (let i = 0; i < values.length; i++) {
  await page.locator(`[data-field=q${i + 1}] input[value="${values[i]}"]`).check();
}
await until('the draft saved', async () => (await text(page, '#form-status')) === 'Enregistré');
// Reopened, her answers are there.
await page.locator('#todo-back').click();
await until('in progress', async () => (await text(page, '.todo-item')).includes('En cours'));
await page.locator('.todo-item button').click();
await until('her draft', async () => (await page.locator('[data-field=q8] input[value="1"]').isChecked()));

// Sent with question 9 empty: the reason is beside it, in French.
await page.locator('#form-submit').click();
await until('the reason beside question 9', async () => (await text(page, '[data-field=q9] .error')) === 'Cette question demande une réponse.');
check((await text(page, '#form-error')).includes('à revoir'), 'the form\'s message: ' + await text(page, '#form-error'));
check((await text(page, '[data-field=q1] .error')) === '', 'question 1 says something: ' + await text(page, '[data-field=q1] .error'));
await shots(page, 'portal-forms-required-fr');
await page.locator('[data-field=q9] input[value="0"]').check();
await page.locator('#form-submit').click();
await until('sent', async () => (await page.locator('#todo-notice').count()) === 1);
check((await text(page, '#todo-notice')).includes('Merci'), 'the thanks: ' + await text(page, '#todo-notice'));
check((await text(page, '.todo-item')).includes('Terminé'), 'the status after sending: ' + await text(page, '.todo-item'));
await page.locator('.todo-item button').click();
await until('her answers, read-only', async () => (await page.locator('#form-read-only').count()) === 1);
check((await page.locator('.fill-form').count()) === 0 && (await page.locator('main input[type=radio]').count()) === 0, 'the sent form can still be changed');
check((await text(page, '[data-answer=q1]')) === 'Plus de la moitié du temps', 'answer 1: ' + await text(page, '[data-answer=q1]'));
check((await text(page, '[data-answer=q10]')) === 'Pas de réponse', 'answer 10: ' + await text(page, '[data-answer=q10]'));
check(!(await text(page, 'main')).includes('11'), 'the client is shown the score');
await shots(page, 'portal-forms-sent-fr');

// --- The clinician reads the score and the answers ---
await panel.locator('#pf-client-search').fill('');
await panel.locator('#pf-client-search').fill('amé');
await panel.locator('[data-client]').first().click();
await until('the form done', async () => (await panel.locator('#pf-assignments [data-status=done]').count()) === 1);
const row = await text(panel, '#pf-assignments [data-status=done]');
check(row.includes('Score 11/27') && row.includes('Moderate depression'), 'the score in the list: ' + row);
await panel.locator('[data-answers]').click();
await until('the answers', async () => (await panel.locator('#pf-answers [data-answer]').count()) === 10);
check((await text(panel, '#pf-score')).includes('Score 11/27 · Moderate depression'), 'the score: ' + await text(panel, '#pf-score'));
check((await text(panel, '[data-answer=q1]')) === 'More than half the days', 'answer 1 in the panel: ' + await text(panel, '[data-answer=q1]'));
check((await text(panel, '[data-answer=q9]')) === 'Not at all', 'answer 9 in the panel: ' + await text(panel, '[data-answer=q9]'));
await shots(panel, 'portal-forms-panel-answers');

await phone.close();
await drBrowser.close();
console.log('portal-forms scenario passed');
