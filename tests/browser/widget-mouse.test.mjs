// widget-mouse.test.mjs — a homeowner arrives on the demo site from a Google
// ad (utm_source=google, utm_medium=cpc, gclid in the page's URL), browses on
// without those parameters, and books with the mouse at 1280×800 from a
// service's own button ("Book AC repair": the service is already chosen).
// The open windows are asked for as soon as the ZIP is valid. The
// attribution was kept for the visit and reaches the booking, and the job
// in stsim carries the campaign the scheduler maps it to ("Google Ads", not
// the default "Website"). Values passed to AppointWidget.open() win over the
// page's: utm_source=yelp given to open() books into "Yelp"; a later ad click
// in the same visit replaces the earlier one's parameters. axe-core on
// every step; every step saved as a screenshot at 1280 px.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser } from './lib/browser.mjs';
import { runDemo } from './lib/demo.mjs';
import { DESKTOP, assertJobInWindow, axeClean, phoneNo, shot, step } from './lib/widget.mjs';

let demo;
let b;
let campaigns; // name → id, from stsim

before(async () => {
  demo = await runDemo();
  b = await launchBrowser({ viewport: DESKTOP });
  const list = await demo.st.get('/marketing/campaigns', { pageSize: 50 });
  campaigns = Object.fromEntries(list.data.map((c) => [c.name, c.id]));
});

after(async () => {
  await b?.close();
  await demo?.stop(assert);
});

/** Fills the contact step with the mouse and the keyboard's letters only. */
async function fillContact(page, n, who) {
  await page.locator('#ap-name').click();
  await page.locator('#ap-name').fill(who);
  await page.locator('#ap-phone').fill(phoneNo(n));
  await page.locator('#ap-email').fill(`${who.split(' ')[0].toLowerCase()}@example.com`);
  await page.locator('#ap-street').fill(`${n}00 Mouse Ave`);
  await page.locator('#ap-city').fill('Austin');
  await page.locator('#ap-state').fill('TX');
}

/** Picks, on the nth open day shown, its first open window; resolves { start, end }. */
async function pickWindow(page, nth, service) {
  await page.locator('input[name=window]').first().waitFor();
  await page.locator('label.choice:has(input[name=day]:not(:disabled))').nth(nth).click();
  const win = page.locator('label.choice:has(input[name=window]:not(:disabled))').first();
  await win.click();
  const start = await win.locator('input').getAttribute('value');
  const avail = await (await fetch(`${demo.appointd}/api/v1/schedulers/${demo.key}/availability?service=${service}&zip=78704&days=14`)).json();
  const w = avail.windows.find((x) => x.start === start);
  assert.ok(w && w.available, `the picked window ${start} is open`);
  return { start: w.start, end: w.end };
}

test('with the mouse at 1280×800 from a Google ad: the job carries the “Google Ads” campaign', async () => {
  const { page } = b;
  await page.goto(`${demo.site}/?utm_source=google&utm_medium=cpc&utm_campaign=ac-summer&gclid=Cj0-test-gclid`);
  await page.waitForFunction(() => window.AppointWidget);
  await page.goto(`${demo.site}/#services`); // the visit goes on, the parameters are gone from the URL
  await page.waitForFunction(() => window.AppointWidget);

  await page.getByRole('link', { name: 'Book AC repair' }).click();
  await step(page, 'service');
  assert.equal(await page.locator('input[name=service]:checked').getAttribute('value'), 'ac-repair', 'the button’s service is chosen');
  const box = await page.locator('#ap-dialog').boundingBox();
  assert.ok(box.width > 400 && box.width <= 560 && box.x > 300, `a centred dialog on a desktop: ${JSON.stringify(box)}`);
  await shot(page, '1-service', { docs: 'widget-desktop-service' });
  await axeClean(page, 'the service step');
  await page.locator('#ap-answer').fill('Yes');
  await page.locator('#ap-next').click();

  await step(page, 'zip');
  // the open windows are asked for as soon as the ZIP is valid, before Continue
  const asked = page.waitForRequest((r) => r.url().includes('/availability?') && r.url().includes('zip=78704'));
  await page.locator('#ap-zip').fill('78704');
  await asked;
  await shot(page, '2-zip');
  await axeClean(page, 'the ZIP step');
  await page.locator('#ap-next').click();

  await step(page, 'when');
  const window = await pickWindow(page, 2, 'ac-repair');
  await shot(page, '3-when');
  await axeClean(page, 'the day and window step');
  await page.locator('#ap-next').click();

  await step(page, 'contact');
  await fillContact(page, 2, 'Morgan Mouse');
  await shot(page, '4-contact');
  await axeClean(page, 'the contact step');
  await page.locator('#ap-next').click();

  await step(page, 'review');
  await shot(page, '5-review');
  await axeClean(page, 'the review step');
  await page.locator('#ap-next').click();

  await step(page, 'done');
  const reference = (await page.locator('#ap-ref').textContent()).trim();
  await page.locator('#ap-status').filter({ hasText: 'Confirmed' }).waitFor();
  await shot(page, '6-done');
  await axeClean(page, 'the confirmation step');
  await page.locator('#ap-close').click();
  await page.locator('#ap-dialog').waitFor({ state: 'hidden' });

  const bk = await demo.waitBooked(reference);
  assert.deepEqual(bk.attribution, { utm_source: 'google', utm_medium: 'cpc', utm_campaign: 'ac-summer', gclid: 'Cj0-test-gclid' });
  const job = await assertJobInWindow(demo, bk, window);
  assert.equal(job.campaignId, campaigns['Google Ads'], 'the job’s campaign in stsim');
  assert.notEqual(campaigns['Google Ads'], campaigns.Website);

  // the confirmation page at this size too
  await page.goto(`${demo.appointd}/b/${reference}`);
  await page.locator('#booking').waitFor();
  await shot(page, 'page-confirmation');
  await axeClean(page, 'the confirmation page');

  // and the job on stsim's jobs page, as the office sees it
  await page.goto(`${demo.web}/jobs`);
  await page.locator('#tenantId').fill(String(demo.creds.tenantId));
  await page.locator('#username').fill('admin');
  await page.locator('#password').fill('demo-admin');
  await page.getByRole('button', { name: 'Sign in' }).click();
  const row = page.locator(`#jobs tr[data-job-id="${job.id}"]`);
  await row.waitFor();
  assert.match(await row.innerText(), /Morgan Mouse[\s\S]*AC Repair[\s\S]*Google Ads/);
  await shot(page, 'stsim-jobs', { docs: 'stsim-jobs' });
});

test('values given to AppointWidget.open() win over the page’s: utm_source=yelp books into “Yelp”', async () => {
  const { page } = b;
  // a later ad click in the same visit replaces the first one's parameters (last touch)
  await page.goto(`${demo.site}/?utm_source=google&utm_medium=cpc`);
  await page.waitForFunction(() => window.AppointWidget);
  await page.evaluate(() => window.AppointWidget.open({ service: 'drain-cleaning', utm_source: 'yelp', campaign: 'reviews-page' }));
  await step(page, 'zip'); // drain cleaning has no question: straight to the ZIP
  await page.locator('#ap-zip').fill('78704');
  await page.locator('#ap-next').click();
  await step(page, 'when');
  const window = await pickWindow(page, 3, 'drain-cleaning');
  await page.locator('#ap-next').click();
  await step(page, 'contact');
  await fillContact(page, 3, 'Yasmin Yelp');
  await page.locator('#ap-next').click();
  await step(page, 'review');
  await page.locator('#ap-next').click();
  await step(page, 'done');
  const reference = (await page.locator('#ap-ref').textContent()).trim();
  const bk = await demo.waitBooked(reference);
  assert.equal(bk.service, 'drain-cleaning');
  assert.deepEqual(bk.attribution, { utm_source: 'yelp', utm_medium: 'cpc', campaign: 'reviews-page' });
  const job = await assertJobInWindow(demo, bk, window);
  assert.equal(job.campaignId, campaigns.Yelp);
});
